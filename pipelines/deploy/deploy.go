// Package deploy is the shape of `dagger call deploy`: which steps exist,
// what each needs, and which artifacts flow between them (image digests into
// synth and rollouts, stack outputs into rollouts, the frontend publish and
// the health check). The same graph ships to AWS and to the local target;
// only the implementations behind the small interfaces below differ, so
// ordering and failure propagation are tested here with fakes, without an
// engine or an AWS account.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"

	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// Image is a service image in the registry.
type Image struct {
	Service string
	// Ref is the digest-pinned reference, repository@sha256:….
	Ref string
	// Pushed is false when the registry already had the digest.
	Pushed bool
}

// Outputs are the addresses of the deployed environment: CloudFormation
// stack outputs on AWS, service endpoints locally.
type Outputs map[string]string

// Tester runs every test suite.
type Tester interface {
	Test(ctx context.Context) (steps.Outcome, error)
}

// Builder builds the service images and the frontend.
type Builder interface {
	BuildImage(ctx context.Context, service string) (steps.Outcome, error)
	BuildFrontend(ctx context.Context) (steps.Outcome, error)
}

// Pusher puts a built image in the registry.
type Pusher interface {
	Push(ctx context.Context, service string) (Image, steps.Outcome, error)
}

// Assembly is a synthesized CDK app (cdk.out), as synth hands it to the
// steps after it.
type Assembly struct {
	// ID identifies the assembly to whoever synthesized it (in ci/, a
	// Dagger directory ID); it is opaque here.
	ID string
	// Stacks are the stack names, in deploy order.
	Stacks []string
	// Env is the environment the assembly was synthesized for.
	Env string
	// Context is the CDK context it was synthesized with (image digests
	// included).
	Context map[string]string
}

// Synthesizer turns the CDK app into a cloud assembly pinned to the images.
type Synthesizer interface {
	// Prepare compiles the CDK app; it runs in parallel with the builds.
	Prepare(ctx context.Context) (steps.Outcome, error)
	Synth(ctx context.Context, images []Image) (Assembly, steps.Outcome, error)
}

// Preflighter checks, read-only, that the target can take a deploy. It
// runs in parallel with the tests and gates every push with them.
type Preflighter interface {
	Preflight(ctx context.Context) (steps.Outcome, error)
}

// InfraDeployer applies the synthesized assembly and reads its outputs.
type InfraDeployer interface {
	// Current checks the assembly against the account, changing no
	// resource, and returns the outputs of its stacks that already exist:
	// none on a first deploy.
	Current(ctx context.Context, asm Assembly) (Outputs, steps.Outcome, error)
	// DeployInfra applies the assembly and returns the outputs of every
	// stack.
	DeployInfra(ctx context.Context, asm Assembly) (Outputs, steps.Outcome, error)
}

// Follower judges the deployment of one service that DeployInfra starts.
// It runs while DeployInfra does.
type Follower interface {
	Follow(ctx context.Context, image Image, infra *InfraRun) (steps.Outcome, error)
}

// Releaser puts the new images and site in front of users and checks them.
type Releaser interface {
	// Migrate runs the one-off migration with the new image.
	Migrate(ctx context.Context, image Image, out Outputs) (steps.Outcome, error)
	// Rollout moves one service to its new image.
	Rollout(ctx context.Context, image Image, out Outputs) (steps.Outcome, error)
	// PublishFrontend puts the built frontend where users load it.
	PublishFrontend(ctx context.Context, out Outputs) (steps.Outcome, error)
	// Verify checks health and the index page once everything is out.
	Verify(ctx context.Context, images []Image, out Outputs) (steps.Outcome, error)
}

