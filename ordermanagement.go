package vipps

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// OMPaymentType is the paymentType path segment of the Order Management API.
type OMPaymentType string

// Order Management payment types. eCom payments use OMEcom.
const (
	OMEcom      OMPaymentType = "ecom"
	OMRecurring OMPaymentType = "recurring"
)

// Category is the kind of link shown with a payment in the Vipps app.
type Category string

// Categories.
const (
	CategoryGeneral           Category = "GENERAL"
	CategoryReceipt           Category = "RECEIPT"
	CategoryOrderConfirmation Category = "ORDER_CONFIRMATION"
	CategoryDelivery          Category = "DELIVERY"
	CategoryTicket            Category = "TICKET"
	CategoryBooking           Category = "BOOKING"
)

// OrderCategory links a payment to a page of the merchant's.
type OrderCategory struct {
	Category        Category `json:"category"`
	OrderDetailsURL string   `json:"orderDetailsUrl"`
	ImageID         string   `json:"imageId,omitempty"`
}

// Receipt is the order lines shown with a payment in the app. Amounts are øre.
type Receipt struct {
	OrderLines []OrderLine `json:"orderLines"`
	BottomLine BottomLine  `json:"bottomLine"`
}

// OrderLine is one line of a receipt.
type OrderLine struct {
	Name                    string    `json:"name"`
	ID                      string    `json:"id"`
	TotalAmount             Amount    `json:"totalAmount"` // incl. tax, after discount
	TotalAmountExcludingTax Amount    `json:"totalAmountExcludingTax"`
	TotalTaxAmount          Amount    `json:"totalTaxAmount"`
	TaxPercentage           int       `json:"taxPercentage"` // 0-100
	UnitInfo                *UnitInfo `json:"unitInfo,omitempty"`
	Discount                Amount    `json:"discount,omitempty"`
	ProductURL              string    `json:"productUrl,omitempty"`
	IsReturn                bool      `json:"isReturn,omitempty"`
	IsShipping              bool      `json:"isShipping,omitempty"`
}

// UnitInfo is the quantity and unit price of an order line.
type UnitInfo struct {
	UnitPrice    Amount `json:"unitPrice"`
	Quantity     string `json:"quantity"`               // decimal text, such as "2.5"
	QuantityUnit string `json:"quantityUnit,omitempty"` // PCS (default), KG, KM, MINUTE, LITRE, KWH
}

// BottomLine is the receipt's footer.
type BottomLine struct {
	Currency       string          `json:"currency"` // NOK
	TipAmount      Amount          `json:"tipAmount,omitempty"`
	PosID          string          `json:"posId,omitempty"`
	ReceiptNumber  string          `json:"receiptNumber,omitempty"`
	PaymentSources *PaymentSources `json:"paymentSources,omitempty"`
	Barcode        *Barcode        `json:"barcode,omitempty"`
}

// PaymentSources splits the paid amount by source.
type PaymentSources struct {
	GiftCard Amount `json:"giftCard,omitempty"`
	Card     Amount `json:"card,omitempty"`
	Voucher  Amount `json:"voucher,omitempty"`
	Cash     Amount `json:"cash,omitempty"`
}

// Barcode is shown on the receipt.
type Barcode struct {
	Format string `json:"format"` // EAN-13, CODE 39, CODE 128
	Data   string `json:"data"`
}

// Order is what Order Management holds for a payment.
type Order struct {
	Category *OrderCategory `json:"category,omitempty"`
	Receipt  *Receipt       `json:"receipt,omitempty"`
}

var omIDPattern = regexp.MustCompile(`^[0-9A-Za-z_.-]+$`)

func omPath(pt OMPaymentType, kind, orderID string) (string, error) {
	switch strings.ToLower(string(pt)) {
	case string(OMEcom), string(OMRecurring):
	default:
		return "", fmt.Errorf("payment type %q must be %q or %q", pt, OMEcom, OMRecurring)
	}
	if !omIDPattern.MatchString(orderID) || orderID == "." || orderID == ".." {
		return "", fmt.Errorf("orderId %q may contain only letters, digits, '-', '_' and '.' (and is not . or ..)", orderID)
	}
	p := "/order-management/v2/" + strings.ToLower(string(pt)) + "/"
	if kind != "" {
		p += kind + "/"
	}
	return p + url.PathEscape(orderID), nil
}

