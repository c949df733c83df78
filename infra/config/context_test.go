package config

import (
	"strings"
	"testing"
)

const (
	digest   = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	caoECR   = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server@" + digest
	cmdECR   = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/commander-ai-backend@" + digest
	qdrantDH = "qdrant/qdrant@" + digest
)

// ctx builds a context from key/value pairs.
func ctx(kv ...string) Lookup {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return MapLookup(m)
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		in    Lookup
		check func(t *testing.T, s Settings)
	}{
		{"cao dev defaults", ctx("app", "cao", "env", "dev", "image.backend", caoECR), func(t *testing.T, s Settings) {
			img := s.Images["backend"]
			if s.App.Name != "cao" || s.Env.Name != "dev" || !s.AppStacks || s.Github != nil {
				t.Errorf("settings = %+v", s)
			}
			if img.Ref != caoECR || !img.ECR || img.Repository != "cao-server" || img.Account != "123456789012" || img.Region != "eu-west-1" || img.Partition != "aws" {
				t.Errorf("image = %+v", img)
			}
			if s.Frontend || s.FargateSpot || s.VpcEndpoints || s.ScheduledScaleIn || s.CreateRepository {
				t.Errorf("switches on by default: %+v", s)
			}
		}},
		{"commander with a Docker Hub qdrant and switches", ctx("app", "commander", "env", "prod", "image.backend", cmdECR, "image.qdrant", qdrantDH,
			"fargateSpot", "true", "scheduledScaleIn", "TRUE", "alarmEmail", "ops@example.com", "azs", "eu-west-1a, eu-west-1b,eu-west-1c"), func(t *testing.T, s Settings) {
			if !s.Frontend {
				t.Error("commander always has its frontend")
			}
			if q := s.Images["qdrant"]; q.ECR || q.Ref != qdrantDH {
				t.Errorf("qdrant = %+v", q)
			}
			if !s.FargateSpot || !s.ScheduledScaleIn || s.AlarmEmail != "ops@example.com" {
				t.Errorf("settings = %+v", s)
			}
			if strings.Join(s.AZs, ",") != "eu-west-1a,eu-west-1b,eu-west-1c" {
				t.Errorf("azs = %v", s.AZs)
			}
		}},
		{"repository override follows the ref", ctx("app", "cao", "env", "staging", "repository.backend", "team/cao",
			"image.backend", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/team/cao@"+digest), func(t *testing.T, s Settings) {
			if s.Repositories["backend"] != "team/cao" || s.Images["backend"].Partition != "aws-cn" {
				t.Errorf("repositories = %v, image = %+v", s.Repositories, s.Images["backend"])
			}
		}},
		{"github role alone before any image", ctx("app", "cao", "env", "prod", "githubRepo", "acme/shop"), func(t *testing.T, s Settings) {
			if s.AppStacks || len(s.Images) != 0 {
				t.Errorf("app stacks requested without images: %+v", s)
			}
			if g := s.Github; g.Repo != "acme/shop" || g.Trust != TrustBoth || g.Branch != "main" || g.OIDCProviderArn != "" {
				t.Errorf("github = %+v", g)
			}
		}},
		{"github role with the app", ctx("app", "cao", "env", "dev", "image.backend", caoECR, "githubRepo", "acme/shop", "githubTrust", "environment",
			"githubOidcProviderArn", "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com", "distributionId", "E2QWRUHAPOMQZL"), func(t *testing.T, s Settings) {
			if !s.AppStacks || s.Github.Trust != TrustEnvironment || s.Github.DistributionID != "E2QWRUHAPOMQZL" {
				t.Errorf("settings = %+v, github = %+v", s, s.Github)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   Lookup
		want []string
	}{
		{"missing app", ctx("env", "dev"), []string{"app is missing: pass -c app=cao or -c app=commander"}},
		{"unknown app", ctx("app", "shop", "env", "dev"), []string{`app "shop" is not valid: pass -c app=cao or -c app=commander`}},
		{"unknown env", ctx("app", "cao", "env", "qa", "image.backend", caoECR), []string{`env "qa" is not valid: pass -c env=dev|prod|staging`}},
		{"missing image", ctx("app", "cao", "env", "dev"), []string{"image.backend is missing: pass -c image.backend=<account>.dkr.ecr.<region>.amazonaws.com/cao-server@sha256:<64 hex digest>"}},
		{"tag instead of digest", ctx("app", "cao", "env", "dev", "image.backend", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server:latest"),
			[]string{"is not digest-pinned: pass -c image.backend=123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server@sha256:<64 hex digest>"}},
		{"tag and digest", ctx("app", "cao", "env", "dev", "image.backend", "localhost:5000/cao-server:v1@"+digest),
			[]string{"pass -c image.backend=localhost:5000/cao-server@sha256:<64 hex digest>"}},
		{"short digest", ctx("app", "cao", "env", "dev", "image.backend", "cao-server@sha256:abc"), []string{"not digest-pinned"}},
		{"upper-case digest", ctx("app", "cao", "env", "dev", "image.backend", "cao-server@"+strings.ToUpper(digest)), []string{"not digest-pinned"}},
		{"missing second image", ctx("app", "commander", "env", "dev", "image.backend", cmdECR), []string{"image.qdrant is missing: pass -c image.qdrant="}},
		{"ecr repository mismatch", ctx("app", "cao", "env", "dev", "image.backend", cmdECR),
			[]string{`image.backend points at ECR repository "commander-ai-backend" but repository.backend is "cao-server": pass -c repository.backend=commander-ai-backend`}},
		{"no NAT route to Docker Hub", ctx("app", "commander", "env", "dev", "image.backend", cmdECR, "image.qdrant", qdrantDH, "vpcEndpoints", "true"),
			[]string{`image.qdrant "qdrant/qdrant@` + digest + `" is not in ECR but vpcEndpoints=true`}},
		{"bad boolean", ctx("app", "cao", "env", "dev", "image.backend", caoECR, "fargateSpot", "yes"), []string{`fargateSpot "yes" is not a boolean: pass -c fargateSpot=true or -c fargateSpot=false`}},
		{"bad repository name", ctx("app", "cao", "env", "dev", "image.backend", caoECR, "repository.backend", "Cao_Server"), []string{`repository.backend "Cao_Server" is not an ECR repository name`}},
		{"bad email", ctx("app", "cao", "env", "dev", "image.backend", caoECR, "alarmEmail", "ops"), []string{`alarmEmail "ops" is not an email address`}},
		{"one zone", ctx("app", "cao", "env", "dev", "image.backend", caoECR, "azs", "eu-west-1a"), []string{"azs lists one zone"}},
		{"bad zone", ctx("app", "cao", "env", "dev", "image.backend", caoECR, "azs", "eu-west-1a,west"), []string{`azs entry "west" is not an availability zone`}},
		{"bad github repo", ctx("app", "cao", "env", "dev", "githubRepo", "acme"), []string{`githubRepo "acme" is not owner/name`}},
		{"bad trust", ctx("app", "cao", "env", "dev", "githubRepo", "acme/shop", "githubTrust", "any"), []string{"pass -c githubTrust=both|branch|environment"}},
		{"branch wildcard", ctx("app", "cao", "env", "dev", "githubRepo", "acme/shop", "githubBranch", "release/*"), []string{`githubBranch "release/*" is not a plain branch name`}},
		{"bad provider arn", ctx("app", "cao", "env", "dev", "githubRepo", "acme/shop", "githubOidcProviderArn", "arn:aws:iam::123:oidc-provider/x"), []string{"is not a GitHub OIDC provider ARN"}},
		{"bad distribution", ctx("app", "cao", "env", "dev", "githubRepo", "acme/shop", "distributionId", "d123.cloudfront.net"), []string{"is not a CloudFront distribution ID"}},
		{"every problem at once", ctx("app", "cao", "env", "qa", "fargateSpot", "1"), []string{`env "qa"`, `fargateSpot "1"`, "image.backend is missing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "invalid CDK context: ") {
				t.Errorf("error is not one line starting with the cause: %q", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}
