package vippstest

import (
	"bytes"
	"html/template"
	"net/http"
	"time"
)

// landingTemplate is a placeholder for the landing page: it shows the
// payment and says how to act as the user. The browser "Vipps app" comes
// later.
var landingTemplate = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Vipps simulator</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Vipps simulator</h1>
{{if .Found -}}
<p><strong>{{.Merchant}}</strong> asks for <strong>{{.Amount}}</strong>: {{.Text}}</p>
<p>Order {{.OrderID}} is <strong>{{.Status}}</strong>.{{if .Expired}} This link has expired (links are valid for 5 minutes).{{end}}</p>
<p>This page is a placeholder. Act as the user with the control API:</p>
<pre>POST /_sim/payments/{{.OrderID}}/approve   {"phoneNumber": "91234567"}
POST /_sim/payments/{{.OrderID}}/reject</pre>
{{- else -}}
<p>No payment has this link.</p>
{{- end}}
</body>
</html>
`))

const landingLinkLife = 5 * time.Minute

// landing serves the placeholder landing page at the initiate URL.
func (s *Simulator) landing(x *exchange) reply {
	p := s.byToken[x.r.URL.Query().Get("token")]
	data := map[string]any{"Found": p != nil}
	status := http.StatusNotFound
	if p != nil {
		status = http.StatusOK
		data["Merchant"] = s.byMSN[p.msn].Name
		data["Amount"] = p.amount.String()
		data["Text"] = p.text
		data["OrderID"] = string(p.orderID)
		data["Status"] = string(p.status)
		data["Expired"] = x.now.Sub(p.initiatedAt) > landingLinkLife
	}
	var b bytes.Buffer
	if err := landingTemplate.Execute(&b, data); err != nil {
		return reply{status: http.StatusInternalServerError, contentType: "text/plain; charset=utf-8", body: []byte(err.Error())}
	}
	return reply{status: status, contentType: "text/html; charset=utf-8", body: b.Bytes()}
}
