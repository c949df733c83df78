package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/release"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// Run the whole pipeline as one parallel graph and print its report.
//
// The report (--format text by default; markdown for a job summary, with a
// Gantt chart; json for scripts) lists every step with its status,
// duration, cache use, digests, URLs and, for a failed step, why it failed.
//
// --target local (the default, no AWS account needed): tests and builds in
// parallel, images pushed to an embedded registry, the CDK app synthesized
// against those digests (deploy-infra is listed as skipped: nothing is
// deployed to AWS), the migration run in a one-off container from the new
// image, the services started from the pushed digests and the frontend
// image, then /health and the index page checked.
//
// --target aws (see with-aws): tests and a read-only preflight of the
// account must pass before anything is pushed; images to ECR, synth pinned
// to their digests, the migration task with the new image, then the stacks
// through reviewed change sets while each ECS deployment they start is
// followed, then the frontend publish and the health check.
//
// A failed step stops the steps that depend on it; the error names it.
// With --dry-run, nothing leaves the machine: see plan. Never cached.
// +cache="never"
func (m *Stevedore) Deploy(
	ctx context.Context,
	// Where to deploy: local or aws.
	// +default="local"
	target string,
	// Environment: dev, staging, prod or one declared in stevedore.yaml (e.g. qa, pr-123).
	// +default="dev"
	env string,
	// Git commit SHA to tag images with, e.g. $GITHUB_SHA (default: a tag
	// derived from the source content).
	// +optional
	gitSha string,
	// Extra image tags, e.g. v1.2.3.
	// +optional
	tag []string,
	// Show what would be built, pushed, deployed, rolled out and uploaded,
	// without side effects.
	// +optional
	dryRun bool,
	// Extra CDK context as KEY=VALUE (env, app and image.* are stevedore's).
	// +optional
	context []string,
	// Report format: text (for a terminal), markdown (a job summary with a
	// Gantt chart) or json (for scripts).
	// +default="text"
	format string,
	// Execute exactly the change sets a reviewed plan left (the id plan
	// --target aws printed); refused if the stacks changed since.
	// +optional
	plan string,
) (string, error) {
	fn, called := "deploy", ""
	if dryRun {
		fn, called = "plan", "deploy --dry-run"
	}
	return m.deploy(ctx, deployRun{fn: fn, called: called, target: target, env: env, gitSha: gitSha, tags: tag, dryRun: dryRun, context: context, format: format, plan: awsPlan{id: plan}})
}

// Show what deploy would do, without deploying anything (deploy --dry-run).
//
// Nothing is built into a registry, deployed or uploaded. On the AWS target
// it leaves one CloudFormation change set per stack, not executed, and
// prints the plan's id: deploy --plan ID executes exactly those after
// review. Never cached.
// +cache="never"
func (m *Stevedore) Plan(
	ctx context.Context,
	// Where to deploy: local or aws.
	// +default="local"
	target string,
	// Environment: dev, staging, prod or one declared in stevedore.yaml (e.g. qa, pr-123).
	// +default="dev"
	env string,
	// Git commit SHA the images would be tagged with.
	// +optional
	gitSha string,
	// Report format: text, markdown or json.
	// +default="text"
	format string,
) (string, error) {
	return m.deploy(ctx, deployRun{fn: "plan", target: target, env: env, gitSha: gitSha, dryRun: true, format: format, plan: awsPlan{leave: target == "aws"}})
}

// deployRun is one call of deploy or plan.
type deployRun struct {
	fn, target, env, gitSha, format string
	tags, context                   []string
	dryRun                          bool
	plan                            awsPlan
	// called is what the user typed when it is not fn ("deploy
	// --dry-run" runs as plan), for the messages that repeat the call.
	called string
}

