package payment

import "golang.org/x/time/rate"

// SetConsentRecordPace replaces the pace of s's consent removal records.
func SetConsentRecordPace(s *Service, l *rate.Limiter) { s.removals = l }
