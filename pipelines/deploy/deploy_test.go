package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// fake records every call in order and fails the calls it is told to.
type fake struct {
	mu    sync.Mutex
	calls []string
	fail  map[string]error
	// first makes Current find no stack (a first deploy).
	first bool
	// hang makes DeployInfra wait for its context, like a cdk deploy that
	// waits for CloudFormation to roll back.
	hang bool
}

func (f *fake) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.fail[strings.SplitN(call, " ", 2)[0]]
}

func (f *fake) Test(ctx context.Context) (steps.Outcome, error) {
	return steps.Outcome{}, f.record("test")
}
func (f *fake) BuildImage(ctx context.Context, s string) (steps.Outcome, error) {
	return steps.Outcome{}, f.record("build:" + s)
}
func (f *fake) BuildFrontend(ctx context.Context) (steps.Outcome, error) {
	return steps.Outcome{}, f.record("build:frontend")
}
func (f *fake) Push(ctx context.Context, s string) (Image, steps.Outcome, error) {
	err := f.record("push:" + s)
	return Image{Service: s, Ref: digestOf(s), Pushed: true}, steps.Outcome{}, err
}
func (f *fake) Prepare(ctx context.Context) (steps.Outcome, error) {
	return steps.Outcome{}, f.record("prepare-infra")
}
func (f *fake) Preflight(ctx context.Context) (steps.Outcome, error) {
	return steps.Outcome{}, f.record("preflight")
}
func (f *fake) Synth(ctx context.Context, images []Image) (Assembly, steps.Outcome, error) {
	err := f.record("synth " + refs(images))
	return Assembly{ID: "asm-1", Stacks: []string{"Net", "App"}, Env: "dev"}, steps.Outcome{}, err
}
func (f *fake) Current(ctx context.Context, asm Assembly) (Outputs, steps.Outcome, error) {
	err := f.record(fmt.Sprintf("check-stacks %s %v", asm.ID, asm.Stacks))
	if f.first {
		return Outputs{}, steps.Outcome{}, err
	}
	return Outputs{contract.OutputCluster: "c0"}, steps.Outcome{}, err
}
func (f *fake) DeployInfra(ctx context.Context, asm Assembly) (Outputs, steps.Outcome, error) {
	err := f.record(fmt.Sprintf("deploy-infra %s %v", asm.ID, asm.Stacks))
	if f.hang {
		<-ctx.Done()
		return nil, steps.Outcome{}, ctx.Err()
	}
	return Outputs{contract.OutputCluster: "c1", contract.OutputHealthURL: "http://lb/health"}, steps.Outcome{}, err
}
func (f *fake) Follow(ctx context.Context, img Image, run *InfraRun) (steps.Outcome, error) {
	cur := run.Current()
	if len(cur) == 0 { // first deploy: the service is known once the stacks exist
		out, err := run.Wait(ctx)
		if err != nil {
			return steps.Outcome{}, err
		}
		cur = out
	}
	return steps.Outcome{}, f.record(fmt.Sprintf("rollout:%s %s cluster=%s", img.Service, img.Ref, cur[contract.OutputCluster]))
}
func (f *fake) Migrate(ctx context.Context, img Image, out Outputs) (steps.Outcome, error) {
	if f.first != FirstDeploy(ctx) {
		return steps.Outcome{}, fmt.Errorf("FirstDeploy(ctx) = %v on a first deploy = %v", FirstDeploy(ctx), f.first)
	}
	return steps.Outcome{}, f.record(fmt.Sprintf("migrate %s cluster=%s", img.Ref, out[contract.OutputCluster]))
}
func (f *fake) Rollout(ctx context.Context, img Image, out Outputs) (steps.Outcome, error) {
	return steps.Outcome{}, f.record(fmt.Sprintf("rollout:%s %s cluster=%s", img.Service, img.Ref, out[contract.OutputCluster]))
}
func (f *fake) PublishFrontend(ctx context.Context, out Outputs) (steps.Outcome, error) {
	return steps.Outcome{}, f.record("publish:frontend cluster=" + out[contract.OutputCluster])
}
func (f *fake) Verify(ctx context.Context, images []Image, out Outputs) (steps.Outcome, error) {
	return steps.Outcome{}, f.record("verify " + refs(images) + " " + out[contract.OutputHealthURL])
}

func digestOf(s string) string {
	return fmt.Sprintf("123.dkr.ecr.eu-west-1.amazonaws.com/%s@sha256:%064x", s, len(s))
}

func refs(images []Image) string {
	var r []string
	for _, i := range images {
		r = append(r, i.Ref)
	}
	return strings.Join(r, ",")
}

// index returns the position of the first call starting with prefix.
func (f *fake) index(t *testing.T, prefix string) int {
	t.Helper()
	for i, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			return i
		}
	}
	t.Fatalf("no call %q in %v", prefix, f.calls)
	return -1
}