// deploy runs the graph for deploy and plan; fn names the function the
// user called, for its messages.
func (m *Stevedore) deploy(ctx context.Context, r deployRun) (string, error) {
	if err := steps.CheckFormat(r.format); err != nil {
		return "", err
	}
	if r.target != "local" && r.target != "aws" {
		return "", fmt.Errorf("unknown target %q: use local (no AWS account needed) or aws", r.target)
	}
	if r.plan.id != "" && (r.target != "aws" || r.dryRun) {
		return "", fmt.Errorf("--plan executes a reviewed plan on AWS: use it with --target aws and without --dry-run")
	}
	app, err := m.load(ctx)
	if err != nil {
		return "", err
	}
	if err := m.checkDeployArgs(ctx, app, r.target, r.env, r.dryRun, r.context); err != nil {
		return "", err
	}
	tags, err := m.imageTags(ctx, r.gitSha, r.tags)
	if err != nil {
		return "", err
	}
	env, err := app.Env(r.env)
	if err != nil {
		return "", err
	}
	if r.target == "aws" {
		if _, err := m.requireAws(cmp.Or(r.called, r.fn)); err != nil {
			return "", err
		}
		// The environment's own account, region and role, checked before
		// anything is built or pushed.
		if m, err = m.forEnvironment(ctx, r.fn, env); err != nil {
			return "", err
		}
	}
	led := m.loadLedger(ctx)
	work, err := os.MkdirTemp(".", "deploy-") // under the module workdir, for WorkdirFile
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)

	eng := &engineSteps{m: m, app: app, ledger: led}
	p := &deploy.Pipeline{Services: app.ServiceNames(), Frontend: app.Frontend != nil, Build: eng}
	if hasTests(app) {
		p.Tests = eng
	}
	var synth *synthStep
	if app.Infra != nil {
		synth = &synthStep{m: m, app: app, env: r.env, extra: r.context, ledger: led}
		p.Synth = synth
	}
	if app.Migrate != nil {
		p.Migrate = app.Migrate.Service
	}
	plan := false
	var rel *releaseRun
	var frontend func() string
	switch r.target {
	case "local":
		local := &localTarget{m: m, app: app, tags: tags, work: work}
		defer local.close()
		p.Push, p.Release = local, local
		p.NoInfra = local.noInfra()
		p.Plans, p.After = local.plans(), local.after()
		plan = r.dryRun
	case "aws":
		aws, err := m.newAWSTarget(ctx, r.fn, app, r.env, tags, r.dryRun, synth, m.Aws.deployTimeout(), r.plan)
		if err != nil {
			return "", err
		}
		defer aws.close()
		p.Preflight, p.Push, p.Infra, p.Follow, p.Release = aws, aws, aws, aws, aws
		frontend = aws.Frontend
		if !r.dryRun {
			// One deploy per environment at a time, from CI or a laptop.
			if rel, err = m.beginRelease(ctx, r.fn, app, r.env); err != nil {
				return "", err
			}
		}
	}
	title := fmt.Sprintf("stevedore %s: %s → %s (%s)", r.fn, app.Name, r.target, r.env)
	if r.dryRun {
		title += ", dry run"
	}
	opts := steps.Options{Title: title, Plan: plan, Log: func(s string) { log("%s", s) }}
	var report *steps.Report
	var runErr error
	if rel != nil {
		report, _, runErr = rel.run(ctx, p, opts, release.Release{Commit: commitOf(r.gitSha, tags), PlanID: r.plan.id, Frontend: frontend})
	} else {
		report, runErr = p.Run(ctx, opts)
	}
	if report == nil {
		return "", runErr
	}
	if !plan {
		if err := m.saveLedger(ctx, led); err != nil {
			log("could not update the cache ledger: %v", err)
		}
	}
	return renderDeploy(report, runErr, r.format)
}

// commitOf is what a release record names as its commit: --git-sha, or
// the content tag the images got without one.
func commitOf(gitSha string, tags []string) string {
	if gitSha != "" || len(tags) == 0 {
		return gitSha
	}
	return tags[0]
}

// engineSteps are the steps both targets share: tests and builds.
type engineSteps struct {
	m      *Stevedore
	app    *appspec.App
	ledger *ledger
}

func (e *engineSteps) Test(ctx context.Context) (steps.Outcome, error) {
	suites, err := e.m.testSuites(ctx, e.app)
	if err != nil {
		return steps.Outcome{}, err
	}
	var inputs []any
	var names []string
	for _, s := range suites {
		names = append(names, s.name)
		inputs = append(inputs, s.name, s.command)
		inputs = append(inputs, s.inputs...)
	}
	return e.ledger.track(ctx, deploy.StepTest, inputs, func() (steps.Outcome, error) {
		if _, err := runSuites(ctx, suites); err != nil {
			return steps.Outcome{}, err
		}
		return steps.Outcome{Summary: fmt.Sprintf("%d suites passed: %s", len(suites), strings.Join(names, ", "))}, nil
	})
}

