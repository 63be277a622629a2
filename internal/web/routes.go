package web

import (
	"net/http"
	"strings"

	"github.com/vippskit/vipps/internal/staff"
)

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

// adminRoute is one route of the admin (admin*.go).
type adminRoute struct {
	pattern string
	// role is the least role that may use the route.
	role   staff.Role
	handle func(s *Server, w http.ResponseWriter, r *http.Request)
}

// adminRoutes are the admin's routes behind sign-in: the one list, which
// routes registers (each POST through s.forms) and the tests of roles go
// through. A route is given the least role that needs it: viewers read,
// operators act on payments, administrators manage staff.
func adminRoutes() []adminRoute {
	return []adminRoute{
		{"GET /admin/{$}", staff.Viewer, (*Server).adminList},
		{"GET /admin/payments.csv", staff.Viewer, (*Server).adminExport},
		{"GET /admin/attention", staff.Viewer, (*Server).adminAttention},
		{"GET /admin/payments/{orderId}", staff.Viewer, (*Server).adminPayment},
		{"POST /admin/payments/{orderId}/capture", staff.Operator, (*Server).adminCapture},
		{"POST /admin/payments/{orderId}/refund", staff.Operator, (*Server).adminRefund},
		{"POST /admin/payments/{orderId}/cancel", staff.Operator, (*Server).adminCancel},
		{"POST /admin/payments/{orderId}/check", staff.Operator, (*Server).adminCheck},
		{"POST /admin/tasks/{taskId}/retry", staff.Operator, (*Server).adminRetryTask},
		{"GET /admin/checklist", staff.Admin, (*Server).adminChecklist},
		{"GET /admin/checklist.json", staff.Admin, (*Server).adminChecklistJSON},
		{"GET /admin/staff", staff.Admin, (*Server).adminStaff},
		{"POST /admin/staff", staff.Admin, (*Server).adminStaffAdd},
		{"POST /admin/staff/{name}/role", staff.Admin, (*Server).adminStaffRole},
		{"POST /admin/staff/{name}/password", staff.Admin, (*Server).adminStaffPassword},
		{"POST /admin/staff/{name}/disable", staff.Admin, (*Server).adminStaffDisable},
		{"POST /admin/staff/{name}/enable", staff.Admin, (*Server).adminStaffEnable},
		{"POST /admin/logout", staff.Viewer, (*Server).adminLogout},
	}
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

	// Customer service (admin*.go): staff sign in (admin_auth.go); each
	// route needs a role; forms are CSRF-protected, bound to the session.
	mux.HandleFunc("GET "+adminLoginPath, s.adminLogin)
	mux.Handle("POST "+adminLoginPath, s.forms(s.adminLoginPost))
	for _, rt := range adminRoutes() {
		h := func(w http.ResponseWriter, r *http.Request) { rt.handle(s, w, r) }
		if strings.HasPrefix(rt.pattern, "POST ") {
			h = s.forms(h)
		}
		mux.Handle(rt.pattern, s.requireStaff(rt.role, h))
	}

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
