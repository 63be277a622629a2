package checklist

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

//go:embed templates/report.html
var templates embed.FS

var reportHTML = template.Must(template.ParseFS(templates, "templates/report.html"))

// WriteText writes the results as a table, then what to do for every item
// that did not pass.
func WriteText(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ITEM\tSTATUS\tSUMMARY")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.ID, r.Status, r.Summary)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for _, r := range rs {
		if r.Status != Pass && r.Fix != "" {
			fmt.Fprintf(&b, "\n%s (%s): %s\n", r.ID, r.Status, r.Fix)
			for _, e := range r.Evidence {
				fmt.Fprintf(&b, "  - %s\n", evidenceLine(e))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the results as a JSON array.
func WriteJSON(w io.Writer, rs []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rs)
}

func evidenceLine(e Evidence) string {
	var parts []string
	if e.OrderID != "" {
		parts = append(parts, "order "+string(e.OrderID))
	}
	if e.RequestID != "" {
		parts = append(parts, "request "+e.RequestID)
	}
	if !e.Time.IsZero() {
		parts = append(parts, e.Time.UTC().Format(time.DateTime+"Z"))
	}
	return strings.Join(append(parts, e.Note), ", ")
}

// mdEscape keeps a text from breaking a Markdown table cell.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

// WriteMarkdown writes the results as a Markdown report; header is a line
// above the table, such as where and when the audit was made.
func WriteMarkdown(w io.Writer, header string, rs []Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Vipps go-live checklist\n\n%s\n\n| Item | Status | Summary |\n|---|---|---|\n", mdEscape(header))
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s (`%s`) | **%s** | %s |\n", mdEscape(r.Title), r.ID, r.Status, mdEscape(r.Summary))
	}
	for _, r := range rs {
		fmt.Fprintf(&b, "\n## %s: %s\n\n%s\n", mdEscape(r.Title), r.Status, mdEscape(r.Summary))
		if r.Fix != "" {
			fmt.Fprintf(&b, "\nWhat to do: %s\n", mdEscape(r.Fix))
		}
		if len(r.Evidence) > 0 {
			b.WriteString("\n")
			for _, e := range r.Evidence {
				fmt.Fprintf(&b, "- %s\n", mdEscape(evidenceLine(e)))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteHTML writes the results as a self-contained HTML report.
func WriteHTML(w io.Writer, header string, rs []Result) error {
	return reportHTML.Execute(w, struct {
		Header  string
		Results []Result
	}{header, rs})
}
