package fakeaws

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/stevedore-ci/stevedore/pipelines/internal/awstest"
)

// AWS is one fake AWS endpoint: every service and the container registry
// behind a single httptest server, sharing one state and one call log.
type AWS struct {
	// URL is the endpoint, e.g. "http://127.0.0.1:41234"; Config uses it.
	URL string
	// Host is URL without scheme: the registry host of the fake ECR.
	Host string

	t        testing.TB
	mu       sync.Mutex
	calls    []Call
	faults   map[string][]Fault
	now      time.Time
	account  string
	region   string
	arn      string
	settle   int
	exitCode map[string]int
	bad      map[string]string
	wall     bool // WithWallClock
	registry http.Handler
	// alarmAt: alarm -> the stage it fires at (FireAlarm); failRollback:
	// cluster/service -> why its next rollback fails (FailRollback).
	alarmAt      map[string]string
	failRollback map[string]string

	ecr  ecrState
	ecs  ecsState
	elb  elbState
	cfn  cfnState
	s3   s3State
	cf   cloudFrontState
	ssm  map[string]*parameter
	sec  map[string]*secret
	logs map[string][]LogEvent
	ddb  map[string]*ddbTable
	seq  int
}

// Call is one request the fake answered, in arrival order.
type Call struct {
	// Service is the SigV4 signing name ("ecs", "cloudformation", "s3", …)
	// or "registry" for the OCI registry.
	Service string
	// Op is the API operation, e.g. "UpdateService"; for the registry
	// "PutManifest", "PutBlob", "GetManifest", ….
	Op string
	// Body is the request decoded: the JSON body of JSON services, the form
	// of query services (nested: "A.member.1.B" becomes A: [{B: …}]), and
	// for REST services the path parameters and query ("Bucket", "Key", …).
	Body map[string]any
	// AccessKey is the access key ID the request was signed with: empty for
	// the registry and the calls ApplyTemplate records.
	AccessKey string
}

// Option changes the fake before it starts answering.
type Option func(*AWS)

// WithAccount sets the account ID every ARN and GetCallerIdentity carry
// (default 123456789012).
func WithAccount(id string) Option { return func(a *AWS) { a.account = id } }

// WithRegion sets the region in ARNs (default us-east-1, the region of
// awstest.Config).
func WithRegion(r string) Option { return func(a *AWS) { a.region = r } }

// WithCallerARN sets the ARN GetCallerIdentity answers (default
// arn:aws:sts::<account>:assumed-role/deploy/stevedore).
func WithCallerARN(arn string) Option { return func(a *AWS) { a.arn = arn } }

// WithSettlePolls sets how many DescribeServices calls a new ECS deployment
// stays IN_PROGRESS before it completes or fails (default 2).
func WithSettlePolls(n int) Option { return func(a *AWS) { a.settle = n } }

// WithStartTime sets where the fake clock starts (default
// 2025-01-02T03:04:05Z); it moves one second per event from there.
func WithStartTime(t time.Time) Option { return func(a *AWS) { a.now = t.UTC() } }

// WithWallClock makes the fake clock the machine's: it starts at
// time.Now() and each event is a microsecond after the last or
// time.Now(), whichever is later (Advance still moves it on). Use it when the code under test judges
// the fake's timestamps by the real clock (e.g. a follower's Since, or a
// PAUSE hook's ExpiresAt against ecs.SystemClock).
func WithWallClock() Option {
	return func(a *AWS) { a.wall, a.now = true, time.Now().UTC() }
}

// New starts a fake AWS that stops when the test ends.
func New(t testing.TB, opts ...Option) *AWS {
	t.Helper()
	a := &AWS{
		t: t, faults: map[string][]Fault{}, now: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		account: "123456789012", region: "us-east-1", settle: 2,
		exitCode: map[string]int{}, bad: map[string]string{}, alarmAt: map[string]string{}, failRollback: map[string]string{},
		ssm: map[string]*parameter{}, sec: map[string]*secret{}, logs: map[string][]LogEvent{},
		ddb: map[string]*ddbTable{},
	}
	a.ecr.init()
	a.ecs.init()
	a.elb.init()
	a.cfn.init()
	a.s3.init()
	a.cf.init()
	for _, o := range opts {
		o(a)
	}
	if a.arn == "" {
		a.arn = "arn:aws:sts::" + a.account + ":assumed-role/deploy/stevedore"
	}
	a.registry = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(srv.Close)
	a.URL = srv.URL
	front := httptest.NewServer(http.HandlerFunc(a.serveFront))
	t.Cleanup(front.Close)
	a.elb.frontURL = front.URL
	a.Host = strings.TrimPrefix(srv.URL, "http://")
	return a
}

// Config is an SDK config aimed at the fake (see awstest.Config), with the
// fake's region.
func (a *AWS) Config() aws.Config {
	cfg := awstest.Config(a.URL)
	cfg.Region = a.region
	return cfg
}

// Calls lists every request answered so far, faults included, in order.
func (a *AWS) Calls() []Call {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Call(nil), a.calls...)
}

// Ops lists the calls as "service:Op", e.g. "ecs:UpdateService", in order.
func (a *AWS) Ops() []string {
	var out []string
	for _, c := range a.Calls() {
		out = append(out, c.Service+":"+c.Op)
	}
	return out
}

// CallsTo lists the calls of one operation ("UpdateService"), in order.
func (a *AWS) CallsTo(op string) []Call {
	var out []Call
	for _, c := range a.Calls() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Mutating lists, as "service:Op", the calls that may change something:
// every call but Describe*, List*, Get*, Head*, BatchGet*, Filter*, the
// registry's reads and STS. A dry run must leave it empty.
func (a *AWS) Mutating() []string {
	var out []string
	for _, c := range a.Calls() {
		if !readOnly(c) {
			out = append(out, c.Service+":"+c.Op)
		}
	}
	return out
}

// ResetCalls forgets the calls recorded so far (state stays), so a test can
// assert on what a second run does.
func (a *AWS) ResetCalls() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = nil
}

