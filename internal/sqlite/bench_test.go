package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
)

// BenchmarkTokenHash reads a callback token for an orderId that exists and
// for one that does not. The callback handler looks up every callback's
// orderId this way, so the two should cost about the same: a difference
// tells an attacker which orderIds exist. Compare the two ns/op figures.
func BenchmarkTokenHash(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "vipps.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	for i := range 1000 {
		p := &payment.Payment{OrderID: vipps.OrderID(fmt.Sprintf("shop-%d", i)), MSN: "123456", Kind: payment.Regular,
			Text: "Socks", State: payment.Reserved, AuthTokenHash: "sha256:" + fmt.Sprint(i),
			Amounts: payment.Amounts{Authorized: 1000}, CreatedAt: now, UpdatedAt: now}
		if err := s.Create(b.Context(), p); err != nil {
			b.Fatal(err)
		}
	}
	for _, bb := range []struct {
		name string
		id   vipps.OrderID
	}{{"known", "shop-500"}, {"unknown", "shop-x500"}} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = s.TokenHash(b.Context(), bb.id)
			}
		})
	}
}
