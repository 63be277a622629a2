package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// templateTexts matches the English texts of {{t "…"}} and {{tf "…" …}},
// also inside a pipeline's parentheses.
var templateTexts = regexp.MustCompile(`(?:\{\{-?\s*|\(\s*)tf?\s+("(?:[^"\\]|\\.)*")`)

// usedTexts is every English text the package translates, by where it is
// used: the literals of t and tf in templates, of .T and .F calls in Go,
// and the values of the label maps, which are translated as variables.
func usedTexts(t *testing.T) map[string]string {
	t.Helper()
	used := make(map[string]string)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, path)
		if err != nil {
			return err
		}
		for _, m := range templateTexts.FindAllStringSubmatch(string(b), -1) {
			s, err := strconv.Unquote(m[1])
			if err != nil {
				t.Errorf("%s: %s: %v", path, m[1], err)
				continue
			}
			used[s] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "T" && sel.Sel.Name != "F") {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				used[s] = fset.Position(lit.Pos()).String()
			}
			return true
		})
	}
	for _, texts := range labelTexts() {
		for _, s := range texts {
			used[s] = "a label map"
		}
	}
	return used
}

// formatVerbs matches fmt's verbs.
var formatVerbs = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// TestCatalog checks the bokmål catalogs against the texts used: every
// text has a translation with the same fmt verbs, every translation is
// used, and no text is in two catalogs.
func TestCatalog(t *testing.T) {
	used := usedTexts(t)
	if len(used) < 10 {
		t.Fatalf("found only %d texts; is the scan broken?", len(used))
	}
	for en, where := range used {
		nb, ok := nbCatalog[en]
		switch {
		case !ok:
			t.Errorf("%s: no bokmål for %q", where, en)
		case strings.TrimSpace(nb) == "":
			t.Errorf("%s: empty bokmål for %q", where, en)
		case !slices.Equal(formatVerbs.FindAllString(en, -1), formatVerbs.FindAllString(nb, -1)):
			t.Errorf("%q: bokmål %q has other fmt verbs", en, nb)
		}
	}
	seen := make(map[string]int)
	for i, c := range nbCatalogs {
		for en := range c {
			if j, dup := seen[en]; dup {
				t.Errorf("%q is in catalogs %d and %d of nbCatalogs", en, j, i)
			}
			seen[en] = i
			if _, ok := used[en]; !ok {
				t.Errorf("bokmål for %q is used nowhere; remove it", en)
			}
		}
	}
}

func TestAcceptedLang(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   lang
	}{
		{"nb-NO,nb;q=0.9,en;q=0.8", langNB},
		{"no", langNB},
		{"nn-NO,en;q=0.5", langNB}, // nynorsk readers get bokmål before English
		{"en-GB,en;q=0.9", langEN},
		{"sv-SE", ""},
		{"de", ""},
		{"", ""},
		{"*", ""},
		{"nb;q=0.5,en", langEN},
		{"garbage;;q=x", ""},
	} {
		if got := acceptedLang(tt.header); got != tt.want {
			t.Errorf("acceptedLang(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func TestParseLang(t *testing.T) {
	for in, want := range map[string]string{"en": "en", "NB": "nb", "no": "nb", "nn": "nb", " norsk ": "nb"} {
		if got, err := ParseLang(in); err != nil || got != want {
			t.Errorf("ParseLang(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseLang("sv"); err == nil || !strings.Contains(err.Error(), "use en") {
		t.Errorf("ParseLang(sv) error = %v, want one that says what to use", err)
	}
}

// TestLangChoice checks the order a page's language is chosen in: ?lang=
// (remembered in a cookie), the cookie, Accept-Language, Config.Lang.
func TestLangChoice(t *testing.T) {
	for _, tt := range []struct {
		name, defaultLang, query, cookie, accept string
		want                                     lang
		sets                                     bool
	}{
		{name: "default", want: langEN},
		{name: "config default", defaultLang: "nb", accept: "sv", want: langNB},
		{name: "browser", accept: "nb-NO", want: langNB},
		{name: "browser over default", defaultLang: "nb", accept: "en-US", want: langEN},
		{name: "cookie over browser", cookie: "nb", accept: "en", want: langNB},
		{name: "bad cookie ignored", cookie: "xx", accept: "nb", want: langNB},
		{name: "switch over cookie", query: "en", cookie: "nb", accept: "nb", want: langEN, sets: true},
		{name: "bad switch ignored", query: "sv", accept: "nb", want: langNB},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{defaultLang: lang(tt.defaultLang)}
			if s.defaultLang == "" {
				s.defaultLang = langEN
			}
			var got lang
			h := s.withLang(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = s.lang(r) }))
			r := httptest.NewRequest("GET", "/x?lang="+tt.query, nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: langCookie, Value: tt.cookie})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if got != tt.want {
				t.Errorf("lang = %q, want %q", got, tt.want)
			}
			set := w.Result().Cookies()
			if tt.sets != (len(set) == 1 && set[0].Name == langCookie && set[0].Value == string(tt.want)) {
				t.Errorf("cookies set = %v, want one only when switched", set)
			}
		})
	}
}

