package elbrule

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/gate"
	"github.com/stevedore-ci/stevedore/pipelines/internal/awstest"
)

const testRuleArn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"

// elbServer speaks the ELBv2 query protocol for DescribeRules and
// ModifyRule on one rule, answering conditions as AWS does (host-header
// and path-pattern with both their legacy Values and their config).
type elbServer struct {
	mu       sync.Mutex
	header   string // the http-header condition's name; "" for none
	modified []url.Values
	calls    []string
	denyWith string // ModifyRule answers AccessDenied with this message
	missing  bool   // DescribeRules answers RuleNotFound
}

func (s *elbServer) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	action := r.PostForm.Get("Action")
	s.calls = append(s.calls, action)
	fail := func(status int, code, msg string) {
		rw.WriteHeader(status)
		fmt.Fprintf(rw, `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r1</RequestId></ErrorResponse>`, code, msg)
	}
	switch action {
	case "DescribeRules":
		if s.missing {
			fail(http.StatusBadRequest, "RuleNotFound", "One or more rules not found")
			return
		}
		if got := r.PostForm.Get("RuleArns.member.1"); got != testRuleArn {
			fail(http.StatusBadRequest, "RuleNotFound", "unknown rule "+got)
			return
		}
		header := ""
		if s.header != "" {
			header = `<member><Field>http-header</Field><HttpHeaderConfig><HttpHeaderName>` + s.header + `</HttpHeaderName><Values><member>from-the-template</member></Values></HttpHeaderConfig></member>`
		}
		fmt.Fprintf(rw, `<DescribeRulesResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeRulesResult><Rules><member>
<RuleArn>%s</RuleArn><Priority>9</Priority><IsDefault>false</IsDefault>
<Conditions>
<member><Field>host-header</Field><Values><member>api.example.com</member></Values><HostHeaderConfig><Values><member>api.example.com</member></Values></HostHeaderConfig></member>
<member><Field>path-pattern</Field><Values><member>/api/*</member></Values><PathPatternConfig><Values><member>/api/*</member></Values></PathPatternConfig></member>
%s
</Conditions>
<Actions><member><Type>forward</Type><TargetGroupArn>arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/1</TargetGroupArn></member></Actions>
</member></Rules></DescribeRulesResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></DescribeRulesResponse>`, testRuleArn, header)
	case "ModifyRule":
		s.modified = append(s.modified, r.PostForm)
		if s.denyWith != "" {
			fail(http.StatusForbidden, "AccessDenied", s.denyWith)
			return
		}
		fmt.Fprint(rw, `<ModifyRuleResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><ModifyRuleResult><Rules><member><RuleArn>`+testRuleArn+`</RuleArn></member></Rules></ModifyRuleResult><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></ModifyRuleResponse>`)
	default:
		fail(http.StatusBadRequest, "InvalidAction", "unknown action "+action)
	}
}

func newELB(t *testing.T, s *elbServer) *ListenerRule {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return New(awstest.Config(srv.URL), testRuleArn)
}

func TestListenerRuleSetHeaderKeepsOtherConditions(t *testing.T) {
	s := &elbServer{header: "x-stevedore-test"}
	r := newELB(t, s)
	if err := r.SetHeader(context.Background(), "X-Stevedore-Test", "tok3n"); err != nil {
		t.Fatal(err)
	}
	if len(s.modified) != 1 {
		t.Fatalf("ModifyRule calls = %d, want 1 (calls %v)", len(s.modified), s.calls)
	}
	got := s.modified[0]
	want := map[string]string{
		"RuleArn":                   testRuleArn,
		"Conditions.member.1.Field": "host-header",
		"Conditions.member.1.HostHeaderConfig.Values.member.1":  "api.example.com",
		"Conditions.member.2.Field":                             "path-pattern",
		"Conditions.member.2.PathPatternConfig.Values.member.1": "/api/*",
		"Conditions.member.3.Field":                             "http-header",
		"Conditions.member.3.HttpHeaderConfig.HttpHeaderName":   "x-stevedore-test",
		"Conditions.member.3.HttpHeaderConfig.Values.member.1":  "tok3n",
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("ModifyRule %s = %q, want %q (form %v)", k, got.Get(k), v, got)
		}
	}
	for k := range got {
		switch {
		case strings.HasPrefix(k, "Conditions.member.") && strings.Contains(k, ".Values.member.") && !strings.Contains(k, "Config."):
			t.Errorf("ModifyRule sends legacy %s beside the condition's config", k)
		case strings.HasPrefix(k, "Conditions.member.4"):
			t.Errorf("ModifyRule sends a fourth condition: %s", k)
		case strings.HasPrefix(k, "Actions."):
			t.Errorf("ModifyRule changes the actions: %s", k)
		}
		if got.Get(k) == "from-the-template" {
			t.Errorf("the template's header value is still sent in %s", k)
		}
	}
}

func TestListenerRuleSetHeaderErrors(t *testing.T) {
	const token = "t0ken-value-9f8e"
	for _, tc := range []struct {
		name      string
		server    *elbServer
		want      []string
		modifyRan bool
	}{
		{"no header condition", &elbServer{}, []string{"no http-header condition on X-Stevedore-Test", testRuleArn}, false},
		{"another header only", &elbServer{header: "X-Other"}, []string{"no http-header condition on X-Stevedore-Test"}, false},
		{"rule not found", &elbServer{missing: true}, []string{"elasticloadbalancing:DescribeRules", "RuleNotFound", testRuleArn}, false},
		{"modify denied, echoing the value", &elbServer{header: "X-Stevedore-Test", denyWith: "not authorized to perform: elasticloadbalancing:ModifyRule with value " + token},
			[]string{"elasticloadbalancing:ModifyRule", "access denied", "[redacted]"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.server
			err := newELB(t, s).SetHeader(context.Background(), "X-Stevedore-Test", token)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), token) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), token) {
				t.Errorf("error shows the value: %v", err)
			}
			if ran := len(s.modified) > 0; ran != tc.modifyRan {
				t.Errorf("ModifyRule sent = %v, want %v", ran, tc.modifyRan)
			}
		})
	}
}

// TestListenerRuleInCheck: Check opens the route with the token, then
// closes it with another value.
func TestListenerRuleInCheck(t *testing.T) {
	s := &elbServer{header: "X-Stevedore-Test"}
	rule := newELB(t, s)
	app := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(app.Close)
	tok, err := gate.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	spec := gate.Spec{Service: "backend", URL: app.URL, Health: "/health", Token: tok, Rule: rule, RuleSettle: 1}
	if _, err := spec.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(s.modified) != 2 {
		t.Fatalf("ModifyRule calls = %d, want 2 (open, close)", len(s.modified))
	}
	const key = "Conditions.member.3.HttpHeaderConfig.Values.member.1"
	if open, closed := s.modified[0].Get(key), s.modified[1].Get(key); open != string(tok) || closed == "" || closed == string(tok) {
		t.Errorf("opened with %q, closed with %q; want the token, then another value", open, closed)
	}
}
