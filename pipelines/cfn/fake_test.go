package cfn

import (
	"github.com/stevedore-ci/stevedore/pipelines/internal/awstest"

	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeStack is what the fake CloudFormation knows about one stack.
type fakeStack struct {
	status, reason string
	outputs        [][2]string
}

// fakeCFN answers DescribeStacks in the query protocol (form POST, XML),
// optionally failing the first calls with a scripted error.
type fakeCFN struct {
	t      *testing.T
	srv    *httptest.Server
	stacks map[string]fakeStack

	mu       sync.Mutex
	requests []string // StackName of each DescribeStacks call
	failures []struct {
		status int
		code   string
	}
}

func newFakeCFN(t *testing.T, stacks map[string]fakeStack) *fakeCFN {
	f := &fakeCFN{t: t, stacks: stacks}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCFN) failNext(status int, code string) {
	f.failures = append(f.failures, struct {
		status int
		code   string
	}{status, code})
}

func (f *fakeCFN) reader() *Reader {
	cfg := awstest.Config(f.srv.URL)
	cfg.Region = "eu-west-3" // region names appear in the messages under test
	return NewReader(cfg)
}

func (f *fakeCFN) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *fakeCFN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.PostForm.Get("Action") != "DescribeStacks" || r.PostForm.Get("Version") != "2010-05-15" {
		f.t.Errorf("unexpected request %s %s %v", r.Method, r.URL, r.PostForm)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	name := r.PostForm.Get("StackName")
	f.requests = append(f.requests, name)
	if len(f.failures) > 0 {
		fl := f.failures[0]
		f.failures = f.failures[1:]
		queryError(w, fl.status, fl.code, "Rate exceeded")
		return
	}
	s, ok := f.stacks[name]
	if !ok {
		queryError(w, http.StatusBadRequest, "ValidationError", "Stack with id "+name+" does not exist")
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>`)
	fmt.Fprintf(&b, `<StackId>arn:aws:cloudformation:eu-west-3:123456789012:stack/%s/1a2b</StackId><StackName>%s</StackName>`, name, name)
	fmt.Fprintf(&b, `<CreationTime>2025-01-02T03:04:05.000Z</CreationTime><StackStatus>%s</StackStatus>`, s.status)
	if s.reason != "" {
		fmt.Fprintf(&b, `<StackStatusReason>%s</StackStatusReason>`, html.EscapeString(s.reason))
	}
	b.WriteString(`<Outputs>`)
	for _, o := range s.outputs {
		fmt.Fprintf(&b, `<member><OutputKey>%s</OutputKey><OutputValue>%s</OutputValue><Description>d</Description></member>`, o[0], html.EscapeString(o[1]))
	}
	b.WriteString(`</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>REQ</RequestId></ResponseMetadata></DescribeStacksResponse>`)
	w.Header().Set("Content-Type", "text/xml")
	w.Write([]byte(b.String()))
}

func queryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>REQ</RequestId></ErrorResponse>`, code, html.EscapeString(msg))
}
