package vippstest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vippskit/vipps"
)

// The snapshot file is JSON with explicit structs below, apart from the
// simulator's internal types, so that a refactoring inside the simulator
// cannot change the file format by accident.
const (
	snapshotFormat = "vippstest-snapshot"
	// snapshotVersion is the format version written and the newest read.
	// Fields may be added without a new version: older files load with the
	// new fields at their zero values, and older simulators refuse newer
	// files because of the unknown fields. A change of meaning needs a new
	// version.
	snapshotVersion = 1
	// firstTxID is where transaction ids start counting.
	firstTxID = 5000000000
)

type snapshotFile struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// ClockOffset is what Advance added to the real clock, as a Go
	// duration ("1h30m0s"); the time itself is not kept.
	ClockOffset string `json:"clockOffset"`
	// LastTransactionID is the last transaction id handed out.
	LastTransactionID int64         `json:"lastTransactionId"`
	Payments          []paymentSnap `json:"payments"`
	Tokens            []tokenSnap   `json:"accessTokens"`
	Consents          []consentSnap `json:"consents"`
	OrderManagement   []omOrderSnap `json:"orderManagement"`
	Images            []imageSnap   `json:"images"`
	// ExpressConsents are the consents users gave merchants to share
	// their details in express checkout.
	ExpressConsents []expressConsentSnap `json:"expressConsents"`
}

type expressConsentSnap struct {
	UserID string    `json:"userId"`
	MSN    vipps.MSN `json:"msn"`
	At     time.Time `json:"at"`
}

type paymentSnap struct {
	MSN           vipps.MSN         `json:"msn"`
	OrderID       vipps.OrderID     `json:"orderId"`
	Amount        vipps.Amount      `json:"amount"`
	Text          string            `json:"transactionText"`
	Order         orderSnap         `json:"order"`
	Token         string            `json:"token"`
	URL           string            `json:"url"`
	TransactionID string            `json:"transactionId"`
	Phase         string            `json:"phase"`
	Status        vipps.OrderStatus `json:"status"`
	Last          logEntrySnap      `json:"last"`
	Captured      vipps.Amount      `json:"captured"`
	Refunded      vipps.Amount      `json:"refunded"`
	Released      vipps.Amount      `json:"released"`
	InitiatedAt   time.Time         `json:"initiatedAt"`
	ReservedAt    time.Time         `json:"reservedAt,omitzero"`
	PendingUntil  time.Time         `json:"pendingUntil,omitzero"`
	// Log is oldest first, as the simulator keeps it.
	Log         []logEntrySnap       `json:"log"`
	Idempotency []idemSnap           `json:"idempotency,omitempty"`
	User        *userSnap            `json:"user,omitempty"`
	Shipping    *shippingDetailsSnap `json:"shipping,omitempty"`
	// App is what the browser app knows of the payment so far.
	App *appSessionSnap `json:"app,omitempty"`
}

type appSessionSnap struct {
	Phone      string               `json:"phone,omitempty"`
	Address    int64                `json:"addressId,omitempty"`
	Option     string               `json:"shippingMethodId,omitempty"`
	FetchedFor int64                `json:"fetchedFor,omitempty"`
	Options    []shippingOptionSnap `json:"options,omitempty"`
	ShipErr    string               `json:"shippingError,omitempty"`
	ShipReason string               `json:"shippingReason,omitempty"`
}

type orderSnap struct {
	CallbackPrefix        string               `json:"callbackPrefix"`
	FallBack              string               `json:"fallBack"`
	AuthToken             string               `json:"authToken,omitempty"`
	IsApp                 bool                 `json:"isApp,omitempty"`
	PaymentType           vipps.PaymentType    `json:"paymentType"`
	ConsentRemovalPrefix  string               `json:"consentRemovalPrefix,omitempty"`
	ShippingDetailsPrefix string               `json:"shippingDetailsPrefix,omitempty"`
	StaticShipping        []shippingOptionSnap `json:"staticShippingDetails,omitempty"`
	MobileNumber          string               `json:"mobileNumber,omitempty"`
	SkipLandingPage       bool                 `json:"skipLandingPage,omitempty"`
	Scope                 string               `json:"scope,omitempty"`
}

