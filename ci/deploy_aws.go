package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/awstarget"
	"github.com/stevedore-ci/stevedore/pipelines/cfn"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecr"
	"github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/gate"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// awsTarget is pipelines/awstarget with the engine behind its interfaces:
// the CDK CLI container, the image build and push, the site export.
type awsTarget struct {
	*awstarget.Target
	cleanup func()
}

// awsPlan says how a deploy uses reviewed plans: leave one (plan) or
// execute one by id (deploy --plan ID).
type awsPlan struct {
	leave bool
	id    string
}

// newAWSTarget refuses to start without credentials or without the CDK
// app: the AWS target deploys infrastructure.
func (m *Stevedore) newAWSTarget(ctx context.Context, fn string, app *appspec.App, env string, tags []string, dryRun bool, synth *synthStep, deployTimeout time.Duration, plan awsPlan) (*awsTarget, error) {
	if synth == nil {
		return nil, fmt.Errorf("%s --target aws needs infrastructure: add infra.dir (your CDK app) or the built-in infra description to stevedore.yaml (or use publish and rollout directly)", fn)
	}
	cfg, cleanup, err := m.awsConfig(ctx, fn)
	if err != nil {
		return nil, err
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		cleanup()
		return nil, fmt.Errorf("%s --target aws: no usable AWS credentials: %w", fn, err)
	}
	acct := m.Aws
	testURL, err := acct.testURL(ctx)
	if err != nil {
		cleanup()
		return nil, err
	}
	images := &engineImages{m: m, app: app, tags: tags}
	t := &awstarget.Target{
		App: app, Env: env, DryRun: dryRun, AWS: cfg,
		CDK:          &cdkRunner{m: m, synth: synth},
		Images:       images,
		ECS:          ecs.New(cfg, ecs.WithLog(func(s string) { log("%s", s) })),
		RegistryHost: acct.RegistryAddress, HealthURL: acct.HealthURL, AllowReplace: acct.AllowReplace,
		TestURL: testURL, Smoke: engineSmoke{acct: acct, src: m.Source},
		DeployTimeout: deployTimeout, LeavePlan: plan.leave, Plan: plan.id,
		Log: func(s string) { log("%s", s) },
	}
	if app.Frontend != nil {
		t.Site = siteExport{m: m, fe: app.Frontend}
		t.SiteImage = siteImage{images: images, fe: app.Frontend}
	}
	if err := t.Check(); err != nil {
		cleanup()
		return nil, err
	}
	images.target = t
	return &awsTarget{Target: t, cleanup: func() {
		// A deploy stopped before deploy-infra leaves no change set behind.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if err := t.Discard(ctx); err != nil {
			log("could not delete the unexecuted change sets: %v", err)
		}
		images.close()
		cleanup()
	}}, nil
}

func (a *awsTarget) close() { a.cleanup() }

// engineSmoke runs a gated service's smokeCommand (smokeCommand) against
// the test route; one on the endpoint's host is reached through the
// endpoint service, under its alias.
type engineSmoke struct {
	acct *AwsAccount
	src  *dagger.Directory // the repository, the command's working directory
}

func (e engineSmoke) RunSmoke(ctx context.Context, service string, cmd appspec.SmokeCommand, testURL, header string, token gate.Token) error {
	var svc *dagger.Service
	if e.acct.TestURL != "" && e.acct.sameHost(e.acct.TestURL) {
		u, _ := url.Parse(e.acct.TestURL)
		_, port, _ := net.SplitHostPort(hostPort(u))
		u.Host = net.JoinHostPort(endpointAlias, port)
		testURL, svc = strings.TrimSuffix(u.String(), "/"), e.acct.EndpointService
	}
	return smokeCommand(ctx, &cmd, e.src, testURL, header, token, svc)
}

// releasePolicy is what the ECR repositories a release pushes to get
// when stevedore creates them.
var releasePolicy = ecr.RepositoryPolicy{ScanOnPush: true, ImmutableTags: true, KeepLast: 30, MutableTags: []string{"latest"}}

// engineImages builds the service images in the engine and pushes them to
// ECR (or the registry address override).
type engineImages struct {
	m      *Stevedore
	app    *appspec.App
	tags   []string
	target *awstarget.Target

	once    sync.Once
	push    *pushTarget
	pushErr error
}

// registry ensures the ECR repositories and logs in, once.
func (e *engineImages) registry(ctx context.Context) (*pushTarget, error) {
	e.once.Do(func() {
		var services []*appspec.Service
		for i := range e.app.Services {
			services = append(services, &e.app.Services[i])
		}
		e.push, e.pushErr = e.m.pushTarget(ctx, e.app, services, releasePolicy)
		if e.pushErr == nil && e.app.Frontend != nil {
			e.pushErr = e.push.addSite(ctx, e.app)
		}
		if e.pushErr == nil && e.target.RegistryHost != "" {
			e.push.host = e.target.RegistryHost
			e.push.dial, e.pushErr = e.m.Aws.registryDial(ctx, e.target.RegistryHost)
		}
	})
	return e.push, e.pushErr
}

func (e *engineImages) close() {
	if e.push != nil {
		e.push.close()
	}
}

func (e *engineImages) Push(ctx context.Context, service string) (deploy.Image, steps.Outcome, error) {
	return e.m.pushService(ctx, e.app, service, e.tags, e.registry)
}

// Digest exports the built image and computes the digest a push gives it.
func (e *engineImages) Digest(ctx context.Context, service string) (string, error) {
	s, err := e.app.Service(service)
	if err != nil {
		return "", err
	}
	img, err := e.m.serviceImage(ctx, s, "")
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "stevedore-plan-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, s.Name+".tar")
	if _, err := img.AsTarball().Export(ctx, file); err != nil {
		return "", fmt.Errorf("building the %s image: %w", service, err)
	}
	return ocipush.LocalDigest(file)
}

