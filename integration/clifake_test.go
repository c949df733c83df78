//go:build integration

package integration

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	fakeaws "github.com/stevedore-ci/stevedore/pipelines/fakeaws"
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
	env := []string{"CLIFAKE_KEY=" + clifakeKey, "CLIFAKE_SECRET=fake-secret"}
	return a, args, env
}

// clifakeKey is the access key ID given to with-aws.
const clifakeKey = "AKIAFAKEFAKEFAKEFAKE"

// assertSignedAs checks the CLI's credentials: it asks STS who it is with
// the key of with-aws, and makes op with other credentials, those of a
// role it assumed before (the CDK CLI's bootstrap roles).
func assertSignedAs(t *testing.T, a *fakeaws.AWS, op string) {
	t.Helper()
	assumed := false
	for _, c := range a.Calls() {
		switch {
		case c.Op == "GetCallerIdentity" && c.AccessKey != clifakeKey:
			t.Errorf("GetCallerIdentity was signed with %q, not the key of with-aws", c.AccessKey)
		case c.Op == "AssumeRole":
			assumed = true
		case c.Op == op && (!assumed || c.AccessKey == clifakeKey || c.AccessKey == ""):
			t.Errorf("%s was signed with %q, not with the credentials of an assumed role", op, c.AccessKey)
		}
	}
	if len(a.CallsTo(op)) == 0 || len(a.CallsTo("GetCallerIdentity")) == 0 {
		t.Errorf("no %s or no GetCallerIdentity: %v", op, a.Ops())
	}
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

// destroy of one environment runs cdk destroy of that environment's stacks
// only, dependents first: the stacks of another environment and the ECR
// repositories stay, and nothing but the stack deletions mutates the
// account. A protected environment is refused before any call reaches AWS.
func TestCLIFakeDestroy(t *testing.T) {
	for _, tc := range []struct {
		name, source, app, env string
		// goes lists the environment's stacks in the order they must be
		// deleted; stays the other environments' stacks.
		goes, stays, repos []string
	}{
		{"javascript", notesJS, "notes", "dev", []string{"NotesStack-dev"}, []string{"NotesStack-staging"}, []string{"notes-notes"}},
		{"typescript", commanderTS, "commander", "pr-7",
			[]string{"CommanderBackendStack-pr-7", "CommanderQdrantStack-pr-7", "CommanderNetworkStack-pr-7"},
			[]string{"CommanderNetworkStack-pr-8", "CommanderBackendStack-pr-8", "CommanderBackendStack-dev"},
			[]string{"commander-backend", "commander-qdrant"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, aws, env := clifakeAWS(t)
			for _, s := range append(append([]string(nil), tc.goes...), tc.stays...) {
				a.SeedStack(fakeaws.StackSeed{Name: s, Outputs: map[string]string{"ClusterName": "cluster-" + s}})
			}
			for _, r := range tc.repos {
				a.CreateRepository(r)
			}
			r := mustDagger(t, env, append(append([]string{"call", "--source", tc.source}, aws...), "destroy", "--env", tc.env)...)
			assertContains(t, "destroy output", r.stdout, fmt.Sprintf("destroy %s: %d stacks deleted", tc.env, len(tc.goes)))
			got := deleted(a)
			// The CLI deletes a stack after those depending on it; two
			// independent ones (backend, qdrant) may go in either order.
			if !sameStacks(got, tc.goes) || got[len(got)-1] != tc.goes[len(tc.goes)-1] {
				t.Errorf("DeleteStack calls = %v, want %v with %s last\nall calls: %v", got, tc.goes, tc.goes[len(tc.goes)-1], a.Ops())
			}
			assertSignedAs(t, a, "DeleteStack")
			for _, role := range assumedRoles(a) {
				if role != deployRole {
					t.Errorf("the CLI assumed %s, want only the deploy role %s of the account and region of with-aws", role, deployRole)
				}
			}
			for _, op := range a.Mutating() {
				// The environment's lock (an SSM parameter) is taken and
				// given back around the deletion.
				if op != "cloudformation:DeleteStack" && op != "ssm:PutParameter" && op != "ssm:DeleteParameter" {
					t.Errorf("destroy made the mutating call %s; only cloudformation:DeleteStack and the lock are expected\nall calls: %v", op, a.Ops())
				}
			}
			if !slices.Contains(a.Mutating(), "ssm:PutParameter") {
				t.Errorf("destroy did not take the environment's lock: %v", a.Ops())
			}
			if v, held := a.Parameter("/stevedore/" + tc.app + "/" + tc.env + "/lock"); held {
				t.Errorf("destroy left its lock behind: %s", v)
			}
			for _, s := range tc.goes {
				if st := a.StackStatus(s); st != "" {
					t.Errorf("%s is still there (%s) after destroy", s, st)
				}
			}
			for _, s := range tc.stays {
				if st := a.StackStatus(s); st != "CREATE_COMPLETE" {
					t.Errorf("%s is %q after destroying %s, want CREATE_COMPLETE", s, st, tc.env)
				}
			}
		})
	}

	t.Run("protected", func(t *testing.T) {
		a, aws, env := clifakeAWS(t)
		a.SeedStack(fakeaws.StackSeed{Name: "NotesStack-prod"})
		p := dagger(t, env, append(append([]string{"call", "--source", notesJS}, aws...), "destroy", "--env", "prod")...)
		assertContains(t, "error", mustFail(t, p), `environment "prod" is protected`, "--force")
		if ops := a.Ops(); len(ops) != 0 {
			t.Errorf("a refused destroy reached AWS: %v (mutating: %v)", ops, a.Mutating())
		}
		if st := a.StackStatus("NotesStack-prod"); st != "CREATE_COMPLETE" {
			t.Errorf("NotesStack-prod is %s after a refused destroy", st)
		}
	})
}

// sameStacks reports whether got and want hold the same names, once each.
func sameStacks(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// cdkBootstrap seeds what `cdk bootstrap` leaves in an account: the
// version parameter the templates' BootstrapVersion rule and the CLI read,
// and the assets bucket the CLI uploads templates and file assets to.
func cdkBootstrap(a *fakeaws.AWS) {
	a.PutParameter("/cdk-bootstrap/hnb659fds/version", "21")
	a.CreateBucket("cdk-hnb659fds-assets-123456789012-us-east-1")
}

// diff and deploy-infra --env dev run cdk diff and cdk deploy of dev's
// stack with the image digest of --image: diff changes nothing, deploy
// creates the stack through a change set, and its ECS service runs the
// digest given.
func TestCLIFakeDiffAndDeployInfra(t *testing.T) {
	a, aws, env := clifakeAWS(t)
	cdkBootstrap(a)
	a.SeedStack(fakeaws.StackSeed{Name: "NotesStack-staging"})
	ref := digestRef("123456789012.dkr.ecr.us-east-1.amazonaws.com/notes-notes", 55)
	call := func(args ...string) []string {
		return append(append([]string{"call", "--source", notesJS}, aws...), args...)
	}

	// cdk diff is not read-only: it uploads the template to the assets
	// bucket, creates a change set to learn the replacements (for a new
	// stack that creates the stack in REVIEW_IN_PROGRESS), then deletes
	// the change set and that empty stack. It executes nothing.
	d := mustDagger(t, env, call("diff", "--env", "dev", "--image", "notes="+ref)...)
	assertContains(t, "diff output", d.output(), "NotesStack-dev", "AWS::ECS::Service", ref)
	diffMay := map[string]bool{"s3:PutObject": true, "cloudformation:CreateChangeSet": true,
		"cloudformation:DeleteChangeSet": true, "cloudformation:DeleteStack": true}
	mutating := a.Mutating()
	for _, c := range a.Calls() {
		op := c.Service + ":" + c.Op
		if !slices.Contains(mutating, op) {
			continue
		}
		if !diffMay[op] {
			t.Errorf("diff made the mutating call %s\nall calls: %v", op, a.Ops())
		}
		if op == "s3:PutObject" && c.Body["Bucket"] != "cdk-hnb659fds-assets-123456789012-us-east-1" {
			t.Errorf("diff uploaded to %v, not the bootstrap assets bucket", c.Body["Bucket"])
		}
		if n, _ := c.Body["StackName"].(string); c.Service == "cloudformation" && n != "" && n != "NotesStack-dev" && !strings.Contains(n, "stack/NotesStack-dev/") {
			t.Errorf("diff --env dev called %s on %s", op, n)
		}
	}
	if n := len(a.CallsTo("CreateChangeSet")); n != 1 || len(a.CallsTo("DeleteChangeSet")) != n {
		t.Errorf("diff created %d change sets and deleted %d, want 1 and 1", n, len(a.CallsTo("DeleteChangeSet")))
	}
	if s := a.StackStatus("NotesStack-dev"); s != "" {
		t.Errorf("diff left NotesStack-dev %s", s)
	}

	a.ResetCalls()
	mustDagger(t, env, call("deploy-infra", "--env", "dev", "--image", "notes="+ref)...)
	assertSignedAs(t, a, "ExecuteChangeSet")
	if n := len(a.CallsTo("ExecuteChangeSet")); n != 1 {
		t.Errorf("deploy-infra executed %d change sets, want 1\nall calls: %v", n, a.Ops())
	}
	if s := a.StackStatus("NotesStack-dev"); s != "CREATE_COMPLETE" {
		t.Fatalf("NotesStack-dev is %q after deploy-infra, want CREATE_COMPLETE\nall calls: %v", s, a.Ops())
	}
	if s := a.StackStatus("NotesStack-staging"); s != "CREATE_COMPLETE" {
		t.Errorf("deploy-infra --env dev changed NotesStack-staging: %s", s)
	}
	for _, c := range a.CallsTo("ExecuteChangeSet") {
		if n, _ := c.Body["StackName"].(string); n != "" && n != "NotesStack-dev" && !strings.Contains(n, "stack/NotesStack-dev/") {
			t.Errorf("deploy-infra --env dev executed a change set of %s", n)
		}
	}
	for _, role := range assumedRoles(a) {
		if !strings.HasPrefix(role, "arn:aws:iam::123456789012:role/cdk-hnb659fds-") || !strings.HasSuffix(role, "-123456789012-us-east-1") {
			t.Errorf("the CLI assumed %s, not a bootstrap role of the account and region of with-aws", role)
		}
	}
	out := stackOutputs(t, a, "NotesStack-dev")
	svc, ok := a.Service(out["ClusterName"], out["NotesServiceName"])
	if !ok {
		t.Fatalf("no ECS service %s in cluster %s after deploy-infra (outputs %v)", out["NotesServiceName"], out["ClusterName"], out)
	}
	if svc.Images["notes"] != ref {
		t.Errorf("the notes service runs %v, want %s from --image", svc.Images, ref)
	}

	// A new digest updates the deployed stack in place: the service moves
	// to it through another change set.
	a.ResetCalls()
	next := digestRef("123456789012.dkr.ecr.us-east-1.amazonaws.com/notes-notes", 56)
	mustDagger(t, env, call("deploy-infra", "--env", "dev", "--image", "notes="+next)...)
	if s := a.StackStatus("NotesStack-dev"); s != "UPDATE_COMPLETE" {
		t.Errorf("NotesStack-dev is %q after the second deploy-infra, want UPDATE_COMPLETE", s)
	}
	if svc, _ := a.Service(out["ClusterName"], out["NotesServiceName"]); svc.Images["notes"] != next {
		t.Errorf("after the second deploy-infra the notes service runs %v, want %s", svc.Images, next)
	}
	if cs := a.CallsTo("CreateChangeSet"); len(cs) != 1 || cs[0].Body["ChangeSetType"] == "CREATE" {
		t.Errorf("the second deploy-infra made change sets %v, want one update", cs)
	}
}

// stackOutputs reads a stack's outputs from the fake's CloudFormation.
func stackOutputs(t *testing.T, a *fakeaws.AWS, stack string) map[string]string {
	t.Helper()
	res, err := cloudformation.NewFromConfig(a.Config()).DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: &stack})
	if err != nil || len(res.Stacks) != 1 {
		t.Fatalf("DescribeStacks %s: %v", stack, err)
	}
	out := map[string]string{}
	for _, o := range res.Stacks[0].Outputs {
		out[*o.OutputKey] = *o.OutputValue
	}
	return out
}