// Pipeline describes one deploy. A nil dependency leaves its steps out:
// the local target has no InfraDeployer, an app without a CDK app no
// Synthesizer.
//
// With an InfraDeployer the release model is "migrate first, the
// infrastructure deploy moves the services, stevedore follows": after synth,
// check-stacks reads the stacks that exist; migrate runs the migration with
// the new image before deploy-infra; deploy-infra applies the assembly while
// one rollout step per service follows the deployment it starts; the
// frontend is published after deploy-infra, and verify runs last. On a
// first deploy (no stacks yet) there is nothing to migrate against: the
// migration runs right after deploy-infra instead (migrate:first-deploy).
type Pipeline struct {
	// Services are the image names, in the app description's order.
	Services []string
	// Frontend says whether the app has a frontend.
	Frontend bool
	// Migrate names the service whose new image runs the migration; empty
	// for none.
	Migrate string

	// Given are the images of a release that is not built (promote,
	// rollback): with them there is no test, build or push step, synth
	// uses these digests, and the frontend publish needs no build (the
	// Releaser publishes the site it was given).
	Given []Image
	// SkipMigrate, when set, lists the migration steps as skipped for this
	// reason (a rollback does not run, nor reverse, a migration).
	SkipMigrate string

	Tests     Tester
	Preflight Preflighter
	Build     Builder
	Push      Pusher
	Synth     Synthesizer
	Infra     InfraDeployer
	// Follow is required with Infra: it replaces Release.Rollout.
	Follow Follower
	// NoInfra, without an Infra, lists deploy-infra in the report as
	// skipped for this reason (the local target synthesizes the CDK app but
	// has no account to deploy it to).
	NoInfra string
	Release Releaser
	// Plans says, by step name, what a plan shows a step would do (a
	// gated rollout's checks); it changes no step.
	Plans map[string]string
	// After, without an Infra, lists by service the services whose
	// rollout its rollout waits for: the local target starts an internal
	// service before the services that use it. (With an Infra the stacks
	// order the services.)
	After map[string][]string

	mu       sync.Mutex
	images   map[string]Image
	assembly Assembly
	current  Outputs
	outputs  Outputs
	infra    *InfraRun
}

// Step names, shared by the report and the tests.
const (
	StepTest          = "test"
	StepPreflight     = "preflight"
	StepBuildFrontend = "build:frontend"
	StepPrepareInfra  = "prepare-infra"
	StepSynth         = "synth"
	StepCheckStacks   = "check-stacks"
	StepDeployInfra   = "deploy-infra"
	StepMigrate       = "migrate"
	StepMigrateFirst  = "migrate:first-deploy"
	StepPublishSite   = "publish:frontend"
	StepVerify        = "verify"
)

// BuildStep, PushStep and RolloutStep name the per-service steps.
func BuildStep(service string) string   { return "build:" + service }
func PushStep(service string) string    { return "push:" + service }
func RolloutStep(service string) string { return "rollout:" + service }

// Steps returns the graph. Tests (and the preflight) gate every push:
// nothing reaches a registry unless all tests passed.
func (p *Pipeline) Steps() ([]steps.Step, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	p.images, p.outputs, p.current = map[string]Image{}, Outputs{}, Outputs{}
	p.assembly, p.infra = Assembly{}, newInfraRun()
	p.infra.current = p.currentOutputs
	var out []steps.Step
	add := func(name string, needs []string, run func(context.Context) (steps.Outcome, error)) {
		out = append(out, steps.Step{Name: name, Needs: needs, Run: run, Plan: p.Plans[name]})
	}
	var gate []string // what must pass before anything leaves the machine
	if p.given() {
		p.givenSteps(add)
		return out, nil
	}
	if p.Tests != nil {
		gate = append(gate, StepTest)
		add(StepTest, nil, p.Tests.Test)
	}
	if p.Preflight != nil {
		gate = append(gate, StepPreflight)
		add(StepPreflight, nil, p.Preflight.Preflight)
	}
	for _, s := range p.Services {
		add(BuildStep(s), nil, func(ctx context.Context) (steps.Outcome, error) { return p.Build.BuildImage(ctx, s) })
	}
	if p.Frontend {
		add(StepBuildFrontend, nil, p.Build.BuildFrontend)
	}
	var pushes []string
	for _, s := range p.Services {
		pushes = append(pushes, PushStep(s))
		add(PushStep(s), append([]string{BuildStep(s)}, gate...), func(ctx context.Context) (steps.Outcome, error) {
			img, o, err := p.Push.Push(ctx, s)
			if err == nil {
				p.setImage(img)
			}
			return o, err
		})
	}
	// released is what a release step waits for: the infra when there is
	// some, the pushed images otherwise.
	released := pushes
	if p.Synth != nil {
		add(StepPrepareInfra, nil, p.Synth.Prepare)
		add(StepSynth, append([]string{StepPrepareInfra}, pushes...), func(ctx context.Context) (steps.Outcome, error) {
			asm, o, err := p.Synth.Synth(ctx, p.Images())
			if err == nil {
				p.setAssembly(asm)
			}
			return o, err
		})
		released = []string{StepSynth}
	}
	if p.Infra != nil {
		p.infraSteps(add, gate)
		return out, nil
	}
	if p.NoInfra != "" && p.Synth != nil {
		out = append(out, steps.Step{Name: StepDeployInfra, Needs: []string{StepSynth}, Skip: p.NoInfra})
	}
	if p.Migrate != "" {
		add(StepMigrate, union(released, []string{PushStep(p.Migrate)}), func(ctx context.Context) (steps.Outcome, error) {
			return p.Release.Migrate(ctx, p.image(p.Migrate), p.Outputs())
		})
		released = []string{StepMigrate}
	}
	var live []string
	for _, s := range p.Services {
		live = append(live, RolloutStep(s))
		needs := union(released, []string{PushStep(s)})
		for _, dep := range p.After[s] {
			needs = union(needs, []string{RolloutStep(dep)})
		}
		add(RolloutStep(s), needs, func(ctx context.Context) (steps.Outcome, error) {
			return p.Release.Rollout(ctx, p.image(s), p.Outputs())
		})
	}
	if p.Frontend {
		live = append(live, StepPublishSite)
		add(StepPublishSite, union(released, append([]string{StepBuildFrontend}, gate...)), func(ctx context.Context) (steps.Outcome, error) {
			return p.Release.PublishFrontend(ctx, p.Outputs())
		})
	}
	add(StepVerify, live, func(ctx context.Context) (steps.Outcome, error) {
		return p.Release.Verify(ctx, p.Images(), p.Outputs())
	})
	return out, nil
}

