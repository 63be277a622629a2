package web

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/vippskit/vipps"
	"github.com/vippskit/vipps/internal/checklist"
	"github.com/vippskit/vipps/internal/payment"
)

// GoLive describes the installation for its go-live checklist
// (GET /admin/checklist). Its zero value leaves out what it would tell:
// the keys and the poller are then not graded from it.
type GoLive struct {
	// VippsURL is the client's Vipps base URL; SystemName and
	// SystemVersion are the Vipps-System-* values it sends.
	VippsURL, SystemName, SystemVersion string
	// CheckKeys fetches an access token now; nil means not checked. It is
	// called once per view of the checklist, within goLiveKeysTimeout.
	CheckKeys func(ctx context.Context) error
	// PollerChecks reports how many payments the poller checked since the
	// service started, and when it last did; nil means not known.
	PollerChecks func() (checks int64, last time.Time)
}

// goLivePayments is how many of the newest payments the checklist reads.
const goLivePayments = 200

// goLiveKeysTimeout bounds the access token fetch of one checklist view.
const goLiveKeysTimeout = 10 * time.Second

// goLiveInstallation gathers what the service knows about itself, for
// checklist.GradeService. It reads the store and fetches one access token.
func (s *Server) goLiveInstallation(ctx context.Context) (checklist.Installation, error) {
	g, svc := s.cfg.GoLive, s.svc
	public := strings.TrimRight(svc.PublicURL(), "/")
	in := checklist.Installation{
		Now: s.now(), VippsURL: g.VippsURL, SystemName: g.SystemName, SystemVersion: g.SystemVersion,
		PublicURL: public, CallbackURL: public + svc.CallbackPath(), AdminURL: public + "/admin/",
	}
	if g.CheckKeys != nil {
		kctx, cancel := context.WithTimeout(ctx, goLiveKeysTimeout)
		err := g.CheckKeys(kctx)
		cancel()
		in.Keys = checklist.KeysCheck{Checked: true}
		if err != nil {
			in.Keys.Error = err.Error()
		}
	}
	if g.PollerChecks != nil {
		n, last := g.PollerChecks()
		in.Poller = checklist.PollerCheck{Known: true, Checks: n, Last: last}
	}
	ps, err := svc.List(ctx, payment.ListFilter{Limit: goLivePayments + 1})
	if err != nil {
		return in, err
	}
	if len(ps) > goLivePayments {
		ps, in.More = ps[:goLivePayments], true
	}
	for _, p := range ps {
		h, err := svc.History(ctx, p.OrderID)
		if err != nil {
			return in, err
		}
		in.Payments = append(in.Payments, installedPayment(h, in.Now))
	}
	return in, nil
}

// installedPayment is what the checklist needs of one payment's history.
func installedPayment(h *payment.History, now time.Time) checklist.InstalledPayment {
	p := h.Payment
	ip := checklist.InstalledPayment{
		OrderID: p.OrderID, State: string(p.State), CreatedAt: p.CreatedAt,
		Overdue: checklist.OverdueAfter(p.NextCheckAt, now), Receipt: p.Receipt != nil,
	}
	switch p.State {
	case payment.Reserved, payment.Captured, payment.Refunded, payment.Voided:
		ip.Decided = true
	case payment.Failed, payment.Cancelled:
		ip.Decided, ip.Failed = true, true
	}
	for _, e := range h.Events {
		if e.Type == payment.EventCallback {
			ip.Callbacks = append(ip.Callbacks, e.At)
		}
	}
	for _, op := range h.Operations {
		full := op.Amount == 0 ||
			op.Kind == payment.OpCapture && op.Amount >= p.Amounts.Authorized ||
			op.Kind == payment.OpRefund && op.Amount >= p.Amounts.Captured
		ip.Ops = append(ip.Ops, checklist.InstalledOp{Kind: string(op.Kind), Status: string(op.Status), Full: full,
			Sends: op.Sends, RequestID: op.RequestID, At: op.UpdatedAt})
	}
	for _, t := range h.Tasks {
		if t.Kind != payment.TaskReceipt {
			continue
		}
		switch t.Status {
		case payment.TaskDone:
			ip.ReceiptSent = true
		case payment.TaskDead:
			ip.ReceiptDead = true
		}
	}
	return ip
}

// adminChecklistData is the data of admin_checklist.html.
type adminChecklistData struct {
	page
	Counts []checklistCount
	Items  []checklistRow
	// Scope says which payments were read.
	Scope string
}

// checklistCount is how many items have one status.
type checklistCount struct {
	Status checklist.Status
	Label  string
	Count  int
}

// checklistRow is one item on the page.
type checklistRow struct {
	checklist.Result
	StatusLabel string
	Evidence    []checklistEvidence
}

// checklistEvidence is one line of evidence, in words.
type checklistEvidence struct {
	OrderID       vipps.OrderID
	URL           string
	RequestID     string
	Time, TimeISO string
	Note          string
}

// adminChecklist serves GET /admin/checklist: the go-live checklist of
// this installation, graded from what it knows of itself.
func (s *Server) adminChecklist(w http.ResponseWriter, r *http.Request) {
	in, err := s.goLiveInstallation(r.Context())
	if err != nil {
		s.adminFail(w, r, "", err)
		return
	}
	rs := checklist.GradeService(in)
	l := s.lang(r)
	d := adminChecklistData{page: s.adminPage(r, "checklist", l.T("Go-live checklist")+" · vippskit admin")}
	d.Scope = l.T("Graded from this service's settings, an access token fetched just now, and every stored payment.")
	if in.More {
		d.Scope = l.F("Graded from this service's settings, an access token fetched just now, and the newest %d payments.", goLivePayments)
	}
	counts := map[checklist.Status]int{}
	for _, res := range rs {
		counts[res.Status]++
		row := checklistRow{Result: res, StatusLabel: l.T(checklistStatusLabel(res.Status))}
		for _, e := range res.Evidence {
			ce := checklistEvidence{OrderID: e.OrderID, RequestID: e.RequestID, Note: e.Note,
				Time: adminTime(e.Time, true), TimeISO: adminISO(e.Time)}
			if e.OrderID != "" {
				ce.URL = adminPaymentURL(e.OrderID)
			}
			row.Evidence = append(row.Evidence, ce)
		}
		d.Items = append(d.Items, row)
	}
	for _, st := range []checklist.Status{checklist.Fail, checklist.NotSeen, checklist.Manual, checklist.Pass} {
		if counts[st] > 0 {
			d.Counts = append(d.Counts, checklistCount{Status: st, Label: l.T(checklistStatusLabel(st)), Count: counts[st]})
		}
	}
	s.writePage(w, r, http.StatusOK, "admin_checklist.html", &d)
}

// adminChecklistJSON serves GET /admin/checklist.json: the same results as
// a JSON array, as `vipps checklist -json` prints them.
func (s *Server) adminChecklistJSON(w http.ResponseWriter, r *http.Request) {
	in, err := s.goLiveInstallation(r.Context())
	if err != nil {
		s.log.ErrorContext(r.Context(), "go-live checklist failed", "err", err)
		http.Error(w, "The checklist could not be read from the database. Try again.", statusOf(err))
		return
	}
	var b bytes.Buffer
	if err := checklist.WriteJSON(&b, checklist.GradeService(in)); err != nil {
		s.log.ErrorContext(r.Context(), "go-live checklist failed", "err", err)
		http.Error(w, "Something went wrong on our side. Please try again.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
}
