package vipps

import (
	"strings"
	"testing"
	"time"
)

// TestOrderIDsSortByTime: the unique part starts with the time in
// milliseconds, so that ids sort as they were made, also across a change
// in the number of digits' worth of time; ids of the same millisecond
// differ in their random part, whose characters all occur.
func TestOrderIDsSortByTime(t *testing.T) {
	times := []time.Time{
		time.UnixMilli(0),
		time.UnixMilli(30),
		time.UnixMilli(31),
		time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 6, 12, 0, 0, int(time.Millisecond), time.UTC),
		time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	var prev OrderID
	for _, now := range times {
		id := newOrderID("acme", now)
		if err := id.Validate(); err != nil || len(id) != len("acme-")+orderIDTimeLen+orderIDRandomLen {
			t.Fatalf("newOrderID(acme, %s) = %q, %v", now, id, err)
		}
		if prev != "" && prev >= id {
			t.Errorf("newOrderID at %s = %q, not after %q", now, id, prev)
		}
		prev = id
	}

	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	seen := map[OrderID]bool{}
	chars := map[rune]int{}
	for range 2000 {
		id := newOrderID("", now)
		if seen[id] {
			t.Fatalf("newOrderID repeated %q in one millisecond", id)
		}
		seen[id] = true
		if !strings.HasPrefix(string(id), string(newOrderID("", now)[:orderIDTimeLen])) {
			t.Fatalf("ids of one millisecond %q differ in their time part", id)
		}
		for _, c := range id[orderIDTimeLen:] {
			chars[c]++
		}
	}
	// 20,000 random characters: each of the 31 is expected 645 times.
	for _, c := range orderIDAlphabet {
		if n := chars[c]; n < 450 || n > 850 {
			t.Errorf("random character %q occurs %d times in 20,000, want about 645", c, n)
		}
	}
	if len(chars) != len(orderIDAlphabet) {
		t.Errorf("random characters %v, want only the %d of the alphabet", chars, len(orderIDAlphabet))
	}
}
