package ecr

import (
	"strings"
	"testing"
)

func TestValidateRepositoryName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"app", true}, {"team/app", true}, {"a/b/c-d_e.f", true}, {"9lives", true}, {"ab", true},
		{strings.Repeat("a", 256), true},
		{"", false}, {"a", false}, {strings.Repeat("a", 257), false}, {"App", false}, {"app-", false},
		{"/app", false}, {"team//app", false}, {"a__b", false}, {"app@sha", false}, {"app name", false},
	} {
		if err := ValidateRepositoryName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidateRepositoryName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestRegistryHost(t *testing.T) {
	for _, tc := range []struct{ account, region, want string }{
		{testAccount, "us-east-1", testRegistry},
		{testAccount, "eu-west-3", "123456789012.dkr.ecr.eu-west-3.amazonaws.com"},
		{testAccount, "cn-north-1", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"},
	} {
		if got := RegistryHost(tc.account, tc.region); got != tc.want {
			t.Errorf("RegistryHost(%s, %s) = %s, want %s", tc.account, tc.region, got, tc.want)
		}
	}
}

func TestParseRepositoryURI(t *testing.T) {
	for _, tc := range []struct {
		uri     string
		want    ImageRef
		wantErr string
	}{
		{uri: testRegistry + "/team/app", want: ImageRef{Host: testRegistry, AccountID: testAccount, Region: "us-east-1", Repository: "team/app"}},
		{uri: "https://" + testRegistry + "/app:v1.2", want: ImageRef{Host: testRegistry, AccountID: testAccount, Region: "us-east-1", Repository: "app", Tag: "v1.2"}},
		{uri: testRegistry + "/app@" + testDigest, want: ImageRef{Host: testRegistry, AccountID: testAccount, Region: "us-east-1", Repository: "app", Digest: testDigest}},
		{uri: testRegistry + "/app:v1@" + testDigest, want: ImageRef{Host: testRegistry, AccountID: testAccount, Region: "us-east-1", Repository: "app", Tag: "v1", Digest: testDigest}},
		{uri: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app", want: ImageRef{Host: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", AccountID: testAccount, Region: "cn-north-1", Repository: "app"}},
		{uri: testRegistry, wantErr: "expected <account>.dkr.ecr.<region>.amazonaws.com/<repository>"},
		{uri: "docker.io/library/nginx", wantErr: `host "docker.io" is not an ECR private registry`},
		{uri: testRegistry + "/App", wantErr: "invalid ECR repository name"},
		{uri: testRegistry + "/app@sha256:xyz", wantErr: "invalid image digest"},
	} {
		got, err := ParseRepositoryURI(tc.uri)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseRepositoryURI(%q) error = %v, want %q", tc.uri, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseRepositoryURI(%q) = %+v, %v; want %+v", tc.uri, got, err, tc.want)
		}
	}
}

func TestTagIsImmutable(t *testing.T) {
	for _, tc := range []struct {
		mutability string
		exclusions []string
		tag        string
		want       bool
	}{
		{"MUTABLE", nil, "latest", false},
		{"IMMUTABLE", nil, "latest", true},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"latest", "dev-*"}, "latest", false},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"latest", "dev-*"}, "dev-42", false},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"latest", "dev-*"}, "v1.0.0", true},
		{"MUTABLE_WITH_EXCLUSION", []string{"release-*"}, "release-1", true},
		{"MUTABLE_WITH_EXCLUSION", []string{"release-*"}, "latest", false},
	} {
		r := Repository{TagMutability: tc.mutability, TagExclusions: tc.exclusions}
		if got := r.TagIsImmutable(tc.tag); got != tc.want {
			t.Errorf("%s %v: TagIsImmutable(%s) = %v, want %v", tc.mutability, tc.exclusions, tc.tag, got, tc.want)
		}
	}
}
