package openapi_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// These tests read the Go source the document describes, for the facts the
// handler tests cannot see in a response: the whole list of error codes, the
// whole mapping of codes to RFC 6749 errors, and every discovery member.
// Paths are relative to this package's directory, where `go test` runs.

// parseGo parses one Go file of the module.
func parseGo(tb testing.TB, path string) *ast.File {
	tb.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		tb.Fatalf("parse %s: %v", path, err)
	}
	return f
}

// stringLit returns the value of a string literal expression.
func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// errorCodes returns the values of the Code… constants of the root package
// (error.go, and mfa.go for multi-factor authentication's).
func errorCodes(tb testing.TB) []string {
	tb.Helper()
	var codes []string
	var decls []ast.Decl
	for _, f := range []string{"../../../error.go", "../../../mfa.go"} {
		decls = append(decls, parseGo(tb, f).Decls...)
	}
	for _, d := range decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if !strings.HasPrefix(name.Name, "Code") || i >= len(vs.Values) {
					continue
				}
				if v, ok := stringLit(vs.Values[i]); ok {
					codes = append(codes, v)
				}
			}
		}
	}
	if len(codes) < 10 {
		tb.Fatalf("found only %d error codes in error.go: %q", len(codes), codes)
	}
	return codes
}

// compositeIn returns the composite literals found in the declaration of
// name (a func or a package-level var) in file.
func compositeIn(tb testing.TB, f *ast.File, name string) []*ast.CompositeLit {
	tb.Helper()
	var root ast.Node
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.Name == name {
				root = d
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				if vs, ok := spec.(*ast.ValueSpec); ok && slices.ContainsFunc(vs.Names, func(n *ast.Ident) bool { return n.Name == name }) {
					root = vs
				}
			}
		}
	}
	if root == nil {
		tb.Fatalf("no declaration of %s", name)
	}
	var lits []*ast.CompositeLit
	ast.Inspect(root, func(n ast.Node) bool {
		if cl, ok := n.(*ast.CompositeLit); ok {
			lits = append(lits, cl)
		}
		return true
	})
	return lits
}

// stringsOf returns the sorted, distinct strings of a JSON array.
func stringsOf(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		if s, ok := e.(string); ok && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// TestErrorCodesDocumented checks that Error.code names every code a client
// can meet: they are part of the API, and only prose lists them.
func TestErrorCodesDocumented(t *testing.T) {
	t.Parallel()
	desc, _ := lookup(parse(t), "/components/schemas/Error/properties/code/description").(string)
	for _, code := range errorCodes(t) {
		if !strings.Contains(desc, "`"+code+"`") {
			t.Errorf("Error.code description does not name %q", code)
		}
	}
}

// TestOAuthErrorsDocumented checks that OAuthError.error lists exactly the
// RFC 6749 error codes the token endpoint maps gatehouse codes to.
func TestOAuthErrorsDocumented(t *testing.T) {
	t.Parallel()
	var mapped []string
	for _, cl := range compositeIn(t, parseGo(t, "../oauth.go"), "oauthErrors") {
		for _, e := range cl.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if v, ok := stringLit(kv.Value); ok && !slices.Contains(mapped, v) {
					mapped = append(mapped, v)
				}
			}
		}
	}
	slices.Sort(mapped)
	documented := stringsOf(lookup(parse(t), "/components/schemas/OAuthError/properties/error/enum"))
	if len(mapped) == 0 || !slices.Equal(mapped, documented) {
		t.Errorf("oauthErrors maps to %q, OAuthError.error documents %q", mapped, documented)
	}
}

// TestDiscoveryDocumented checks that ProviderMetadata describes, and
// requires, exactly the members the discovery handler writes.
func TestDiscoveryDocumented(t *testing.T) {
	t.Parallel()
	var members []string
	for _, cl := range compositeIn(t, parseGo(t, "../oauth.go"), "handleDiscovery") {
		if _, ok := cl.Type.(*ast.MapType); !ok {
			continue
		}
		for _, e := range cl.Elts {
			if kv, ok := e.(*ast.KeyValueExpr); ok {
				if k, ok := stringLit(kv.Key); ok {
					members = append(members, k)
				}
			}
		}
	}
	slices.Sort(members)
	doc := parse(t)
	required := stringsOf(lookup(doc, "/components/schemas/ProviderMetadata/required"))
	var properties []string
	for k := range obj(lookup(doc, "/components/schemas"), "ProviderMetadata")["properties"].(map[string]any) {
		properties = append(properties, k)
	}
	slices.Sort(properties)
	if len(members) == 0 || !slices.Equal(members, required) || !slices.Equal(members, properties) {
		t.Errorf("handleDiscovery writes %q\nProviderMetadata requires %q\nand describes %q", members, required, properties)
	}
}
