package vippstest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // Order Management takes JPEG images
	_ "image/png"  // and PNG images
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/vippskit/vipps"
)

// omKey identifies what Order Management holds for one payment.
type omKey struct {
	msn         vipps.MSN
	paymentType vipps.OMPaymentType // lowercased
	orderID     string
}

type omOrder struct {
	category *vipps.OrderCategory
	receipt  json.RawMessage // as posted, compacted
}

var omIDPattern = regexp.MustCompile(`^[0-9A-Za-z_.-]+$`)

const (
	maxImageBytes   = 2 << 20
	minImageHeight  = 167
	quantityPattern = `^\d+([\.]\d{1,8})?$`
)

// omForm is a form whose problems become a problem document's
// invalidParams: Order Management answers 400 for malformed JSON too.
func (s *Simulator) omForm(x *exchange) *form { return &form{x: x, lenient: true} }

// omResult turns a form's problems into a 400 problem document.
func omResult(f *form) *reply {
	if len(f.invalid) == 0 {
		return nil
	}
	params := make([]vipps.InvalidParam, len(f.invalid))
	for i, d := range f.invalid {
		params[i] = vipps.InvalidParam{Name: string(d.Code), Reason: d.Message}
	}
	rep := problemReply(http.StatusBadRequest, "One or more validation errors occurred.", "BadRequest", params)
	return &rep
}

// omCall checks the credentials and the Merchant-Serial-Number header,
// which Order Management requires.
func (s *Simulator) omCall(x *exchange) (*Merchant, *reply) {
	m, rep := s.authorize(x, true)
	if rep != nil {
		return nil, rep
	}
	h := x.r.Header.Get("Merchant-Serial-Number")
	switch {
	case h == "" && !s.cfg.Lenient:
		rep := problemReply(http.StatusBadRequest, "One or more validation errors occurred.", "BadRequest",
			[]vipps.InvalidParam{{Name: "Merchant-Serial-Number", Reason: "The Merchant-Serial-Number header is required."}})
		return nil, &rep
	case h == "":
		x.warn("Merchant-Serial-Number is missing; Order Management requires it")
	case !s.headerMSNOK(x, m):
		rep := problemReply(http.StatusForbidden, "Forbidden", fmt.Sprintf("Merchant-Serial-Number %s does not belong to these API keys.", h), nil)
		return nil, &rep
	}
	return m, nil
}

// omTarget reads {paymentType} (any casing) and {orderId} from the path.
// omOrderCall authorizes an Order Management call about one order and
// checks its paymentType and orderId.
func (s *Simulator) omOrderCall(x *exchange) (*Merchant, omKey, *reply) {
	m, rep := s.omCall(x)
	if rep != nil {
		return nil, omKey{}, rep
	}
	key, rep := omTarget(x, m)
	if rep != nil {
		return nil, omKey{}, rep
	}
	return m, key, nil
}

func omTarget(x *exchange, m *Merchant) (omKey, *reply) {
	var params []vipps.InvalidParam
	pt := vipps.OMPaymentType(strings.ToLower(x.r.PathValue("paymentType")))
	if pt != vipps.OMEcom && pt != vipps.OMRecurring {
		params = append(params, vipps.InvalidParam{Name: "paymentType", Reason: "paymentType must be ecom or recurring."})
	}
	id := x.r.PathValue("orderId")
	if !omIDPattern.MatchString(id) {
		params = append(params, vipps.InvalidParam{Name: "orderId", Reason: "orderId must match ^[0-9A-Za-z-_\\.]+$."})
	}
	if len(params) > 0 {
		rep := problemReply(http.StatusBadRequest, "One or more validation errors occurred.", "BadRequest", params)
		return omKey{}, &rep
	}
	x.rec.OrderID = vipps.OrderID(id)
	return omKey{m.MSN, pt, id}, nil
}

