package awstarget

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

func summary(t *testing.T, rep *steps.Report, step string) string {
	t.Helper()
	st, ok := rep.Step(step)
	if !ok {
		t.Fatalf("no step %s", step)
	}
	return st.Summary
}

// Verify stops at once on a permanent answer and says which URL answered
// what; it waits through 503s.
func TestVerify(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			n++
			if n < 3 {
				rw.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			rw.Write([]byte("ok\n"))
		case "/forbidden":
			rw.WriteHeader(http.StatusForbidden)
			rw.Write([]byte("AccessDenied"))
		}
	}))
	defer srv.Close()
	tg := &Target{Poll: time.Millisecond, VerifyTimeout: 5 * time.Second}
	o, err := tg.Verify(context.Background(), nil, deploy.Outputs{contract.OutputHealthURL: srv.URL + "/health"})
	if err != nil || !strings.Contains(o.Summary, srv.URL+"/health → 200 ok") {
		t.Fatalf("verify = %+v, %v", o, err)
	}
	start := time.Now()
	_, err = tg.Verify(context.Background(), nil, deploy.Outputs{contract.OutputHealthURL: srv.URL + "/health", contract.OutputFrontendURL: srv.URL + "/forbidden"})
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/forbidden answered 403 Forbidden") || !errors.Is(err, errPermanent) {
		t.Fatalf("error = %v", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatal("a 403 did not stop verify at once")
	}
	tg.VerifyTimeout = 20 * time.Millisecond
	_, err = tg.Verify(context.Background(), nil, deploy.Outputs{contract.OutputHealthURL: srv.URL + "/health-never"})
	if err != nil {
		t.Fatalf("an empty 200 is fine: %v", err)
	}
	if _, err := tg.Verify(context.Background(), nil, deploy.Outputs{}); err == nil || !strings.Contains(err.Error(), "nothing to verify") {
		t.Fatalf("error = %v", err)
	}
	// An unknown host, as the resolver reports it (no DNS in tests).
	tg.VerifyTimeout = 5 * time.Second
	tg.HTTP = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "shop.invalid", IsNotFound: true}
	}}}
	_, err = tg.Verify(context.Background(), nil, deploy.Outputs{contract.OutputHealthURL: "http://shop.invalid/health"})
	if err == nil || !errors.Is(err, errPermanent) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("unknown host: %v", err)
	}
}

func TestReferencedSecrets(t *testing.T) {
	tpls := []string{
		`{"a":":secret:app/openai-??????","b":"{{resolve:secretsmanager:app/tavily:SecretString:key}}","c":"{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:app/jwt:SecretString}}"}`,
		`{"Resources":{"S":{"Type":"AWS::SecretsManager::Secret","Properties":{"Name":"app/generated"}}},"x":":secret:app/generated"}`,
	}
	got := referencedSecrets(tpls)
	want := []string{"app/jwt", "app/openai", "app/tavily"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCheck(t *testing.T) {
	err := (&Target{HealthURL: "ftp://x", Poll: -1}).Check()
	for _, want := range []string{"no app description", "no environment", "are required", `health URL "ftp://x"`, "negative time limit"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

func TestReviewChanges(t *testing.T) {
	rc := func(typ, logical, physical string, action cfntypes.ChangeAction, repl cfntypes.Replacement) cfntypes.ResourceChange {
		return cfntypes.ResourceChange{ResourceType: aws.String(typ), LogicalResourceId: aws.String(logical), PhysicalResourceId: aws.String(physical), Action: action, Replacement: repl}
	}
	cs := changes{
		rc("AWS::ECS::TaskDefinition", "Task", "td", cfntypes.ChangeActionModify, cfntypes.ReplacementTrue),
		rc("AWS::S3::Bucket", "Assets", "shop-assets", cfntypes.ChangeActionRemove, ""),
		rc("AWS::DynamoDB::Table", "Orders", "orders", cfntypes.ChangeActionModify, cfntypes.ReplacementConditional),
		rc("AWS::RDS::DBInstance", "Database", "db-1", cfntypes.ChangeActionModify, cfntypes.ReplacementFalse),
	}
	err := (&Target{}).reviewChanges("App", cs)
	for _, want := range []string{"AWS::S3::Bucket Assets (shop-assets) would be deleted", "AWS::DynamoDB::Table Orders (orders) may be replaced", "--allow-replace Assets"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	if err != nil && (strings.Contains(err.Error(), "Task") || strings.Contains(err.Error(), "Database")) {
		t.Errorf("a stateless replacement or an in-place update was refused: %v", err)
	}
	if err := (&Target{AllowReplace: []string{"shop-assets", "Orders"}}).reviewChanges("App", cs); err != nil {
		t.Errorf("acknowledged by physical and logical name: %v", err)
	}
}

// Checks that could not resolve AWS make one problem naming every host; when
// all failed so, the error says AWS is not reachable, not that the account
// is not ready.
func TestProblemsOfUnreachableAWS(t *testing.T) {
	dns := func(host string) error {
		return awsconf.Explain("ssm:GetParameter", fmt.Errorf("reading: %w", &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}))
	}
	missing := errors.New("secret shop/jwt does not exist in eu-west-1")
	if err := problemsOf(nil, "eu-west-1"); err != nil {
		t.Errorf("no errors: %v", err)
	}
	err := problemsOf([]error{dns("ssm.eu-west-1.amazonaws.com"), dns("api.ecr.eu-west-1.amazonaws.com"), dns("ssm.eu-west-1.amazonaws.com")}, "eu-west-1")
	var p Problems
	if err == nil || errors.As(err, &p) || err.Error() != "AWS is not reachable, nothing was checked or changed: cannot resolve api.ecr.eu-west-1.amazonaws.com, ssm.eu-west-1.amazonaws.com: check the region (eu-west-1) and the network (is AWS reachable from here?)" {
		t.Errorf("only unreachable: %v", err)
	}
	err = problemsOf([]error{dns("secretsmanager.eu-west-1.amazonaws.com"), missing}, "eu-west-1")
	if !errors.As(err, &p) || len(p) != 2 || p[0] != "cannot resolve secretsmanager.eu-west-1.amazonaws.com: check the region (eu-west-1) and the network (is AWS reachable from here?)" || p[1] != missing.Error() {
		t.Errorf("mixed: %q", p)
	}
}
