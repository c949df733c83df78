package ocipush

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestExplainClassifiesFailures(t *testing.T) {
	e := endpoint{username: "AWS", password: "s3cret-token"}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"forbidden", &transport.Error{StatusCode: 403}, "denied user AWS the right to push (HTTP 403)"},
		{"missing repository", &transport.Error{StatusCode: 404, Errors: []transport.Diagnostic{{Code: transport.NameUnknownErrorCode}}}, "has no such repository"},
		{"server error", &transport.Error{StatusCode: 500}, "rejected the request to push (HTTP 500)"},
		{"unknown host", &net.DNSError{Name: "nope.example", Err: "no such host"}, "cannot resolve the registry host nope.example"},
		{"https to plain http", errors.New(`Get "https://r/v2/": http: server gave HTTP response to HTTPS client`), "speaks plain http"},
		{"untrusted certificate", x509.UnknownAuthorityError{}, "TLS certificate of registry r:5000 is not trusted"},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 5000}, Err: errors.New("connection refused")}, "cannot reach registry r:5000 at 10.0.0.1:5000"},
		{"anything else", errors.New("boom s3cret-token"), "cannot push on registry r:5000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := e.explain("push", "r:5000", tc.err)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), e.password) {
				t.Errorf("password leaked: %q", err)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("the cause is no longer wrapped: %v", err)
			}
		})
	}
}

func TestScrubRemovesEncodedPassword(t *testing.T) {
	e := endpoint{username: "AWS", password: "pa55"}
	header := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("AWS:pa55"))
	got := e.scrub("password pa55; " + header)
	if strings.Contains(got, "pa55") || strings.Contains(got, header) {
		t.Errorf("scrub left the secret in %q", got)
	}
	if (endpoint{}).scrub("pa55") != "pa55" {
		t.Error("scrub without a password changed the text")
	}
}
