package web

import (
	"context"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// The pages speak Norwegian bokmål or English. Text is written in English
// in the templates ({{t "…"}}, {{tf "… %s" .X}}) and in Go (l.T("…"),
// l.F("… %s", x)); the English text is the key of its bokmål translation
// in the catalogs of i18n_nb_*.go. TestCatalog reads every template and
// every Go file of the package and fails when a literal so used has no
// translation, or a translation is used nowhere, so that neither language
// falls behind. Amounts are written as Norwegians write them in both
// languages (vipps.Amount.Kroner: "1 234,50 kr", never broken across lines).
//
// The language of a request is, first to last: ?lang=nb or ?lang=en (the
// switch on every page, remembered in a cookie), the cookie, the browser's
// Accept-Language, and Config.Lang.

// lang is a language the pages speak.
type lang string

const (
	langEN lang = "en"
	langNB lang = "nb"
)

// langs are the languages, in the order Accept-Language is matched in.
var langs = []lang{langEN, langNB}

// langNames are the names of the languages, each in itself: what the switch
// says.
var langNames = map[lang]string{langEN: "English", langNB: "Norsk"}

// ParseLang reads a language setting: "en", or "nb" (also "no" and
// "nn", which get bokmål). It is what -lang takes.
func ParseLang(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "en", "english":
		return string(langEN), nil
	case "nb", "no", "nn", "norsk", "bokmål", "bokmal":
		return string(langNB), nil
	}
	return "", fmt.Errorf("language %q is not one the pages speak; use en (English) or nb (Norwegian bokmål)", s)
}

// T is s, the English text, in l.
func (l lang) T(s string) string {
	if l == langNB {
		if t, ok := nbCatalog[s]; ok {
			return t
		}
	}
	return s
}

// F is fmt.Sprintf of format, the English text, in l.
func (l lang) F(format string, args ...any) string {
	return fmt.Sprintf(l.T(format), args...)
}

// nbCatalogs are the bokmål translations, by area.
var nbCatalogs = []map[string]string{nbCommon, nbCustomer, nbAdmin, nbAdminList, nbAttention, nbStaff}

// nbCatalog is every catalog in one.
var nbCatalog = func() map[string]string {
	all := make(map[string]string)
	for _, c := range nbCatalogs {
		for en, nb := range c {
			all[en] = nb
		}
	}
	return all
}()

// langMatcher matches a browser's Accept-Language with langs.
var langMatcher = func() language.Matcher {
	tags := make([]language.Tag, len(langs))
	for i, l := range langs {
		tags[i] = language.MustParse(string(l))
	}
	return language.NewMatcher(tags)
}()

// nynorsk and Norwegian without a written standard read bokmål: the
// matcher would prefer English to them.
var (
	tagNB  = language.MustParse("nb")
	baseNN = language.MustParseBase("nn")
	baseNO = language.MustParseBase("no")
)

// acceptedLang is the language Accept-Language header h asks for, or ""
// for none the pages speak.
func acceptedLang(h string) lang {
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil || len(tags) == 0 {
		return ""
	}
	for i, t := range tags {
		if base, _ := t.Base(); base == baseNN || base == baseNO {
			tags[i] = tagNB
		}
	}
	_, i, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return ""
	}
	return langs[i]
}

// langCookie remembers the language chosen with the switch.
const langCookie = "vippskit_lang"

// langKey is the context key of a request's language.
type langKey struct{}

// withLang finds each request's language once (see the package comment
// above), keeps it in the request's context for s.lang, and remembers a
// language chosen with ?lang= in a cookie for a year.
func (s *Server) withLang(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := s.defaultLang
		if c, err := r.Cookie(langCookie); err == nil && langNames[lang(c.Value)] != "" {
			l = lang(c.Value)
		} else if a := acceptedLang(r.Header.Get("Accept-Language")); a != "" {
			l = a
		}
		if q := lang(r.URL.Query().Get("lang")); langNames[q] != "" {
			l = q
			http.SetCookie(w, &http.Cookie{
				Name: langCookie, Value: string(q), Path: "/",
				MaxAge: int((365 * 24 * time.Hour).Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode,
				Secure: r.TLS != nil,
			})
		}
		w.Header().Add("Vary", "Accept-Language, Cookie")
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), langKey{}, l)))
	})
}

// lang is the language of r's page.
func (s *Server) lang(r *http.Request) lang {
	if l, ok := r.Context().Value(langKey{}).(lang); ok {
		return l
	}
	return s.defaultLang
}

// Environment is where payments go, said at the top of every page: to the
// vippskit simulator, to Vipps' test environment, or (the zero value) to
// Vipps' production, which pages say nothing about.
type Environment struct {
	// Simulator is the address of the simulator payments go to.
	Simulator string
	// Test is set when payments go to Vipps' test environment.
	Test bool
}

// text is what pages say about e, in l; "" for production.
func (e Environment) text(l lang) string {
	switch {
	case e.Simulator != "":
		return l.F("TEST MODE: payments go to the vippskit simulator (%s), not to Vipps. No real money moves.", e.Simulator)
	case e.Test:
		return l.T("Vipps TEST environment: no real money moves.")
	}
	return ""
}

// langSwitch is the link to the page in the other language.
type langSwitch struct {
	Lang lang
	Name string
	Href string
}

// switchFor is the link to r's page, with the query keep, in the language
// other than l; or nil where there is no page to link to: an answer to a
// POST.
func switchFor(r *http.Request, l lang, keep url.Values) *langSwitch {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return nil
	}
	other := langNB
	if l == langNB {
		other = langEN
	}
	q := maps.Clone(keep)
	if q == nil {
		q = url.Values{}
	}
	q.Set("lang", string(other))
	u := url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	return &langSwitch{Lang: other, Name: langNames[other], Href: u.String()}
}

// pageTemplates are the templates, parsed once per language: t and tf
// translate in the language of their set.
var pageTemplates = func() map[lang]*template.Template {
	sets := make(map[lang]*template.Template, len(langs))
	for _, l := range langs {
		sets[l] = template.Must(template.New("").Funcs(template.FuncMap{
			"t":  l.T,
			"tf": l.F,
		}).ParseFS(templateFS, "templates/*.html"))
	}
	return sets
}()

// labelTexts are the label maps' texts, which are translated as variables
// (l.T(label)): TestCatalog checks them like literals.
func labelTexts() [][]string {
	var out [][]string
	add := func(vals ...string) { out = append(out, vals) }
	add(mapValues(adminStateLabels)...)
	add(mapValues(adminEventLabels)...)
	add(mapValues(adminOpLabels)...)
	add(mapValues(adminOpStatusLabels)...)
	add(mapValues(adminTaskLabels)...)
	add(mapValues(adminTaskStatusLabels)...)
	add(mapValues(checklistStatusLabels)...)
	add(mapValues(staffRoleLabels)...)
	add(mapValues(staffRoleHelps)...)
	return out
}

// mapValues are m's values.
func mapValues[K comparable](m map[K]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
