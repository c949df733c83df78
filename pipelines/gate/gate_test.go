package gate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

const token Token = "0123456789abcdef0123456789abcdef"

// testRoute is a load balancer: requests with the right header reach the
// new revision (next), the others the old one, which answers "old".
func testRoute(t *testing.T, next http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(contract.GateHeader) != string(token) {
			fmt.Fprint(w, "old revision")
			return
		}
		hits.Add(1)
		next(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func spec(url string) Spec {
	return Spec{Service: "api", URL: url, Health: "/health", Token: token, Timeout: 500 * time.Millisecond, Interval: 10 * time.Millisecond}
}

func TestCheck(t *testing.T) {
	var warm atomic.Int32
	newRevision := func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/health" && warm.Add(1) < 3:
			http.Error(w, "warming up", http.StatusNotFound) // the target group has no healthy target yet
		case r.URL.Path == "/health":
			fmt.Fprint(w, "ok")
		case r.URL.Path == "/api/orders" && r.Method == http.MethodGet:
			fmt.Fprint(w, `{"orders":[]}`)
		case r.URL.Path == "/api/orders":
			w.WriteHeader(http.StatusCreated)
		case r.URL.Path == "/admin":
			http.Error(w, "login required", http.StatusUnauthorized)
		case r.URL.Path == "/broken":
			// Echoes the request headers, as some debug pages do: the
			// token must not leak through the excerpt.
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"detail":"relation \"orders\" does not exist","headers":%q}`, r.Header)
		case r.URL.Path == "/forbidden":
			http.Error(w, "forbidden by WAF", http.StatusForbidden)
		case r.URL.Path == "/throttled":
			http.Error(w, "slow down", http.StatusTooManyRequests)
		default:
			http.NotFound(w, r)
		}
	}
	cases := []struct {
		name     string
		smoke    []Smoke
		command  func(context.Context) error
		header   string
		wantErr  []string
		wantHits int32 // requests that reached the new revision; 0: not checked
		// wantPassed: the lines of the checks passed; nil: not checked
		wantPassed []string
	}{
		{name: "health (after warming 404s) and smoke requests pass",
			smoke: []Smoke{{Path: "/api/orders", Body: `"orders"`}, {Method: "POST", Path: "/api/orders", Status: 201}, {Path: "/admin", Status: 401}}, wantHits: 6,
			wantPassed: []string{"health /health: 200 after 3 attempt(s)", "smoke GET /api/orders: 200 after 1 attempt(s)", "smoke POST /api/orders: 201 after 1 attempt(s)", "smoke GET /admin: 401 after 1 attempt(s)"}},
		{name: "a failing smoke check says which, the status and the body, token redacted",
			smoke:   []Smoke{{Path: "/api/orders"}, {Path: "/broken"}},
			wantErr: []string{"gate of api: smoke GET /broken did not pass within 500ms", "want 200, got 500", `relation \"orders\" does not exist`, "[redacted]"}},
		{name: "the wanted status without the wanted body fails at once",
			smoke: []Smoke{{Path: "/api/orders", Body: "customer"}}, wantHits: 4,
			wantErr: []string{`smoke GET /api/orders failed after 1 attempt(s)`, `answered 200 without "customer": {"orders":[]}`}},
		{name: "a 403 is permanent: one attempt",
			smoke: []Smoke{{Path: "/forbidden"}}, wantHits: 4,
			wantErr: []string{"smoke GET /forbidden failed after 1 attempt(s)", "want 200, got 403: forbidden by WAF"}},
		{name: "a 404 after the health check passed is the service's own: one attempt",
			smoke: []Smoke{{Path: "/api/orders"}, {Path: "/api/order"}}, wantHits: 5,
			wantErr: []string{"smoke GET /api/order failed after 1 attempt(s)", "want 200, got 404", "(the service itself answered 404: is the path right?)"}},
		{name: "429 is retried until the deadline",
			smoke:   []Smoke{{Path: "/throttled"}},
			wantErr: []string{"smoke GET /throttled did not pass within 500ms", "want 200, got 429: slow down"}},
		{name: "without the header the old revision answers, and the check fails", header: "X-Other",
			wantErr: []string{"smoke GET /health failed after 1 attempt(s)", `answered 200 without "ok": old revision`}},
		{name: "the smoke command's failure is the evidence, token redacted",
			command: func(context.Context) error {
				return fmt.Errorf("pytest smoke/: 1 failed: test_login (curl -H 'X-Stevedore-Test: %s' ...)", token)
			},
			wantErr:    []string{"smoke command failed: pytest smoke/: 1 failed: test_login (curl -H 'X-Stevedore-Test: [redacted]'"},
			wantPassed: []string{"health /health: 200 after 3 attempt(s)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			warm.Store(0)
			srv, hits := testRoute(t, newRevision)
			s := spec(srv.URL)
			s.Smoke, s.Command, s.Header = tc.smoke, tc.command, tc.header
			if tc.header != "" {
				s.Health, s.Smoke = "", []Smoke{{Path: "/health", Body: "ok"}}
			}
			var mu sync.Mutex
			var lines []string
			s.Log = func(l string) { mu.Lock(); lines = append(lines, l); mu.Unlock() }
			passed, err := s.Check(context.Background())
			if tc.wantPassed != nil && !slices.Equal(passed, tc.wantPassed) {
				t.Errorf("passed %q, want %q", passed, tc.wantPassed)
			}
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v\nlacks %q", err, want)
				}
			}
			mu.Lock()
			all := strings.Join(lines, "\n")
			mu.Unlock()
			if err != nil {
				all += err.Error()
			}
			if strings.Contains(all, string(token)) {
				t.Errorf("the token leaked:\n%s", all)
			}
			if tc.wantHits != 0 && hits.Load() != tc.wantHits {
				t.Errorf("%d requests reached the new revision, want %d", hits.Load(), tc.wantHits)
			}
		})
	}
}

