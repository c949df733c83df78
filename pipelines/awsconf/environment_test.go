package awsconf

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/internal/awstest"
)

// stsServer answers AssumeRole and GetCallerIdentity (query protocol) and
// records which access key signed each call.
type stsServer struct {
	mu    sync.Mutex
	calls []string
}

func (s *stsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	q, _ := url.ParseQuery(string(body))
	key := strings.TrimPrefix(strings.SplitN(r.Header.Get("Authorization"), "/", 2)[0], "AWS4-HMAC-SHA256 Credential=")
	s.mu.Lock()
	s.calls = append(s.calls, q.Get("Action")+" by "+key)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	switch q.Get("Action") {
	case "AssumeRole":
		io.WriteString(w, `<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAPROD</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::222222222222:assumed-role/deploy/`+q.Get("RoleSessionName")+`</Arn><AssumedRoleId>AROA:x</AssumedRoleId></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>`)
	case "GetCallerIdentity":
		acct := "111111111111"
		if key == "ASIAPROD" {
			acct = "222222222222"
		}
		io.WriteString(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Account>`+acct+`</Account><Arn>arn:aws:sts::`+acct+`:assumed-role/x/y</Arn><UserId>U</UserId></GetCallerIdentityResult></GetCallerIdentityResponse>`)
	default:
		w.WriteHeader(400)
	}
}

func TestForEnvironmentAssumesTheRole(t *testing.T) {
	srv := &stsServer{}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	base := awstest.Config(ts.URL)
	ctx := context.Background()

	acct, _, err := CallerIdentity(ctx, base)
	if err != nil || acct != "111111111111" {
		t.Fatalf("base identity = %s, %v", acct, err)
	}
	prod := ForEnvironment(base, "eu-west-1", "arn:aws:iam::222222222222:role/deploy", "stevedore-prod")
	if prod.Region != "eu-west-1" || base.Region != "us-east-1" {
		t.Fatalf("regions: prod %s, base %s (the base config must not change)", prod.Region, base.Region)
	}
	acct, arn, err := CallerIdentity(ctx, prod)
	if err != nil || acct != "222222222222" {
		t.Fatalf("prod identity = %s, %v", acct, err)
	}
	if !strings.HasSuffix(arn, "/x/y") {
		t.Fatalf("arn = %s", arn)
	}
	want := []string{"GetCallerIdentity by AKIDTEST", "AssumeRole by AKIDTEST", "GetCallerIdentity by ASIAPROD"}
	if strings.Join(srv.calls, "; ") != strings.Join(want, "; ") {
		t.Fatalf("calls = %v, want %v", srv.calls, want)
	}
	same := ForEnvironment(base, "", "", "x")
	if acct, _, _ := CallerIdentity(ctx, same); same.Region != base.Region || acct != "111111111111" {
		t.Fatal("no region and no role must keep the config")
	}
}
