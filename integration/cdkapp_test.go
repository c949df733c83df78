//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The team repositories of these tests are laid out unlike this one:
// examples/commander-ts (the commander.ai guide: a Python backend, Dockerfiles
// under infrastructure/docker/, a TypeScript CDK app in infrastructure/cdk)
// and examples/notes-js (a plain JavaScript CDK app).
const (
	commanderTS = "examples/commander-ts"
	notesJS     = "examples/notes-js"
)

var (
	backendRef = digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/commander-backend", 11)
	qdrantRef  = digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/commander-qdrant", 22)
	tsImages   = []string{"--image", "backend=" + backendRef, "--image", "qdrant=" + qdrantRef}
)

// errorText is the error dagger printed for the failed call (from the
// first line starting with "Error: "), not the progress log above it.
func errorText(r result) string {
	if strings.HasPrefix(r.stderr, "Error: ") {
		return r.stderr
	}
	if i := strings.Index(r.stderr, "\nError: "); i >= 0 {
		return r.stderr[i+1:]
	}
	return ""
}

func mustFail(t *testing.T, r result) string {
	t.Helper()
	if r.err == nil {
		t.Fatalf("the call succeeded, it must fail:\n%s", tailLines(r.output(), 40))
	}
	return errorText(r)
}

func readTemplates(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.template.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no templates in %s (%v)", dir, err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".template.json")] = string(b)
	}
	return out
}

// A TypeScript CDK app (ts-node, its own aws-cdk, npm ci from its lockfile)
// synthesizes for an environment declared by a pattern (pr-*), and each
// image digest lands in the stack that deploys it.
func TestCDKAppTypeScriptSynth(t *testing.T) {
	out := t.TempDir()
	mustDagger(t, nil, append(append([]string{"call", "--source", commanderTS, "synth", "--env", "pr-7"}, tsImages...), "export", "--path", out)...)
	tpl := readTemplates(t, out)
	for _, stack := range []string{"CommanderNetworkStack-pr-7", "CommanderQdrantStack-pr-7", "CommanderBackendStack-pr-7"} {
		if _, ok := tpl[stack]; !ok {
			t.Errorf("no template for %s: %v", stack, tpl)
		}
	}
	assertContains(t, "backend template", tpl["CommanderBackendStack-pr-7"], backendRef, `"BackendServiceName"`, `"HealthUrl"`)
	assertContains(t, "qdrant template", tpl["CommanderQdrantStack-pr-7"], qdrantRef, `"QdrantServiceName"`)
	assertContains(t, "network template", tpl["CommanderNetworkStack-pr-7"], `"ClusterName"`)
	meta, err := os.ReadFile(filepath.Join(out, "stevedore.json"))
	if err != nil {
		t.Fatal(err)
	}
	assertContains(t, "stevedore.json", string(meta), `"env":"pr-7"`, `"app":"commander"`, backendRef)
}

// A plain JavaScript CDK app without an aws-cdk dependency runs with the
// pinned CLI.
func TestCDKAppJavaScriptSynth(t *testing.T) {
	ref := digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/notes-notes", 33)
	out := t.TempDir()
	mustDagger(t, nil, "call", "--source", notesJS, "synth", "--env", "staging", "--image", "notes="+ref, "export", "--path", out)
	tpl := readTemplates(t, out)
	assertContains(t, "notes template", tpl["NotesStack-staging"], ref, `"NotesServiceName"`, `"ClusterName"`)
}

// The whole local pipeline for the TypeScript repository: Python tests, both
// images built from infrastructure/docker, pushed, the TypeScript app
// synthesized against the pushed digests, both services started and checked.
func TestCDKAppDeployLocal(t *testing.T) {
	r := mustDagger(t, nil, "call", "--source", commanderTS, "deploy", "--env", "pr-7", "--git-sha", "0123abc", "--format", "markdown")
	report := r.stdout
	assertContains(t, "report", report, "## stevedore deploy: commander → local (pr-7)", " resources in 3 stacks for commander/pr-7:", `http://backend:8000/health → {"status": "ok"`)
	for _, step := range []string{"test", "build:backend", "build:qdrant", "prepare-infra", "push:backend", "push:qdrant", "synth", "rollout:backend", "rollout:qdrant", "verify"} {
		if !regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(step) + ` \| ✅ ok \|`).MatchString(report) {
			t.Errorf("report has no successful row for %s", step)
		}
	}
}

// An output a rollout needs that no stack exports is one error naming the
// output and the stack holding the service, before anything is deployed.
func TestCDKAppMissingContractOutput(t *testing.T) {
	root := copyTree(t, commanderTS)
	edit(t, root, commanderTS+"/infrastructure/cdk/lib/qdrant-stack.ts",
		"new cdk.CfnOutput(this, 'QdrantServiceName', { value: service.serviceName });", "void service;")
	r := dagger(t, nil, append(append([]string{"call", "--source", filepath.Join(root, commanderTS), "synth", "--env", "pr-7"}, tsImages...), "entries")...)
	msg := mustFail(t, r)
	assertContains(t, "error", msg,
		"rollout:qdrant needs the stack output QdrantServiceName, which no stack exports",
		"add it to CommanderQdrantStack-pr-7 (the stack using image.qdrant)",
		"infra.outputs")
	assertNotContains(t, "error", msg, "BackendServiceName needs")
}

