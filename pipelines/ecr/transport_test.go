package ecr

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

func TestThrottlingIsRetried(t *testing.T) {
	throttled := apiError("ThrottlingException", "Rate exceeded")
	for _, tc := range []struct {
		name    string
		replies []reply
		wantErr string
	}{
		{"succeeds on the third attempt", []reply{throttled, throttled, ok(`{"repositories":[` + repositoryJSON("app", true, "MUTABLE") + `]}`)}, ""},
		{"gives up after three attempts", []reply{throttled, throttled, throttled}, "ecr:DescribeRepositories: still throttled after retries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t, map[string][]reply{"DescribeRepositories": tc.replies})
			repo, err := c.EnsureRepository(context.Background(), "app", RepositoryPolicy{})
			if tc.wantErr == "" && (err != nil || repo.Name != "app") {
				t.Fatalf("EnsureRepository = %+v, %v", repo, err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			if got := f.ops(); !slices.Equal(got, []string{"DescribeRepositories", "DescribeRepositories", "DescribeRepositories"}) {
				t.Errorf("calls = %v, want 3 attempts", got)
			}
		})
	}
}

// TestUnknownRegionSaysCheckTheRegion builds the config the way the module
// does (awsconf.Load) for a well-formed region that does not exist. The
// dialer fails name resolution like a real resolver would, so the test needs
// no network and still sees the host the SDK derived from the region.
func TestUnknownRegionSaysCheckTheRegion(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_ENDPOINT_URL_ECR", "")
	cfg, cleanup, err := awsconf.Load(context.Background(), awsconf.Options{Region: "us-east-9", AccessKeyID: "AKIDTEST", SecretAccessKey: "test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	var dialed []string
	transport := &http.Transport{DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
		dialed = append(dialed, addr)
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}}
	c := New(cfg, func(o *awsecr.Options) { o.HTTPClient = &http.Client{Transport: transport} })

	_, err = c.Login(context.Background())
	if err == nil || !strings.Contains(err.Error(), "ecr:GetAuthorizationToken: cannot resolve api.ecr.us-east-9.amazonaws.com: check the region") {
		t.Fatalf("error = %v, want one telling to check the region", err)
	}
	if len(dialed) != 1 || dialed[0] != "api.ecr.us-east-9.amazonaws.com:443" {
		t.Errorf("dialed %v: a missing host must not be retried", dialed)
	}
}
