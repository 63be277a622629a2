package vippstest

import (
	"slices"
	"testing"
)

// TestAppendBounded checks that a log keeps the latest maxRecords entries,
// in order, however many are appended.
func TestAppendBounded(t *testing.T) {
	var log []*int
	const n = 3*maxRecords + 7
	for i := range n {
		log = appendBounded(log, &i)
		if want := min(i+1, maxRecords); len(log) != want {
			t.Fatalf("after %d appends len = %d, want %d", i+1, len(log), want)
		}
	}
	got := make([]int, len(log))
	for i, p := range log {
		got[i] = *p
	}
	want := make([]int, maxRecords)
	for i := range want {
		want[i] = n - maxRecords + i
	}
	if !slices.Equal(got, want) {
		t.Errorf("log holds %d..%d, want %d..%d", got[0], got[len(got)-1], want[0], want[len(want)-1])
	}
}
