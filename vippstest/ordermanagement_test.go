package vippstest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/vippskit/vipps"
)

// pngOf returns a PNG of the given size.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func exampleReceipt() vipps.Receipt {
	return vipps.Receipt{
		OrderLines: []vipps.OrderLine{
			{Name: "Socks", ID: "line_item_1", TotalAmount: 1000, TotalAmountExcludingTax: 800, TotalTaxAmount: 200, TaxPercentage: 25,
				UnitInfo: &vipps.UnitInfo{UnitPrice: 400, Quantity: "2.5", QuantityUnit: "KG"}, ProductURL: "https://example.com/store/socks"},
			{Name: "Home delivery", ID: "shipping_1", TotalAmount: 1000, TotalAmountExcludingTax: 1000, IsShipping: true},
		},
		BottomLine: vipps.BottomLine{Currency: "NOK", PosID: "vipps_pos_122", ReceiptNumber: "123456789",
			Barcode: &vipps.Barcode{Format: "CODE 39", Data: "SC0527013501"}},
	}
}

func TestOrderManagement(t *testing.T) {
	srv := newServer(t)
	c, ctx := srv.Client, t.Context()
	const id = "acme-shop-123-order123abc"

	imageID, err := c.UploadImage(ctx, "socks-orange-123", pngOf(t, 200, 200))
	if err != nil || imageID != "socks-orange-123" {
		t.Fatalf("UploadImage = %q, %v", imageID, err)
	}
	_, err = c.UploadImage(ctx, "socks-orange-123", pngOf(t, 200, 200))
	if e, ok := errors.AsType[*vipps.Error](err); !ok || !e.Conflict() {
		t.Errorf("second UploadImage = %v, want Conflict", err)
	}

	cat := vipps.OrderCategory{Category: vipps.CategoryGeneral, OrderDetailsURL: "https://www.example.com/2486791691483852025", ImageID: imageID}
	id1, err := c.PutCategory(ctx, vipps.OMEcom, id, cat)
	if err != nil || id1 == "" {
		t.Fatalf("PutCategory = %q, %v", id1, err)
	}
	cat2 := vipps.OrderCategory{Category: vipps.CategoryDelivery, OrderDetailsURL: "https://www.example.com/track/1"}
	id2, err := c.PutCategory(ctx, vipps.OMEcom, id, cat2)
	if err != nil || id2 == "" || id2 == id1 {
		t.Fatalf("replacing PutCategory = %q, %v; want a new id", id2, err)
	}

	rid, err := c.AddReceipt(ctx, vipps.OMEcom, id, exampleReceipt())
	if err != nil || rid == "" {
		t.Fatalf("AddReceipt = %q, %v", rid, err)
	}
	_, err = c.AddReceipt(ctx, vipps.OMEcom, id, exampleReceipt())
	if e, ok := errors.AsType[*vipps.Error](err); !ok || !e.Conflict() || e.StatusCode != http.StatusConflict {
		t.Errorf("second AddReceipt = %v, want 409 Conflict", err)
	}

	got, err := c.GetOrder(ctx, vipps.OMEcom, id)
	if err != nil {
		t.Fatalf("GetOrder = %v", err)
	}
	rec := exampleReceipt()
	want := &vipps.Order{Category: &cat2, Receipt: &rec}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetOrder (-want +got):\n%s", diff)
	}

	// paymentType is case-insensitive; recurring is another namespace.
	r := newRaw(t, srv)
	if status, body := r.do("GET", "/order-management/v2/ECOM/"+id, ""); status != http.StatusOK || !strings.Contains(string(body), "DELIVERY") {
		t.Errorf("GET with ECOM = %d %s, want the same order", status, body)
	}
	_, err = c.GetOrder(ctx, vipps.OMRecurring, id)
	wantVippsError(t, "GetOrder of recurring", err, http.StatusNotFound, "", "")
	_, err = c.GetOrder(ctx, vipps.OMEcom, "never-stored")
	wantVippsError(t, "GetOrder of an unknown order", err, http.StatusNotFound, "", "")
}

