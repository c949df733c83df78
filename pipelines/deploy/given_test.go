package deploy

import (
	"slices"
	"strings"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

func givenPipeline(f *fake, skipMigrate string) *Pipeline {
	return &Pipeline{
		Services: []string{"backend", "qdrant"}, Frontend: true, Migrate: "backend", SkipMigrate: skipMigrate,
		Given:     []Image{{Service: "backend", Ref: digestOf("b2")}, {Service: "qdrant", Ref: digestOf("q2")}},
		Preflight: f, Synth: f, Infra: f, Follow: f, Release: f,
	}
}

// A release of given images has no test, build or push step; synth gets
// the given digests; the release model is the deploy's (check-stacks,
// migrate, deploy-infra with the followers, the frontend, verify).
func TestGivenGraphShape(t *testing.T) {
	p := givenPipeline(&fake{}, "")
	st, err := p.Steps()
	if err != nil {
		t.Fatal(err)
	}
	needs := map[string][]string{}
	var names []string
	for _, s := range st {
		names = append(names, s.Name)
		needs[s.Name] = s.Needs
	}
	want := []string{StepPreflight, StepPrepareInfra, StepSynth, StepCheckStacks, StepMigrate, StepDeployInfra, StepMigrateFirst,
		RolloutStep("backend"), RolloutStep("qdrant"), StepPublishSite, StepVerify}
	if !slices.Equal(names, want) {
		t.Fatalf("steps %v, want %v", names, want)
	}
	for name, n := range map[string][]string{
		StepSynth:              {StepPrepareInfra, StepPreflight},
		StepMigrate:            {StepCheckStacks},
		StepDeployInfra:        {StepMigrate},
		RolloutStep("backend"): {StepMigrate},
		StepPublishSite:        {StepMigrateFirst},
		StepVerify:             {StepMigrateFirst, RolloutStep("backend"), RolloutStep("qdrant"), StepPublishSite},
	} {
		if !slices.Equal(needs[name], n) {
			t.Errorf("%s needs %v, want %v", name, needs[name], n)
		}
	}
}

// Running it calls synth and verify with the given digests and never a
// test, a build or a push.
func TestGivenRunsWithTheGivenDigests(t *testing.T) {
	f := &fake{}
	rep, err := run(t, givenPipeline(f, ""))
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	refs := digestOf("b2") + "," + digestOf("q2")
	if got := f.calls[f.index(t, "synth")]; got != "synth "+refs {
		t.Fatalf("synth called as %q", got)
	}
	if got := f.calls[f.index(t, "migrate")]; got != "migrate "+digestOf("b2")+" cluster=c0" {
		t.Fatalf("migrate called as %q", got)
	}
	for _, c := range f.calls {
		if strings.HasPrefix(c, "test") || strings.HasPrefix(c, "build:") || strings.HasPrefix(c, "push:") {
			t.Fatalf("a release of given images called %q: %v", c, f.calls)
		}
	}
	before(t, f, "deploy-infra", "publish:frontend")
	before(t, f, "publish:frontend", "verify")
}

// SkipMigrate lists both migration steps as skipped with the reason and
// runs no migration.
func TestGivenSkipMigrate(t *testing.T) {
	f := &fake{}
	rep, err := run(t, givenPipeline(f, "a rollback does not run migrations"))
	if err != nil {
		t.Fatal(err)
	}
	if f.called("migrate") {
		t.Fatalf("migration ran: %v", f.calls)
	}
	for _, name := range []string{StepMigrate, StepMigrateFirst} {
		if s, _ := rep.Step(name); s.Status != steps.StatusSkipped || !strings.Contains(s.Summary+s.Reason, "rollback") {
			t.Errorf("%s = %+v", name, s)
		}
	}
}

// A given release must name an image for every service and come without
// a builder; the error says what is missing.
func TestGivenValidation(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(*Pipeline)
		want string
	}{
		"missing image": {func(p *Pipeline) { p.Given = p.Given[:1] }, "an image for service qdrant"},
		"unknown image": {func(p *Pipeline) { p.Given = append(p.Given, Image{Service: "web", Ref: "x"}) }, `service "web"`},
		"no infra":      {func(p *Pipeline) { p.Infra = nil }, "an InfraDeployer"},
		"with a pusher": {func(p *Pipeline) { p.Push = &fake{} }, "no Tester, Builder or Pusher"},
	} {
		t.Run(name, func(t *testing.T) {
			p := givenPipeline(&fake{}, "")
			tc.edit(p)
			_, err := p.Steps()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to name %q", err, tc.want)
			}
		})
	}
}