type shippingOptionSnap struct {
	IsDefault        bool    `json:"isDefault,omitempty"`
	Priority         int     `json:"priority,omitempty"`
	ShippingCost     float64 `json:"shippingCost"` // NOK
	ShippingMethod   string  `json:"shippingMethod"`
	ShippingMethodID string  `json:"shippingMethodId"`
}

type logEntrySnap struct {
	Operation     vipps.Operation `json:"operation"`
	Amount        vipps.Amount    `json:"amount"`
	Success       bool            `json:"success"`
	Text          string          `json:"transactionText"`
	TransactionID string          `json:"transactionId,omitempty"`
	Time          time.Time       `json:"time,omitzero"`
	RequestID     string          `json:"requestId,omitempty"`
}

// idemSnap is a kept answer to an idempotent request, byte for byte.
type idemSnap struct {
	Op          string `json:"op"`
	RequestID   string `json:"requestId"`
	Fingerprint string `json:"fingerprint"`
	Status      int    `json:"status"`
	ContentType string `json:"contentType,omitempty"`
	Body        []byte `json:"body,omitempty"` // base64
}

type userSnap struct {
	Phone     string      `json:"phone"`
	Sub       string      `json:"sub"`
	UserID    string      `json:"userId"`
	FirstName string      `json:"firstName"`
	LastName  string      `json:"lastName"`
	Email     string      `json:"email"`
	BirthDate string      `json:"birthDate"`
	NIN       string      `json:"nin"`
	Address   addressSnap `json:"address"`
}

type addressSnap struct {
	AddressLine1 string `json:"addressLine1"`
	AddressLine2 string `json:"addressLine2,omitempty"`
	City         string `json:"city"`
	Country      string `json:"country"`
	PostCode     string `json:"postCode"`
}

type shippingDetailsSnap struct {
	Address          addressSnap `json:"address"`
	ShippingCost     float64     `json:"shippingCost"` // NOK
	ShippingMethod   string      `json:"shippingMethod"`
	ShippingMethodID string      `json:"shippingMethodId"`
}

type tokenSnap struct {
	Token   string    `json:"token"`
	MSN     vipps.MSN `json:"msn"`
	Expires time.Time `json:"expires"`
}

type consentSnap struct {
	Sub    string    `json:"sub"`
	MSN    vipps.MSN `json:"msn"`
	User   *userSnap `json:"user"`
	Scopes []string  `json:"scopes"`
	At     time.Time `json:"at"`
}

type omOrderSnap struct {
	MSN         vipps.MSN           `json:"msn"`
	PaymentType vipps.OMPaymentType `json:"paymentType"`
	OrderID     string              `json:"orderId"`
	Category    *categorySnap       `json:"category,omitempty"`
	Receipt     json.RawMessage     `json:"receipt,omitempty"`
}

type categorySnap struct {
	Category        vipps.Category `json:"category"`
	OrderDetailsURL string         `json:"orderDetailsUrl"`
	ImageID         string         `json:"imageId,omitempty"`
}

// imageSnap is an uploaded Order Management image, with its bytes (for
// the history page) when the simulator kept them.
type imageSnap struct {
	MSN     vipps.MSN `json:"msn"`
	ImageID string    `json:"imageId"`
	Data    []byte    `json:"data,omitempty"` // base64
}

// phaseNames spell the phases in the file; they never change meaning.
var phaseNames = map[phase]string{
	phaseInitiated:     "initiated",
	phaseReserved:      "reserved",
	phaseSale:          "sale",
	phaseCancelled:     "cancelled",
	phaseVoided:        "voided",
	phaseUserCancelled: "user-cancelled",
	phaseTimedOut:      "timed-out",
	phaseFailed:        "failed",
}

// snapshotDelay is how long the saver waits after a change before it
// writes, so that a burst of requests costs one write.
const snapshotDelay = 250 * time.Millisecond

// snapshotter keeps the snapshot file in step with the simulator. Its
// fields other than the channels are guarded by the simulator's mutex.
type snapshotter struct {
	path  string
	saved []byte // what the file holds, to skip writes that change nothing
	err   error  // of the last write, nil once one succeeds
	write func(path string, data []byte) error

	stop    chan struct{} // closed by Close to stop the saver
	stopped chan struct{} // closed by the saver when it returns
}

