package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/vippskit/vipps"
)

const receiptDoc = `
Receipt adds a receipt and a link to a payment in the Vipps app, through the
Order Management API, or shows what is stored.

The receipt comes from -file, a JSON document in Vipps' Receipt shape
({"orderLines": [...], "bottomLine": {"currency": "NOK"}}, amounts in øre;
"-" reads stdin), or from -line flags, one per order line:

	-line 'id:name:total:tax'

with the line's total in øre including tax and the tax in whole percent, such
as -line 'sku-1:Socks:24900:25'; the part without tax is computed. A receipt
can be stored once: a second one fails with a conflict.

The link is -category (GENERAL, RECEIPT, ORDER_CONFIRMATION, DELIVERY,
TICKET or BOOKING) and -url, the page it opens, with -image-id for an image
uploaded before. A new link replaces the old one.

Without -file, -line, -category or -url, receipt shows what Order Management
holds for the order.
`

func runReceipt(ctx context.Context, e *env, args []string) error {
	v := newVerb(e, "receipt", "<order-id>", receiptDoc)
	var (
		file, currency, category, link, imageID, paymentType string
		lines                                                lineValue
	)
	v.fs.StringVar(&file, "file", "", "read the receipt from this JSON `file` (\"-\" for stdin)")
	v.fs.Var(&lines, "line", "order `line` 'id:name:total:tax', total in øre including tax, tax in percent; repeat for more")
	v.fs.StringVar(&currency, "currency", "NOK", "currency of the receipt: NOK, DKK or EUR")
	v.fs.StringVar(&category, "category", "", "kind of link shown with the payment: GENERAL, RECEIPT, ORDER_CONFIRMATION, DELIVERY, TICKET or BOOKING")
	v.fs.StringVar(&link, "url", "", "the `url` the link opens (with -category)")
	v.fs.StringVar(&imageID, "image-id", "", "`id` of an uploaded image shown with the link")
	v.fs.StringVar(&paymentType, "payment-type", string(vipps.OMEcom), "Order Management payment `type`: ecom or recurring")
	rest, err := v.parse(args)
	if err != nil {
		return err
	}
	id, err := v.oneArg(rest, "order id")
	if err != nil {
		return err
	}
	switch {
	case file != "" && len(lines.lines) > 0:
		return v.usagef("give -file or -line, not both")
	case category != "" && link == "":
		return v.usagef("-category needs -url, the page the link opens")
	case link != "" && category == "":
		return v.usagef("-url needs -category, such as -category RECEIPT")
	case imageID != "" && category == "":
		return v.usagef("-image-id needs -category and -url")
	}
	var receipt *vipps.Receipt
	switch {
	case file != "":
		r, err := readReceipt(e, file)
		if err != nil {
			return v.usageErr(err)
		}
		r.BottomLine.Currency = cmp.Or(r.BottomLine.Currency, currency)
		receipt = r
	case len(lines.lines) > 0:
		receipt = &vipps.Receipt{OrderLines: lines.lines, BottomLine: vipps.BottomLine{Currency: currency}}
	}
	pt := vipps.OMPaymentType(paymentType)
	return v.call(ctx, nil, func(ctx context.Context, client *vipps.Client) error {
		if receipt == nil && category == "" {
			o, err := client.GetOrder(ctx, pt, id)
			if err != nil {
				return v.failed(err, vipps.OrderID(id), "")
			}
			return v.print(o, func(w io.Writer) { writeOrder(w, id, o) })
		}
		out := struct {
			OrderID    string `json:"orderId"`
			ReceiptID  string `json:"receiptId,omitempty"`
			CategoryID string `json:"categoryId,omitempty"`
		}{OrderID: id}
		var err error
		if receipt != nil {
			if out.ReceiptID, err = client.AddReceipt(ctx, pt, id, *receipt); err != nil {
				return v.failed(err, vipps.OrderID(id), "")
			}
		}
		if category != "" {
			cat := vipps.OrderCategory{Category: vipps.Category(category), OrderDetailsURL: link, ImageID: imageID}
			if out.CategoryID, err = client.PutCategory(ctx, pt, id, cat); err != nil {
				return v.failed(err, vipps.OrderID(id), "")
			}
		}
		return v.print(out, func(w io.Writer) {
			var kv []string
			if receipt != nil {
				n := fmt.Sprintf("%d order lines", len(receipt.OrderLines))
				if len(receipt.OrderLines) == 1 {
					n = "1 order line"
				}
				kv = append(kv, "receipt", fmt.Sprintf("stored, %s (id %s)", n, out.ReceiptID))
			}
			if category != "" {
				kv = append(kv, "link", fmt.Sprintf("%s %s (id %s)", category, link, out.CategoryID))
			}
			fields(w, "", append([]string{"order id", id}, kv...)...)
		})
	})
}

// readReceipt reads a receipt in Vipps' JSON shape from a file or stdin,
// refusing fields Vipps does not know, so that a typo is not lost silently.
func readReceipt(e *env, name string) (*vipps.Receipt, error) {
	var data []byte
	var err error
	if name == "-" {
		data, err = io.ReadAll(io.LimitReader(e.stdin, 1<<20))
	} else {
		data, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("-file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var r vipps.Receipt
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("-file %s: not a receipt: %w", name, err)
	}
	return &r, nil
}

// writeOrder writes the link and receipt Order Management holds.
func writeOrder(w io.Writer, id string, o *vipps.Order) {
	kv := []string{"order id", id}
	if c := o.Category; c != nil {
		kv = append(kv, "link", fmt.Sprintf("%s %s", c.Category, c.OrderDetailsURL), "image id", c.ImageID)
	} else {
		kv = append(kv, "link", "none")
	}
	if o.Receipt == nil {
		kv = append(kv, "receipt", "none")
	}
	fields(w, "", kv...)
	r := o.Receipt
	if r == nil {
		return
	}
	b := r.BottomLine
	// Kroner, with the currency code in place of "kr" for another currency.
	money := func(a vipps.Amount) string {
		if b.Currency == "" || b.Currency == "NOK" {
			return a.Kroner()
		}
		return strings.TrimSuffix(a.Kroner(), "kr") + b.Currency
	}
	fmt.Fprintln(w, "\nreceipt:")
	rows := [][]string{{"ID", "NAME", "QUANTITY", "TOTAL", "EXCL. TAX", "TAX", "TAX %", "DISCOUNT"}}
	var total vipps.Amount
	for _, l := range r.OrderLines {
		qty := "1"
		if l.UnitInfo != nil {
			qty = l.UnitInfo.Quantity + " " + l.UnitInfo.QuantityUnit
		}
		name := l.Name
		switch {
		case l.IsReturn:
			name += " (return)"
			total -= l.TotalAmount
		case l.IsShipping:
			name += " (shipping)"
			total += l.TotalAmount
		default:
			total += l.TotalAmount
		}
		rows = append(rows, []string{l.ID, name, qty, money(l.TotalAmount), money(l.TotalAmountExcludingTax),
			money(l.TotalTaxAmount), strconv.Itoa(l.TaxPercentage), money(l.Discount)})
	}
	table(w, rows)
	fmt.Fprintln(w)
	tip := ""
	if b.TipAmount != 0 {
		tip = money(b.TipAmount)
	}
	fields(w, "",
		"total", money(total),
		"tip", tip,
		"receipt number", b.ReceiptNumber,
		"pos id", b.PosID,
	)
}
