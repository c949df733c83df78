package ecr

import (
	"github.com/stevedore-ci/stevedore/pipelines/internal/awstest"

	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The fake below speaks ECR's wire protocol (AWS JSON 1.1) so a real SDK
// client, with its serializers, retryer and error decoding, is under test.

const targetPrefix = "AmazonEC2ContainerRegistry_V20150921."

// reply is one scripted HTTP response.
type reply struct {
	status int // 0 means 200
	body   string
}

func ok(body string) reply { return reply{body: body} }

func apiError(code, message string) reply {
	b, _ := json.Marshal(map[string]string{"__type": code, "message": message})
	return reply{status: http.StatusBadRequest, body: string(b)}
}

// request is one call the fake received.
type request struct {
	op   string
	body map[string]any
}

// fakeECR answers each operation with the next reply scripted for it and
// records every request.
type fakeECR struct {
	t      *testing.T
	mu     sync.Mutex
	script map[string][]reply
	calls  []request
}

func (f *fakeECR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || r.URL.Path != "/" || !strings.HasPrefix(target, targetPrefix) {
		f.t.Errorf("unexpected request %s %s target %q", r.Method, r.URL.Path, target)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		f.t.Errorf("content type = %q, want application/x-amz-json-1.1", ct)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		f.t.Errorf("request is not SigV4-signed")
	}
	op := strings.TrimPrefix(target, targetPrefix)
	raw, _ := io.ReadAll(r.Body)
	body := map[string]any{}
	if err := json.Unmarshal(raw, &body); err != nil {
		f.t.Errorf("%s: request body is not JSON: %v", op, err)
	}
	f.calls = append(f.calls, request{op: op, body: body})

	queue := f.script[op]
	if len(queue) == 0 {
		f.t.Errorf("no scripted reply left for %s", op)
		queue = []reply{apiError("UnscriptedCall", "no reply scripted for "+op)}
	}
	next := queue[0]
	f.script[op] = queue[1:]
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if next.status != 0 {
		w.WriteHeader(next.status)
	}
	io.WriteString(w, next.body)
}

func (f *fakeECR) ops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ops []string
	for _, c := range f.calls {
		ops = append(ops, c.op)
	}
	return ops
}

// bodies returns the request bodies sent to op, in order.
func (f *fakeECR) bodies(op string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []map[string]any
	for _, c := range f.calls {
		if c.op == op {
			out = append(out, c.body)
		}
	}
	return out
}

// newFake starts a fake ECR endpoint with script and a Client pointed at it.
func newFake(t *testing.T, script map[string][]reply) (*fakeECR, *Client) {
	t.Helper()
	if script == nil {
		script = map[string][]reply{}
	}
	f := &fakeECR{t: t, script: script}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, New(testConfig(srv.URL))
}

// testConfig uses fake static credentials and retries without waiting.
func testConfig(endpoint string) aws.Config { return awstest.Config(endpoint) }

const (
	testAccount  = "123456789012"
	testRegistry = testAccount + ".dkr.ecr.us-east-1.amazonaws.com"
	testDigest   = "sha256:4a6a0c2e0b4b8f3f6a1c8b9d7e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f"
)

// repositoryJSON is a DescribeRepositories/CreateRepository repository object.
func repositoryJSON(name string, scanOnPush bool, mutability string, exclusions ...string) string {
	filters := make([]map[string]string, 0, len(exclusions))
	for _, e := range exclusions {
		filters = append(filters, map[string]string{"filter": e, "filterType": "WILDCARD"})
	}
	b, _ := json.Marshal(map[string]any{
		"repositoryName":                     name,
		"repositoryUri":                      testRegistry + "/" + name,
		"repositoryArn":                      fmt.Sprintf("arn:aws:ecr:us-east-1:%s:repository/%s", testAccount, name),
		"registryId":                         testAccount,
		"imageTagMutability":                 mutability,
		"imageTagMutabilityExclusionFilters": filters,
		"imageScanningConfiguration":         map[string]bool{"scanOnPush": scanOnPush},
		"createdAt":                          1700000000,
	})
	return string(b)
}

// field walks a decoded JSON body along keys (string for objects, int for
// arrays) and returns nil when the path does not exist.
func field(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}
