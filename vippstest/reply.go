package vippstest

import (
	"bytes"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/vippskit/vipps"
)

// reply is an answer built under the lock and written after it.
type reply struct {
	status      int
	contentType string
	body        []byte
}

const jsonType = "application/json;charset=UTF-8"

func (rep reply) write(w http.ResponseWriter) {
	if rep.contentType != "" {
		w.Header().Set("Content-Type", rep.contentType)
	}
	w.WriteHeader(rep.status)
	w.Write(rep.body)
}

func jsonReply(status int, v any) reply {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only the simulator's own types are marshalled; this is a bug.
		panic(fmt.Sprintf("vippstest: encode reply: %v", err))
	}
	return reply{status: status, contentType: jsonType, body: bytes.TrimSuffix(b.Bytes(), []byte("\n"))}
}

// vippsErr is the eCom error array with one entry.
func vippsErr(status int, group vipps.ErrorGroup, code vipps.ErrorCode, format string, args ...any) reply {
	return errorsReply(status, []vipps.ErrorDetail{{Group: group, Code: code, Message: fmt.Sprintf(format, args...)}})
}

// errorsReply is the eCom error array; every entry gets the same contextId.
func errorsReply(status int, ds []vipps.ErrorDetail) reply {
	ctx := newUUID()
	for i := range ds {
		ds[i].ContextID = ctx
	}
	return jsonReply(status, ds)
}

// Texts of the errors the simulator answers with, by group and code.
const (
	msgInternal    = "Internal error. In some cases, this is caused by an incorrect API request. Please check the request."
	msgDuplicate   = "Duplicate orderId. The orderId must be unique for each MSN. It has already been used for this MSN."
	msgNotFound    = "The orderId '%s' does not exist for MSN %s."
	msgInvalidMSN  = "Invalid MSN: %s. Check your API keys on portal.vipps.no and see the eCom FAQ for tips."
	msgSkipLanding = "The sales unit is not allowed to skip the landing page. See the FAQ."
	msgNin         = "The Nin scope is not allowed"
	// msgPhoneCustomer is msgUser81 as the landing page says it to the
	// customer, who has no API specification to read.
	msgPhoneCustomer    = "This phone number is not a Norwegian mobile number of 8 digits (such as 912 34 567), is not a Vipps user, or the user cannot pay businesses."
	msgUser81           = "The phone number is either incorrectly formatted (see the API specification), is not a Vipps user, or the user cannot pay businesses. Vipps cannot give more details."
	msgCancelCaptured   = "Cannot cancel an orderId that has already been captured."
	msgCancelFailed     = "Cancellation failed. The payment is not in a state that can be cancelled."
	msgCancelTooLate    = "Payments can only be cancelled up to 180 days after reservation."
	msgOverCapture      = "The total capture amount exceeds the reserved amount. You cannot capture a higher amount than the user has accepted. Check the payment details"
	msgNotReserved      = "The amount you tried to capture is not reserved. The user must accept the payment before capture can be done."
	msgCaptureTooLate   = "Payments can only be captured up to 180 days after reservation. See the FAQ."
	msgOverRefund       = "Cannot refund more than captured amount."
	msgRefundReserved   = "Cannot refund a reserved order. Cancel it instead."
	msgRefundCancelled  = "Cannot refund a cancelled order."
	msgRefundTooLate    = "Payments can only be refunded up to 365 days after reservation. See the FAQ."
	msgNotAllowed       = "The transaction is not allowed."
	msgAlreadyProcessed = "The transaction is already processed."
	msgNotIdentical     = "The %s request must be identical to the previous request(s) in an idempotent retry."
)

func internalReply() reply {
	return vippsErr(http.StatusInternalServerError, vipps.GroupVippsError, vipps.CodeInternal, msgInternal)
}

// gatewayReply is the API gateway's error object in the guide's shape.
func gatewayReply(status int, message string) reply {
	return jsonReply(status, struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}{status, message})
}

// unauthorizedReply is the API gateway's 401 in the spec's shape.
func unauthorizedReply(message string) reply {
	type responseInfo struct {
		ResponseCode    int    `json:"responseCode"`
		ResponseMessage string `json:"responseMessage"`
	}
	type result struct {
		Message string `json:"message"`
	}
	return jsonReply(http.StatusUnauthorized, struct {
		ResponseInfo responseInfo `json:"responseInfo"`
		Result       result       `json:"result"`
	}{responseInfo{http.StatusUnauthorized, "Unauthorized"}, result{message}})
}

// problem is the Order Management error document.
type problem struct {
	Type          string               `json:"type"`
	Title         string               `json:"title"`
	Detail        string               `json:"detail"`
	Instance      string               `json:"instance"`
	InvalidParams []vipps.InvalidParam `json:"invalidParams,omitempty"`
}

func problemReply(status int, title, detail string, params []vipps.InvalidParam) reply {
	section := map[int]string{400: "6.5.1", 404: "6.5.4", 409: "6.5.8"}[status]
	typ := "https://datatracker.ietf.org/doc/html/rfc7231"
	if section != "" {
		typ += "#section-" + section
	}
	// Sent as application/json;charset=UTF-8 like every other answer:
	// the Order Management spec declares its errors application/json.
	return jsonReply(status, problem{Type: typ, Title: title, Detail: detail, Instance: traceParent(), InvalidParams: params})
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	crand.Read(b)
	return b
}

func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// traceParent is a W3C trace id, as Order Management puts in "instance".
func traceParent() string {
	return "00-" + hex.EncodeToString(randomBytes(16)) + "-" + hex.EncodeToString(randomBytes(8)) + "-00"
}
