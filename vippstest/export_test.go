package vippstest

import "time"

// SetShippingTimeout shortens how long s waits for a merchant's
// shippingDetails answer (10 s), so that tests need not wait.
func SetShippingTimeout(s *Simulator, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.app.shippingTimeout = d
}