// A TypeScript type error is in the error message itself, not only
// `exit code: 1`.
func TestCDKAppTypeScriptCompileError(t *testing.T) {
	root := copyTree(t, commanderTS)
	edit(t, root, commanderTS+"/infrastructure/cdk/lib/backend-stack.ts", "desiredCount: props.desiredCount,", "desiredCount: 'two',")
	r := dagger(t, nil, append(append([]string{"call", "--source", filepath.Join(root, commanderTS), "synth", "--env", "dev"}, tsImages...), "entries")...)
	msg := mustFail(t, r)
	assertContains(t, "error", msg, "synthesizing the CDK app in infrastructure/cdk", "lib/backend-stack.ts", "TS2322", "is not assignable to type 'number'")
}

// Arguments are refused before any step runs: owned context keys,
// unknown environments; destroy refuses a protected environment.
func TestCDKAppRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"synth --context env", append([]string{"synth", "--env", "pr-7", "--context", "env=x"}, tsImages...), `--context env=x: stevedore sets "env" itself`},
		{"synth --context image", append([]string{"synth", "--context", "image.backend=x"}, tsImages...), `stevedore sets "image.backend" itself`},
		{"deploy --context app", []string{"deploy", "--context", "app=other"}, `stevedore sets "app" itself`},
		{"undeclared env", []string{"deploy", "--env", "qa2"}, `unknown environment "qa2": use one of dev, staging, prod, pr-*, qa`},
		{"bad env name", []string{"plan", "--env", "Prod_1"}, `environment "Prod_1" is not a valid name`},
		{"destroy prod", []string{"destroy", "--env", "prod"}, `environment "prod" is protected (base prod): destroy refuses it; pass --force`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dagger(t, nil, append([]string{"call", "--source", commanderTS}, tc.args...)...)
			msg := mustFail(t, r)
			assertContains(t, "error", msg, tc.want)
			// Refused before the first step: nothing was installed or built.
			assertNotContains(t, "progress", r.stderr, "npm ci", "docker build", "cdk synth")
		})
	}
}

// destroy --dry-run prints the plan: the environment's stacks in reverse
// deploy order, nothing else, without any AWS account.
func TestCDKAppDestroyPlan(t *testing.T) {
	r := mustDagger(t, nil, "call", "--source", commanderTS, "destroy", "--env", "pr-7", "--dry-run")
	assertContains(t, "plan", r.stdout,
		"destroy pr-7: 3 stacks deleted, in this order:\n",
		"  - CommanderBackendStack-pr-7\n", "  - CommanderQdrantStack-pr-7\n",
		"  - CommanderNetworkStack-pr-7\nthe ECR image repositories are shared by every environment and are not deleted",
		"dry run: nothing deleted")
	// The network (every other stack depends on it) goes last.
	if n := strings.Index(r.stdout, "CommanderNetworkStack"); n < strings.Index(r.stdout, "CommanderBackendStack") || n < strings.Index(r.stdout, "CommanderQdrantStack") {
		t.Errorf("the network stack must be deleted after the stacks using it:\n%s", r.stdout)
	}
	// The Go app: its environment stacks hold no ECR repository destroy
	// would delete (PlanDestroy refuses those).
	g := mustDagger(t, nil, "call", "destroy", "--env", "dev", "--dry-run")
	assertContains(t, "Go app plan", g.stdout, "destroy dev: 4 stacks deleted", "  - CAOInfrastructureStack-dev\n", "  - CAONetworkStack-dev\n")
}

// Without --source, stevedore's own bundled example never goes to AWS; the
// local deploy of it keeps working (TestDeployLocal).
func TestCDKAppBundledSourceNeverGoesToAWS(t *testing.T) {
	aws := []string{"call", "with-aws", "--region", "eu-west-1", "--access-key-id", "env:CDKAPP_FAKE_KEY", "--secret-access-key", "env:CDKAPP_FAKE_SECRET"}
	env := []string{"CDKAPP_FAKE_KEY=AKIAFAKEFAKEFAKEFAKE", "CDKAPP_FAKE_SECRET=fake"}
	for _, args := range [][]string{
		{"deploy", "--target", "aws"},
		{"deploy-infra", "--image", "backend=" + digestRef("r/cao-server", 1)},
	} {
		r := dagger(t, env, append(aws, args...)...)
		msg := mustFail(t, r)
		assertContains(t, "error", msg, "no --source was given: stevedore would ship its own bundled example app. Pass --source=.")
		assertNotContains(t, "progress", r.stderr, "docker build", "cdk synth")
	}
}

// A Python CDK app (virtualenv, pip install -r requirements.txt, the app
// command) and a prebuilt cloud assembly. The Python app writes its assembly
// with the standard library: PyPI, and so aws-cdk-lib for Python, is
// unreachable here.
func TestCDKAppPythonAndPrebuiltAssembly(t *testing.T) {
	ref := digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/notes-notes", 44)
	for _, config := range []string{"stevedore-python.yaml", "stevedore-assembly.yaml"} {
		t.Run(config, func(t *testing.T) {
			out := t.TempDir()
			mustDagger(t, nil, "call", "--source", "examples/other-cdk", "--config", config, "synth", "--env", "dev", "--image", "notes="+ref, "export", "--path", out)
			assertContains(t, "template", readTemplates(t, out)["NotesStack-dev"], ref)
		})
	}
	// The prebuilt assembly carries one digest: another image is reported,
	// not deployed silently without it.
	other := digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/notes-notes", 45)
	r := dagger(t, nil, "call", "--source", "examples/other-cdk", "--config", "stevedore-assembly.yaml", "synth", "--image", "notes="+other, "entries")
	assertContains(t, "error", mustFail(t, r), "no stack deploys image "+other+" (context image.notes)")
}
