package ocipush

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// registryError is an error whose text has been made safe to print: it
// never contains the password. The original error stays reachable through
// Unwrap for errors.As, so callers must not print the chain themselves.
type registryError struct {
	msg string
	err error
}

func (e *registryError) Error() string { return e.msg }
func (e *registryError) Unwrap() error { return e.err }

// explain turns a failure of action (e.g. "push", "check for") against
// registry into one line saying what went wrong and what to do.
func (e endpoint) explain(action, registry string, err error) error {
	if err == nil {
		return nil
	}
	user := e.username
	if user == "" {
		user = "(anonymous)"
	}
	var msg string
	var terr *transport.Error
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &terr) && terr.StatusCode == http.StatusUnauthorized && e.username == "":
		msg = fmt.Sprintf("registry %s requires credentials to %s (HTTP 401): give a username and password", registry, action)
	case errors.As(err, &terr) && terr.StatusCode == http.StatusUnauthorized:
		msg = fmt.Sprintf("registry %s refused the credentials for user %s (HTTP 401): check the username and password (an ECR token expires after 12 hours)", registry, user)
	case errors.As(err, &terr) && terr.StatusCode == http.StatusForbidden:
		msg = fmt.Sprintf("registry %s denied user %s the right to %s (HTTP 403): check the user's permissions on the repository", registry, user, action)
	case errors.As(err, &terr) && hasCode(terr, transport.NameUnknownErrorCode):
		msg = fmt.Sprintf("registry %s has no such repository (HTTP %d): create the repository first", registry, terr.StatusCode)
	case errors.As(err, &terr):
		msg = fmt.Sprintf("registry %s rejected the request to %s (HTTP %d)", registry, action, terr.StatusCode)
	case errors.As(err, &dnsErr):
		msg = fmt.Sprintf("cannot resolve the registry host %s: check the repository address, or give a dial address", dnsErr.Name)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		msg = fmt.Sprintf("registry %s speaks plain http, not https: allow insecure (plain http) access for it", registry)
	case errors.As(err, &certErr) || errors.As(err, &hostErr) || strings.Contains(err.Error(), "x509:"):
		msg = fmt.Sprintf("the TLS certificate of registry %s is not trusted here", registry)
	case errors.As(err, &opErr) && opErr.Op == "dial":
		msg = fmt.Sprintf("cannot reach registry %s: check that it is running and the address (or dial address) is right", registry)
		if addr := opErr.Addr; addr != nil && addr.String() != registry {
			msg = fmt.Sprintf("cannot reach registry %s at %s: check that it is running and the address (or dial address) is right", registry, addr)
		}
	default:
		msg = fmt.Sprintf("cannot %s on registry %s", action, registry)
	}
	return e.redact(fmt.Errorf("%s: %w", msg, err))
}

// redact wraps err so that its text cannot reveal the password, in plain
// or in an encoded basic-auth header.
func (e endpoint) redact(err error) error {
	if err == nil {
		return nil
	}
	return &registryError{msg: e.scrub(err.Error()), err: err}
}

// scrub removes the password from s.
func (e endpoint) scrub(s string) string {
	if e.password == "" {
		return s
	}
	basic := base64.StdEncoding.EncodeToString([]byte(e.username + ":" + e.password))
	s = strings.ReplaceAll(s, basic, "[redacted]")
	return strings.ReplaceAll(s, e.password, "[redacted]")
}

// hasCode reports whether the registry answered with the given error code.
func hasCode(terr *transport.Error, code transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// isNotFound reports whether a manifest lookup failed only because the
// manifest does not exist.
func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}