func (f *fake) called(prefix string) bool {
	return slices.ContainsFunc(f.calls, func(c string) bool { return strings.HasPrefix(c, prefix) })
}

func awsPipeline(f *fake) *Pipeline {
	return &Pipeline{
		Services: []string{"backend", "qdrant"}, Frontend: true, Migrate: "backend",
		Tests: f, Preflight: f, Build: f, Push: f, Synth: f, Infra: f, Follow: f, Release: f,
	}
}

func run(t *testing.T, p *Pipeline) (*steps.Report, error) {
	t.Helper()
	return p.Run(context.Background(), steps.Options{})
}

func before(t *testing.T, f *fake, a, b string) {
	t.Helper()
	if f.index(t, a) >= f.index(t, b) {
		t.Fatalf("%s must come before %s: %v", a, b, f.calls)
	}
}

// The AWS target calls everything in the release order of the design with
// the right digests: migrate before deploy-infra, the followers alongside
// it with the outputs from before the deploy.
func TestAWSOrderAndArtifacts(t *testing.T) {
	for i := 0; i < 20; i++ { // parallel steps: check the order holds every time
		f := &fake{}
		rep, err := run(t, awsPipeline(f))
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Succeeded() {
			t.Fatalf("report not successful:\n%s", rep.Text())
		}
		for _, s := range []string{"backend", "qdrant"} {
			before(t, f, "test", "push:"+s)
			before(t, f, "preflight", "push:"+s)
			before(t, f, "build:"+s, "push:"+s)
			before(t, f, "push:"+s, "synth")
			before(t, f, "migrate", "rollout:"+s)
			before(t, f, "rollout:"+s, "verify")
		}
		before(t, f, "prepare-infra", "synth")
		before(t, f, "synth", "check-stacks")
		before(t, f, "check-stacks", "migrate")
		before(t, f, "migrate", "deploy-infra")
		before(t, f, "deploy-infra", "publish:frontend")
		before(t, f, "build:frontend", "publish:frontend")
		before(t, f, "publish:frontend", "verify")

		want := map[string]string{
			"synth":            "synth " + digestOf("backend") + "," + digestOf("qdrant"),
			"check-stacks":     "check-stacks asm-1 [Net App]",
			"deploy-infra":     "deploy-infra asm-1 [Net App]",
			"migrate":          "migrate " + digestOf("backend") + " cluster=c0",
			"rollout:backend":  "rollout:backend " + digestOf("backend") + " cluster=c0",
			"rollout:qdrant":   "rollout:qdrant " + digestOf("qdrant") + " cluster=c0",
			"publish:frontend": "publish:frontend cluster=c1",
			"verify":           "verify " + digestOf("backend") + "," + digestOf("qdrant") + " http://lb/health",
		}
		for prefix, call := range want {
			if got := f.calls[f.index(t, prefix)]; got != call {
				t.Errorf("%s called as %q, want %q", prefix, got, call)
			}
		}
		if len(f.calls) != 16 {
			t.Fatalf("%d calls, want 16: %v", len(f.calls), f.calls)
		}
		if st, _ := rep.Step(StepMigrateFirst); st.Status != steps.StatusSkipped || !st.Deliberate {
			t.Fatalf("%s = %+v", StepMigrateFirst, st)
		}
	}
}

// The followers start with deploy-infra, not after it: they must see the
// deployment CloudFormation starts while it runs.
func TestFollowersRunAlongsideDeployInfra(t *testing.T) {
	f := &fake{}
	st, err := awsPipeline(f).Steps()
	if err != nil {
		t.Fatal(err)
	}
	needs := map[string][]string{}
	for _, s := range st {
		needs[s.Name] = s.Needs
	}
	for _, s := range []string{"rollout:backend", "rollout:qdrant"} {
		if slices.Contains(needs[s], StepDeployInfra) {
			t.Errorf("%s waits for deploy-infra: %v", s, needs[s])
		}
		if !slices.Contains(needs[s], StepMigrate) {
			t.Errorf("%s does not wait for the migration: %v", s, needs[s])
		}
	}
	if !slices.Equal(needs[StepDeployInfra], []string{StepMigrate}) {
		t.Errorf("deploy-infra needs %v, want [migrate]", needs[StepDeployInfra])
	}
}

