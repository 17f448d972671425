package web

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gatehouse-auth/gatehouse"
	"github.com/gatehouse-auth/gatehouse/internal/i18n"
)

// This file is the one JSON boundary: every response body is written by
// encode or responder.error, and every JSON request body is read by decodeJSON.

// statusOf maps each error code to its HTTP status. A code missing here is a
// bug and answers 500.
var statusOf = map[string]int{
	gatehouse.CodeValidation:           http.StatusUnprocessableEntity,
	gatehouse.CodeUsernameTaken:        http.StatusBadRequest,
	gatehouse.CodeEmailTaken:           http.StatusBadRequest,
	gatehouse.CodeInvalidCredentials:   http.StatusUnauthorized,
	gatehouse.CodeInvalidToken:         http.StatusUnauthorized,
	gatehouse.CodeInactiveUser:         http.StatusBadRequest,
	gatehouse.CodeNotFound:             http.StatusNotFound,
	gatehouse.CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	gatehouse.CodePayloadTooLarge:      http.StatusRequestEntityTooLarge,
	gatehouse.CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	gatehouse.CodeNotReady:             http.StatusServiceUnavailable,
	gatehouse.CodeEmailDisabled:        http.StatusNotFound,
	gatehouse.CodeConflict:             http.StatusConflict,
	gatehouse.CodeInvalidGrant:         http.StatusBadRequest,
	gatehouse.CodeUnsupportedGrantType: http.StatusBadRequest,
	gatehouse.CodeInvalidRequest:       http.StatusBadRequest,
	gatehouse.CodeInvalidClient:        http.StatusUnauthorized,
	gatehouse.CodeInvalidCursor:        http.StatusBadRequest,
	gatehouse.CodeWrongPassword:        http.StatusBadRequest,
	gatehouse.CodeRateLimited:          http.StatusTooManyRequests,
	gatehouse.CodeOverloaded:           http.StatusServiceUnavailable,
	gatehouse.CodeEmailNotVerified:     http.StatusForbidden,
	gatehouse.CodeInvalidLinkToken:     http.StatusBadRequest,
	gatehouse.CodeForbidden:            http.StatusForbidden,
	gatehouse.CodeAdminLockout:         http.StatusConflict,
	gatehouse.CodeReauthRequired:       http.StatusForbidden,
	gatehouse.CodeInternal:             http.StatusInternalServerError,

	// Multi-factor authentication (mfa.go).
	gatehouse.CodeMFARequired:          http.StatusUnauthorized,
	gatehouse.CodeInvalidMFAToken:      http.StatusUnauthorized,
	gatehouse.CodeInvalidMFACode:       http.StatusUnauthorized,
	gatehouse.CodeWrongMFACode:         http.StatusBadRequest,
	gatehouse.CodeMFAAlreadyEnabled:    http.StatusConflict,
	gatehouse.CodeMFANotEnabled:        http.StatusConflict,
	gatehouse.CodeMFAEnrolmentNotFound: http.StatusConflict,
	gatehouse.CodeInvalidState:         http.StatusBadRequest,
	gatehouse.CodeUpstreamFailed:       http.StatusBadRequest,
	gatehouse.CodeAccountExists:        http.StatusConflict,
	gatehouse.CodeIdentityTaken:        http.StatusConflict,
	gatehouse.CodeLastSignInMethod:     http.StatusConflict,
	gatehouse.CodeInvalidRedirectURI:   http.StatusBadRequest,
}

// StatusOf returns the HTTP status of an error code, and whether the code
// is known. The hosted pages answer their errors with the same statuses.
func StatusOf(code string) (int, bool) {
	status, ok := statusOf[code]
	return status, ok
}

// encode writes v as JSON with status. Headers are set before WriteHeader.
func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// An error here means the client went away; there is no one to tell.
	_ = json.NewEncoder(w).Encode(v)
}

// errorBody is the shape of every error: {"detail": "…", "code": "…"}.
type errorBody struct {
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// validationBody is FastAPI's 422 shape, which the tutorial's clients parse.
type validationBody struct {
	Detail []validationItem `json:"detail"`
	Code   string           `json:"code"`
}

type validationItem struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

// responder writes errors in the client's language and logs the unexpected.
type responder struct {
	catalog *i18n.Catalog
	log     *slog.Logger
	obs     Observer // nil in tests that build a bare responder
}

// error writes err as a JSON error. A *gatehouse.Error is shown by its code
// and message; anything else becomes 500 "internal" and is logged with the
// request id, and its text never reaches the client.
func (o *responder) error(w http.ResponseWriter, r *http.Request, err error) {
	var ge *gatehouse.Error
	if !errors.As(err, &ge) {
		ge = &gatehouse.Error{Code: gatehouse.CodeInternal, Err: err}
	}
	status, ok := statusOf[ge.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		o.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("request_id", requestIDFrom(r.Context())),
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("code", ge.Code), slog.String("error", err.Error()))
	}
	lang := o.catalog.Match(r.Header.Get("Accept-Language"))
	if ge.Code == gatehouse.CodeValidation && len(ge.Fields) > 0 {
		items := make([]validationItem, len(ge.Fields))
		for i, f := range ge.Fields {
			key := f.Key
			if key == "" {
				key = f.Type
			}
			items[i] = validationItem{Loc: f.Loc, Msg: o.catalog.Message(lang, key, f.Args), Type: f.Type}
		}
		encode(w, status, validationBody{Detail: items, Code: ge.Code})
		return
	}
	o.setRetryAfter(w, ge)
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", wwwAuthenticate(ge))
	}
	if mr := mfaRequired(ge); mr != nil {
		writeMFARequired(w, status, o.catalog.Message(lang, ge.MessageKey(), ge.Args), mr)
		return
	}
	encode(w, status, errorBody{Detail: o.catalog.Message(lang, ge.MessageKey(), ge.Args), Code: ge.Code})
}