// Direct (no load balancer in front, the local target): a 404 on the
// health path is the service's own from the first attempt; through a load
// balancer it is retried while the revision warms up.
func TestCheckDirect404(t *testing.T) {
	srv, hits := testRoute(t, http.NotFound)
	s := spec(srv.URL)
	s.Direct = true
	_, err := s.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "health /health failed after 1 attempt(s)") || !strings.Contains(err.Error(), "is the path right?") {
		t.Fatalf("direct: error %v, want a failure at the first 404", err)
	}
	if hits.Load() != 1 {
		t.Errorf("direct: %d requests, want 1", hits.Load())
	}
	s.Direct = false
	if _, err := s.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "did not pass within 500ms") {
		t.Fatalf("through a load balancer: error %v, want retries until the deadline", err)
	}
}

// A revision that never answers: the gate gives up at its deadline, with
// the attempts it made.
func TestCheckTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := testRoute(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	s := spec(srv.URL)
	s.Timeout = 300 * time.Millisecond
	_, err := s.Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "health /health did not pass within 300ms") || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("got %v, want a timeout of the health check", err)
	}
}

// An unreachable test route (connection refused) is retried until the
// deadline; an unknown host stops at once.
func TestCheckUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := spec("http://" + addr)
	s.Timeout = 200 * time.Millisecond
	if _, err := s.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "did not pass within 200ms") || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("refused: got %v", err)
	}
	unknown := &url.Error{Op: "Get", URL: "http://api.invalid/health", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "api.invalid", IsNotFound: true}}}
	refused := &url.Error{Op: "Get", URL: "http://127.0.0.1:1/health", Err: &net.OpError{Op: "dial", Err: errors.New("connect: connection refused")}}
	if !permanentNetError(unknown) || permanentNetError(refused) {
		t.Errorf("unknown host permanent=%v (want true), refused permanent=%v (want false)", permanentNetError(unknown), permanentNetError(refused))
	}
}

