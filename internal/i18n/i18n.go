// Package i18n holds gatehouse's message catalogs (English and Korean) and picks
// the language of a response from Accept-Language. Korean texts for the
// tutorial's messages are the tutorial's own, so its clients and tests that
// assert on them keep working.
package i18n

import (
	"fmt"
	"sort"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a supported language.
type Lang int

// The supported languages. English is the catalog every key must exist in.
const (
	English Lang = iota
	Korean
)

var langTags = []language.Tag{language.English, language.Korean}

// String returns the language's BCP 47 tag.
func (l Lang) String() string { return langTags[l].String() }

// Parse returns the language named by s ("en" or "ko").
func Parse(s string) (Lang, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "en":
		return English, nil
	case "ko":
		return Korean, nil
	}
	return English, fmt.Errorf("unsupported locale %q (want en or ko)", s)
}

// Catalog resolves message keys to texts. It is immutable and safe for
// concurrent use.
type Catalog struct {
	fallback Lang
	matcher  language.Matcher
	texts    [2]map[string]string
}

// New returns the built-in catalog, answering in fallback when a request's
// Accept-Language names no supported language.
func New(fallback Lang) *Catalog {
	return &Catalog{
		fallback: fallback,
		matcher:  language.NewMatcher(langTags),
		texts:    [2]map[string]string{merge(english, uiEnglish, uiAdminEnglish, uiProvidersEnglish, uiAccountEnglish), merge(korean, uiKorean, uiAdminKorean, uiProvidersKorean, uiAccountKorean)},
	}
}

// Match picks the language for an Accept-Language header value. An empty or
// unusable header, or one naming no supported language with a useful
// confidence, gives the catalog's fallback.
func (c *Catalog) Match(acceptLanguage string) Lang {
	if acceptLanguage == "" {
		return c.fallback
	}
	// ParseAcceptLanguage bounds its own work; a malformed header is ignored.
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return c.fallback
	}
	_, idx, conf := c.matcher.Match(tags...)
	if conf < language.High {
		return c.fallback
	}
	return Lang(idx)
}

// Message returns the text for key in lang with {name} placeholders filled from
// args. A key missing from lang falls back to English; a key missing
// everywhere returns the key itself, so a mistake shows up as a readable code
// rather than an empty message.
func (c *Catalog) Message(lang Lang, key string, args map[string]any) string {
	text, ok := c.texts[lang][key]
	if !ok {
		if text, ok = c.texts[English][key]; !ok {
			return key
		}
	}
	if len(args) == 0 || !strings.Contains(text, "{") {
		return text
	}
	pairs := make([]string, 0, 2*len(args))
	for name, v := range args {
		pairs = append(pairs, "{"+name+"}", fmt.Sprint(v))
	}
	return strings.NewReplacer(pairs...).Replace(text)
}

// Keys returns every key of the English catalog, sorted (for tests that check
// the catalogs are complete).
func (c *Catalog) Keys() []string {
	keys := make([]string, 0, len(c.texts[English]))
	for k := range c.texts[English] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Has reports whether lang's catalog has its own text for key.
func (c *Catalog) Has(lang Lang, key string) bool {
	_, ok := c.texts[lang][key]
	return ok
}

// merge returns one map holding the entries of every map given.
func merge(maps ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
