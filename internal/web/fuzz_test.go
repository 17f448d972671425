package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestDecoders sends arbitrary bodies, with each content type the API
// reads, to every endpoint that decodes one. Whatever the bytes: never a 5xx
// or a panic, always a JSON body. The seed corpus runs as an ordinary test;
// fuzz with: go test ./internal/web -run '^$' -fuzz FuzzRequestDecoders
func FuzzRequestDecoders(f *testing.F) {
	e := newTestEnv(f, envOptions{maxBody: 4096})
	e.register(f, "fuzzer", "fuzzer@example.com", goodPassword)
	paths := []string{"/auth/register", "/auth/login", "/auth/token", "/auth/refresh"}
	types := []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz", "text/plain", ""}
	seeds := []string{
		`{"username":"fuzzer","email":"fuzzer@example.com","password":"correct horse battery staple"}`,
		`{"username":"a","password":null}`, `{"refresh_token":"x.0.y"}`, `[]`, `null`, `{`, `{"a":1}{"b":2}`,
		`{"username":"\u0000","email":"\ud800@x.com","password":"` + strings.Repeat("p", 1100) + `"}`,
		"grant_type=password&username=fuzzer&password=correct+horse+battery+staple",
		"grant_type=refresh_token&refresh_token=%zz", "username=a&username=b&password=c",
		"--xyz\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nfuzzer\r\n--xyz--\r\n",
		strings.Repeat("{", 3000),
	}
	for i, s := range seeds {
		f.Add(uint8(i), uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, pathIdx, typeIdx uint8, body string) {
		req := httptest.NewRequest(http.MethodPost, paths[int(pathIdx)%len(paths)], strings.NewReader(body))
		if ct := types[int(typeIdx)%len(types)]; ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q → %d: %s", req.URL.Path, body, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s → %d with a body that is not JSON: %q", req.URL.Path, rec.Code, rec.Body)
		}
	})
}