func TestJudge(t *testing.T) {
	cases := []struct {
		smoke         Smoke
		status        int
		body          string
		reached       bool // an earlier check passed
		ok, permanent bool
	}{
		{Smoke{Path: "/"}, 200, "", false, true, false},
		{Smoke{Path: "/", Body: "ok"}, 200, "not ok", false, true, false},
		{Smoke{Path: "/", Body: "ready"}, 200, "ok", false, false, true},
		{Smoke{Path: "/", Status: 401}, 401, "", false, true, false},
		{Smoke{Path: "/"}, 404, "", false, false, false},
		{Smoke{Path: "/"}, 404, "", true, false, true},
		{Smoke{Path: "/", Status: 404}, 404, "", true, true, false},
		{Smoke{Path: "/"}, 429, "", true, false, false},
		{Smoke{Path: "/"}, 502, "", true, false, false},
		{Smoke{Path: "/"}, 400, "", false, false, true},
		{Smoke{Path: "/"}, 401, "", false, false, true},
		{Smoke{Path: "/"}, 301, "", false, false, false},
	}
	for _, tc := range cases {
		a := judge(tc.smoke, tc.status, tc.body, tc.body, tc.reached)
		if a.ok != tc.ok || a.permanent != tc.permanent {
			t.Errorf("%+v answered %d %q (reached %v): ok=%v permanent=%v, want %v %v", tc.smoke, tc.status, tc.body, tc.reached, a.ok, a.permanent, tc.ok, tc.permanent)
		}
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		spec Spec
		want string
	}{
		{Spec{Service: "api", Health: "/health", Token: token}, "no test URL (the ApiTestUrl output)"},
		{Spec{Service: "api", URL: "alb.example.com", Health: "/health", Token: token}, `test URL "alb.example.com" is not an absolute http(s) URL`},
		{Spec{Service: "api", URL: "https://alb.example.com", Health: "/health"}, "no token for the X-Stevedore-Test header"},
		{Spec{Service: "api", URL: "https://alb.example.com", Token: token}, "nothing to check"},
		{Spec{Service: "api", URL: "https://alb.example.com", Health: "health", Token: token}, `health path "health" does not start with /`},
		{Spec{Service: "api", URL: "https://alb.example.com", Token: token, Smoke: []Smoke{{Path: "/", Status: 99}}}, "smoke[0]: status 99 is not an HTTP status"},
		{Spec{Service: "api", URL: "https://alb.example.com", Token: token, Smoke: []Smoke{{Path: "/", Method: "get"}}}, `smoke[0]: method "get" is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS`},
		{Spec{Service: "api", URL: "https://alb.example.com", Token: token, Smoke: []Smoke{{Path: "/", Method: "FETCH"}}}, `smoke[0]: method "FETCH" is not one of`},
	}
	for _, tc := range cases {
		if err := tc.spec.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %q", tc.spec, err, tc.want)
		}
	}
	if err := spec("https://alb.example.com").Validate(); err != nil {
		t.Errorf("valid spec: %v", err)
	}
}

func TestTokenNeverPrints(t *testing.T) {
	tok, err := NewToken()
	if err != nil || len(tok) != 48 {
		t.Fatalf("NewToken = %d chars, %v", len(tok), err)
	}
	other, _ := NewToken()
	if other == tok {
		t.Error("two tokens are equal")
	}
	s := spec("https://alb.example.com")
	s.Token = tok
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprint(tok)} {
		if strings.Contains(out, string(tok)) {
			t.Errorf("printed the token: %s", out)
		}
	}
}

// fakeRule is a test listener rule in front of a test server: requests
// whose header matches its current value reach the new revision.
type fakeRule struct {
	mu     sync.Mutex
	value  Token
	sets   int
	failAt int // the n-th SetHeader (1-based) fails; 0 never
}

func (r *fakeRule) SetHeader(_ context.Context, header string, v Token) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sets++
	if header != contract.GateHeader {
		return fmt.Errorf("header %q", header)
	}
	if r.sets == r.failAt {
		return fmt.Errorf("AccessDenied: not authorized to perform elasticloadbalancing:ModifyRule (value %s)", v)
	}
	r.value = v
	return nil
}

func (r *fakeRule) matches(v string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return v != "" && v == string(r.value)
}

func TestCheckOpensAndClosesTheTestRoute(t *testing.T) {
	cases := []struct {
		name    string
		failAt  int
		wantErr string
		wantLog string
		sets    int
	}{
		{name: "open, check, close", sets: 2, wantLog: "test route closed"},
		{name: "the rule cannot be set: no check runs", failAt: 1, sets: 1, wantErr: "could not open the test route (set the X-Stevedore-Test value of its listener rule): AccessDenied"},
		{name: "the rule cannot be closed: said, the gate still passes", failAt: 2, sets: 2, wantLog: "warning: could not close the test route"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rule := &fakeRule{value: "placeholder-from-the-template", failAt: tc.failAt}
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !rule.matches(r.Header.Get(contract.GateHeader)) {
					fmt.Fprint(w, "old revision")
					return
				}
				hits.Add(1)
				fmt.Fprint(w, "new revision ok")
			}))
			defer srv.Close()
			s := spec(srv.URL)
			s.Health, s.Smoke = "", []Smoke{{Path: "/health", Body: "new revision"}}
			s.Rule, s.RuleSettle = rule, time.Millisecond
			var lines []string
			s.Log = func(l string) { lines = append(lines, l) }
			_, err := s.Check(context.Background())
			log := strings.Join(lines, "\n")
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v\n%s", err, log)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
			if strings.Contains(log+fmt.Sprint(err), string(token)) {
				t.Errorf("the token leaked: %v\n%s", err, log)
			}
			if !strings.Contains(log, tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, log)
			}
			if rule.sets != tc.sets {
				t.Errorf("SetHeader called %d times, want %d", rule.sets, tc.sets)
			}
			if tc.wantErr != "" && hits.Load() != 0 {
				t.Errorf("%d checks reached the new revision, want none", hits.Load())
			}
			if tc.failAt == 0 && rule.matches(string(token)) {
				t.Error("after the gate the test route still answers the release's token")
			}
		})
	}
}
