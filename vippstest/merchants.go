package vippstest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/vippskit/vipps"
)

// merchantJSON is one entry of a merchants file.
type merchantJSON struct {
	MSN                    vipps.MSN `json:"msn"`
	ClientID               string    `json:"clientId"`
	ClientSecret           string    `json:"clientSecret"`
	SubscriptionKey        string    `json:"subscriptionKey"`
	Name                   string    `json:"name"`
	DirectCapture          bool      `json:"directCapture"`
	SkipLandingPageAllowed bool      `json:"skipLandingPageAllowed"`
	NinAllowed             bool      `json:"ninAllowed"`
}

// LoadMerchants reads a merchants file (see [ParseMerchants]). Its errors
// start with the file name and the line of the entry at fault.
func LoadMerchants(path string) ([]Merchant, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("merchants file: %w", err)
	}
	ms, err := parseMerchants(path, data)
	if err != nil {
		return nil, err
	}
	return ms, nil
}

// ParseMerchants parses a merchants file: a JSON array with one object per
// sales unit,
//
//	[{"msn": "123456", "clientId": "...", "clientSecret": "...",
//	  "subscriptionKey": "...", "name": "Shop", "directCapture": false,
//	  "skipLandingPageAllowed": false, "ninAllowed": false}]
//
// msn (a string, or a number), clientId, clientSecret and subscriptionKey
// are required; MSNs, client ids and subscription keys must be unique;
// unknown fields are mistakes. Every problem is reported, each with the
// line and the JSON path of the entry, such as "line 7: [1].clientId is
// required".
func ParseMerchants(data []byte) ([]Merchant, error) {
	return parseMerchants("", data)
}

func parseMerchants(name string, data []byte) ([]Merchant, error) {
	prefix := func(line int) string {
		switch {
		case name == "" && line == 0:
			return ""
		case name == "":
			return fmt.Sprintf("line %d: ", line)
		case line == 0:
			return name + ": "
		}
		return fmt.Sprintf("%s:%d: ", name, line)
	}
	fail := func(line int, format string, args ...any) error {
		return errors.New(prefix(line) + fmt.Sprintf(format, args...))
	}

	// Syntax first, with positions from the start of the file.
	if len(bytes.TrimSpace(data)) > 0 {
		var probe any
		if err := json.Unmarshal(data, &probe); err != nil {
			return nil, fail(0, "%s", jsonErrorAt(data, err))
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	switch {
	case err == io.EOF:
		return nil, fail(0, "empty; want a JSON array of merchants")
	case err != nil:
		return nil, fail(0, "%s", jsonErrorAt(data, err))
	case tok != json.Delim('['):
		return nil, fail(lineAt(data, dec.InputOffset()), "want a JSON array of merchants, not %v", describeToken(tok))
	}
	var (
		out      []Merchant
		problems []entryProblem
		lines    []int  // where each entry starts
		broken   []bool // entries that could not be decoded
	)
	bad := func(i int, format string, args ...any) {
		problems = append(problems, entryProblem{i, fail(lines[i], format, args...).Error()})
	}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fail(0, "%s", jsonErrorAt(data, err))
		}
		// InputOffset is now just past the entry; find where it began.
		start := int(dec.InputOffset()) - len(raw)
		lines = append(lines, lineAt(data, int64(start)))
		broken = append(broken, false)
		var mj merchantJSON
		ed := json.NewDecoder(bytes.NewReader(raw))
		ed.DisallowUnknownFields()
		if err := ed.Decode(&mj); err != nil {
			te, isType := errors.AsType[*json.UnmarshalTypeError](err)
			switch {
			case isType && te.Field != "":
				bad(i, "[%d].%s: want a JSON %s, not %s", i, te.Field, jsonKind(te.Type.Kind().String()), te.Value)
			case isType:
				bad(i, "[%d]: want a JSON object, not %s", i, te.Value)
			case strings.HasPrefix(err.Error(), "json: unknown field "):
				bad(i, "[%d]: unknown field %s", i, strings.TrimPrefix(err.Error(), "json: unknown field "))
			default:
				bad(i, "[%d]: %v", i, err)
			}
			out = append(out, Merchant{})
			broken[i] = true
			continue
		}
		out = append(out, Merchant(mj))
	}
	if len(out) == 0 {
		return nil, fail(0, "no merchants; leave the file out to get the default merchant")
	}

	msns, ids, keys := map[vipps.MSN]int{}, map[string]int{}, map[string]int{}
	for i, m := range out {
		if broken[i] {
			continue // said so already
		}
		if m.MSN == "" {
			bad(i, "[%d].msn is required", i)
		} else if err := m.MSN.Validate(); err != nil {
			bad(i, "[%d].msn: %v", i, err)
		} else if j, dup := msns[m.MSN]; dup {
			bad(i, "[%d].msn: %s is the MSN of [%d] too", i, m.MSN, j)
		} else {
			msns[m.MSN] = i
		}
		for _, f := range []struct{ name, value string }{
			{"clientId", m.ClientID}, {"clientSecret", m.ClientSecret}, {"subscriptionKey", m.SubscriptionKey},
		} {
			if f.value == "" {
				bad(i, "[%d].%s is required", i, f.name)
			}
		}
		if j, dup := ids[m.ClientID]; dup && m.ClientID != "" {
			bad(i, "[%d].clientId is the client id of [%d] too", i, j)
		} else if m.ClientID != "" {
			ids[m.ClientID] = i
		}
		if j, dup := keys[m.SubscriptionKey]; dup && m.SubscriptionKey != "" {
			bad(i, "[%d].subscriptionKey is the subscription key of [%d] too", i, j)
		} else if m.SubscriptionKey != "" {
			keys[m.SubscriptionKey] = i
		}
	}
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b entryProblem) int { return cmp.Compare(a.entry, b.entry) })
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.msg
		}
		return nil, errors.New(strings.Join(msgs, "\n"))
	}
	return out, nil
}

// entryProblem is a mistake in entry number entry of a merchants file.
type entryProblem struct {
	entry int
	msg   string
}

// jsonKind names a Go kind as JSON does.
func jsonKind(kind string) string {
	switch kind {
	case "bool":
		return "boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	}
	return kind
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return string(v)
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprint(tok)
}

// jsonErrorAt describes a JSON decoding error with its line and column
// in data, when it has an offset.
func jsonErrorAt(data []byte, err error) string {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		line, col := lineColumn(data, se.Offset-1)
		return fmt.Sprintf("line %d, column %d: %s", line, col, strings.TrimPrefix(se.Error(), "json: "))
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		line, col := lineColumn(data, te.Offset-1)
		return fmt.Sprintf("line %d, column %d: %s", line, col, strings.TrimPrefix(te.Error(), "json: "))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of the file"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func lineAt(data []byte, offset int64) int {
	line, _ := lineColumn(data, offset)
	return line
}

// lineColumn gives the line and column, both from 1, of the byte at
// offset.
func lineColumn(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte("\n"))
	col = 1 + len(before) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}
