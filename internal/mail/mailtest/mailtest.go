// Package mailtest runs a real SMTP server (github.com/emersion/go-smtp) in
// the test process, so that tests send mail over the wire as in production
// and read back what arrived: the message, parsed, and the links in it.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Security is how clients must connect.
type Security int

// The securities a Server offers.
const (
	StartTLS Security = iota // STARTTLS offered; AUTH only after it
	Implicit                 // TLS from the first byte
	None                     // no TLS at all
)

// Options configure a Server.
type Options struct {
	Security Security
	// Username and Password, when set, are required (AUTH PLAIN) before
	// MAIL FROM.
	Username, Password string
	// Delay holds each DATA this long, to stand for a slow relay.
	Delay time.Duration
}

// Server is an SMTP server listening on 127.0.0.1.
type Server struct {
	opts     Options
	srv      *smtp.Server
	addr     string
	clientCA *x509.CertPool
	received chan *Message
}

// Message is one message as the server received it.
type Message struct {
	From    string
	To      []string
	Raw     []byte
	TLS     bool // arrived over TLS
	Authed  bool
	Subject string // decoded
	Text    string // the text/plain part, decoded, with \n line ends
	HTML    string // the text/html part, likewise
}

// Start runs a server until the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := &Server{opts: opts, received: make(chan *Message, 64)}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{s: s, c: c}, nil }))
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.srv.AllowInsecureAuth = opts.Security == None
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	if opts.Security != None {
		cert, pool := selfSigned(tb)
		s.clientCA = pool
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if opts.Security == Implicit {
			ln = tls.NewListener(ln, s.srv.TLSConfig)
		}
	}
	s.addr = ln.Addr().String()
	go s.srv.Serve(ln)
	tb.Cleanup(func() { s.srv.Close() })
	return s
}

// URL is the GATEHOUSE_SMTP_URL that reaches the server.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.addr}
	switch s.opts.Security {
	case Implicit:
		u.Scheme = "smtps"
	case None:
		u.RawQuery = "starttls=off"
	}
	if s.opts.Username != "" {
		u.User = url.UserPassword(s.opts.Username, s.opts.Password)
	}
	return u.String()
}

// ClientTLS is a client TLS configuration that trusts the server's
// certificate (nil without TLS).
func (s *Server) ClientTLS() *tls.Config {
	if s.clientCA == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.clientCA, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// Receive waits up to timeout for the next message.
func (s *Server) Receive(tb testing.TB, timeout time.Duration) *Message {
	tb.Helper()
	select {
	case m := <-s.received:
		return m
	case <-time.After(timeout):
		tb.Fatalf("no mail arrived within %s", timeout)
		return nil
	}
}

// None reports a failure if a message is waiting.
func (s *Server) None(tb testing.TB) {
	tb.Helper()
	select {
	case m := <-s.received:
		tb.Errorf("unexpected mail to %v: %q", m.To, m.Subject)
	default:
	}
}

// Link returns the first URL in the text part whose path is path, and its
// token query parameter.
func (m *Message) Link(tb testing.TB, path string) (link, token string) {
	tb.Helper()
	for _, raw := range linkPattern.FindAllString(m.Text, -1) {
		u, err := url.Parse(raw)
		if err == nil && u.Path == path {
			return raw, u.Query().Get("token")
		}
	}
	tb.Fatalf("no link to %s in the mail:\n%s", path, m.Text)
	return "", ""
}

var linkPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

type session struct {
	s      *Server
	c      *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (x *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != x.s.opts.Username || password != x.s.opts.Password {
			return errors.New("invalid credentials")
		}
		x.authed = true
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.opts.Username != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if x.s.opts.Delay > 0 {
		time.Sleep(x.s.opts.Delay) // a slow relay, by design
	}
	_, isTLS := x.c.TLSConnectionState()
	m := &Message{From: x.from, To: x.to, Raw: raw, TLS: isTLS, Authed: x.authed}
	if err := m.parse(); err != nil {
		return fmt.Errorf("mailtest: %w", err)
	}
	x.s.received <- m
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// parse fills Subject, Text and HTML from Raw.
func (m *Message) parse() error {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return err
	}
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return err
	}
	return m.part(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
}

func (m *Message) part(contentType, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.part(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")) // SMTP's line ends, as the sender wrote them
	switch mt {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mailtest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
