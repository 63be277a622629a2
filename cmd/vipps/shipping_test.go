package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/payment"
	"github.com/vippskit/vipps/internal/servicetest"
	"github.com/vippskit/vipps/webhook"
)

const shippingSecret = vipps.Secret("whsec-shipping-test-0123456789")

var testAddress = &vipps.ShippingDetailsRequest{AddressID: 7, AddressLine1: "Storgata 1", City: "Oslo", Country: "NO", PostCode: "0155"}

// received records the requests a test server got.
type received struct {
	mu     sync.Mutex
	bodies []string
	sigs   []string
}

func (r *received) add(req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, string(b))
	r.sigs = append(r.sigs, req.Header.Get(webhook.ShippingSignatureHeader)+req.Header.Get(webhook.SignatureHeader))
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// TestShopShippingSigned: the shop gets a shipping request signed for
// shipping, which verifies with webhook.ParseShippingRequest and not as a
// webhook.
func TestShopShippingSigned(t *testing.T) {
	var got webhook.ShippingRequest
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if h := r.Header.Get(webhook.SignatureHeader); h != "" {
			t.Errorf("shipping request has a %s header %q, want none: it is no webhook", webhook.SignatureHeader, h)
		}
		sig := r.Header.Get(webhook.ShippingSignatureHeader)
		if err := webhook.Verify(body, sig, shippingSecret); !errors.Is(err, webhook.ErrMismatch) {
			t.Errorf("webhook.Verify(shipping request) = %v, want ErrMismatch", err)
		}
		var err error
		if got, err = webhook.ParseShippingRequest(body, sig, shippingSecret); err != nil {
			t.Errorf("ParseShippingRequest(...) = %v", err)
		}
		w.Write([]byte(`[{"isDefault":"Y","shippingCost":0,"shippingMethod":"Bike","shippingMethodId":"bike"}]`))
	}))
	t.Cleanup(shop.Close)
	ask := shopShipping(shop.URL, shippingSecret)
	opts, err := ask(t.Context(), &payment.Payment{OrderID: "shop-10042", ShopRef: "10042"}, testAddress)
	if err != nil {
		t.Fatalf("shopShipping(...) = %v", err)
	}
	want := []vipps.ShippingOption{{IsDefault: true, ShippingMethod: "Bike", ShippingMethodID: "bike"}}
	if diff := cmp.Diff(want, opts); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(webhook.ShippingRequest{OrderID: "shop-10042", ShopRef: "10042", Address: testAddress}, got); diff != "" {
		t.Errorf("shipping request (-want +got):\n%s", diff)
	}
}

// redirecting returns a shop that redirects every request with status code
// to a target that records what reaches it.
func redirecting(t *testing.T, code int) (shopURL string, target *received) {
	target = &received{}
	to := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target.add(r)
		w.Write([]byte(`[{"isDefault":"Y","shippingCost":0,"shippingMethod":"Stolen","shippingMethodId":"stolen"}]`))
	}))
	t.Cleanup(to.Close)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, to.URL+"/collect", code)
	}))
	t.Cleanup(shop.Close)
	return shop.URL, target
}

// TestShopShippingNoRedirect: a shop URL that redirects gets no address and
// no signature sent on, and the service answers Vipps with its static
// options.
func TestShopShippingNoRedirect(t *testing.T) {
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound, http.StatusMovedPermanently, http.StatusSeeOther} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			url, target := redirecting(t, code)
			ask := shopShipping(url, shippingSecret)
			_, err := ask(t.Context(), &payment.Payment{OrderID: "shop-10042", ShopRef: "10042"}, testAddress)
			if !errors.Is(err, errShippingRedirect) {
				t.Errorf("shopShipping(a redirecting URL) = %v, want %v", err, errShippingRedirect)
			}
			if n := target.count(); n != 0 {
				t.Errorf("the redirect target got %d requests (bodies %q, signatures %q), want none", n, target.bodies, target.sigs)
			}
		})
	}
	t.Run("the service falls back", func(t *testing.T) {
		url, target := redirecting(t, http.StatusTemporaryRedirect)
		e := servicetest.New(t, servicetest.WithPayment(func(c *payment.Config) { c.ShopShipping = shopShipping(url, shippingSecret) }))
		p := e.Create(payment.CreateRequest{Express: true, ShopRef: "10042"})
		opts, err := e.Service.ShippingOptions(context.Background(), p.OrderID, testAddress)
		if err != nil {
			t.Fatalf("ShippingOptions(...) = %v", err)
		}
		if diff := cmp.Diff(e.Service.FallbackShipping(), opts); diff != "" {
			t.Errorf("options with a redirecting shop (-want the static ones, +got):\n%s", diff)
		}
		if n := target.count(); n != 0 {
			t.Errorf("the redirect target got %d requests, want none", n)
		}
	})
}

// TestShopShippingErrorRedacted: a token in the shipping URL's query stays
// out of the error, which the service logs.
func TestShopShippingErrorRedacted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ask := shopShipping("http://"+addr+"/shipping?token=s3cret-token", shippingSecret)
	_, err = ask(t.Context(), &payment.Payment{OrderID: "shop-10042", ShopRef: "10042"}, testAddress)
	if err == nil || strings.Contains(err.Error(), "s3cret-token") || !strings.Contains(err.Error(), addr) {
		t.Errorf("shopShipping(a dead URL with a token) = %v, want an error naming %s without the token", err, addr)
	}
}