// setRetryAfter tells a rate-limited client when to come back (RFC 9110
// §10.2.3), in whole seconds rounded up: a client that waits exactly that
// long is let through.
func (o *responder) setRetryAfter(w http.ResponseWriter, ge *gatehouse.Error) {
	var rl *gatehouse.RateLimitedError
	if ge.Code != gatehouse.CodeRateLimited || !errors.As(ge.Err, &rl) {
		return
	}
	if o.obs != nil {
		o.obs.RateLimited(rl.Scope)
	}
	secs := max(int64((rl.RetryAfter+time.Second-1)/time.Second), 1)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
}

// wwwAuthenticate builds the RFC 6750 §3 challenge. A request that carried no
// credentials gets no error attribute (§3.1); a bad token gets
// error="invalid_token". The description is fixed English text, since header
// values must be ASCII and must not reveal why verification failed.
func wwwAuthenticate(ge *gatehouse.Error) string {
	switch {
	case ge.Code == gatehouse.CodeInvalidToken && errors.Is(ge.Err, errNoCredentials):
		return `Bearer realm="gatehouse"`
	case ge.Code == gatehouse.CodeInvalidToken:
		return `Bearer realm="gatehouse", error="invalid_token", error_description="The access token is invalid or has expired"`
	default:
		return `Bearer realm="gatehouse"`
	}
}

// requireContentType reports whether the request's media type is one of want,
// answering 415 itself when it is not.
func (o *responder) requireContentType(w http.ResponseWriter, r *http.Request, want ...string) (string, bool) {
	if mt, ok := mediaType(r); ok {
		for _, m := range want {
			if mt == m {
				return mt, true
			}
		}
	}
	wantText := want[0]
	for _, m := range want[1:] {
		wantText += " or " + m
	}
	o.error(w, r, &gatehouse.Error{Code: gatehouse.CodeUnsupportedMediaType, Args: map[string]any{"want": wantText}})
	return "", false
}

// mediaType returns the request's media type, without parameters.
func mediaType(r *http.Request) (string, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt, err == nil
}

// bodyError turns a failure to read a JSON body into the error to show:
// 413 when the body passed the size limit, else 422 as FastAPI reports
// undecodable JSON.
func bodyError(err error) error { return readError(err, "json_invalid") }

// formError is bodyError for form bodies.
func formError(err error) error { return readError(err, "form_invalid") }

func readError(err error, invalid string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &gatehouse.Error{Code: gatehouse.CodePayloadTooLarge, Args: map[string]any{"limit": strconv.FormatInt(mbe.Limit, 10)}, Err: err}
	}
	return &gatehouse.Error{Code: gatehouse.CodeValidation, Err: err, Fields: []gatehouse.FieldError{
		{Loc: []string{"body"}, Type: invalid, Key: invalid},
	}}
}

// decodeJSON reads a JSON object from the (already size-limited) body into
// fields, keeping each value raw so that the caller can tell a missing field
// from one of the wrong type.
func decodeJSON(r *http.Request) (map[string]json.RawMessage, error) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&fields); err != nil {
		return nil, bodyError(err)
	}
	if fields == nil { // the body was JSON null
		return nil, bodyError(errors.New("body is null"))
	}
	// Trailing data after the object: the body is not one JSON value.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, bodyError(errors.New("trailing data after JSON object"))
	}
	return fields, nil
}

// jsonStrings reads a JSON object body with the named required string
// fields, answering 415 or 422 itself (ok false) when it cannot.
func (o *responder) jsonStrings(w http.ResponseWriter, r *http.Request, names ...string) (map[string]string, bool) {
	return o.jsonStringsOptional(w, r, names)
}

// jsonStringsOptional is jsonStrings with optional string fields too: one
// absent or null is left out of the result, one present must be a string.
func (o *responder) jsonStringsOptional(w http.ResponseWriter, r *http.Request, required []string, optional ...string) (map[string]string, bool) {
	if _, ok := o.requireContentType(w, r, "application/json"); !ok {
		return nil, false
	}
	raw, err := decodeJSON(r)
	if err != nil {
		o.error(w, r, err)
		return nil, false
	}
	names := slices.Clone(required)
	for _, n := range optional {
		if v, ok := raw[n]; ok && string(v) != "null" {
			names = append(names, n)
		}
	}
	in, problems := stringFields(raw, names...)
	if len(problems) > 0 {
		o.error(w, r, gatehouse.ValidationError(problems...))
		return nil, false
	}
	return in, true
}

// stringFields extracts required string fields in order, collecting a
// "missing" or "string_type" problem for each bad one.
func stringFields(raw map[string]json.RawMessage, names ...string) (map[string]string, []gatehouse.FieldError) {
	out := make(map[string]string, len(names))
	var problems []gatehouse.FieldError
	for _, n := range names {
		v, ok := raw[n]
		if !ok || string(v) == "null" {
			problems = append(problems, gatehouse.FieldError{Loc: []string{"body", n}, Type: "missing"})
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			problems = append(problems, gatehouse.FieldError{Loc: []string{"body", n}, Type: "string_type"})
			continue
		}
		out[n] = s
	}
	return out, problems
}
