package pages

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

// views holds the parsed templates: one set per page, each the layout plus
// the page's own file, parsed once at start-up.
type views struct {
	pages   map[string]*template.Template
	catalog *i18n.Catalog
	log     *slog.Logger
	// providers are the sign-in providers (oauth.go); nil: none.
	providers *providers
	// mailOn: the email links (reset, verification) can be mailed.
	mailOn bool
}

func newViews(cat *i18n.Catalog, log *slog.Logger) (*views, error) {
	layout, err := template.ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	v := &views{pages: map[string]*template.Template{}, catalog: cat, log: log}
	for _, f := range files {
		name := f[len("templates/") : len(f)-len(".html")]
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("pages: %w", err)
		}
		v.pages[name] = t
	}
	return v, nil
}

// view is what a page template sees.
type view struct {
	Page  string          // the template's name, for the navigation
	Lang  string          // the page's BCP 47 language
	User  *gatehouse.User // nil: signed out
	CSRF  string          // the form token
	Flash string          // a translated notice (role=status)
	Error string          // a translated problem (role=alert)
	// Fields maps a form field's name to its translated problem.
	Fields map[string]string
	// Form holds values to show again after a failed post (never a password).
	Form map[string]string
	// Data is the page's own data.
	Data any

	lang      i18n.Lang
	catalog   *i18n.Catalog
	focused   bool       // a field with a problem has taken the focus
	providers *providers // for the provider buttons (Providers)
	// MailOn: the email flows are on, so the pages link to them.
	MailOn bool
}