// stateMutex is the simulator's mutex. Every Unlock may follow a change
// of state, so it wakes the snapshot saver (when there is one); that way
// no code path that changes state can forget to save it.
type stateMutex struct {
	sync.Mutex
	changed chan struct{} // nil without a snapshot; holds at most one wake-up
}

// Unlock unlocks m and wakes the snapshot saver.
func (m *stateMutex) Unlock() {
	if m.changed != nil {
		select {
		case m.changed <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
	m.Mutex.Unlock()
}

// openSnapshotLocked loads the snapshot file when there is one, or creates
// it, so that a path that cannot be written fails New rather than the
// first payment. Then it starts the saver.
func (s *Simulator) openSnapshotLocked(path string) error {
	if path == "" {
		return nil
	}
	s.snap = &snapshotter{path: path, write: writeFileAtomic}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := s.saveSnapshotLocked(); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("vippstest: snapshot: %w", err)
	default:
		f, err := decodeSnapshot(data)
		if err == nil {
			err = s.restoreLocked(f)
		}
		if err != nil {
			return fmt.Errorf("vippstest: snapshot %s: %w", path, err)
		}
		s.snap.saved = data
	}
	s.snap.stop, s.snap.stopped = make(chan struct{}), make(chan struct{})
	s.mu.changed = make(chan struct{}, 1)
	go s.saveLoop(s.mu.changed, s.snap.stop, s.snap.stopped)
	return nil
}

// saveLoop is the snapshot saver: a goroutine owned by the simulator,
// stopped by Close. After each wake-up it waits snapshotDelay, then saves
// if the state differs from the file.
func (s *Simulator) saveLoop(changed <-chan struct{}, stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	delay := time.NewTimer(snapshotDelay)
	delay.Stop()
	for {
		select {
		case <-stop:
			return
		case <-changed:
		}
		delay.Reset(snapshotDelay)
		select {
		case <-stop:
			delay.Stop()
			return
		case <-delay.C:
		}
		s.mu.Mutex.Lock() // not s.mu.Lock/Unlock: saving must not wake the saver
		s.persistLocked()
		s.mu.Mutex.Unlock()
	}
}

// stopSnapshotSaver stops the saver and waits for it. It must be called
// without the lock; calling it again does nothing.
func (s *Simulator) stopSnapshotSaver() {
	if s.snap == nil || s.snap.stop == nil {
		return
	}
	select {
	case <-s.snap.stop:
	default:
		close(s.snap.stop)
	}
	<-s.snap.stopped
}

// decodeSnapshot checks the format and version, then decodes strictly.
func decodeSnapshot(data []byte) (snapshotFile, error) {
	var f snapshotFile
	if len(bytes.TrimSpace(data)) == 0 {
		return f, errors.New("the file is empty; delete it to start afresh")
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return f, fmt.Errorf("corrupt: %s", jsonErrorAt(data, err))
	}
	switch {
	case head.Format != snapshotFormat:
		return f, fmt.Errorf("not a vippstest snapshot (format %q, want %q)", head.Format, snapshotFormat)
	case head.Version > snapshotVersion:
		return f, fmt.Errorf("format version %d is newer than this simulator reads (%d); use a newer vipps, or delete the file", head.Version, snapshotVersion)
	case head.Version < 1:
		return f, fmt.Errorf("corrupt: format version %d", head.Version)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("corrupt: %s", jsonErrorAt(data, err))
	}
	return f, nil
}

// persistLocked saves the state when it differs from what the file holds.
// The saver calls it; a failure is logged (once, until a write succeeds
// again) and retried on the next change and by Close.
func (s *Simulator) persistLocked() {
	if s.snap == nil {
		return
	}
	failing := s.snap.err != nil
	err := s.saveSnapshotLocked()
	switch {
	case err != nil && !failing:
		s.log.LogAttrs(context.Background(), slog.LevelError, "snapshot not saved", slog.String("path", s.snap.path), slog.String("error", err.Error()))
	case err == nil && failing:
		s.log.LogAttrs(context.Background(), slog.LevelInfo, "snapshot saved again", slog.String("path", s.snap.path))
	}
}

// saveSnapshotLocked writes the state atomically unless the file holds it
// already.
func (s *Simulator) saveSnapshotLocked() error {
	if s.snap == nil {
		return nil
	}
	data, err := json.MarshalIndent(s.snapshotLocked(), "", "  ")
	if err != nil {
		return fmt.Errorf("vippstest: snapshot %s: %w", s.snap.path, err)
	}
	data = append(data, '\n')
	if s.snap.err == nil && bytes.Equal(data, s.snap.saved) {
		return nil
	}
	err = s.snap.write(s.snap.path, data)
	s.metrics.snapshotWritten(err)
	if err != nil {
		s.snap.err = fmt.Errorf("vippstest: snapshot %s: %w", s.snap.path, err)
		return s.snap.err
	}
	s.snap.saved, s.snap.err = data, nil
	return nil
}

// writeFileAtomic replaces path with data: it writes a temporary file in
// the same directory, syncs it and renames it over path, so that path
// holds the old or the new data, never a part.
func writeFileAtomic(path string, data []byte) error {
	return replaceFile(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// replaceFile is writeFileAtomic with the writing done by fill. On any
// error the temporary file is removed and path is left as it was.
func replaceFile(path string, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable. Not every system can sync a
	// directory; the data is safe in the file either way.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// snapshotLocked captures the state. Expired access tokens are left out.
func (s *Simulator) snapshotLocked() snapshotFile {
	f := snapshotFile{
		Format:            snapshotFormat,
		Version:           snapshotVersion,
		ClockOffset:       s.offset.String(),
		LastTransactionID: s.nextTx,
		Payments:          []paymentSnap{},
		Tokens:            []tokenSnap{},
		Consents:          []consentSnap{},
		OrderManagement:   []omOrderSnap{},
		Images:            []imageSnap{},
	}
	for _, k := range sortedKeys(s.payments, func(a, b payKey) int {
		return cmp.Or(cmp.Compare(a.msn, b.msn), cmp.Compare(a.orderID, b.orderID))
	}) {
		p := s.payments[k]
		ps := snapPayment(p)
		ps.App = snapSession(s.app.sessions[p])
		f.Payments = append(f.Payments, ps)
	}
	now := s.nowLocked()
	for _, tok := range slices.Sorted(maps.Keys(s.tokens)) {
		if it := s.tokens[tok]; now.Before(it.expires) {
			f.Tokens = append(f.Tokens, tokenSnap{Token: tok, MSN: it.msn, Expires: it.expires})
		}
	}
	for _, k := range sortedKeys(s.subs, func(a, b consentKey) int {
		return cmp.Or(cmp.Compare(a.msn, b.msn), cmp.Compare(a.sub, b.sub))
	}) {
		c := s.subs[k]
		f.Consents = append(f.Consents, consentSnap{Sub: k.sub, MSN: k.msn, User: snapUser(c.user), Scopes: slices.Clone(c.scopes), At: c.at})
	}
	for _, k := range sortedKeys(s.om, func(a, b omKey) int {
		return cmp.Or(cmp.Compare(a.msn, b.msn), cmp.Compare(a.paymentType, b.paymentType), cmp.Compare(a.orderID, b.orderID))
	}) {
		o := s.om[k]
		entry := omOrderSnap{MSN: k.msn, PaymentType: k.paymentType, OrderID: k.orderID, Receipt: o.receipt}
		if c := o.category; c != nil {
			entry.Category = &categorySnap{Category: c.Category, OrderDetailsURL: c.OrderDetailsURL, ImageID: c.ImageID}
		}
		f.OrderManagement = append(f.OrderManagement, entry)
	}
	for _, msn := range slices.Sorted(maps.Keys(s.images)) {
		for _, id := range slices.Sorted(maps.Keys(s.images[msn])) {
			if s.images[msn][id] {
				f.Images = append(f.Images, imageSnap{MSN: msn, ImageID: id, Data: s.app.images[imageKey{msn, id}]})
			}
		}
	}
	f.ExpressConsents = []expressConsentSnap{}
	for _, k := range sortedKeys(s.app.consents, func(a, b expressConsentKey) int {
		return cmp.Or(cmp.Compare(a.msn, b.msn), cmp.Compare(a.userID, b.userID))
	}) {
		f.ExpressConsents = append(f.ExpressConsents, expressConsentSnap{UserID: k.userID, MSN: k.msn, At: s.app.consents[k]})
	}
	return f
}

func sortedKeys[K comparable, V any](m map[K]V, compare func(a, b K) int) []K {
	return slices.SortedFunc(maps.Keys(m), compare)
}

func snapPayment(p *payment) paymentSnap {
	o := p.order
	ps := paymentSnap{
		MSN:     p.msn,
		OrderID: p.orderID,
		Amount:  p.amount,
		Text:    p.text,
		Order: orderSnap{
			CallbackPrefix:        o.callbackPrefix,
			FallBack:              o.fallBack,
			AuthToken:             o.authToken,
			IsApp:                 o.isApp,
			PaymentType:           o.paymentType,
			ConsentRemovalPrefix:  o.consentRemovalPrefix,
			ShippingDetailsPrefix: o.shippingDetailsPrefix,
			MobileNumber:          o.mobileNumber,
			SkipLandingPage:       o.skipLandingPage,
			Scope:                 o.scope,
		},
		Token:         p.token,
		URL:           p.url,
		TransactionID: p.txID,
		Phase:         phaseNames[p.phase],
		Status:        p.status,
		Last:          snapLogEntry(p.last),
		Captured:      p.captured,
		Refunded:      p.refunded,
		Released:      p.released,
		InitiatedAt:   p.initiatedAt,
		ReservedAt:    p.reservedAt,
		PendingUntil:  p.pendingUntil,
		Log:           []logEntrySnap{},
		User:          snapUser(p.user),
	}
	ps.Order.StaticShipping = snapOptions(o.staticShipping)
	for _, e := range p.log {
		ps.Log = append(ps.Log, snapLogEntry(e))
	}
	for _, k := range sortedKeys(p.idem, func(a, b idemKey) int {
		return cmp.Or(cmp.Compare(a.op, b.op), cmp.Compare(a.requestID, b.requestID))
	}) {
		r := p.idem[k]
		ps.Idempotency = append(ps.Idempotency, idemSnap{
			Op: k.op, RequestID: k.requestID, Fingerprint: r.fingerprint,
			Status: r.rep.status, ContentType: r.rep.contentType, Body: r.rep.body,
		})
	}
	if sd := p.shipping; sd != nil {
		ps.Shipping = &shippingDetailsSnap{
			Address: snapAddress(sd.Address), ShippingCost: float64(sd.ShippingCost),
			ShippingMethod: sd.ShippingMethod, ShippingMethodID: sd.ShippingMethodID,
		}
	}
	return ps
}

func snapOptions(opts []vipps.ShippingOption) []shippingOptionSnap {
	var out []shippingOptionSnap
	for _, o := range opts {
		out = append(out, shippingOptionSnap{
			IsDefault: bool(o.IsDefault), Priority: o.Priority, ShippingCost: float64(o.ShippingCost),
			ShippingMethod: o.ShippingMethod, ShippingMethodID: o.ShippingMethodID,
		})
	}
	return out
}

func optionsOf(opts []shippingOptionSnap) []vipps.ShippingOption {
	var out []vipps.ShippingOption
	for _, o := range opts {
		out = append(out, vipps.ShippingOption{
			IsDefault: vipps.YesNo(o.IsDefault), Priority: o.Priority, ShippingCost: vipps.NOK(o.ShippingCost),
			ShippingMethod: o.ShippingMethod, ShippingMethodID: o.ShippingMethodID,
		})
	}
	return out
}

func snapSession(a *appSession) *appSessionSnap {
	if a == nil {
		return nil
	}
	return &appSessionSnap{
		Phone: a.phone, Address: a.address, Option: a.option, FetchedFor: a.fetchedFor,
		Options: snapOptions(a.options), ShipErr: a.shipErr, ShipReason: a.shipReason,
	}
}

func (a *appSessionSnap) session() *appSession {
	if a == nil {
		return nil
	}
	return &appSession{
		phone: a.Phone, address: a.Address, option: a.Option, fetchedFor: a.FetchedFor,
		options: optionsOf(a.Options), shipErr: a.ShipErr, shipReason: a.ShipReason,
	}
}

func snapLogEntry(e vipps.LogEntry) logEntrySnap {
	return logEntrySnap{
		Operation: e.Operation, Amount: e.Amount, Success: e.OperationSuccess, Text: e.TransactionText,
		TransactionID: e.TransactionID, Time: e.TimeStamp.Time, RequestID: e.RequestID,
	}
}

func (e logEntrySnap) entry() vipps.LogEntry {
	return vipps.LogEntry{
		Operation: e.Operation, Amount: e.Amount, OperationSuccess: e.Success, TransactionText: e.Text,
		TransactionID: e.TransactionID, TimeStamp: vipps.Time{Time: e.Time}, RequestID: e.RequestID,
	}
}

func snapUser(u *user) *userSnap {
	if u == nil {
		return nil
	}
	return &userSnap{
		Phone: u.phone, Sub: u.sub, UserID: u.userID, FirstName: u.firstName, LastName: u.lastName,
		Email: u.email, BirthDate: u.birthDate, NIN: u.nin, Address: snapAddress(u.address),
	}
}

func (u *userSnap) user() *user {
	if u == nil {
		return nil
	}
	return &user{
		phone: u.Phone, sub: u.Sub, userID: u.UserID, firstName: u.FirstName, lastName: u.LastName,
		email: u.Email, birthDate: u.BirthDate, nin: u.NIN, address: u.Address.address(),
	}
}

func snapAddress(a vipps.Address) addressSnap {
	return addressSnap{AddressLine1: a.AddressLine1, AddressLine2: a.AddressLine2, City: a.City, Country: a.Country, PostCode: a.PostCode}
}

func (a addressSnap) address() vipps.Address {
	return vipps.Address{AddressLine1: a.AddressLine1, AddressLine2: a.AddressLine2, City: a.City, Country: a.Country, PostCode: a.PostCode}
}

// payment rebuilds a payment, or says what is wrong with the entry.
func (ps paymentSnap) payment() (*payment, error) {
	ph, ok := phaseByName(ps.Phase)
	if !ok {
		return nil, fmt.Errorf("unknown phase %q", ps.Phase)
	}
	o := ps.Order
	p := &payment{
		msn:     ps.MSN,
		orderID: ps.OrderID,
		amount:  ps.Amount,
		text:    ps.Text,
		order: order{
			callbackPrefix:        o.CallbackPrefix,
			fallBack:              o.FallBack,
			authToken:             o.AuthToken,
			isApp:                 o.IsApp,
			paymentType:           o.PaymentType,
			consentRemovalPrefix:  o.ConsentRemovalPrefix,
			shippingDetailsPrefix: o.ShippingDetailsPrefix,
			mobileNumber:          o.MobileNumber,
			skipLandingPage:       o.SkipLandingPage,
			scope:                 o.Scope,
		},
		token:        ps.Token,
		url:          ps.URL,
		txID:         ps.TransactionID,
		phase:        ph,
		status:       ps.Status,
		last:         ps.Last.entry(),
		captured:     ps.Captured,
		refunded:     ps.Refunded,
		released:     ps.Released,
		initiatedAt:  ps.InitiatedAt,
		reservedAt:   ps.ReservedAt,
		pendingUntil: ps.PendingUntil,
		idem:         map[idemKey]idemRecord{},
		user:         ps.User.user(),
	}
	p.order.staticShipping = optionsOf(o.StaticShipping)
	for _, e := range ps.Log {
		p.log = append(p.log, e.entry())
	}
	for i, r := range ps.Idempotency {
		k := idemKey{r.Op, r.RequestID}
		if _, dup := p.idem[k]; dup {
			return nil, fmt.Errorf("idempotency[%d]: %s X-Request-Id %q appears twice", i, r.Op, r.RequestID)
		}
		p.idem[k] = idemRecord{fingerprint: r.Fingerprint, rep: reply{status: r.Status, contentType: r.ContentType, body: r.Body}}
	}
	if sd := ps.Shipping; sd != nil {
		p.shipping = &vipps.ShippingDetails{
			Address: sd.Address.address(), ShippingCost: vipps.NOK(sd.ShippingCost),
			ShippingMethod: sd.ShippingMethod, ShippingMethodID: sd.ShippingMethodID,
		}
	}
	return p, nil
}

func phaseByName(name string) (phase, bool) {
	for ph, n := range phaseNames {
		if n == name {
			return ph, true
		}
	}
	return 0, false
}

// restoreLocked replaces the (fresh) simulator's state with f. Every
// merchant the file names must be configured.
func (s *Simulator) restoreLocked(f snapshotFile) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	known := func(where string, msn vipps.MSN) bool {
		if s.byMSN[msn] == nil {
			bad("%s: MSN %s is not a configured merchant; start with the merchants the snapshot was written with, or delete the file", where, msn)
			return false
		}
		return true
	}

	offset, err := time.ParseDuration(f.ClockOffset)
	switch {
	case err != nil:
		bad("clockOffset %q is not a duration", f.ClockOffset)
	case offset < 0:
		bad("clockOffset %q is negative", f.ClockOffset)
	}
	if f.LastTransactionID < firstTxID {
		bad("lastTransactionId %d is below %d", f.LastTransactionID, firstTxID)
	}
	payments := map[payKey]*payment{}
	byToken := map[string]*payment{}
	var sessions map[*payment]*appSession
	for i, ps := range f.Payments {
		where := fmt.Sprintf("payments[%d] (order %s)", i, ps.OrderID)
		if !known(where, ps.MSN) {
			continue
		}
		p, err := ps.payment()
		switch {
		case err != nil:
			bad("%s: %v", where, err)
			continue
		case payments[payKey{p.msn, p.orderID}] != nil:
			bad("%s: MSN %s has this orderId twice", where, p.msn)
			continue
		case p.token != "" && byToken[p.token] != nil:
			bad("%s: its landing page token belongs to another payment too", where)
			continue
		}
		payments[payKey{p.msn, p.orderID}] = p
		if p.token != "" {
			byToken[p.token] = p
		}
		if sess := ps.App.session(); sess != nil {
			if sessions == nil {
				sessions = map[*payment]*appSession{}
			}
			sessions[p] = sess
		}
	}
	tokens := map[string]issuedToken{}
	for i, t := range f.Tokens {
		if known(fmt.Sprintf("accessTokens[%d]", i), t.MSN) {
			tokens[t.Token] = issuedToken{msn: t.MSN, expires: t.Expires}
		}
	}
	subs := map[consentKey]*consent{}
	for i, c := range f.Consents {
		if known(fmt.Sprintf("consents[%d]", i), c.MSN) {
			subs[consentKey{c.Sub, c.MSN}] = &consent{user: c.User.user(), scopes: c.Scopes, at: c.At}
		}
	}
	om := map[omKey]*omOrder{}
	for i, o := range f.OrderManagement {
		if !known(fmt.Sprintf("orderManagement[%d]", i), o.MSN) {
			continue
		}
		oo := &omOrder{}
		if len(o.Receipt) > 0 {
			var compact bytes.Buffer
			if err := json.Compact(&compact, o.Receipt); err != nil {
				bad("orderManagement[%d].receipt: %v", i, err)
				continue
			}
			oo.receipt = compact.Bytes() // as posted, compacted
		}
		if c := o.Category; c != nil {
			oo.category = &vipps.OrderCategory{Category: c.Category, OrderDetailsURL: c.OrderDetailsURL, ImageID: c.ImageID}
		}
		om[omKey{o.MSN, o.PaymentType, o.OrderID}] = oo
	}
	images := map[vipps.MSN]map[string]bool{}
	var imageData map[imageKey][]byte
	for i, im := range f.Images {
		if !known(fmt.Sprintf("images[%d]", i), im.MSN) {
			continue
		}
		if images[im.MSN] == nil {
			images[im.MSN] = map[string]bool{}
		}
		images[im.MSN][im.ImageID] = true
		if im.Data != nil {
			if imageData == nil {
				imageData = map[imageKey][]byte{}
			}
			imageData[imageKey{im.MSN, im.ImageID}] = im.Data
		}
	}
	var consents map[expressConsentKey]time.Time
	for i, c := range f.ExpressConsents {
		if !known(fmt.Sprintf("expressConsents[%d]", i), c.MSN) {
			continue
		}
		if consents == nil {
			consents = map[expressConsentKey]time.Time{}
		}
		consents[expressConsentKey{c.UserID, c.MSN}] = c.At
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}

	s.offset, s.nextTx = offset, f.LastTransactionID
	s.payments, s.byToken, s.tokens, s.subs, s.om, s.images = payments, byToken, tokens, subs, om, images
	s.app.sessions, s.app.images, s.app.consents = sessions, imageData, consents
	s.open = map[*payment]struct{}{}
	for _, p := range payments {
		if p.phase == phaseInitiated {
			s.open[p] = struct{}{}
		}
	}
	return nil
}
