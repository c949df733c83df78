package contract

import (
	"strings"
	"testing"
)

func TestServiceOutput(t *testing.T) {
	for in, want := range map[string]string{"backend": "BackendServiceName", "api-gateway": "ApiGatewayServiceName", "a_b": "ABServiceName"} {
		if got := ServiceOutput(in); got != want {
			t.Errorf("ServiceOutput(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateEnv(t *testing.T) {
	for _, ok := range []string{"dev", "qa", "pr-123", "eu-prod", "x"} {
		if err := ValidateEnv(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Prod", "pr_1", "-x", "x-", "a--b", "1abc", strings.Repeat("a", 33), "pr 1"} {
		if err := ValidateEnv(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestOwned(t *testing.T) {
	for k, want := range map[string]bool{"env": true, "app": true, "envBase": true, "stevedore:description": true, "image.backend": true, "imagex": false, "frontend": false} {
		if Owned(k) != want {
			t.Errorf("Owned(%q) = %v", k, !want)
		}
	}
	if ImageContextKey("qdrant") != "image.qdrant" || !Owned(ImageContextKey("qdrant")) {
		t.Error("ImageContextKey is not owned")
	}
}

func TestParseImage(t *testing.T) {
	d := "sha256:" + strings.Repeat("ab", 32)
	img, err := ParseImage("123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server@" + d)
	if err != nil || img.Repository != "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server" || img.Digest != d {
		t.Fatalf("got %+v, %v", img, err)
	}
	if img.String() != "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server@"+d {
		t.Errorf("String() = %s", img)
	}
	for _, bad := range []string{"repo:latest", "repo@sha256:abc", "repo@" + strings.ToUpper(d), "Repo@" + d, "repo:tag@" + d, "@" + d} {
		if _, err := ParseImage(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestAccountRegionRole(t *testing.T) {
	if ValidateRegion("eu-west-1") != nil || ValidateRegion("us-gov-west-1") != nil || ValidateRegion("mars") == nil || ValidateRegion("") == nil {
		t.Error("region rule")
	}
	if ValidateAccount("123456789012") != nil || ValidateAccount("12345") == nil || ValidateAccount("12345678901a") == nil {
		t.Error("account rule")
	}
	if a, err := RoleAccount("arn:aws:iam::123456789012:role/deploy/prod"); err != nil || a != "123456789012" {
		t.Errorf("RoleAccount = %q, %v", a, err)
	}
	if _, err := RoleAccount("arn:aws:iam::123456789012:user/bob"); err == nil {
		t.Error("a user ARN is not a role")
	}
}
