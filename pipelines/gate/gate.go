// Package gate checks a new revision of a service through its test route
// before it gets production traffic: the service's health path, optional
// smoke requests and an optional smoke command, each request carrying a
// header whose value is random per release (the test listener rule
// matches it, so only these requests reach the new revision; given the
// Rule, Check sets that value first and replaces it by an unknown one
// afterwards, so the route is open only while it checks). Checks are
// retried while the revision warms up, until a deadline; permanent errors
// stop at once. The header's value never appears in a log line or an
// error: every message is redacted.
//
// The ECS follower runs Spec.Check as its gate when a deployment pauses at
// its PAUSE lifecycle hook; the local target runs the same checks against
// the new local service before it replaces the old one.
package gate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// Defaults of a Spec.
const (
	DefaultTimeout  = 5 * time.Minute
	DefaultInterval = 5 * time.Second
	// requestTimeout bounds one request.
	requestTimeout = 10 * time.Second
	// excerptLen bounds the body excerpt in an error.
	excerptLen = 200
	redacted   = "[redacted]"
)

// Smoke is one request a gate sends and what it must answer.
type Smoke struct {
	// Method, default GET.
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
	// Path, starting with "/". Required.
	Path string `yaml:"path" json:"path"`
	// Status expected, default 200.
	Status int `yaml:"status,omitempty" json:"status,omitempty"`
	// Body is a substring the answer's body must contain; empty: any body.
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
}

// Spec says what a gate checks, and where.
type Spec struct {
	// Service names the service in messages.
	Service string
	// URL is the base URL of the test route, e.g. the load balancer's
	// https://api.example.com. Required.
	URL string
	// Health is the service's health path, which must answer 200; empty
	// when the service has none (then Smoke must not be empty).
	Health string
	// Smoke requests, checked after the health path, in order.
	Smoke []Smoke
	// Command, if set, runs once after the requests (e.g. a smoke-test
	// container given the URL, header and token); an error fails the gate
	// and its message is the command's evidence.
	Command func(ctx context.Context) error
	// Header is the header the test rule matches; default
	// contract.GateHeader.
	Header string
	// Token is the header's value, random per release (NewToken). Required.
	// It is redacted from every message.
	Token Token
	// Timeout bounds all checks; 0 means DefaultTimeout.
	Timeout time.Duration
	// Interval between attempts of a check; 0 means DefaultInterval.
	Interval time.Duration
	// Rule, if set, is the test listener rule: Check sets its header value
	// to Token first, waits RuleSettle for the load balancer to apply it,
	// and afterwards sets a fresh random value nobody knows, so the test
	// route is open only while the checks run.
	Rule Rule
	// RuleSettle is the wait after setting the rule; 0 means
	// DefaultRuleSettle.
	RuleSettle time.Duration
	// Direct says the requests reach the service itself, with no load
	// balancer in front (the local target): a 404 is then the service's
	// own answer from the first check on.
	Direct bool
	// Client sends the requests; nil means a client without redirects.
	Client *http.Client
	// Log, if set, receives progress lines (redacted).
	Log func(string)
}

// Rule is the test listener rule whose header condition a gate sets.
// The ELBv2 adapter (ModifyRule on the rule's http-header condition)
// satisfies it.
type Rule interface {
	// SetHeader makes the rule match requests whose header carries value.
	SetHeader(ctx context.Context, header string, value Token) error
}

// DefaultRuleSettle is how long a load balancer is given to apply a rule
// change before the first check.
const DefaultRuleSettle = 15 * time.Second

// Token is the secret value of the test header. It prints as
// [redacted], so a Spec in a log line does not show it.
type Token string

// String returns "[redacted]".
func (Token) String() string { return redacted }

// GoString returns "[redacted]".
func (Token) GoString() string { return redacted }

// NewToken returns a random header value for one release.
func NewToken() (Token, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("gate: no random token: %w", err)
	}
	return Token(hex.EncodeToString(b)), nil
}

