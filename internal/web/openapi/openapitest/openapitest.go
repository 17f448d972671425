// Package openapitest checks HTTP responses against an OpenAPI 3.1 document.
//
// Only tests import it: the JSON Schema compiler it uses
// (github.com/santhosh-tekuri/jsonschema/v6) must never reach the server binary.
package openapitest

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// docURL names the document inside the schema compiler. Schema locations are
// JSON pointers into it; "#/components/schemas/…" references resolve against it.
const docURL = "urn:gatehouse:openapi.json"

// methods are the operation keys of an OpenAPI Path Item Object.
var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// Validator checks HTTP responses against the OpenAPI document. Build one with
// New; it is safe for concurrent use by parallel tests.
type Validator struct {
	ops []*operation
}

// operation is one documented "METHOD /path".
type operation struct {
	method    string   // upper case
	template  string   // e.g. /users/me/sessions/{id}
	segments  []string // template split on "/"
	responses map[string]*response
}

// response is one documented response of an operation.
type response struct {
	key     string            // "200", "4XX" or "default"
	headers []*header         // documented headers
	content map[string]*media // by media type, e.g. "application/json"
}

// header is one documented response header.
type header struct {
	name     string
	required bool
	schema   *jsonschema.Schema // nil when the document gives none
}

// media is one documented media type of a response.
type media struct {
	schema *jsonschema.Schema // nil when the document gives none
}

// New compiles the document's response schemas (and every components schema)
// with JSON Schema draft 2020-12, the dialect of OpenAPI 3.1, asserting
// formats such as email and date-time. It fails tb and returns nil when doc is
// not a usable OpenAPI 3.1 document or a schema does not compile.
func New(tb testing.TB, doc []byte) *Validator {
	tb.Helper()
	v, err := compile(doc)
	if err != nil {
		tb.Fatalf("openapitest: %v", err)
		return nil
	}
	return v
}

// compile builds a Validator from doc.
func compile(doc []byte) (*Validator, error) {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("document is not JSON: %w", err)
	}
	root, ok := inst.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("document is not a JSON object")
	}
	if v, _ := root["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		return nil, fmt.Errorf("document is OpenAPI %q, want 3.1.x", v)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, inst); err != nil {
		return nil, err
	}
	d := &docCompiler{root: root, c: c}

	// Compile every components schema, including those only requests use,
	// so that a broken one fails here rather than in some later test.
	schemas, _ := lookup(root, "/components/schemas").(map[string]any)
	for _, name := range sortedKeys(schemas) {
		if _, err := d.schema("/components/schemas/" + escape(name)); err != nil {
			return nil, err
		}
	}

	v := &Validator{}
	paths, _ := root["paths"].(map[string]any)
	if paths == nil {
		return nil, fmt.Errorf("document has no paths")
	}
	for _, tmpl := range sortedKeys(paths) {
		item, err := d.resolve("/paths/"+escape(tmpl), paths[tmpl])
		if err != nil {
			return nil, err
		}
		for _, m := range methods {
			opv, ok := item.obj[m]
			if !ok {
				continue
			}
			op, err := d.operation(item.ptr+"/"+m, opv)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", strings.ToUpper(m), tmpl, err)
			}
			op.method = strings.ToUpper(m)
			op.template = tmpl
			op.segments = strings.Split(tmpl, "/")
			v.ops = append(v.ops, op)
		}
	}
	return v, nil
}

// docCompiler walks the document and compiles the schemas it finds.
type docCompiler struct {
	root map[string]any
	c    *jsonschema.Compiler
}

// node is a JSON object of the document with the pointer it was found at,
// after following any $ref.
type node struct {
	ptr string
	obj map[string]any
}

// resolve follows $ref (OpenAPI Reference Objects, local only) from the value v
// found at ptr, and returns the object it ends at.
func (d *docCompiler) resolve(ptr string, v any) (node, error) {
	for range 32 {
		obj, ok := v.(map[string]any)
		if !ok {
			return node{}, fmt.Errorf("%s: not an object", ptr)
		}
		ref, ok := obj["$ref"].(string)
		if !ok {
			return node{ptr, obj}, nil
		}
		target, ok := strings.CutPrefix(ref, "#")
		if !ok {
			return node{}, fmt.Errorf("%s: $ref %q is not local to the document", ptr, ref)
		}
		v = lookup(d.root, target)
		if v == nil {
			return node{}, fmt.Errorf("%s: $ref %q does not resolve", ptr, ref)
		}
		ptr = target
	}
	return node{}, fmt.Errorf("%s: $ref chain too long", ptr)
}