func TestOrderManagementValidation(t *testing.T) {
	img := base64.StdEncoding.EncodeToString(pngOf(t, 170, 170))
	small := base64.StdEncoding.EncodeToString(pngOf(t, 300, 100))
	receipt := func(edit func(m map[string]any)) string {
		b, err := json.Marshal(exampleReceipt())
		var m map[string]any
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			t.Fatal(err)
		}
		edit(m)
		if b, err = json.Marshal(m); err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	line := func(m map[string]any) map[string]any { return m["orderLines"].([]any)[0].(map[string]any) }
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		headers []string
		status  int
		param   string // in invalidParams
	}{
		{"image", "POST", "/order-management/v1/images", `{"imageId":"ok-1","src":"` + img + `","type":"base64"}`, nil, 200, ""},
		{"image too low", "POST", "/order-management/v1/images", `{"imageId":"low-1","src":"` + small + `","type":"base64"}`, nil, 400, "src"},
		{"image not base64", "POST", "/order-management/v1/images", `{"imageId":"b-1","src":"%%%","type":"base64"}`, nil, 400, "src"},
		{"image not an image", "POST", "/order-management/v1/images", `{"imageId":"b-1","src":"aGVsbG8=","type":"base64"}`, nil, 400, "src"},
		{"imageId with a slash", "POST", "/order-management/v1/images", `{"imageId":"a/b","src":"` + img + `","type":"base64"}`, nil, 400, "imageId"},
		{"image type url", "POST", "/order-management/v1/images", `{"imageId":"u-1","src":"` + img + `","type":"url"}`, nil, 400, "type"},
		{"category unknown", "PUT", "/order-management/v2/ecom/categories/o-1", `{"category":"SOCKS","orderDetailsUrl":"https://example.com"}`, nil, 400, "category"},
		{"category without url", "PUT", "/order-management/v2/ecom/categories/o-1", `{"category":"GENERAL"}`, nil, 400, "orderDetailsUrl"},
		{"category with a relative url", "PUT", "/order-management/v2/ecom/categories/o-1", `{"category":"GENERAL","orderDetailsUrl":"/orders/1"}`, nil, 400, "orderDetailsUrl"},
		{"category with an unknown image", "PUT", "/order-management/v2/ecom/categories/o-1", `{"category":"GENERAL","orderDetailsUrl":"https://example.com","imageId":"nope"}`, nil, 404, ""},
		{"category with a wide orderId", "PUT", "/order-management/v2/eCom/categories/o_1.x", `{"category":"TICKET","orderDetailsUrl":"https://example.com"}`, nil, 200, ""},
		{"paymentType unknown", "PUT", "/order-management/v2/epayment/categories/o-1", `{"category":"GENERAL","orderDetailsUrl":"https://example.com"}`, nil, 400, "paymentType"},
		{"no Merchant-Serial-Number", "PUT", "/order-management/v2/ecom/categories/o-1", `{"category":"GENERAL","orderDetailsUrl":"https://example.com"}`,
			[]string{"Merchant-Serial-Number", ""}, 400, "Merchant-Serial-Number"},
		{"malformed JSON", "PUT", "/order-management/v2/ecom/categories/o-1", `{"category":`, nil, 400, "body"},
		{"receipt", "POST", "/order-management/v2/ecom/receipts/o-1", receipt(func(map[string]any) {}), nil, 201, ""},
		{"receipt without lines", "POST", "/order-management/v2/ecom/receipts/o-1", receipt(func(m map[string]any) { m["orderLines"] = []any{} }), nil, 400, "orderLines"},
		{"receipt with taxPercentage 101", "POST", "/order-management/v2/ecom/receipts/o-1",
			receipt(func(m map[string]any) { line(m)["taxPercentage"] = 101 }), nil, 400, "orderLines[0].taxPercentage"},
		{"receipt with a negative amount", "POST", "/order-management/v2/ecom/receipts/o-1",
			receipt(func(m map[string]any) { line(m)["totalAmount"] = -1 }), nil, 400, "orderLines[0].totalAmount"},
		{"receipt with a bad quantity", "POST", "/order-management/v2/ecom/receipts/o-1",
			receipt(func(m map[string]any) { line(m)["unitInfo"].(map[string]any)["quantity"] = "2,5" }), nil, 400, "orderLines[0].unitInfo.quantity"},
		{"receipt in SEK", "POST", "/order-management/v2/ecom/receipts/o-1",
			receipt(func(m map[string]any) { m["bottomLine"].(map[string]any)["currency"] = "SEK" }), nil, 400, "bottomLine.currency"},
		{"receipt without bottomLine", "POST", "/order-management/v2/ecom/receipts/o-1",
			receipt(func(m map[string]any) { delete(m, "bottomLine") }), nil, 400, "bottomLine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			status, body := newRaw(t, srv).do(tt.method, tt.path, tt.body, tt.headers...)
			if status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, status, body, tt.status)
			}
			if status < 300 {
				return
			}
			var p struct {
				Title         string               `json:"title"`
				Detail        string               `json:"detail"`
				Instance      string               `json:"instance"`
				InvalidParams []vipps.InvalidParam `json:"invalidParams"`
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Title == "" || p.Instance == "" {
				t.Fatalf("error body %s is not a problem document", body)
			}
			if tt.param == "" {
				return
			}
			found := false
			for _, ip := range p.InvalidParams {
				found = found || ip.Name == tt.param
			}
			if !found {
				t.Errorf("invalidParams = %+v, want %s", p.InvalidParams, tt.param)
			}
		})
	}
}
