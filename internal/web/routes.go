package web

import "net/http"

// apiRoute is one route of the shop's API.
type apiRoute struct {
	pattern string
	handle  func(s *Server, w http.ResponseWriter, r *http.Request)
}

// apiRoutes are the shop's API routes (api.go; doc.go has the shapes):
// the one list, which routes registers and apiNotFound answers with.
func apiRoutes() []apiRoute {
	return []apiRoute{
		{"POST /api/payments", (*Server).apiCreate},
		{"GET /api/payments/{orderId}", (*Server).apiGet},
		{"POST /api/payments/{orderId}/capture", (*Server).apiCapture},
		{"POST /api/payments/{orderId}/refund", (*Server).apiRefund},
		{"POST /api/payments/{orderId}/cancel", (*Server).apiCancel},
		{"PUT /api/payments/{orderId}/receipt", (*Server).apiReceipt},
		{"POST /api/payments/{orderId}/check", (*Server).apiCheck},
	}
}

// apiPatterns are the patterns of apiRoutes, such as
// "POST /api/payments".
func apiPatterns() []string {
	var out []string
	for _, rt := range apiRoutes() {
		out = append(out, rt.pattern)
	}
	return out
}

// routes lists every route of the service. Vipps' callbacks are served in
// front of this mux by the callback handler (see New), under the Service's
// CallbackPath and ConsentPath.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// The shop's API: JSON, bearer API key (api.go).
	api := s.requireAPIKey
	for _, rt := range apiRoutes() {
		mux.Handle(rt.pattern, api(func(w http.ResponseWriter, r *http.Request) { rt.handle(s, w, r) }))
	}
	mux.Handle("/api/", api(s.apiNotFound))

	// The customer's way back from Vipps: no session, no cookie (return.go).
	mux.HandleFunc("GET /return/{orderId}", s.returnPage)
	mux.HandleFunc("GET /return/{orderId}/status", s.returnStatus)

	// The demo shop (shop.go).
	if s.cfg.DemoShop {
		mux.HandleFunc("GET /{$}", s.shopPage)
		mux.Handle("POST /shop/buy", s.forms(s.shopBuy))
		mux.HandleFunc("GET /shop/orders/{shopRef}", s.shopOrder)
	}

	// Customer service (admin*.go): basic auth, CSRF-protected forms.
	admin := s.requireAdmin
	mux.Handle("GET /admin/{$}", admin(s.adminList))
	mux.Handle("GET /admin/payments.csv", admin(s.adminExport))
	mux.Handle("GET /admin/attention", admin(s.adminAttention))
	mux.Handle("GET /admin/payments/{orderId}", admin(s.adminPayment))
	mux.Handle("POST /admin/payments/{orderId}/capture", admin(s.forms(s.adminCapture)))
	mux.Handle("POST /admin/payments/{orderId}/refund", admin(s.forms(s.adminRefund)))
	mux.Handle("POST /admin/payments/{orderId}/cancel", admin(s.forms(s.adminCancel)))
	mux.Handle("POST /admin/payments/{orderId}/check", admin(s.forms(s.adminCheck)))
	mux.Handle("POST /admin/tasks/{taskId}/retry", admin(s.forms(s.adminRetryTask)))
	mux.Handle("GET /admin/checklist", admin(s.adminChecklist))
	mux.Handle("GET /admin/checklist.json", admin(s.adminChecklistJSON))

	mux.Handle("GET /static/", http.FileServerFS(staticFS))

	// Operations (ops.go).
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.cfg.Metrics != nil {
		mux.Handle("GET /metrics", s.cfg.Metrics)
	}
	return s.logRequests(s.withLang(s.styledNotFound(mux)))
}

// styledNotFound serves mux, and answers a request that matches no route
// with the customer's 404 page instead of the mux's plain text. A path
// that is served with other methods keeps the mux's 405 with Allow; paths
// under /api/ keep the API's JSON answers (apiNotFound).
func (s *Server) styledNotFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, pattern := mux.Handler(r); pattern == "" {
			// No route: h answers 404 or 405; ask it which, on the side.
			probe := &statusProbe{header: http.Header{}}
			h.ServeHTTP(probe, r)
			if probe.status == http.StatusNotFound {
				s.notFoundPage(w, r)
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// statusProbe is a ResponseWriter that keeps only the status.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *statusProbe) Write(b []byte) (int, error) {
	p.WriteHeader(http.StatusOK)
	return len(b), nil
}