// omImage serves POST /order-management/v1/images.
func (s *Simulator) omImage(x *exchange) reply {
	m, rep := s.omCall(x)
	if rep != nil {
		return *rep
	}
	f := s.omForm(x)
	t := f.parse(x.body)
	var id, src string
	if t != nil {
		id = f.str(t, "", "imageId", true, 128)
		if id != "" && !omIDPattern.MatchString(id) {
			f.bad("imageId", "imageId must match ^[0-9A-Za-z-_\\.]+$.")
		}
		if typ := f.str(t, "", "type", true, 0); typ != "" && typ != "base64" {
			f.bad("type", "type must be base64.")
		}
		if src = f.str(t, "", "src", true, 0); src != "" {
			f.checkImage(src)
		}
	}
	if rep := omResult(f); rep != nil {
		return *rep
	}
	if s.images[m.MSN][id] {
		return problemReply(http.StatusConflict, "Conflict", fmt.Sprintf("An image with imageId %q already exists; images cannot be overwritten.", id), nil)
	}
	if s.images[m.MSN] == nil {
		s.images[m.MSN] = map[string]bool{}
	}
	s.images[m.MSN][id] = true
	s.keepImageLocked(m.MSN, id, src) // for the history page
	return jsonReply(http.StatusOK, map[string]string{"imageId": id})
}

