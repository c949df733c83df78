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

// Synthesizer turns the CDK app into a cloud assembly pinned to the images.
type Synthesizer interface {
	// Prepare compiles the CDK app; it runs in parallel with the builds.
	Prepare(ctx context.Context) (steps.Outcome, error)
	Synth(ctx context.Context, images []Image) (steps.Outcome, error)
}

// InfraDeployer applies the synthesized assembly and reads its outputs.
type InfraDeployer interface {
	DeployInfra(ctx context.Context) (Outputs, steps.Outcome, error)
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
type Pipeline struct {
	// Services are the image names, in the app description's order.
	Services []string
	// Frontend says whether the app has a frontend.
	Frontend bool
	// Migrate names the service whose new image runs the migration; empty
	// for none.
	Migrate string

	Tests   Tester
	Build   Builder
	Push    Pusher
	Synth   Synthesizer
	Infra   InfraDeployer
	Release Releaser

	mu      sync.Mutex
	images  map[string]Image
	outputs Outputs
}

// Step names, shared by the report and the tests.
const (
	StepTest          = "test"
	StepBuildFrontend = "build:frontend"
	StepPrepareInfra  = "prepare-infra"
	StepSynth         = "synth"
	StepDeployInfra   = "deploy-infra"
	StepMigrate       = "migrate"
	StepPublishSite   = "publish:frontend"
	StepVerify        = "verify"
)

// BuildStep, PushStep and RolloutStep name the per-service steps.
func BuildStep(service string) string   { return "build:" + service }
func PushStep(service string) string    { return "push:" + service }
func RolloutStep(service string) string { return "rollout:" + service }

// Steps returns the graph. Tests gate every push: nothing reaches a
// registry unless all tests passed.
func (p *Pipeline) Steps() ([]steps.Step, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	p.images, p.outputs = map[string]Image{}, Outputs{}
	var out []steps.Step
	add := func(name string, needs []string, run func(context.Context) (steps.Outcome, error)) {
		out = append(out, steps.Step{Name: name, Needs: needs, Run: run})
	}
	var gate []string // what must pass before anything leaves the machine
	if p.Tests != nil {
		gate = []string{StepTest}
		add(StepTest, nil, p.Tests.Test)
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
			return p.Synth.Synth(ctx, p.Images())
		})
		released = []string{StepSynth}
	}
	if p.Infra != nil {
		add(StepDeployInfra, released, func(ctx context.Context) (steps.Outcome, error) {
			out, o, err := p.Infra.DeployInfra(ctx)
			if err == nil {
				p.setOutputs(out)
			}
			return o, err
		})
		released = []string{StepDeployInfra}
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
		add(RolloutStep(s), union(released, []string{PushStep(s)}), func(ctx context.Context) (steps.Outcome, error) {
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

func (p *Pipeline) validate() error {
	var missing []string
	if len(p.Services) == 0 {
		missing = append(missing, "at least one service")
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
	if p.Migrate != "" && !slices.Contains(p.Services, p.Migrate) {
		missing = append(missing, fmt.Sprintf("migration service %q among the services", p.Migrate))
	}
	if len(missing) > 0 {
		return fmt.Errorf("deploy pipeline needs %v", missing)
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
	for k, v := range p.outputs {
		c[k] = v
	}
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