// On a first deploy there is no service to borrow a task definition from:
// the migration runs right after deploy-infra, before the frontend
// publish, and the followers wait for the new stacks' outputs.
func TestFirstDeployMigratesAfterInfra(t *testing.T) {
	f := &fake{first: true}
	rep, err := run(t, awsPipeline(f))
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	before(t, f, "deploy-infra", "migrate")
	before(t, f, "migrate", "publish:frontend")
	if got := f.calls[f.index(t, "migrate")]; got != "migrate "+digestOf("backend")+" cluster=c1" {
		t.Errorf("migrate called as %q, want the outputs of the new stacks", got)
	}
	if got := f.calls[f.index(t, "rollout:backend")]; !strings.HasSuffix(got, "cluster=c1") {
		t.Errorf("the follower did not wait for the new stacks: %q", got)
	}
	if n := strings.Count(strings.Join(f.calls, "\n"), "migrate "); n != 1 {
		t.Errorf("migration ran %d times: %v", n, f.calls)
	}
	st, _ := rep.Step(StepMigrate)
	if !st.Deliberate || !strings.Contains(st.Reason, "first deploy") {
		t.Errorf("migrate step: %+v", st)
	}
}

// A follower that sees its deployment fail stops deploy-infra at once
// instead of waiting for CloudFormation's slow rollback.
func TestFailedFollowerStopsDeployInfra(t *testing.T) {
	f := &fake{hang: true, fail: map[string]error{"rollout:qdrant": errors.New("rolled back by the deployment circuit breaker")}}
	rep, err := run(t, awsPipeline(f))
	if err == nil || !strings.Contains(err.Error(), "rolled back by the deployment circuit breaker") {
		t.Fatalf("error = %v", err)
	}
	st, _ := rep.Step(StepDeployInfra)
	if st.Status != steps.StatusFailed || !strings.Contains(st.Err, "stopped because rollout:qdrant failed") {
		t.Fatalf("deploy-infra = %+v", st)
	}
	for _, c := range []string{"publish:", "verify"} {
		if f.called(c) {
			t.Errorf("%s ran after a failed rollout", c)
		}
	}
}

// A failed test pushes nothing and deploys nothing.
func TestFailedTestPushesNothing(t *testing.T) {
	f := &fake{fail: map[string]error{"test": errors.New("--- FAIL: TestHealth")}}
	rep, err := run(t, awsPipeline(f))
	if err == nil || !strings.Contains(err.Error(), "step test failed: --- FAIL: TestHealth") {
		t.Fatalf("error = %v", err)
	}
	for _, c := range []string{"push:", "synth", "deploy-infra", "migrate", "rollout:", "publish:", "verify"} {
		if f.called(c) {
			t.Errorf("%s ran although the tests failed: %v", c, f.calls)
		}
	}
	// Builds and the CDK compile are not gated: they overlap with the tests.
	for _, c := range []string{"build:backend", "build:qdrant", "build:frontend", "prepare-infra"} {
		if !f.called(c) {
			t.Errorf("%s did not run: %v", c, f.calls)
		}
	}
	st, _ := rep.Step(PushStep("backend"))
	if st.Status != steps.StatusSkipped || !strings.Contains(st.Reason, "test") {
		t.Errorf("push step = %+v, want skipped because of test", st)
	}
}

// A failed rollout fails the run and skips verify; the frontend publish,
// independent of it, still completes.
func TestFailedRolloutFailsTheRun(t *testing.T) {
	f := &fake{fail: map[string]error{"rollout:qdrant": errors.New("rolled back by the deployment circuit breaker")}}
	rep, err := run(t, awsPipeline(f))
	if err == nil || !strings.Contains(err.Error(), "step rollout:qdrant failed: rolled back by the deployment circuit breaker") {
		t.Fatalf("error = %v", err)
	}
	if f.called("verify") {
		t.Fatal("verify ran after a failed rollout")
	}
	if st, _ := rep.Step(StepPublishSite); st.Status != steps.StatusOK {
		t.Fatalf("publish:frontend = %s, want ok", st.Status)
	}
	if st, _ := rep.Step(RolloutStep("backend")); st.Status != steps.StatusOK {
		t.Fatalf("the other rollout = %s, want ok", st.Status)
	}
	if rep.Succeeded() {
		t.Fatal("report claims success")
	}
}

func TestFailedInfraDeployStopsEveryRelease(t *testing.T) {
	f := &fake{first: true, fail: map[string]error{"deploy-infra": errors.New("CREATE_FAILED")}}
	if _, err := run(t, awsPipeline(f)); err == nil {
		t.Fatal("want an error")
	}
	for _, c := range []string{"migrate", "rollout:", "publish:", "verify"} {
		if f.called(c) {
			t.Errorf("%s ran after the infra deploy failed", c)
		}
	}
}

// A failed migration stops everything after it: the stacks are not
// deployed, so no service moves to the new image, and nothing is
// published: a new frontend must not reach users before the schema its API
// needs.
func TestFailedMigrationStopsReleases(t *testing.T) {
	f := &fake{fail: map[string]error{"migrate": errors.New("alembic exited 1")}}
	if _, err := run(t, awsPipeline(f)); err == nil {
		t.Fatal("want an error")
	}
	for _, c := range []string{"deploy-infra", "rollout:", "publish:", "verify"} {
		if f.called(c) {
			t.Errorf("%s ran after the migration failed: %v", c, f.calls)
		}
	}
}