// siteImage pushes the built site as an OCI image whose filesystem is the
// site, to the app's site repository: what the release records and what
// promote and rollback republish. The registry skips a digest it has.
type siteImage struct {
	images *engineImages
	fe     *appspec.Frontend
}

// siteContainer is the image of a built site: no base, the site as its
// filesystem.
func siteContainer(dist *dagger.Directory) *dagger.Container {
	return dag.Container().WithRootfs(dist)
}

func (s siteImage) Image(ctx context.Context) (string, error) {
	t, err := s.images.registry(ctx)
	if err != nil {
		return "", err
	}
	p, err := t.push(ctx, siteKey, []*dagger.Container{siteContainer(s.images.m.frontendDist(s.fe))}, s.images.tags)
	if err != nil {
		return "", err
	}
	return p.Ref, nil
}

// cdkRunner runs the CDK CLI in its container on the assembly synth made.
type cdkRunner struct {
	m     *Stevedore
	synth *synthStep

	once   sync.Once
	stacks map[string]cfn.Stack // by CloudFormation stack name
	err    error
}

// stack finds a stack of the assembly by its CloudFormation name.
func (c *cdkRunner) stack(ctx context.Context, asm deploy.Assembly, name string) (cfn.Stack, error) {
	c.once.Do(func() {
		manifest, err := dag.LoadDirectoryFromID(dagger.DirectoryID(asm.ID)).File("manifest.json").Contents(ctx)
		if err != nil {
			c.err = fmt.Errorf("reading the cloud assembly: %w", err)
			return
		}
		stacks, err := cfn.StacksFromAssembly([]byte(manifest))
		c.stacks, c.err = map[string]cfn.Stack{}, err
		for _, s := range stacks {
			c.stacks[s.StackName] = s
		}
	})
	if c.err != nil {
		return cfn.Stack{}, c.err
	}
	s, ok := c.stacks[name]
	if !ok {
		return cfn.Stack{}, fmt.Errorf("stack %s is not in the cloud assembly", name)
	}
	return s, nil
}

// selectors are the names the CDK CLI selects the stacks by: their
// display names (construct paths), not their CloudFormation names.
func (c *cdkRunner) selectors(ctx context.Context, asm deploy.Assembly, stacks []string) ([]string, error) {
	var out []string
	for _, name := range stacks {
		s, err := c.stack(ctx, asm, name)
		if err != nil {
			return nil, err
		}
		out = append(out, cmp.Or(s.DisplayName, s.ID))
	}
	return out, nil
}

func (c *cdkRunner) run(ctx context.Context, asm deploy.Assembly, stacks []string, cmd ...string) (string, error) {
	in := c.synth.inputs
	if in == nil || asm.ID == "" {
		return "", errors.New("no synthesized assembly: synth must run first")
	}
	sel, err := c.selectors(ctx, asm, stacks)
	if err != nil {
		return "", err
	}
	acct, err := c.m.requireAws("deploy")
	if err != nil {
		return "", err
	}
	ctr, err := acct.cdkContainer(ctx, c.m.cdkToolchain(in.infra))
	if err != nil {
		return "", err
	}
	ctr = ctr.WithDirectory(cdkAssembly, dag.LoadDirectoryFromID(dagger.DirectoryID(asm.ID))).
		WithEnvVariable("FORCE_COLOR", "0"). // plain text in logs and the report
		WithEnvVariable("STEVEDORE_RUN", time.Now().UTC().Format(time.RFC3339Nano))
	args := append(append(append([]string{"cdk"}, cmd...), sel...), "--app", cdkAssembly, "--no-notices", "--no-version-reporting")
	out, err := ctr.WithExec(args).CombinedOutput(ctx)
	if err != nil {
		return "", failed("cdk "+cmd[0], "", err)
	}
	return out, nil
}

// Deploy runs cdk deploy of exactly these stacks, without prompts.
func (c *cdkRunner) Deploy(ctx context.Context, asm deploy.Assembly, stacks []string) (string, error) {
	return c.run(ctx, asm, stacks, "deploy", "--require-approval", "never", "--progress", "events", "--exclusively")
}

// Prepare leaves a change set for one stack, not executed (cdk deploy
// --method=prepare-change-set publishes the assets first).
func (c *cdkRunner) Prepare(ctx context.Context, asm deploy.Assembly, stack, name string) (string, error) {
	return c.run(ctx, asm, []string{stack}, "deploy", "--method=prepare-change-set", "--change-set-name", name, "--require-approval", "never", "--progress", "events", "--exclusively")
}

// Diff runs cdk diff of the stacks: the CLI takes stack names, not --all.
func (c *cdkRunner) Diff(ctx context.Context, asm deploy.Assembly, stacks []string) (string, error) {
	return c.run(ctx, asm, stacks, "diff")
}

// Template reads a stack's template from the assembly.
func (c *cdkRunner) Template(ctx context.Context, asm deploy.Assembly, stack string) (string, error) {
	s, err := c.stack(ctx, asm, stack)
	if err != nil {
		return "", err
	}
	return dag.LoadDirectoryFromID(dagger.DirectoryID(asm.ID)).File(s.ID + ".template.json").Contents(ctx)
}

// siteExport writes the built frontend to a local directory.
type siteExport struct {
	m  *Stevedore
	fe *appspec.Frontend
}

func (s siteExport) Export(ctx context.Context, dir string) error {
	_, err := s.m.frontendDist(s.fe).Export(ctx, dir)
	return err
}