var readPrefix = regexp.MustCompile(`^(Describe|List|Get|Head|BatchGet|Filter|Query|Scan|Ping)`)

func readOnly(c Call) bool {
	return c.Service == "sts" || readPrefix.MatchString(c.Op)
}

// Fault is an error the fake answers instead of doing the operation.
type Fault struct {
	// Status is the HTTP status, Code the AWS error code, Message its text.
	Status  int
	Code    string
	Message string
}

// Throttling is the error the SDK retries as throttling.
var Throttling = Fault{Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"}

// ServerError is a 500 the SDK retries.
var ServerError = Fault{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "We encountered an internal error. Please try again."}

// AccessDenied is the error of a missing IAM permission.
var AccessDenied = Fault{Status: http.StatusForbidden, Code: "AccessDeniedException", Message: "User: arn:aws:sts::123456789012:assumed-role/deploy/stevedore is not authorized to perform this action"}

// Validation is a ValidationException with message, as AWS answers bad input.
func Validation(message string) Fault {
	return Fault{Status: http.StatusBadRequest, Code: "ValidationException", Message: message}
}

// Error makes a Fault usable as an error, e.g. from ApplyTemplate.
func (f Fault) Error() string { return f.Code + ": " + f.Message }

// Fail makes the next n calls of op (an operation name such as
// "DescribeServices", or "service:Op" to pick one service) answer f.
// The SDK retries throttling and 5xx up to 3 attempts in all, so n=2 of
// those is absorbed and n=3 surfaces.
func (a *AWS) Fail(op string, f Fault, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range n {
		a.faults[op] = append(a.faults[op], f)
	}
}

// takeFault pops the next fault scripted for service:op or op.
func (a *AWS) takeFault(service, op string) *Fault {
	for _, k := range []string{service + ":" + op, op} {
		if q := a.faults[k]; len(q) > 0 {
			a.faults[k] = q[1:]
			return &q[0]
		}
	}
	return nil
}

// apiError is the error a handler returns; the protocol layer renders it.
func apiError(status int, code, format string, args ...any) *Fault {
	return &Fault{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func badRequest(code, format string, args ...any) *Fault {
	return apiError(http.StatusBadRequest, code, format, args...)
}

// serve routes a request by the SigV4 credential scope's service name;
// unsigned /v2/ requests go to the registry.
func (a *AWS) serve(w http.ResponseWriter, r *http.Request) {
	svc := signingService(r.Header.Get("Authorization"))
	switch {
	case svc == "" && strings.HasPrefix(r.URL.Path, "/v2"):
		a.serveRegistry(w, r)
	case svc == "s3":
		a.serveS3(w, r)
	case svc == "cloudfront":
		a.serveCloudFront(w, r)
	case queryServices[svc].h != nil:
		a.serveQuery(w, r, svc)
	case jsonServices[svc] != nil:
		a.serveJSON(w, r, svc)
	default:
		a.t.Errorf("fakeaws: request %s %s for unknown service %q", r.Method, r.URL, svc)
		http.Error(w, "fakeaws: unknown service "+svc, http.StatusNotImplemented)
	}
}

var scopePattern = regexp.MustCompile(`Credential=([^/,]+)/\d{8}/[^/]+/([^/]+)/aws4_request`)

// signingService is the service of a SigV4 Authorization header.
func signingService(auth string) string {
	if m := scopePattern.FindStringSubmatch(auth); m != nil {
		return m[2]
	}
	return ""
}

// accessKey is the access key ID a request was signed with.
func accessKey(r *http.Request) string {
	if m := scopePattern.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return ""
}

// record appends a call signed with key; the caller holds a.mu.
func (a *AWS) record(service, op, key string, body map[string]any) {
	a.calls = append(a.calls, Call{Service: service, Op: op, Body: body, AccessKey: key})
}

// tick advances the fake clock by a second (WithWallClock: see there) and
// returns it.
func (a *AWS) tick() time.Time {
	if !a.wall {
		a.now = a.now.Add(time.Second)
		return a.now
	}
	a.now = a.now.Add(time.Microsecond)
	if now := time.Now().UTC(); now.After(a.now) {
		a.now = now
	}
	return a.now
}

// nextID is a counter for generated IDs.
func (a *AWS) nextID() int {
	a.seq++
	return a.seq
}

func (a *AWS) arnOf(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, a.region, a.account, resource)
}

// Decoded-JSON accessors: a missing or mistyped field reads as zero.

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func strs(m map[string]any, key string) []string {
	var out []string
	if l, ok := m[key].([]any); ok {
		for _, v := range l {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func obj(m map[string]any, key string) map[string]any {
	o, _ := m[key].(map[string]any)
	return o
}

func list(m map[string]any, key string) []map[string]any {
	var out []map[string]any
	if l, ok := m[key].([]any); ok {
		for _, v := range l {
			if o, ok := v.(map[string]any); ok {
				out = append(out, o)
			}
		}
	}
	return out
}

func num(m map[string]any, key string, def int) int {
	switch v := m[key].(type) {
	case float64:
		return int(v)
	case int:
		return v
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	case string:
		var n int
		if _, err := fmt.Sscan(v, &n); err == nil {
			return n
		}
	}
	return def
}

func flag(m map[string]any, key string) bool {
	switch v := m[key].(type) {
	case bool:
		return v
	case string:
		return v == "true"
	}
	return false
}

// clone deep-copies decoded JSON so stored state never aliases a request.
func clone[T any](v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