// checkImage checks src: base64 of a PNG or JPEG of at most 2 MB and at
// least 167 pixels high.
func (f *form) checkImage(src string) {
	data, err := base64.StdEncoding.DecodeString(src)
	if err != nil {
		f.bad("src", "src must be base64-encoded image data.")
		return
	}
	if len(data) > maxImageBytes {
		f.bad("src", "The image is %d bytes; the limit is 2 MB.", len(data))
		return
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	switch {
	case err != nil || (format != "png" && format != "jpeg"):
		f.bad("src", "The image must be a PNG or a JPEG.")
	case cfg.Height < minImageHeight:
		f.bad("src", "The image is %d pixels high; the minimum is %d.", cfg.Height, minImageHeight)
	}
}

// omCategory serves PUT /order-management/v2/{paymentType}/categories/{orderId}.
func (s *Simulator) omCategory(x *exchange) reply {
	m, key, rep := s.omOrderCall(x)
	if rep != nil {
		return *rep
	}
	f := s.omForm(x)
	var cat vipps.OrderCategory
	if t := f.parse(x.body); t != nil {
		cat.Category = vipps.Category(f.str(t, "", "category", true, 0))
		switch cat.Category {
		case "", vipps.CategoryGeneral, vipps.CategoryReceipt, vipps.CategoryOrderConfirmation,
			vipps.CategoryDelivery, vipps.CategoryTicket, vipps.CategoryBooking:
		default:
			f.bad("category", "category must be one of GENERAL, RECEIPT, ORDER_CONFIRMATION, DELIVERY, TICKET, BOOKING.")
		}
		cat.OrderDetailsURL = f.str(t, "", "orderDetailsUrl", true, 0)
		if u, err := url.Parse(cat.OrderDetailsURL); cat.OrderDetailsURL != "" && (err != nil || !u.IsAbs() || u.Host == "") {
			f.bad("orderDetailsUrl", "orderDetailsUrl must be an absolute URL.")
		}
		cat.ImageID = f.str(t, "", "imageId", false, 128)
		if cat.ImageID != "" && !omIDPattern.MatchString(cat.ImageID) {
			f.bad("imageId", "imageId must match ^[0-9A-Za-z-_\\.]+$.")
		}
	}
	if rep := omResult(f); rep != nil {
		return *rep
	}
	if cat.ImageID != "" && !s.images[m.MSN][cat.ImageID] {
		return problemReply(http.StatusNotFound, "Not Found", fmt.Sprintf("No image with imageId %q; upload it first.", cat.ImageID), nil)
	}
	o := s.omOrderLocked(key)
	o.category = &cat
	return jsonReply(http.StatusOK, newUUID())
}

func (s *Simulator) omOrderLocked(k omKey) *omOrder {
	o := s.om[k]
	if o == nil {
		o = &omOrder{}
		s.om[k] = o
	}
	return o
}

// omReceipt serves POST /order-management/v2/{paymentType}/receipts/{orderId}.
// A receipt can be added once.
func (s *Simulator) omReceipt(x *exchange) reply {
	_, key, rep := s.omOrderCall(x)
	if rep != nil {
		return *rep
	}
	f := s.omForm(x)
	if t := f.parse(x.body); t != nil {
		f.receipt(t)
	}
	if rep := omResult(f); rep != nil {
		return *rep
	}
	if o := s.om[key]; o != nil && o.receipt != nil {
		return problemReply(http.StatusConflict, "Conflict", "A receipt already exists for this order", nil)
	}
	var compact bytes.Buffer
	json.Compact(&compact, x.body)
	s.omOrderLocked(key).receipt = compact.Bytes()
	return jsonReply(http.StatusCreated, newUUID())
}

var quantityRE = regexp.MustCompile(quantityPattern)

// receipt checks a Receipt body.
func (f *form) receipt(t tree) {
	lines, ok := t["orderLines"].([]any)
	if !ok || len(lines) == 0 {
		f.bad("orderLines", "orderLines must hold at least one order line.")
	}
	for path, lt := range f.objects("orderLines", lines) {
		f.str(lt, path, "name", true, 0)
		f.str(lt, path, "id", true, 0)
		for _, k := range []string{"totalAmount", "totalAmountExcludingTax", "totalTaxAmount"} {
			f.nonNegative(lt, path, k, true)
		}
		if n, ok := f.integer(lt, path, "taxPercentage", true); ok && (n < 0 || n > 100) {
			f.bad(path+".taxPercentage", "%s.taxPercentage must be 0 to 100.", path)
		}
		if ui := f.object(lt, path, "unitInfo", false); ui != nil {
			up := path + ".unitInfo"
			if _, present := ui["unitPrice"]; !present {
				f.bad(up+".unitPrice", "%s.unitPrice is required.", up)
			}
			f.nonNegative(ui, up, "unitPrice", false)
			if q := f.str(ui, up, "quantity", true, 10); q != "" && !quantityRE.MatchString(q) {
				f.bad(up+".quantity", "%s.quantity must match %s.", up, quantityPattern)
			}
			switch u := f.str(ui, up, "quantityUnit", false, 0); u {
			case "", "PCS", "KG", "KM", "MINUTE", "LITRE", "KWH":
			default:
				f.bad(up+".quantityUnit", "%s.quantityUnit must be PCS, KG, KM, MINUTE, LITRE or KWH.", up)
			}
		}
		f.nonNegative(lt, path, "discount", false)
		f.str(lt, path, "productUrl", false, 0)
		f.boolean(lt, path, "isReturn")
		f.boolean(lt, path, "isShipping")
	}
	bl := f.object(t, "", "bottomLine", true)
	if bl == nil {
		return
	}
	switch c := f.str(bl, "bottomLine", "currency", true, 0); c {
	case "", "NOK", "DKK", "EUR":
	default:
		f.bad("bottomLine.currency", "bottomLine.currency must be NOK, DKK or EUR.")
	}
	f.nonNegative(bl, "bottomLine", "tipAmount", false)
	f.str(bl, "bottomLine", "posId", false, 0)
	f.str(bl, "bottomLine", "receiptNumber", false, 0)
	if ps := f.object(bl, "bottomLine", "paymentSources", false); ps != nil {
		for _, k := range []string{"giftCard", "card", "voucher", "cash"} {
			f.nonNegative(ps, "bottomLine.paymentSources", k, false)
		}
	}
	if bc := f.object(bl, "bottomLine", "barcode", false); bc != nil {
		switch fm := f.str(bc, "bottomLine.barcode", "format", true, 0); fm {
		case "", "EAN-13", "CODE 39", "CODE 128":
		default:
			f.bad("bottomLine.barcode.format", "bottomLine.barcode.format must be EAN-13, CODE 39 or CODE 128.")
		}
		f.str(bc, "bottomLine.barcode", "data", true, 0)
	}
}

func (f *form) nonNegative(t tree, path, key string, required bool) {
	if n, ok := f.integer(t, path, key, required); ok && n < 0 {
		f.bad(join(path, key), "%s must not be negative.", join(path, key))
	}
}

// omOrder serves GET /order-management/v2/{paymentType}/{orderId}.
func (s *Simulator) omOrder(x *exchange) reply {
	_, key, rep := s.omOrderCall(x)
	if rep != nil {
		return *rep
	}
	o := s.om[key]
	if o == nil {
		return problemReply(http.StatusNotFound, "Not Found", "Nothing is stored for this order.", nil)
	}
	return jsonReply(http.StatusOK, struct {
		Category *vipps.OrderCategory `json:"category,omitempty"`
		Receipt  json.RawMessage      `json:"receipt,omitempty"`
	}{o.category, o.receipt})
}