func (e *engineSteps) BuildImage(ctx context.Context, service string) (steps.Outcome, error) {
	s, err := e.app.Service(service)
	if err != nil {
		return steps.Outcome{}, err
	}
	img, err := e.m.serviceImage(ctx, s, "")
	if err != nil {
		return steps.Outcome{}, err
	}
	return e.ledger.track(ctx, deploy.BuildStep(service), e.m.buildInputs(ctx, s, s.Target), func() (steps.Outcome, error) {
		if _, err := img.Sync(ctx); err != nil {
			return steps.Outcome{}, imageBuildFailed(s, err)
		}
		return steps.Outcome{Summary: "image built from " + s.Dockerfile}, nil
	})
}

func (e *engineSteps) BuildFrontend(ctx context.Context) (steps.Outcome, error) {
	fe := e.app.Frontend
	img, err := e.m.frontendImage(ctx, fe)
	if err != nil {
		return steps.Outcome{}, err
	}
	inputs := []any{e.m.dir(fe.Dir), fe.Image, fe.Install, fe.Build, fe.Output, fe.Dockerfile, fmt.Sprint(fe.Env)}
	return e.ledger.track(ctx, deploy.StepBuildFrontend, inputs, func() (steps.Outcome, error) {
		if _, err := img.Sync(ctx); err != nil {
			return steps.Outcome{}, frontendFailed(fe, err)
		}
		return steps.Outcome{Summary: fmt.Sprintf("%q → %s/, nginx image", fe.Build, fe.Output)}, nil
	})
}

// synthStep compiles and synthesizes the CDK app against the pushed images.
type synthStep struct {
	m      *Stevedore
	app    *appspec.App
	env    string
	extra  []string
	ledger *ledger
	inputs *infraInputs // set by Synth: the CDK toolchain the AWS deploy runs in
}

func (s *synthStep) Prepare(ctx context.Context) (steps.Outcome, error) {
	in := s.app.Infra
	return s.ledger.track(ctx, deploy.StepPrepareInfra, []any{s.m.infraSource(in), s.m.GoImage, s.m.NodeImage, in.CDKVersion}, func() (steps.Outcome, error) {
		if _, err := s.m.cdkToolchain(in).Sync(ctx); err != nil {
			return steps.Outcome{}, failed("preparing "+infraLabel(in), "", err)
		}
		return steps.Outcome{Summary: "ready: " + s.m.describeInfra()}, nil
	})
}

// Synth synthesizes the assembly and hands it to the steps after it.
func (s *synthStep) Synth(ctx context.Context, images []deploy.Image) (deploy.Assembly, steps.Outcome, error) {
	var refs []string
	for _, img := range images {
		refs = append(refs, img.Service+"="+img.Ref)
	}
	in, err := s.m.infraInputs(ctx, s.app, "", s.env, refs, s.extra)
	if err != nil {
		return deploy.Assembly{}, steps.Outcome{}, err
	}
	s.inputs = in
	var asm deploy.Assembly
	o, err := s.ledger.track(ctx, deploy.StepSynth, []any{s.m.infraSource(s.app.Infra), strings.Join(in.args(), " ")}, func() (steps.Outcome, error) {
		dir, err := s.m.synthesized(ctx, in)
		if err != nil {
			return steps.Outcome{}, err
		}
		// What the release steps read must be in the assembly before
		// anything is deployed from it.
		if err := s.m.checkContract(ctx, s.app, dir); err != nil {
			return steps.Outcome{}, err
		}
		stacks, err := s.m.assemblyStacks(ctx, dir)
		if err != nil {
			return steps.Outcome{}, err
		}
		id, err := dir.ID(ctx)
		if err != nil {
			return steps.Outcome{}, err
		}
		asm = deploy.Assembly{ID: string(id), Stacks: stacks, Env: in.env, Context: maps.Clone(in.context)}
		out := steps.Outcome{Summary: synthSummary(ctx, in, dir, stacks)}
		for _, st := range stacks {
			out.Artifacts = append(out.Artifacts, steps.Artifact{Kind: steps.KindStack, Name: "stack", Value: st})
		}
		return out, nil
	})
	return asm, o, err
}