// Validate reports what is wrong with the spec, before any request.
func (s Spec) Validate() error {
	var problems []string
	u, err := url.Parse(s.URL)
	switch {
	case s.URL == "":
		problems = append(problems, "no test URL (the "+contract.TestURLOutput(orDefault(s.Service, "<service>"))+" output)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		problems = append(problems, fmt.Sprintf("test URL %q is not an absolute http(s) URL", s.URL))
	}
	if s.Token == "" {
		problems = append(problems, "no token for the "+orDefault(s.Header, contract.GateHeader)+" header (gate.NewToken makes one)")
	}
	if s.Health == "" && len(s.Smoke) == 0 && s.Command == nil {
		problems = append(problems, "nothing to check: no health path, smoke request or smoke command")
	}
	if s.Health != "" && !strings.HasPrefix(s.Health, "/") {
		problems = append(problems, fmt.Sprintf("health path %q does not start with /", s.Health))
	}
	for i, sm := range s.Smoke {
		if err := sm.Validate(); err != nil {
			problems = append(problems, fmt.Sprintf("smoke[%d]: %v", i, err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("gate of %s: %s", orDefault(s.Service, "the service"), strings.Join(problems, "; "))
	}
	return nil
}

// Check runs every check within the timeout. It returns one line per
// check passed ("health /health: 200 after 2 attempt(s)"), or the first
// failure: which check, the status and a short excerpt of the body. The
// token never appears in either.
func (s Spec) Check(ctx context.Context) (passed []string, err error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, orDuration(s.Timeout, DefaultTimeout))
	defer cancel()
	if s.Rule != nil {
		if err := s.openRoute(ctx); err != nil {
			return nil, err
		}
		defer s.closeRoute(ctx)
	}
	checks := s.Smoke
	if s.Health != "" {
		checks = append([]Smoke{{Path: s.Health}}, checks...)
	}
	for i, c := range checks {
		name := "smoke " + c.method() + " " + c.Path
		if i == 0 && s.Health != "" {
			name = "health " + c.Path
		}
		// Once a check has passed, the route reaches the new revision, so a
		// 404 is the service's own answer (a wrong path), not a revision
		// still warming up behind the load balancer.
		line, err := s.try(ctx, name, c, s.Direct || i > 0)
		if err != nil {
			return passed, s.redactErr(err)
		}
		passed = append(passed, line)
	}
	if s.Command != nil {
		if err := s.Command(ctx); err != nil {
			return passed, s.redactErr(fmt.Errorf("gate of %s: smoke command failed: %w", orDefault(s.Service, "the service"), err))
		}
		passed = append(passed, "smoke command passed")
		s.logf("smoke command passed")
	}
	return passed, nil
}

// Validate says what is wrong with one smoke request (stevedore.yaml's
// validation calls it too, before any work).
func (c Smoke) Validate() error {
	switch {
	case !strings.HasPrefix(c.Path, "/"):
		return fmt.Errorf("path %q does not start with /", c.Path)
	case c.Status != 0 && (c.Status < 100 || c.Status > 599):
		return fmt.Errorf("status %d is not an HTTP status", c.Status)
	case c.Method != "" && !slices.Contains(smokeMethods, c.Method):
		return fmt.Errorf("method %q is not one of %s", c.Method, strings.Join(smokeMethods, ", "))
	}
	return nil
}

// smokeMethods are the HTTP methods a smoke request may use.
var smokeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}

// openRoute sets the test rule's header value to the token and gives the
// load balancer time to apply it.
func (s Spec) openRoute(ctx context.Context) error {
	header := orDefault(s.Header, contract.GateHeader)
	if err := s.Rule.SetHeader(ctx, header, s.Token); err != nil {
		return s.redactErr(fmt.Errorf("gate of %s: could not open the test route (set the %s value of its listener rule): %w", orDefault(s.Service, "the service"), header, err))
	}
	s.logf("test route open; checking in %s", orDuration(s.RuleSettle, DefaultRuleSettle))
	select {
	case <-ctx.Done():
		return fmt.Errorf("gate of %s: stopped before the first check: %w", orDefault(s.Service, "the service"), ctx.Err())
	case <-time.After(orDuration(s.RuleSettle, DefaultRuleSettle)):
	}
	return nil
}

// closeRoute sets the rule to a random value nobody knows, even when the
// checks ran out of time; a failure is logged, as the token stays secret.
func (s Spec) closeRoute(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	fresh, err := NewToken()
	if err == nil {
		err = s.Rule.SetHeader(ctx, orDefault(s.Header, contract.GateHeader), fresh)
	}
	if err != nil {
		s.logf("warning: could not close the test route (it still answers this release's secret header): %v", err)
		return
	}
	s.logf("test route closed")
}

func (c Smoke) method() string { return orDefault(c.Method, http.MethodGet) }
func (c Smoke) status() int    { return orInt(c.Status, http.StatusOK) }

// try sends one check until it passes (it returns the line saying so),
// fails permanently or the deadline passes. reached: an earlier check of
// this gate passed, so the route reaches the new revision.
func (s Spec) try(ctx context.Context, name string, c Smoke, reached bool) (string, error) {
	start, service := time.Now(), orDefault(s.Service, "the service")
	var last attempt // the last answer worth showing
	for n := 1; ; n++ {
		a := s.send(ctx, c, reached)
		if a.status != 0 || last.what == "" || ctx.Err() == nil {
			last = a // a request cut short by the deadline says less than the answer before it
		}
		switch {
		case a.ok:
			line := fmt.Sprintf("%s: %d after %d attempt(s)", name, a.status, n)
			s.logf("%s", line)
			return line, nil
		case ctx.Err() != nil:
			return "", fmt.Errorf("gate of %s: %s did not pass within %s (%d attempts); last: %s", service, name, orDuration(s.Timeout, DefaultTimeout), n, last.what)
		case a.permanent:
			return "", fmt.Errorf("gate of %s: %s failed after %d attempt(s) in %s: %s", service, name, n, time.Since(start).Round(time.Millisecond), a.what)
		}
		s.logf("%s: %s; trying again", name, a.what)
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("gate of %s: %s did not pass within %s (%d attempts); last: %s", service, name, orDuration(s.Timeout, DefaultTimeout), n, last.what)
		case <-time.After(orDuration(s.Interval, DefaultInterval)):
		}
	}
}

// attempt is the outcome of one request.
type attempt struct {
	ok, permanent bool
	status        int
	what          string // what went wrong
}

func (s Spec) send(ctx context.Context, c Smoke, reached bool) attempt {
	rctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, c.method(), strings.TrimSuffix(s.URL, "/")+c.Path, nil)
	if err != nil {
		return attempt{permanent: true, what: err.Error()}
	}
	req.Header.Set(orDefault(s.Header, contract.GateHeader), string(s.Token))
	resp, err := s.client().Do(req)
	if err != nil {
		return attempt{permanent: permanentNetError(err), what: "no answer: " + err.Error()}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return judge(c, resp.StatusCode, string(body), s.Redact(string(body)), reached)
}

// judge decides from one answer whether a check passed, should be tried
// again (5xx and 429; 404 too until a check has reached the new revision,
// as the load balancer answers 404 while it has no healthy target or
// has not applied the test rule yet) or failed for good (any other
// unexpected status, a 404 once reached, or the wanted status without the
// wanted body). shown is the body as it may be shown (redacted).
func judge(c Smoke, status int, body, shown string, reached bool) attempt {
	a := attempt{status: status}
	switch {
	case status == c.status() && strings.Contains(body, c.Body):
		a.ok = true
		return a
	case status == c.status():
		a.permanent = true
		a.what = fmt.Sprintf("answered %d without %q: %s", status, c.Body, excerpt(shown))
		return a
	}
	a.what = fmt.Sprintf("want %d, got %d: %s", c.status(), status, excerpt(shown))
	a.permanent = status >= 400 && status < 500 && status != http.StatusTooManyRequests &&
		(status != http.StatusNotFound || reached)
	if status == http.StatusNotFound && reached {
		a.what += " (the service itself answered 404: is the path right?)"
	}
	return a
}

// permanentNetError: the host does not exist or the URL is wrong, so no
// retry will help; refused connections and timeouts may.
func permanentNetError(err error) bool {
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsNotFound
	}
	var uerr *url.Error
	return errors.As(err, &uerr) && !uerr.Timeout() && strings.Contains(uerr.Err.Error(), "unsupported protocol scheme")
}

func (s Spec) client() *http.Client {
	if s.Client != nil {
		return s.Client
	}
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Redact replaces the token in msg.
func (s Spec) Redact(msg string) string { return s.Token.Redact(msg) }

// Redact replaces the token in msg by "[redacted]".
func (t Token) Redact(msg string) string {
	if t == "" {
		return msg
	}
	return strings.ReplaceAll(msg, string(t), redacted)
}

// redactErr is err with the token replaced; the cause is dropped when it
// held the token, so no Unwrap can show it.
func (s Spec) redactErr(err error) error {
	if err == nil || s.Token == "" || !strings.Contains(err.Error(), string(s.Token)) {
		return err
	}
	return errors.New(s.Redact(err.Error()))
}

func (s Spec) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log(s.Redact(fmt.Sprintf(orDefault(s.Service, "gate")+": "+format, args...)))
	}
}

// excerpt is the start of a body on one line, or "(empty body)".
func excerpt(body string) string {
	body = strings.Join(strings.Fields(body), " ")
	if body == "" {
		return "(empty body)"
	}
	if len(body) > excerptLen {
		return body[:excerptLen] + "..."
	}
	return body
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orInt(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