// UploadImage stores an image for categories
// (POST /order-management/v1/images). data is PNG or JPEG, at most 2 MB and
// at least 167 px high; imageID is the merchant's own id, at most 128
// characters of letters, digits, '-', '_' and '.'. An image cannot be
// replaced: a second upload with the same id fails with Conflict. Retried on
// network and server errors; after an unanswered attempt, a Conflict means
// the first upload worked.
func (c *Client) UploadImage(ctx context.Context, imageID string, data []byte) (string, error) {
	cl := &call{op: "upload image", method: "POST", path: "/order-management/v1/images", mode: retryRepeatable}
	var p []string
	if len(imageID) > 128 || !omIDPattern.MatchString(imageID) {
		p = append(p, fmt.Sprintf("imageId %q needs 1 to 128 letters, digits, '-', '_' or '.'", imageID))
	}
	if len(data) == 0 {
		p = append(p, "image data is empty")
	} else if len(data) > 2<<20 {
		p = append(p, fmt.Sprintf("image is %d bytes; the limit is 2 MB", len(data)))
	}
	if len(p) > 0 {
		return "", c.invalid(cl, strings.Join(p, "; "))
	}
	cl.body = map[string]string{"imageId": imageID, "src": base64.StdEncoding.EncodeToString(data), "type": "base64"}
	var out struct {
		ImageID string `json:"imageId"`
	}
	if err := c.do(ctx, cl, &out); err != nil {
		return "", err
	}
	return out.ImageID, nil
}

// PutCategory adds or replaces the link shown with a payment in the app
// (PUT /order-management/v2/{paymentType}/categories/{orderId}). The payment
// need not exist yet. It returns Vipps' id for the category. Safe to retry.
func (c *Client) PutCategory(ctx context.Context, pt OMPaymentType, orderID string, cat OrderCategory) (string, error) {
	cl := &call{op: "put category", method: "PUT", orderID: OrderID(orderID), body: &cat}
	path, err := omPath(pt, "categories", orderID)
	var p []string
	if err != nil {
		p = append(p, err.Error())
	}
	switch cat.Category {
	case CategoryGeneral, CategoryReceipt, CategoryOrderConfirmation, CategoryDelivery, CategoryTicket, CategoryBooking:
	default:
		p = append(p, fmt.Sprintf("category %q must be one of GENERAL, RECEIPT, ORDER_CONFIRMATION, DELIVERY, TICKET, BOOKING", cat.Category))
	}
	if u, err := url.Parse(cat.OrderDetailsURL); err != nil || !u.IsAbs() {
		p = append(p, fmt.Sprintf("orderDetailsUrl %q must be an absolute URL", cat.OrderDetailsURL))
	}
	return c.omWrite(ctx, cl, path, p)
}

// AddReceipt attaches order lines to a payment
// (POST /order-management/v2/{paymentType}/receipts/{orderId}). A receipt can
// be stored once: a second one fails with Conflict. Retried on network and
// server errors; after an unanswered attempt a Conflict means the receipt is
// stored (the error then wraps [ErrOutcomeUnknown] and Conflict() is true).
func (c *Client) AddReceipt(ctx context.Context, pt OMPaymentType, orderID string, r Receipt) (string, error) {
	cl := &call{op: "add receipt", method: "POST", orderID: OrderID(orderID), body: &r, mode: retryRepeatable}
	path, err := omPath(pt, "receipts", orderID)
	var p []string
	if err != nil {
		p = append(p, err.Error())
	}
	if len(r.OrderLines) == 0 {
		p = append(p, "a receipt needs at least one order line")
	}
	for i, l := range r.OrderLines {
		if l.Name == "" || l.ID == "" {
			p = append(p, fmt.Sprintf("orderLines[%d] needs a name and an id", i))
		}
		if l.TotalAmount < 0 || l.TotalAmountExcludingTax < 0 || l.TotalTaxAmount < 0 || l.Discount < 0 {
			p = append(p, fmt.Sprintf("orderLines[%d] has a negative amount; mark returns with IsReturn instead", i))
		}
		if l.TaxPercentage < 0 || l.TaxPercentage > 100 {
			p = append(p, fmt.Sprintf("orderLines[%d].taxPercentage %d must be 0 to 100", i, l.TaxPercentage))
		}
	}
	switch r.BottomLine.Currency {
	case "NOK", "DKK", "EUR":
	default:
		p = append(p, fmt.Sprintf("bottomLine.currency %q must be NOK, DKK or EUR", r.BottomLine.Currency))
	}
	return c.omWrite(ctx, cl, path, p)
}

// omWrite sends an Order Management write to path unless the checks found
// problems, and returns the id Vipps answers with.
func (c *Client) omWrite(ctx context.Context, cl *call, path string, problems []string) (string, error) {
	if len(problems) > 0 {
		return "", c.invalid(cl, strings.Join(problems, "; "))
	}
	cl.path = path
	var id string
	if err := c.do(ctx, cl, &id); err != nil {
		return "", err
	}
	return id, nil
}

// GetOrder returns the category and receipt stored for a payment
// (GET /order-management/v2/{paymentType}/{orderId}). Safe to retry.
func (c *Client) GetOrder(ctx context.Context, pt OMPaymentType, orderID string) (*Order, error) {
	cl := &call{op: "get order", method: "GET", orderID: OrderID(orderID)}
	path, err := omPath(pt, "", orderID)
	if err != nil {
		return nil, c.wrap(cl, err)
	}
	cl.path = path
	var out Order
	if err := c.do(ctx, cl, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
