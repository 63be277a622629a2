package web

import "net/http"

// routes lists every route of the service. Vipps' callbacks are served in
// front of this mux by the callback handler (see New), under
// Config.CallbackPath and Config.ConsentPath.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	// The shop's API: JSON, bearer API key (api.go).
	api := s.requireAPIKey
	mux.Handle("POST /api/payments", api(s.apiCreate))
	mux.Handle("GET /api/payments/{orderId}", api(s.apiGet))
	mux.Handle("POST /api/payments/{orderId}/capture", api(s.apiCapture))
	mux.Handle("POST /api/payments/{orderId}/refund", api(s.apiRefund))
	mux.Handle("POST /api/payments/{orderId}/cancel", api(s.apiCancel))
	mux.Handle("PUT /api/payments/{orderId}/receipt", api(s.apiReceipt))
	mux.Handle("POST /api/payments/{orderId}/check", api(s.apiCheck))
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

	// Customer service (admin.go): basic auth, CSRF-protected forms.
	admin := s.requireAdmin
	mux.Handle("GET /admin/{$}", admin(s.adminList))
	mux.Handle("GET /admin/payments/{orderId}", admin(s.adminPayment))
	mux.Handle("POST /admin/payments/{orderId}/capture", admin(s.forms(s.adminCapture)))
	mux.Handle("POST /admin/payments/{orderId}/refund", admin(s.forms(s.adminRefund)))
	mux.Handle("POST /admin/payments/{orderId}/cancel", admin(s.forms(s.adminCancel)))
	mux.Handle("POST /admin/payments/{orderId}/check", admin(s.forms(s.adminCheck)))
	mux.Handle("POST /admin/tasks/{taskId}/retry", admin(s.forms(s.adminRetryTask)))

	mux.Handle("GET /static/", http.FileServerFS(staticFS))

	// Operations (ops.go).
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.cfg.Metrics != nil {
		mux.Handle("GET /metrics", s.cfg.Metrics)
	}
	return s.logRequests(mux)
}