// infraSteps adds the release model of a target with infrastructure (see
// Pipeline): check-stacks, migrate, deploy-infra with its followers, the
// first-deploy migration, the frontend publish and verify.
func (p *Pipeline) infraSteps(add func(string, []string, func(context.Context) (steps.Outcome, error)), gate []string) {
	add(StepCheckStacks, []string{StepSynth}, func(ctx context.Context) (steps.Outcome, error) {
		cur, o, err := p.Infra.Current(ctx, p.assemblyOf())
		if err == nil {
			p.setCurrent(cur)
		}
		return o, err
	})
	before := []string{StepCheckStacks} // what deploy-infra and the followers wait for
	if p.Migrate != "" {
		add(StepMigrate, append([]string{StepCheckStacks}, p.pushed(p.Migrate)...), func(ctx context.Context) (steps.Outcome, error) {
			if p.SkipMigrate != "" {
				return steps.Outcome{Skipped: p.SkipMigrate}, nil
			}
			if p.firstDeploy() {
				return steps.Outcome{Skipped: "first deploy, no stacks yet: the migration runs right after deploy-infra"}, nil
			}
			return p.Release.Migrate(ctx, p.image(p.Migrate), p.currentOutputs())
		})
		before = []string{StepMigrate}
	}
	add(StepDeployInfra, before, func(ctx context.Context) (steps.Outcome, error) {
		ctx, done := p.infra.start(ctx)
		defer done()
		res, o, err := p.Infra.DeployInfra(ctx, p.assemblyOf())
		if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
			err = fmt.Errorf("stopped because %w (CloudFormation rolls the stack back by itself): %v", cause, err)
		}
		if err == nil {
			p.setOutputs(res)
		}
		p.infra.finish(res, err)
		return o, err
	})
	after := []string{StepDeployInfra} // what the frontend and verify wait for
	if p.Migrate != "" {
		add(StepMigrateFirst, []string{StepDeployInfra}, func(ctx context.Context) (steps.Outcome, error) {
			if p.SkipMigrate != "" {
				return steps.Outcome{Skipped: p.SkipMigrate}, nil
			}
			if !p.firstDeploy() {
				return steps.Outcome{Skipped: "not a first deploy: the migration ran before deploy-infra"}, nil
			}
			return p.Release.Migrate(context.WithValue(ctx, firstDeployKey{}, true), p.image(p.Migrate), p.Outputs())
		})
		after = []string{StepMigrateFirst}
	}
	live := append([]string{}, after...)
	for _, s := range p.Services {
		live = append(live, RolloutStep(s))
		add(RolloutStep(s), union(before, p.pushed(s)), func(ctx context.Context) (steps.Outcome, error) {
			o, err := p.Follow.Follow(ctx, p.image(s), p.infra)
			if err != nil {
				p.infra.stop(fmt.Errorf("%s failed", RolloutStep(s)))
			}
			return o, err
		})
	}
	if p.Frontend {
		live = append(live, StepPublishSite)
		add(StepPublishSite, union(after, p.built(gate)), func(ctx context.Context) (steps.Outcome, error) {
			return p.Release.PublishFrontend(ctx, p.Outputs())
		})
	}
	add(StepVerify, live, func(ctx context.Context) (steps.Outcome, error) {
		return p.Release.Verify(ctx, p.Images(), p.Outputs())
	})
}

