package deploy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// fake records every call in order and fails the calls it is told to.
type fake struct {
	mu    sync.Mutex
	calls []string
	fail  map[string]error
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
func (f *fake) Synth(ctx context.Context, images []Image) (steps.Outcome, error) {
	return steps.Outcome{}, f.record("synth " + refs(images))
}
func (f *fake) DeployInfra(ctx context.Context) (Outputs, steps.Outcome, error) {
	err := f.record("deploy-infra")
	return Outputs{"ClusterName": "c1", "HealthUrl": "http://lb/health"}, steps.Outcome{}, err
}
func (f *fake) Migrate(ctx context.Context, img Image, out Outputs) (steps.Outcome, error) {
	return steps.Outcome{}, f.record(fmt.Sprintf("migrate %s cluster=%s", img.Ref, out["ClusterName"]))
}
func (f *fake) Rollout(ctx context.Context, img Image, out Outputs) (steps.Outcome, error) {
	return steps.Outcome{}, f.record(fmt.Sprintf("rollout:%s %s cluster=%s", img.Service, img.Ref, out["ClusterName"]))
}
func (f *fake) PublishFrontend(ctx context.Context, out Outputs) (steps.Outcome, error) {
	return steps.Outcome{}, f.record("publish:frontend cluster=" + out["ClusterName"])
}
func (f *fake) Verify(ctx context.Context, images []Image, out Outputs) (steps.Outcome, error) {
	return steps.Outcome{}, f.record("verify " + refs(images) + " " + out["HealthUrl"])
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
		Tests: f, Build: f, Push: f, Synth: f, Infra: f, Release: f,
	}
}

func run(t *testing.T, p *Pipeline) (*steps.Report, error) {
	t.Helper()
	return p.Run(context.Background(), steps.Options{})
}

// The AWS target calls everything in the right order with the right digests.
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
		before := func(a, b string) {
			t.Helper()
			if f.index(t, a) >= f.index(t, b) {
				t.Fatalf("%s must come before %s: %v", a, b, f.calls)
			}
		}
		for _, s := range []string{"backend", "qdrant"} {
			before("test", "push:"+s)
			before("build:"+s, "push:"+s)
			before("push:"+s, "synth")
			before("migrate", "rollout:"+s)
		}
		before("prepare-infra", "synth")
		before("synth", "deploy-infra")
		before("deploy-infra", "migrate")
		before("migrate", "publish:frontend")
		before("build:frontend", "publish:frontend")
		before("rollout:backend", "verify")
		before("rollout:qdrant", "verify")
		before("publish:frontend", "verify")

		want := map[string]string{
			"synth":            "synth " + digestOf("backend") + "," + digestOf("qdrant"),
			"migrate":          "migrate " + digestOf("backend") + " cluster=c1",
			"rollout:backend":  "rollout:backend " + digestOf("backend") + " cluster=c1",
			"rollout:qdrant":   "rollout:qdrant " + digestOf("qdrant") + " cluster=c1",
			"publish:frontend": "publish:frontend cluster=c1",
			"verify":           "verify " + digestOf("backend") + "," + digestOf("qdrant") + " http://lb/health",
		}
		for prefix, call := range want {
			if got := f.calls[f.index(t, prefix)]; got != call {
				t.Errorf("%s called as %q, want %q", prefix, got, call)
			}
		}
		if len(f.calls) != 14 {
			t.Fatalf("%d calls, want 14: %v", len(f.calls), f.calls)
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
	f := &fake{fail: map[string]error{"deploy-infra": errors.New("CREATE_FAILED")}}
	if _, err := run(t, awsPipeline(f)); err == nil {
		t.Fatal("want an error")
	}
	for _, c := range []string{"migrate", "rollout:", "publish:", "verify"} {
		if f.called(c) {
			t.Errorf("%s ran after the infra deploy failed", c)
		}
	}
}

// Rollouts and the frontend publish follow the migration: a new frontend
// must not reach users before the schema its API needs.
func TestFailedMigrationStopsReleases(t *testing.T) {
	f := &fake{fail: map[string]error{"migrate": errors.New("alembic exited 1")}}
	if _, err := run(t, awsPipeline(f)); err == nil {
		t.Fatal("want an error")
	}
	if f.called("rollout:") || f.called("publish:") {
		t.Errorf("a release ran after the migration failed: %v", f.calls)
	}
}

// The local target: no cloud deploy, releases start right after synth.
func TestLocalShape(t *testing.T) {
	f := &fake{}
	p := &Pipeline{Services: []string{"backend"}, Frontend: true, Tests: f, Build: f, Push: f, Synth: f, Release: f}
	st, err := p.Steps()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	needs := map[string][]string{}
	for _, s := range st {
		names = append(names, s.Name)
		needs[s.Name] = s.Needs
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
	_, err := (&Pipeline{Migrate: "db"}).Steps()
	for _, w := range []string{"at least one service", "a Builder", "a Pusher", "a Releaser", `migration service "db"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not mention %q", err, w)
		}
	}
}

func TestOutputsRequire(t *testing.T) {
	out := Outputs{"ClusterName": "c"}
	if v, err := out.Require("ClusterName"); err != nil || v != "c" {
		t.Fatalf("got %q, %v", v, err)
	}
	_, err := out.Require("BackendServiceName")
	if !errors.Is(err, ErrNoOutput) || !strings.Contains(err.Error(), "BackendServiceName (the stacks output [ClusterName])") {
		t.Fatalf("error = %v", err)
	}
}