func TestSwitchFor(t *testing.T) {
	r := httptest.NewRequest("GET", "/admin/?q=kari+nordmann&lang=en&state=reserved&junk=1", nil)
	sw := switchFor(r, langEN, url.Values{"q": {"kari nordmann"}, "state": {"reserved"}})
	if sw == nil || sw.Lang != langNB || sw.Name != "Norsk" {
		t.Fatalf("switchFor = %+v", sw)
	}
	if sw.Href != "/admin/?lang=nb&q=kari+nordmann&state=reserved" {
		t.Errorf("Href = %q, want the same page and search in bokmål", sw.Href)
	}
	if sw := switchFor(httptest.NewRequest("GET", "/shop/orders/x?flash=hi", nil), langNB, nil); sw.Href != "/shop/orders/x?lang=en" {
		t.Errorf("Href = %q, want the page without the query it came with", sw.Href)
	}
	if sw := switchFor(httptest.NewRequest("POST", "/shop/buy", nil), langNB, nil); sw != nil {
		t.Errorf("switchFor(POST) = %+v, want none", sw)
	}
}

// TestAdminListInBokmål reads the list, a refused filter and the error page
// in bokmål, and the list in English again by the switch.
func TestAdminListInBokmål(t *testing.T) {
	e := newAdminEnv(t)
	e.reserve(t, 24900)
	body := e.get(t, "/admin/?lang=nb&q=")
	for _, want := range []string{`<html lang="nb">`, "<h1>Betalinger</h1>", ">Reservert</span>", "Alle statuser (1)", "Delvis trukket",
		"249,00\u00a0kr" /* not broken */, `<a href="/admin/?lang=en" hreflang="en" lang="en">English</a>`} {
		if !strings.Contains(body, want) {
			t.Errorf("list in bokmål lacks %q", want)
		}
	}
	if strings.Contains(body, "Payments by state") {
		t.Error("list in bokmål has English")
	}
	status, body, _ := e.send(t, http.MethodGet, "/admin/?state=bogus&lang=nb", nil)
	if status != http.StatusBadRequest || !strings.Contains(body, `det finnes ingen status &#34;bogus&#34;; viser alle statuser.`) {
		t.Errorf("refused filter in bokmål = %d, %s", status, body)
	}
	status, body, _ = e.send(t, http.MethodGet, "/admin/payments/test-nosuchpayment?lang=nb", nil)
	if status != http.StatusNotFound || !strings.Contains(body, "<h1>Ikke funnet</h1>") || !strings.Contains(body, "Det finnes ingen betaling med den orderId-en.") {
		t.Errorf("error page in bokmål = %d, %s", status, body)
	}
	if body := e.get(t, "/admin/?lang=en"); !strings.Contains(body, "<h1>Payments</h1>") || !strings.Contains(body, `<html lang="en">`) {
		t.Error("the switch back to English did not give English")
	}
}