// given reports whether the pipeline releases given images.
func (p *Pipeline) given() bool { return len(p.Given) > 0 }

// givenSteps is the graph of a release without a build: preflight, synth
// on the given digests, then the release model of infraSteps.
func (p *Pipeline) givenSteps(add func(string, []string, func(context.Context) (steps.Outcome, error))) {
	for _, img := range p.Given {
		p.images[img.Service] = img
	}
	var gate []string
	if p.Preflight != nil {
		gate = []string{StepPreflight}
		add(StepPreflight, nil, p.Preflight.Preflight)
	}
	add(StepPrepareInfra, nil, p.Synth.Prepare)
	add(StepSynth, append([]string{StepPrepareInfra}, gate...), func(ctx context.Context) (steps.Outcome, error) {
		asm, o, err := p.Synth.Synth(ctx, p.Images())
		if err == nil {
			p.setAssembly(asm)
		}
		return o, err
	})
	p.infraSteps(add, gate)
}

// pushed is what a step using service's image waits for: its push, or
// nothing when the image was given.
func (p *Pipeline) pushed(service string) []string {
	if p.given() {
		return nil
	}
	return []string{PushStep(service)}
}

// built is what the frontend publish waits for besides the infra: the
// build and the gate, or nothing when the release was given.
func (p *Pipeline) built(gate []string) []string {
	if p.given() {
		return nil
	}
	return append([]string{StepBuildFrontend}, gate...)
}

func (p *Pipeline) validate() error {
	var missing []string
	if len(p.Services) == 0 {
		missing = append(missing, "at least one service")
	}
	if p.given() {
		return p.validateGiven()
	}
	if p.Build == nil {
		missing = append(missing, "a Builder")
	}
	if p.Push == nil {
		missing = append(missing, "a Pusher")
	}
	if p.Release == nil {
		missing = append(missing, "a Releaser")
	}
	if p.Infra != nil && p.Synth == nil {
		missing = append(missing, "a Synthesizer (the InfraDeployer applies its assembly)")
	}
	if p.Infra != nil && p.Follow == nil {
		missing = append(missing, "a Follower (the InfraDeployer moves the services)")
	}
	if p.Migrate != "" && !slices.Contains(p.Services, p.Migrate) {
		missing = append(missing, fmt.Sprintf("migration service %q among the services", p.Migrate))
	}
	if len(missing) > 0 {
		return fmt.Errorf("deploy pipeline needs %v", missing)
	}
	return nil
}

// validateGiven checks a release of given images: every service has one,
// and there is infrastructure to deploy them with.
func (p *Pipeline) validateGiven() error {
	var missing []string
	for _, s := range p.Services {
		if !slices.ContainsFunc(p.Given, func(img Image) bool { return img.Service == s && img.Ref != "" }) {
			missing = append(missing, fmt.Sprintf("an image for service %s", s))
		}
	}
	for _, img := range p.Given {
		if !slices.Contains(p.Services, img.Service) {
			missing = append(missing, fmt.Sprintf("service %q (an image was given for it) among the services", img.Service))
		}
	}
	if p.Synth == nil || p.Infra == nil || p.Follow == nil || p.Release == nil {
		missing = append(missing, "a Synthesizer, an InfraDeployer, a Follower and a Releaser (a release of given images deploys infrastructure)")
	}
	if p.Tests != nil || p.Build != nil || p.Push != nil {
		missing = append(missing, "no Tester, Builder or Pusher (given images are not tested, built or pushed again)")
	}
	if p.Migrate != "" && !slices.Contains(p.Services, p.Migrate) {
		missing = append(missing, fmt.Sprintf("migration service %q among the services", p.Migrate))
	}
	if len(missing) > 0 {
		return fmt.Errorf("deploy pipeline of given images needs %v", missing)
	}
	return nil
}