// schema compiles the schema at ptr.
func (d *docCompiler) schema(ptr string) (*jsonschema.Schema, error) {
	sch, err := d.c.Compile(docURL + "#" + ptr)
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", ptr, err)
	}
	return sch, nil
}

// operation compiles the responses of the Operation Object v found at ptr.
func (d *docCompiler) operation(ptr string, v any) (*operation, error) {
	opn, err := d.resolve(ptr, v)
	if err != nil {
		return nil, err
	}
	rs, ok := opn.obj["responses"].(map[string]any)
	if !ok || len(rs) == 0 {
		return nil, fmt.Errorf("no responses")
	}
	op := &operation{responses: make(map[string]*response, len(rs))}
	for _, key := range sortedKeys(rs) {
		rn, err := d.resolve(opn.ptr+"/responses/"+escape(key), rs[key])
		if err != nil {
			return nil, err
		}
		resp := &response{key: key, content: map[string]*media{}}
		hs, _ := rn.obj["headers"].(map[string]any)
		for _, name := range sortedKeys(hs) {
			hn, err := d.resolve(rn.ptr+"/headers/"+escape(name), hs[name])
			if err != nil {
				return nil, err
			}
			h := &header{name: name}
			h.required, _ = hn.obj["required"].(bool)
			if _, ok := hn.obj["schema"]; ok {
				if h.schema, err = d.schema(hn.ptr + "/schema"); err != nil {
					return nil, err
				}
			}
			resp.headers = append(resp.headers, h)
		}
		cs, _ := rn.obj["content"].(map[string]any)
		for _, mt := range sortedKeys(cs) {
			mn, err := d.resolve(rn.ptr+"/content/"+escape(mt), cs[mt])
			if err != nil {
				return nil, err
			}
			m := &media{}
			if _, ok := mn.obj["schema"]; ok {
				if m.schema, err = d.schema(mn.ptr + "/schema"); err != nil {
					return nil, err
				}
			}
			resp.content[strings.ToLower(mt)] = m
		}
		op.responses[strings.ToUpper(key)] = resp
	}
	return op, nil
}

// ValidateResponse fails tb (with tb.Errorf, naming method, path, status and
// the problem) unless the document has an operation for method and path
// (path may be a concrete request path such as /users/me/sessions/42; a
// literal path segment wins over a template), a response for status (the exact
// code, else its "4XX"-style range, else "default"), every header that
// response marks required (each present header also matching its schema),
// the Content-Type's media type among the response's content, and a body that
// validates against that media type's schema. A response documented without
// content must have an empty body. JSON bodies (application/json and
// +json media types) are validated; other bodies are only checked for their
// media type. HEAD is checked against the GET operation, headers only: net/http
// discards the body of a HEAD response, though httptest.ResponseRecorder keeps it.
func (v *Validator) ValidateResponse(tb testing.TB, method, path string, status int, header http.Header, body []byte) {
	tb.Helper()
	if v == nil {
		tb.Errorf("openapitest: nil Validator (New failed)")
		return
	}
	if err := v.validate(method, path, status, header, body); err != nil {
		tb.Errorf("%s %s → %d: %v", method, path, status, err)
	}
}

