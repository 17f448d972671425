package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// discardWriter is a ResponseWriter that costs nothing, so that the
// benchmarks measure the wrapper rather than a recorder's buffers.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

var okBody = []byte(`{"ok":true}`)

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(okBody) })
}

// BenchmarkRoute compares a route's handler bare and wrapped by Route; the
// difference is the per-request cost of the instrumentation.
func BenchmarkRoute(b *testing.B) {
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", okHandler()},
		{"instrumented", New().Route("GET /users/me", okHandler())},
	} {
		b.Run(bc.name, func(b *testing.B) {
			w := &discardWriter{h: http.Header{}}
			r := httptest.NewRequest("GET", "/users/me", nil)
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(w, r)
			}
		})
	}
	b.Run("instrumented-parallel", func(b *testing.B) {
		h := New().Route("GET /users/me", okHandler())
		r := httptest.NewRequest("GET", "/users/me", nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := &discardWriter{h: http.Header{}}
			for pb.Next() {
				h.ServeHTTP(w, r)
			}
		})
	})
}
