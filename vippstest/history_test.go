package vippstest_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vippskit/vipps"
)

// testPNG is a 200×200 orange square: Order Management wants images at
// least 167 pixels high.
func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 200, 200))
	for y := range 200 {
		for x := range 200 {
			img.Set(x, y, color.RGBA{0xff, 0x5b, 0x24, 0xff})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHistoryPage(t *testing.T) {
	srv := newServer(t)
	b := newBrowser(t, srv)
	c := srv.Client
	ctx := t.Context()

	// The oldest: approved, captured, with a receipt and a category.
	initiate(t, c, regular("hist-1", 49900))
	approveHook(t, srv, "hist-1")
	capture(t, c, "hist-1", 49900)
	receipt := vipps.Receipt{
		OrderLines: []vipps.OrderLine{
			{Name: "Vipps socks", ID: "socks", TotalAmount: 39800, TotalAmountExcludingTax: 31840, TotalTaxAmount: 7960, TaxPercentage: 25,
				UnitInfo: &vipps.UnitInfo{UnitPrice: 19900, Quantity: "2"}},
			{Name: "Shipping", ID: "ship", TotalAmount: 10100, TotalAmountExcludingTax: 8080, TotalTaxAmount: 2020, TaxPercentage: 25, IsShipping: true},
		},
		BottomLine: vipps.BottomLine{Currency: "NOK"},
	}
	if _, err := c.AddReceipt(ctx, vipps.OMEcom, "hist-1", receipt); err != nil {
		t.Fatalf("AddReceipt = %v", err)
	}
	img := testPNG(t)
	if _, err := c.UploadImage(ctx, "socks-img", img); err != nil {
		t.Fatalf("UploadImage = %v", err)
	}
	cat := vipps.OrderCategory{Category: vipps.CategoryReceipt, OrderDetailsURL: "https://shop.example/orders/hist-1", ImageID: "socks-img"}
	if _, err := c.PutCategory(ctx, vipps.OMEcom, "hist-1", cat); err != nil {
		t.Fatalf("PutCategory = %v", err)
	}

	// Then one rejected in the browser app, one waiting, and one of
	// another user.
	srv.Sim.Advance(time.Minute)
	res := initiate(t, c, regular("hist-2", 12300))
	b.act(b.signIn(res, "91234567"), "reject")
	srv.Sim.Advance(time.Minute)
	res3 := initiate(t, c, regular("hist-3", 5000))
	b.signIn(res3, "91234567")
	initiate(t, c, regular("hist-other", 7700))
	if err := srv.Sim.Approve("hist-other", "98765432"); err != nil {
		t.Fatal(err)
	}

	page := b.get("/_sim/users/91234567")
	page.want(t, "history", http.StatusOK,
		"Simulator — not real Vipps", "912\u00a034\u00a0567",
		"Sim Shop", "499,00\u00a0kr", "Captured 499,00\u00a0kr", "Payment approved",
		"123,00\u00a0kr", "Payment rejected", "50,00\u00a0kr", "Waiting for you", "Open in the app",
		"Receipt", "Vipps socks", "2 × 199,00\u00a0kr", "398,00\u00a0kr", "Shipping", "101,00\u00a0kr",
		"Total 499,00\u00a0kr", "of which VAT 99,80\u00a0kr")
	if got := page.header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options = %q, want DENY", got)
	}
	text := page.text()
	if strings.Contains(text, "hist-other") {
		t.Errorf("the history shows another user's payment")
	}
	i3, i2, i1 := strings.Index(text, "hist-3"), strings.Index(text, "hist-2"), strings.Index(text, "hist-1")
	if i3 < 0 || i2 < 0 || i1 < 0 || i3 > i2 || i2 > i1 {
		t.Errorf("payments are not newest first: hist-3 at %d, hist-2 at %d, hist-1 at %d", i3, i2, i1)
	}
	for _, s := range []string{`href="https://shop.example/orders/hist-1"`, `<img src="/_sim/images/123456/socks-img"`, `href="` + appURL(res3)} {
		if !strings.Contains(page.body, strings.ReplaceAll(s, "&", "&amp;")) {
			t.Errorf("the history page lacks %s", s)
		}
	}

	t.Run("image", func(t *testing.T) {
		r := b.get("/_sim/images/123456/socks-img")
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/png" || r.body != string(img) {
			t.Errorf("GET image = %d %s (%d bytes), want the PNG", r.status, r.header.Get("Content-Type"), len(r.body))
		}
		if r := b.get("/_sim/images/123456/nope"); r.status != http.StatusNotFound {
			t.Errorf("GET an unknown image = %d, want 404", r.status)
		}
	})

	t.Run("linked from the app", func(t *testing.T) {
		app := b.get(appURL(res3))
		if !strings.Contains(app.body, `href="/_sim/users/91234567"`) {
			t.Errorf("the app screen does not link to the history")
		}
	})

	tests := []struct {
		phone  string
		status int
		says   string
	}{
		{"98765432", http.StatusOK, "hist-other"},
		{"12345670", http.StatusOK, "No payments yet"},
		{"123", http.StatusNotFound, "No such user"},
	}
	for _, tt := range tests {
		t.Run("user "+tt.phone, func(t *testing.T) {
			b.get("/_sim/users/"+tt.phone).want(t, "history", tt.status, tt.says)
		})
	}
}