// validate returns why the response does not conform, or nil.
func (v *Validator) validate(method, path string, status int, hdr http.Header, body []byte) error {
	method = strings.ToUpper(method)
	path, _, _ = strings.Cut(path, "?")
	op := v.find(method, path)
	head := false
	if op == nil && method == http.MethodHead {
		op = v.find(http.MethodGet, path)
		head = op != nil
	}
	if op == nil {
		if v.pathKnown(path) {
			return fmt.Errorf("the document has no %s operation for this path", method)
		}
		return fmt.Errorf("the document has no path matching %s", path)
	}
	resp := op.response(status)
	if resp == nil {
		return fmt.Errorf("status %d is not documented for %s %s (no exact, range or default response)",
			status, op.method, op.template)
	}
	where := fmt.Sprintf("response %q of %s %s", resp.key, op.method, op.template)

	for _, h := range resp.headers {
		values := hdr.Values(h.name)
		if len(values) == 0 {
			if h.required {
				return fmt.Errorf("%s: required header %s is missing", where, h.name)
			}
			continue
		}
		if h.schema == nil {
			continue
		}
		for _, val := range values {
			if err := h.schema.Validate(val); err != nil {
				return fmt.Errorf("%s: header %s: %q: %v", where, h.name, val, err)
			}
		}
	}

	if len(resp.content) == 0 {
		if len(body) > 0 && !head {
			return fmt.Errorf("%s documents no content, but the body has %d bytes", where, len(body))
		}
		return nil
	}
	ct := hdr.Get("Content-Type")
	if ct == "" {
		return fmt.Errorf("%s: no Content-Type, want one of %s", where, strings.Join(sortedKeys(resp.content), ", "))
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%s: Content-Type %q: %v", where, ct, err)
	}
	m := resp.media(mt)
	if m == nil {
		return fmt.Errorf("%s: media type %s is not documented, want one of %s",
			where, mt, strings.Join(sortedKeys(resp.content), ", "))
	}
	if m.schema == nil || !isJSON(mt) || head {
		return nil
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: body is not JSON: %v (body %s)", where, err, excerpt(body))
	}
	if err := m.schema.Validate(inst); err != nil {
		return fmt.Errorf("%s: body does not match the schema: %v\nbody: %s", where, err, excerpt(body))
	}
	return nil
}

// find returns the operation for method and a concrete path. When several
// templates match, the one with the most literal segments wins, so /users/me
// is preferred to /users/{id}.
func (v *Validator) find(method, path string) *operation {
	segs := strings.Split(path, "/")
	var best *operation
	bestLiterals := -1
	for _, op := range v.ops {
		if op.method != method {
			continue
		}
		if n, ok := match(op.segments, segs); ok && n > bestLiterals {
			best, bestLiterals = op, n
		}
	}
	return best
}

// pathKnown reports whether any operation's template matches path.
func (v *Validator) pathKnown(path string) bool {
	segs := strings.Split(path, "/")
	return slices.ContainsFunc(v.ops, func(op *operation) bool {
		_, ok := match(op.segments, segs)
		return ok
	})
}

// match reports whether the template segments match the path segments, and how
// many of them are literal. A "{name}" segment matches any non-empty segment.
func match(tmpl, segs []string) (literals int, ok bool) {
	if len(tmpl) != len(segs) {
		return 0, false
	}
	for i, t := range tmpl {
		if len(t) > 2 && t[0] == '{' && t[len(t)-1] == '}' {
			if segs[i] == "" {
				return 0, false
			}
			continue
		}
		if t != segs[i] {
			return 0, false
		}
		literals++
	}
	return literals, true
}

// response picks the response for status: exact code, then range, then default.
func (op *operation) response(status int) *response {
	code := strconv.Itoa(status)
	if r, ok := op.responses[code]; ok {
		return r
	}
	if len(code) == 3 {
		if r, ok := op.responses[code[:1]+"XX"]; ok {
			return r
		}
	}
	return op.responses["DEFAULT"]
}

// media picks the documented media type for mt: exact, then "type/*", then "*/*".
func (r *response) media(mt string) *media {
	mt = strings.ToLower(mt)
	if m, ok := r.content[mt]; ok {
		return m
	}
	if typ, _, ok := strings.Cut(mt, "/"); ok {
		if m, ok := r.content[typ+"/*"]; ok {
			return m
		}
	}
	return r.content["*/*"]
}

// isJSON reports whether the media type carries JSON.
func isJSON(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// lookup returns the value at the JSON pointer ptr in v, or nil.
func lookup(v any, ptr string) any {
	if ptr == "" {
		return v
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil
	}
	for tok := range strings.SplitSeq(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// escape encodes a JSON pointer token (RFC 6901).
func escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// sortedKeys returns the keys of m in order, for deterministic errors.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// excerpt shortens a body for an error message.
func excerpt(body []byte) string {
	const limit = 512
	if len(body) > limit {
		return string(body[:limit]) + "…"
	}
	return string(body)
}
