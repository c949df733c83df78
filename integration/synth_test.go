//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func digestRef(repo string, n int) string {
	return fmt.Sprintf("%s@sha256:%064d", repo, n)
}

// dagger call synth works offline for both descriptions (the repository's
// own, CAO, and the commander example through --config) and all three
// envs, through the built-in CDK app; a second run with the same inputs is
// a cache hit.
func TestSynthBothAppsAllEnvs(t *testing.T) {
	cao := "backend=" + digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server", 1)
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run("cao/"+env, func(t *testing.T) {
			first := mustDagger(t, nil, "call", "synth", "--env", env, "--image", cao, "entries")
			for _, stack := range []string{"CAONetworkStack", "CAOAuthStack", "CAOInfrastructureStack", "CAOFrontendStack"} {
				assertContains(t, "cdk.out", first.stdout, stack+"-"+env+".template.json")
			}
			second := mustDagger(t, nil, "call", "synth", "--env", env, "--image", cao, "entries")
			if second.stdout != first.stdout {
				t.Fatalf("second synth differs:\n%s\nvs\n%s", second.stdout, first.stdout)
			}
			t.Logf("synth cao/%s: first %s, second (cache hit) %s", env, first.took.Round(100*time.Millisecond), second.took.Round(100*time.Millisecond))
		})
	}
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run("commander/"+env, func(t *testing.T) {
			args := append([]string{"call", "--config", "examples/commander/stevedore.yaml", "synth", "--env", env}, commanderImages()...)
			r := mustDagger(t, nil, append(args, "entries")...)
			for _, stack := range []string{"Network", "Database", "Cache", "Qdrant", "Backend", "Frontend", "WebSocket", "Monitoring"} {
				assertContains(t, "cdk.out", r.stdout, "Commander"+stack+"Stack-"+env+".template.json")
			}
		})
	}
}

// The image the pipeline pushed is what the template deploys.
func TestSynthPinsTheImageDigest(t *testing.T) {
	ref := digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server", 7)
	r := mustDagger(t, nil, "call", "synth", "--image", "backend="+ref, "file", "--path", "CAOInfrastructureStack-dev.template.json", "contents")
	assertContains(t, "template", r.stdout, strings.TrimPrefix(ref, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/"), `"Enable": true`, `"Rollback": true`)
}

// Bad context fails with a clear message before any synth work starts.
func TestSynthBadContext(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown env", []string{"--env", "qa", "--image", "backend=" + digestRef("r/cao-server", 1)}, `unknown environment "qa": use one of dev, staging, prod, pr-*, or declare it under environments: in stevedore.yaml`},
		{"unknown app", []string{"--app", "shop", "--image", "backend=" + digestRef("r/cao-server", 1)}, `unknown app "shop": the built-in infrastructure (infra: without dir) renders only the app of its description, "cao"`},
		{"missing image", nil, `missing image reference for service "backend": pass --image backend=<repository>@sha256:<digest>`},
		{"tag instead of digest", []string{"--image", "backend=r/cao-server:latest"}, `is not digest-pinned`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dagger(t, nil, append([]string{"call", "synth"}, append(tc.args, "entries")...)...)
			if r.err == nil {
				t.Fatalf("synth accepted bad context:\n%s", r.stdout)
			}
			assertContains(t, "error", r.stderr, tc.want)
			// Nothing was compiled or synthesized: no such step was even issued.
			assertNotContains(t, "progress", r.stderr, "aws-cdk@", "cdk-app")
		})
	}
}
