//go:build integration

package integration

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	fakeaws "github.com/stevedore-ci/stevedore/pipelines/awsfake"
)

// These tests run the real CDK CLI (in stevedore's CDK container inside the
// engine) against fakeaws, started in this process on 127.0.0.1 and reached
// from the engine through with-aws --endpoint-service, and assert on the
// calls the CLI made.

// clifakeAWS starts the fake and returns it with the dagger arguments and
// environment of with-aws aimed at it.
func clifakeAWS(t *testing.T) (*fakeaws.AWS, []string, []string) {
	t.Helper()
	a := fakeaws.New(t)
	u, err := url.Parse(a.URL)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("fakeaws must listen on 127.0.0.1, it is at %s (%v)", a.URL, err)
	}
	args := []string{"with-aws", "--region", "us-east-1",
		"--access-key-id", "env:CLIFAKE_KEY", "--secret-access-key", "env:CLIFAKE_SECRET",
		"--endpoint", a.URL, "--endpoint-service", "tcp://" + u.Host}
	env := []string{"CLIFAKE_KEY=AKIAFAKEFAKEFAKEFAKE", "CLIFAKE_SECRET=fake-secret"}
	return a, args, env
}

// deleted lists the stacks DeleteStack was called for, in order, by name
// (the CLI names them by stack ARN, arn:…:stack/NAME/ID).
func deleted(a *fakeaws.AWS) []string {
	var out []string
	for _, c := range a.CallsTo("DeleteStack") {
		s, _ := c.Body["StackName"].(string)
		if m := stackARN.FindStringSubmatch(s); m != nil {
			s = m[1]
		}
		out = append(out, s)
	}
	return out
}

var stackARN = regexp.MustCompile(`^arn:aws:cloudformation:[^:]+:[0-9]{12}:stack/([^/]+)/`)

// assumedRoles lists the roles the CLI assumed.
func assumedRoles(a *fakeaws.AWS) []string {
	var out []string
	for _, c := range a.CallsTo("AssumeRole") {
		s, _ := c.Body["RoleArn"].(string)
		out = append(out, s)
	}
	return out
}

// deployRole is the bootstrap role the CDK CLI deploys and destroys with,
// in the fake's account and the region of with-aws.
const deployRole = "arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-us-east-1"

// destroy --env dev runs cdk destroy of dev's stack only: the stack of
// another environment and the ECR repository stay, and nothing but the
// stack deletion mutates the account. A protected environment is refused
// before any call reaches AWS.
func TestCLIFakeDestroy(t *testing.T) {
	a, aws, env := clifakeAWS(t)
	for _, s := range []string{"NotesStack-dev", "NotesStack-staging"} {
		a.SeedStack(fakeaws.StackSeed{Name: s, Outputs: map[string]string{"ClusterName": "cluster-" + s}})
	}
	a.CreateRepository("notes-notes")

	r := mustDagger(t, env, append(append([]string{"call", "--source", notesJS}, aws...), "destroy", "--env", "dev")...)
	assertContains(t, "destroy output", r.stdout, "destroy dev: 1 stacks deleted", "NotesStack-dev")
	if got := deleted(a); !slices.Equal(got, []string{"NotesStack-dev"}) {
		t.Errorf("DeleteStack calls = %v, want only NotesStack-dev\nall calls: %v", got, a.Ops())
	}
	for _, role := range assumedRoles(a) {
		if role != deployRole {
			t.Errorf("the CLI assumed %s, want only the deploy role %s of the account and region of with-aws", role, deployRole)
		}
	}
	for _, op := range a.Mutating() {
		if op != "cloudformation:DeleteStack" {
			t.Errorf("destroy made the mutating call %s; only cloudformation:DeleteStack is expected\nall calls: %v", op, a.Ops())
		}
		if strings.HasPrefix(op, "ecr:") {
			t.Errorf("destroy touched the shared ECR repositories: %s", op)
		}
	}
	if got := a.StackStatus("NotesStack-dev"); got != "" {
		t.Errorf("NotesStack-dev is still there (%s) after destroy", got)
	}
	if got := a.StackStatus("NotesStack-staging"); got != "CREATE_COMPLETE" {
		t.Errorf("NotesStack-staging is %q after destroying dev, want CREATE_COMPLETE", got)
	}

	a.ResetCalls()
	a.SeedStack(fakeaws.StackSeed{Name: "NotesStack-prod"})
	p := dagger(t, env, append(append([]string{"call", "--source", notesJS}, aws...), "destroy", "--env", "prod")...)
	assertContains(t, "error", mustFail(t, p), `environment "prod" is protected`, "--force")
	if m := a.Mutating(); len(m) != 0 {
		t.Errorf("a refused destroy made mutating calls: %v", m)
	}
	if a.StackStatus("NotesStack-prod") != "CREATE_COMPLETE" {
		t.Errorf("NotesStack-prod changed after a refused destroy: %s", a.StackStatus("NotesStack-prod"))
	}
}
