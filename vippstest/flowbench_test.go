package vippstest_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/vippskit/vipps/vippstest"
)

// BenchmarkFlowInProcess is one whole payment on the simulator's handler
// without a network in front of it: initiate, the customer's approve on the
// control API, the callback it sends to a sink over loopback (waited for, as
// a shop would), and capture. Its B/op and allocs/op are the simulator's
// garbage per flow (with the benchmark's requests and recorders, and the
// sink's side of the callback); the sink-conns metric is how many
// connections the callbacks took (a few when the client reuses them).
func BenchmarkFlowInProcess(b *testing.B) {
	got := make(chan struct{}, 1)
	sink := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- struct{}{}
	}))
	var conns atomic.Int64
	sink.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	sink.Start()
	b.Cleanup(sink.Close)
	sim, err := vippstest.New(vippstest.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sim.Close() })
	m := vippstest.DefaultMerchant()
	h := benchToken(b, sim)
	capture := h.Clone()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("flow-%d", i)
		benchServe(b, sim, "POST", "/ecomm/v2/payments", `{"customerInfo":{},"merchantInfo":{"merchantSerialNumber":"`+string(m.MSN)+
			`","callbackPrefix":"`+sink.URL+`/vipps","fallBack":"https://shop.example/return/`+id+
			`"},"transaction":{"orderId":"`+id+`","amount":49900,"transactionText":"bench"}}`, h)
		benchServe(b, sim, "POST", "/_sim/payments/"+id+"/approve", "", http.Header{})
		<-got
		capture.Set("X-Request-Id", "capture-"+id)
		benchServe(b, sim, "POST", "/ecomm/v2/payments/"+id+"/capture", `{"merchantInfo":{"merchantSerialNumber":"`+string(m.MSN)+
			`"},"transaction":{"amount":49900,"transactionText":"bench"}}`, capture)
	}
	b.ReportMetric(float64(conns.Load()), "sink-conns")
}
