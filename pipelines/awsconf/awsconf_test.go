package awsconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestValidateRegion(t *testing.T) {
	for _, tc := range []struct {
		region string
		ok     bool
	}{
		{"us-east-1", true}, {"eu-west-3", true}, {"us-gov-west-1", true}, {"ap-southeast-2", true},
		{"", false}, {"us-eest", false}, {"US-EAST-1", false}, {"useast1", false},
	} {
		err := ValidateRegion(tc.region)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateRegion(%q) = %v, want ok=%v", tc.region, err, tc.ok)
		}
	}
}

func TestLoadStaticCredentials(t *testing.T) {
	cfg, cleanup, err := Load(context.Background(), Options{Region: "eu-west-1", AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "s3cr3t", SessionToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "s3cr3t" || creds.SessionToken != "tok" {
		t.Fatalf("unexpected credentials %+v", creds)
	}
	if cfg.Region != "eu-west-1" {
		t.Fatalf("region = %q", cfg.Region)
	}
}

func TestLoadHalfCredentialsRefused(t *testing.T) {
	_, _, err := Load(context.Background(), Options{Region: "eu-west-1", AccessKeyID: "AKID"})
	if err == nil || !strings.Contains(err.Error(), "together") {
		t.Fatalf("want a 'given together' error, got %v", err)
	}
}

func TestLoadBadRegion(t *testing.T) {
	_, _, err := Load(context.Background(), Options{Region: "moon-1"})
	if err == nil || !strings.Contains(err.Error(), `invalid AWS region "moon-1"`) {
		t.Fatalf("got %v", err)
	}
}

func TestLoadFilesAndProfileThenCleanup(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_PROFILE", "")
	cfgFile := "[profile ci]\nregion = ap-northeast-1\n"
	credFile := "[ci]\naws_access_key_id = AKIDFILE\naws_secret_access_key = filesecret\n"
	cfg, cleanup, err := Load(context.Background(), Options{ConfigFile: cfgFile, CredentialsFile: credFile, Profile: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "ap-northeast-1" {
		t.Fatalf("region from file = %q", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if creds.AccessKeyID != "AKIDFILE" {
		t.Fatalf("key from file = %q", creds.AccessKeyID)
	}
	// The temporary files holding the secret must be gone after cleanup.
	dirs, _ := os.ReadDir(os.TempDir())
	before := countAWSDirs(dirs)
	cleanup()
	dirs, _ = os.ReadDir(os.TempDir())
	if after := countAWSDirs(dirs); after != before-1 {
		t.Fatalf("cleanup left the config dir behind (%d -> %d)", before, after)
	}
}

func countAWSDirs(entries []os.DirEntry) int {
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "stevedore-aws-") {
			n++
		}
	}
	return n
}

func TestExplain(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "User is not authorized"}
	err := Explain("ecr:CreateRepository", denied)
	if !strings.Contains(err.Error(), "lack the ecr:CreateRepository permission") {
		t.Fatalf("got %v", err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatal("the API error must stay wrapped")
	}
	dns := fmt.Errorf("send: %w", &net.DNSError{Name: "ecr.moon-1.amazonaws.com", Err: "no such host"})
	if err := Explain("ecr:DescribeRepositories", dns); !strings.Contains(err.Error(), "check the region") {
		t.Fatalf("got %v", err)
	}
	if Explain("x", nil) != nil {
		t.Fatal("nil in, nil out")
	}
}