// Run executes the pipeline and returns its report.
func (p *Pipeline) Run(ctx context.Context, o steps.Options) (*steps.Report, error) {
	st, err := p.Steps()
	if err != nil {
		return nil, err
	}
	return steps.Run(ctx, st, o)
}

func (p *Pipeline) setImage(img Image) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.images[img.Service] = img
}

func (p *Pipeline) image(service string) Image {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.images[service]
}

// Images returns the pushed images, in service order.
func (p *Pipeline) Images() []Image {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Image
	for _, s := range p.Services {
		if img, ok := p.images[s]; ok {
			out = append(out, img)
		}
	}
	return out
}

func (p *Pipeline) setAssembly(a Assembly) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.assembly = a
}

// assemblyOf returns what synth produced (zero before synth).
func (p *Pipeline) assemblyOf() Assembly {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.assembly
}

// Stacks are the stacks of the synthesized assembly, in deploy order.
func (p *Pipeline) Stacks() []string {
	return slices.Clone(p.assemblyOf().Stacks)
}

func (p *Pipeline) setCurrent(out Outputs) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.current = out
}

// currentOutputs returns a copy of the outputs the stacks had before this deploy.
func (p *Pipeline) currentOutputs() Outputs {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.current)
}

// firstDeploy reports whether check-stacks found no stack of the assembly.
func (p *Pipeline) firstDeploy() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.current) == 0
}

func (p *Pipeline) setOutputs(out Outputs) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.outputs = out
}

// Outputs returns a copy of the deployed environment's outputs.
func (p *Pipeline) Outputs() Outputs {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := Outputs{}
	maps.Copy(c, p.outputs)
	return c
}

// ErrNoOutput is wrapped by Outputs.Require when a key is missing.
var ErrNoOutput = errors.New("missing stack output")

// Require returns the value of key or an error naming it.
func (o Outputs) Require(key string) (string, error) {
	if v := o[key]; v != "" {
		return v, nil
	}
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return "", fmt.Errorf("%w %s (the stacks output %v): the CDK app must export it", ErrNoOutput, key, keys)
}

func union(a, b []string) []string {
	out := append([]string{}, a...)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

type firstDeployKey struct{}

// FirstDeploy reports whether a Releaser's Migrate runs after the first
// deploy-infra of an environment: the services already run the new image
// (they started with it), and the migration must run all the same.
func FirstDeploy(ctx context.Context) bool {
	v, _ := ctx.Value(firstDeployKey{}).(bool)
	return v
}

// InfraRun is the infrastructure deploy as the followers see it while it
// runs: the outputs from before it and, once it ended, its result.
type InfraRun struct {
	done    chan struct{}
	once    sync.Once
	current func() Outputs
	out     Outputs
	err     error

	mu     sync.Mutex
	cancel context.CancelCauseFunc // of the running deploy
	abort  error                   // why a follower stopped it
}

func newInfraRun() *InfraRun {
	return &InfraRun{done: make(chan struct{}), current: func() Outputs { return nil }}
}

// start gives the deploy a context that a failed follower cancels.
func (r *InfraRun) start(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cancel = cancel
	if r.abort != nil {
		cancel(r.abort)
	}
	return ctx, func() { cancel(nil) }
}

// stop ends a running (or not yet started) deploy because of cause: a
// follower saw its service's deployment fail, so waiting for the
// infrastructure tool to notice serves nobody. CloudFormation rolls the
// stack back by itself.
func (r *InfraRun) stop(cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.abort == nil {
		r.abort = cause
	}
	if r.cancel != nil {
		r.cancel(cause)
	}
}

func (r *InfraRun) finish(out Outputs, err error) {
	r.once.Do(func() {
		r.out, r.err = out, err
		close(r.done)
	})
}

// Current returns the outputs of the stacks that existed before the deploy
// (empty on a first deploy).
func (r *InfraRun) Current() Outputs { return maps.Clone(r.current()) }

// Done is closed when the deploy ended, successfully or not.
func (r *InfraRun) Done() <-chan struct{} { return r.done }

// Wait blocks until the deploy ended and returns its outputs or its error.
func (r *InfraRun) Wait(ctx context.Context) (Outputs, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-r.done:
		return maps.Clone(r.out), r.err
	}
}