// A failed preflight pushes nothing.
func TestFailedPreflightPushesNothing(t *testing.T) {
	f := &fake{fail: map[string]error{"preflight": errors.New("account not bootstrapped")}}
	if _, err := run(t, awsPipeline(f)); err == nil || !strings.Contains(err.Error(), "not bootstrapped") {
		t.Fatalf("error = %v", err)
	}
	if f.called("push:") || f.called("synth") {
		t.Errorf("pushed after a failed preflight: %v", f.calls)
	}
}

// The local target: no cloud deploy, releases start right after synth.
func TestLocalShape(t *testing.T) {
	f := &fake{}
	p := &Pipeline{Services: []string{"backend"}, Frontend: true, Tests: f, Build: f, Push: f, Synth: f, Release: f,
		Plans: map[string]string{RolloutStep("backend"): "the gate would check health /health"}}
	st, err := p.Steps()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	needs, plans := map[string][]string{}, map[string]string{}
	for _, s := range st {
		names = append(names, s.Name)
		needs[s.Name] = s.Needs
		if s.Plan != "" {
			plans[s.Name] = s.Plan
		}
	}
	if want := map[string]string{"rollout:backend": "the gate would check health /health"}; !maps.Equal(plans, want) {
		t.Errorf("plan lines = %v, want %v", plans, want)
	}
	want := []string{"test", "build:backend", "build:frontend", "push:backend", "prepare-infra", "synth", "rollout:backend", "publish:frontend", "verify"}
	if !slices.Equal(names, want) {
		t.Fatalf("steps = %v, want %v", names, want)
	}
	if !slices.Contains(needs["rollout:backend"], "synth") || !slices.Contains(needs["publish:frontend"], "test") {
		t.Fatalf("needs = %v", needs)
	}
	if _, err := p.Run(context.Background(), steps.Options{}); err != nil {
		t.Fatal(err)
	}
	if f.called("deploy-infra") || f.called("migrate") {
		t.Fatalf("local ran cloud steps: %v", f.calls)
	}
}

// On a target without infrastructure, a service's rollout waits for the
// services it uses (After), and is skipped when one of them fails.
func TestLocalRolloutWaitsForTheServicesItUses(t *testing.T) {
	f := &fake{}
	p := &Pipeline{Services: []string{"backend", "qdrant"}, Build: f, Push: f, Release: f, After: map[string][]string{"backend": {"qdrant"}}}
	if _, err := run(t, p); err != nil {
		t.Fatal(err)
	}
	before(t, f, "rollout:qdrant", "rollout:backend")

	f = &fake{fail: map[string]error{"rollout:qdrant": errors.New("qdrant did not start")}}
	p = &Pipeline{Services: []string{"backend", "qdrant"}, Build: f, Push: f, Release: f, After: map[string][]string{"backend": {"qdrant"}}}
	rep, err := run(t, p)
	if err == nil || f.called("rollout:backend") {
		t.Fatalf("backend rolled out although qdrant failed (err %v): %v", err, f.calls)
	}
	if st, _ := rep.Step(RolloutStep("backend")); st.Status != steps.StatusSkipped || !slices.Contains(st.Needs, "rollout:qdrant") {
		t.Errorf("rollout:backend = %+v, want skipped, needing rollout:qdrant", st)
	}
}

// Without a CDK app or tests, releases follow the pushes directly.
func TestMinimalShape(t *testing.T) {
	f := &fake{}
	p := &Pipeline{Services: []string{"api"}, Build: f, Push: f, Release: f}
	st, err := p.Steps()
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 4 || st[2].Name != "rollout:api" || !slices.Equal(st[2].Needs, []string{"push:api"}) {
		t.Fatalf("steps = %+v", st)
	}
}

func TestInvalidPipeline(t *testing.T) {
	_, err := (&Pipeline{Migrate: "db", Infra: &fake{}}).Steps()
	for _, w := range []string{"at least one service", "a Builder", "a Pusher", "a Releaser", `migration service "db"`, "a Synthesizer", "a Follower"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not mention %q", err, w)
		}
	}
}

func TestOutputsRequire(t *testing.T) {
	out := Outputs{contract.OutputCluster: "c"}
	if v, err := out.Require(contract.OutputCluster); err != nil || v != "c" {
		t.Fatalf("got %q, %v", v, err)
	}
	_, err := out.Require("BackendServiceName")
	if !errors.Is(err, ErrNoOutput) || !strings.Contains(err.Error(), "BackendServiceName (the stacks output [ClusterName])") {
		t.Fatalf("error = %v", err)
	}
}