// T translates key; args are name, value pairs filling {name} placeholders.
func (v *view) T(key string, args ...any) string {
	var m map[string]any
	if len(args) > 1 {
		m = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			m[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	return v.catalog.Message(v.lang, key, m)
}

// Date shows t in the page's language; times are shown in UTC, which a page
// without script cannot do better than, and say so.
func (v *view) Date(t time.Time) string {
	if v.lang == i18n.Korean {
		return t.UTC().Format("2006년 1월 2일 15:04 UTC")
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// Invalid reports whether field has a problem (for aria-invalid).
func (v *view) Invalid(field string) bool { return v.Fields[field] != "" }

// flashes are the notices a redirect may ask for with ?m=: only these keys,
// so a link cannot put text of its choosing on the page.
var flashes = map[string]bool{
	"registered": true, "signed_out": true, "signed_out_all": true, "password_changed": true, "password_set": true,
	"session_revoked": true, "session_expired": true,
	"totp_disabled": true, "verification_sent": true, "email_verified": true, "password_reset": true, "link_sent": true,
	"identity_linked": true, "identity_unlinked": true,
}

// page starts the view of page name for r, in the language the browser asks
// for, with the notice its ?m= names.
func (vs *views) page(r *http.Request, name string) *view {
	lang := vs.catalog.Match(r.Header.Get("Accept-Language"))
	v := &view{Page: name, Lang: lang.String(), lang: lang, catalog: vs.catalog, Fields: map[string]string{}, Form: map[string]string{}, providers: vs.providers, MailOn: vs.mailOn}
	if m := r.URL.Query().Get("m"); flashes[m] {
		v.Flash = v.T("ui.flash." + m)
	}
	if s := sessionFrom(r.Context()); s != nil {
		v.User = s.user
	}
	return v
}

// render writes the page with status. The page is rendered into a buffer
// first, so that a template failure becomes a clean 500, not half a page.
func (vs *views) render(w http.ResponseWriter, r *http.Request, status int, v *view) {
	var buf bytes.Buffer
	if err := vs.pages[v.Page].ExecuteTemplate(&buf, "layout", v); err != nil {
		vs.log.LogAttrs(r.Context(), slog.LevelError, "page failed to render", slog.String("page", v.Page),
			slog.String("request_id", gatehouse.RequestInfoFrom(r.Context()).ID), slog.String("error", err.Error()))
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// statusOf maps the error codes a page can meet to statuses, as the API
// does; anything else is a server error.
var statusOf = map[string]int{
	gatehouse.CodeValidation:         http.StatusUnprocessableEntity,
	gatehouse.CodeUsernameTaken:      http.StatusBadRequest,
	gatehouse.CodeEmailTaken:         http.StatusBadRequest,
	gatehouse.CodeInvalidCredentials: http.StatusUnauthorized,
	gatehouse.CodeInvalidToken:       http.StatusUnauthorized,
	gatehouse.CodeInactiveUser:       http.StatusBadRequest,
	gatehouse.CodeWrongPassword:      http.StatusBadRequest,
	gatehouse.CodeNotFound:           http.StatusNotFound,
	gatehouse.CodeConflict:           http.StatusConflict,
	gatehouse.CodePayloadTooLarge:    http.StatusRequestEntityTooLarge,
	gatehouse.CodeRateLimited:        http.StatusTooManyRequests,
	gatehouse.CodeOverloaded:         http.StatusServiceUnavailable,
	gatehouse.CodeNotReady:           http.StatusServiceUnavailable,
	gatehouse.CodeEmailDisabled:      http.StatusNotFound,
	gatehouse.CodeInvalidRequest:     http.StatusBadRequest,

	// Two-factor and email links.
	gatehouse.CodeInvalidMFAToken:      http.StatusUnauthorized,
	gatehouse.CodeInvalidMFACode:       http.StatusUnauthorized,
	gatehouse.CodeWrongMFACode:         http.StatusBadRequest,
	gatehouse.CodeMFAAlreadyEnabled:    http.StatusConflict,
	gatehouse.CodeMFANotEnabled:        http.StatusConflict,
	gatehouse.CodeMFAEnrolmentNotFound: http.StatusConflict,
	gatehouse.CodeInvalidLinkToken:     http.StatusBadRequest,
	gatehouse.CodeEmailNotVerified:     http.StatusForbidden,
	gatehouse.CodeForbidden:            http.StatusForbidden,
	gatehouse.CodeAdminLockout:         http.StatusConflict,
	gatehouse.CodeReauthRequired:       http.StatusForbidden,

	// Sign-in providers.
	gatehouse.CodeInvalidState:     http.StatusBadRequest,
	gatehouse.CodeUpstreamFailed:   http.StatusBadRequest,
	gatehouse.CodeAccountExists:    http.StatusConflict,
	gatehouse.CodeIdentityTaken:    http.StatusConflict,
	gatehouse.CodeLastSignInMethod: http.StatusConflict,
	gatehouse.CodeInvalidGrant:     http.StatusBadRequest,
}

// explain puts err on the view — a message, and per-field messages for a
// validation error — and returns the status to answer. An unexpected error
// is logged and shown only as "internal"; its text never reaches the page.
// A rate limit sets Retry-After.
func (vs *views) explain(w http.ResponseWriter, r *http.Request, v *view, err error) int {
	var ge *gatehouse.Error
	if !errors.As(err, &ge) {
		ge = &gatehouse.Error{Code: gatehouse.CodeInternal, Err: err}
	}
	status, ok := statusOf[ge.Code]
	if !ok {
		status = http.StatusInternalServerError
		vs.log.LogAttrs(r.Context(), slog.LevelError, "page request failed",
			slog.String("request_id", gatehouse.RequestInfoFrom(r.Context()).ID),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("code", ge.Code), slog.String("error", err.Error()))
		ge = &gatehouse.Error{Code: gatehouse.CodeInternal}
	}
	var rl *gatehouse.RateLimitedError
	if errors.As(ge.Err, &rl) {
		secs := max(int64((rl.RetryAfter+time.Second-1)/time.Second), 1)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	for _, f := range ge.Fields {
		key := f.Key
		if key == "" {
			key = f.Type
		}
		if len(f.Loc) > 0 {
			v.Fields[f.Loc[len(f.Loc)-1]] = vs.catalog.Message(v.lang, key, f.Args)
		}
	}
	if len(ge.Fields) > 0 {
		v.Error = v.T("ui.errors_heading")
	} else {
		v.Error = vs.catalog.Message(v.lang, ge.MessageKey(), ge.Args)
	}
	return status
}

// fail answers err on the error page.
func (vs *views) fail(w http.ResponseWriter, r *http.Request, err error) {
	v := vs.page(r, "error")
	status := vs.explain(w, r, v, err)
	vs.render(w, r, status, v)
}

// forbidden answers a form that failed the anti-forgery checks.
func (vs *views) forbidden(w http.ResponseWriter, r *http.Request) {
	v := vs.page(r, "error")
	v.Error = v.T("ui.error.forbidden")
	vs.render(w, r, http.StatusForbidden, v)
}

// formError is the error for a form body that could not be read: too large
// (413) or malformed (400).
func formError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &gatehouse.Error{Code: gatehouse.CodePayloadTooLarge, Args: map[string]any{"limit": strconv.FormatInt(mbe.Limit, 10)}, Err: err}
	}
	return &gatehouse.Error{Code: gatehouse.CodeInvalidRequest, Key: "form_invalid", Err: err}
}

// input is one form field as the "field" template draws it.
type input struct {
	Name, Label, Type, Autocomplete string
	Value, Hint, Problem            string
	MinLength                       int
	Autofocus                       bool
	InputMode                       string // the keyboard to offer ("numeric"), a hint only
}

// Describe lists the ids of the texts that describe the field.
func (in input) Describe() string {
	var ids []string
	if in.Hint != "" {
		ids = append(ids, "h-"+in.Name)
	}
	if in.Problem != "" {
		ids = append(ids, "e-"+in.Name)
	}
	return strings.Join(ids, " ")
}

// Min returns the field with a minimum length, checked by the browser too.
func (in input) Min(n int) input { in.MinLength = n; return in }

// Mode returns the field with an inputmode hint.
func (in input) Mode(m string) input { in.InputMode = m; return in }

// Input describes field name with the label labelKey, its value kept from a
// failed post and its problem; hint is already translated. The first field
// with a problem (or, without problems, the one marked first) takes focus.
func (v *view) Input(name, labelKey, typ, autocomplete, hint string, first bool) input {
	in := input{Name: name, Label: v.T(labelKey), Type: typ, Autocomplete: autocomplete,
		Value: v.Form[name], Hint: hint, Problem: v.Fields[name]}
	if len(v.Fields) == 0 {
		in.Autofocus = first && v.Error == ""
	} else if in.Problem != "" && !v.focused {
		in.Autofocus, v.focused = true, true
	}
	return in
}
