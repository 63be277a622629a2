package payment

import "time"

// Schedule is when to poll /details for a payment whose outcome depends on
// the customer, after Vipps' polling guidelines: first 5 s after the
// customer is sent to Vipps, then every 2 s while the customer can act
// (10 minutes), then less and less often, so that a payment that Vipps has
// not resolved in time is still looked at, but cheaply. The zero value of
// every field means its default.
type Schedule struct {
	// FirstDelay is the wait before the first check; 0 means 5 s.
	FirstDelay time.Duration
	// Interval is the wait between checks while the customer can act; 0
	// means 2 s.
	Interval time.Duration
	// CustomerTimeLimit is how long the customer has; 0 means 10 minutes,
	// Vipps' total time before a payment times out.
	CustomerTimeLimit time.Duration
	// MaxInterval caps the wait after the time limit; 0 means 1 minute.
	MaxInterval time.Duration
}

// DefaultSchedule is the guidelines' schedule.
var DefaultSchedule = Schedule{FirstDelay: 5 * time.Second, Interval: 2 * time.Second, CustomerTimeLimit: 10 * time.Minute, MaxInterval: time.Minute}

func (s Schedule) withDefaults() Schedule {
	if s.FirstDelay <= 0 {
		s.FirstDelay = DefaultSchedule.FirstDelay
	}
	if s.Interval <= 0 {
		s.Interval = DefaultSchedule.Interval
	}
	if s.CustomerTimeLimit <= 0 {
		s.CustomerTimeLimit = DefaultSchedule.CustomerTimeLimit
	}
	if s.MaxInterval <= 0 {
		s.MaxInterval = DefaultSchedule.MaxInterval
	}
	return s
}

// Deadline is when the customer's time is up for a payment whose customer
// was sent to Vipps at sent. After it the service must resolve the payment
// itself (Vipps should have timed it out; if it says INITIATE still, cancel).
func (s Schedule) Deadline(sent time.Time) time.Time {
	return sent.Add(s.withDefaults().CustomerTimeLimit)
}

// Next returns when to check a payment in state st again, given when its
// customer was sent to Vipps and the time of the check just made (or of
// the redirect, before any check). ok is false when polling is not needed:
// the state no longer depends on the customer.
//
// While the customer can act, checks are Interval apart, and the last one
// lands on the deadline. After the deadline the wait is half the time
// since the deadline, between Interval and MaxInterval: 2 s, 2 s, 3 s,
// 5 s, ... up to a minute.
func (s Schedule) Next(st State, sent, now time.Time) (next time.Time, ok bool) {
	if !st.WaitingForCustomer() {
		return time.Time{}, false
	}
	s = s.withDefaults()
	if first := sent.Add(s.FirstDelay); now.Before(first) {
		return first, true
	}
	deadline := sent.Add(s.CustomerTimeLimit)
	if now.Before(deadline) {
		return minTime(now.Add(s.Interval), deadline), true
	}
	wait := min(max(now.Sub(deadline)/2, s.Interval), s.MaxInterval)
	return now.Add(wait), true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
