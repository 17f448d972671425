package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Bounds on what gatehouse's answers may cost us.
const (
	fetchTimeout      = 10 * time.Second // discovery and JWKS requests
	maxDiscoveryBytes = 64 << 10
	maxJWKSBytes      = 512 << 10
)

// defaultClient bounds connecting and the TLS handshake; each request carries
// its own deadline (the feed's long poll cannot live with a client-wide
// Timeout shorter than its wait).
func defaultClient() *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr, CheckRedirect: sameOrigin}
}

// sameOrigin follows a redirect only to the same scheme and host: a redirect
// elsewhere could hand us an attacker's keys, or carry the feed's credential
// to another host.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("too many redirects")
	}
	first := via[0].URL
	if req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
		return fmt.Errorf("redirect from %s to another origin %s://%s refused", first.Host, req.URL.Scheme, req.URL.Host)
	}
	return nil
}

// checkURL accepts an absolute https URL, or http for the loopback interface
// (or any host with allowHTTP).
func checkURL(what, raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("verifier: %s: %w", what, err)
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("verifier: %s %q must be an absolute URL without user info or fragment", what, raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && (allowHTTP || loopback(u.Hostname())):
	case u.Scheme == "http":
		return fmt.Errorf("verifier: %s %q is plain http: keys and the feed's credential need https (AllowInsecureHTTP permits http on a trusted network)", what, raw)
	default:
		return fmt.Errorf("verifier: %s %q: scheme must be https", what, raw)
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// get performs req and reads at most limit bytes of the answer's body.
func get(client *http.Client, req *http.Request, limit int64) (*http.Response, []byte, error) {
	res, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: reading the answer: %w", req.URL.Redacted(), err)
	}
	if int64(len(body)) > limit {
		return nil, nil, fmt.Errorf("GET %s: answer larger than %d bytes", req.URL.Redacted(), limit)
	}
	return res, body, nil
}

// getJSON fetches u and decodes a 200 answer into v.
func getJSON(ctx context.Context, client *http.Client, u string, limit int64, v any) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	res, body, err := get(client, req, limit)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", u, res.StatusCode)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return res, nil
}

// discovery is the part of the OpenID Connect discovery document we use.
type discovery struct {
	Issuer         string `json:"issuer"`
	JWKSURI        string `json:"jwks_uri"`
	RevocationFeed string `json:"revocation_feed_endpoint"` // gatehouse's extension
}

// discover reads issuer's discovery document. Its "issuer" must equal issuer
// exactly (OpenID Connect Discovery §4.3): otherwise one issuer could pass
// off another's document, and the "iss" check would compare against the
// wrong value.
func discover(ctx context.Context, client *http.Client, issuer string) (discovery, error) {
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	var d discovery
	if _, err := getJSON(ctx, client, u, maxDiscoveryBytes, &d); err != nil {
		return d, fmt.Errorf("verifier: discovery: %w", err)
	}
	if d.Issuer != issuer {
		return d, fmt.Errorf("verifier: discovery document at %s names issuer %q, not %q", u, d.Issuer, issuer)
	}
	if d.JWKSURI == "" {
		return d, fmt.Errorf("verifier: discovery document at %s has no jwks_uri", u)
	}
	return d, nil
}
