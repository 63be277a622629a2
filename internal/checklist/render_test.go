package checklist

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestRenderers(t *testing.T) {
	in := goodAudit()
	in.FallBacks[0].Status = 401
	in.FallBacks[0].URL = "https://shop.example/return/<b>"
	rs := Grade(in)

	var j bytes.Buffer
	if err := WriteJSON(&j, rs); err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(j.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != len(Items) || back[7]["id"] != "redirects" || back[7]["status"] != "fail" || back[7]["evidence"] == nil {
		t.Errorf("WriteJSON item 8 = %v, want redirects, fail, with evidence", back[7])
	}

	var txt bytes.Buffer
	if err := WriteText(&txt, rs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ITEM", "redirects     fail", "redirects (fail): The fallBack may open", "design (manual):"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("WriteText does not contain %q:\n%s", want, txt.String())
		}
	}

	var md bytes.Buffer
	if err := WriteMarkdown(&md, "Audit of MSN 123456", rs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| fallBack works in any browser, without a session (`redirects`) | **fail** |") ||
		strings.Contains(md.String(), "<b>") {
		t.Errorf("WriteMarkdown:\n%s", md.String())
	}

	var h bytes.Buffer
	if err := WriteHTML(&h, "Audit of MSN 123456", rs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.String(), `<td class="fail">fail</td>`) || strings.Contains(h.String(), "<b>") {
		t.Errorf("WriteHTML:\n%s", h.String())
	}
}
