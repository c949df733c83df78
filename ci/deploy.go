package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"unicode"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
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
// --target aws (see with-aws): tests must pass before anything is pushed;
// images to ECR, cdk deploy pinned to their digests, the migration task,
// then the ECS rollouts and the frontend publish in parallel, then the
// health check through the stack outputs.
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
) (string, error) {
	if err := steps.CheckFormat(format); err != nil {
		return "", err
	}
	if target != "local" && target != "aws" {
		return "", fmt.Errorf("unknown target %q: use local (no AWS account needed) or aws", target)
	}
	app, err := m.load(ctx)
	if err != nil {
		return "", err
	}
	if err := m.checkDeployArgs(ctx, app, target, env, dryRun, context); err != nil {
		return "", err
	}
	tags, err := m.imageTags(ctx, gitSha, tag)
	if err != nil {
		return "", err
	}
	led := m.loadLedger(ctx)
	work, err := os.MkdirTemp(".", "deploy-") // under the module workdir, for WorkdirFile
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)

	eng := &engineSteps{m: m, app: app, ledger: led}
	p := &deploy.Pipeline{Services: app.ServiceNames(), Frontend: app.Frontend != nil, Build: eng}
	if len(m.testSuites(app)) > 0 {
		p.Tests = eng
	}
	var synth *synthStep
	if app.Infra != nil {
		synth = &synthStep{m: m, app: app, env: env, extra: context, ledger: led}
		p.Synth = synth
	}
	plan := false
	switch target {
	case "local":
		local := &localTarget{m: m, app: app, tags: tags, work: work}
		defer local.close()
		p.Push, p.Release = local, local
		if app.Migrate != nil {
			p.Migrate = app.Migrate.Service
		}
		if app.Infra != nil {
			p.Infra = local // listed as skipped, with why
		}
		plan = dryRun
	case "aws":
		aws, err := m.newAWSTarget(ctx, app, env, tags, dryRun, synth)
		if err != nil {
			return "", err
		}
		defer aws.close()
		p.Push, p.Infra, p.Release = aws, aws, aws
		if app.Migrate != nil {
			p.Migrate = app.Migrate.Service
		}
	}
	title := fmt.Sprintf("stevedore deploy: %s → %s (%s)", app.Name, target, env)
	if dryRun {
		title += ", dry run"
	}
	report, runErr := p.Run(ctx, steps.Options{Title: title, Plan: plan, Log: func(s string) { log("%s", s) }})
	if report == nil {
		return "", runErr
	}
	if !plan {
		if err := m.saveLedger(ctx, led); err != nil {
			log("could not update the cache ledger: %v", err)
		}
	}
	return renderDeploy(report, runErr, format)
}

// Show what deploy would do without side effects (deploy --dry-run).
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
	return m.Deploy(ctx, target, env, gitSha, nil, true, nil, format)
}

// engineSteps are the steps both targets share: tests and builds.
type engineSteps struct {
	m      *Stevedore
	app    *appspec.App
	ledger *ledger
}

func (e *engineSteps) Test(ctx context.Context) (steps.Outcome, error) {
	suites := e.m.testSuites(e.app)
	var inputs []any
	var names []string
	for _, s := range suites {
		names = append(names, s.name)
		inputs = append(inputs, s.name, s.command, s.image, s.dir)
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
	inputs := []any{e.m.Source.Directory(s.Context), s.Dockerfile, s.Target, fmt.Sprint(buildArgs(s.BuildArgs))}
	if df, err := e.m.file(ctx, s.Dockerfile); err == nil {
		inputs = append(inputs, df)
	}
	return e.ledger.track(ctx, deploy.BuildStep(service), inputs, func() (steps.Outcome, error) {
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
	inputs *infraInputs // set by Synth, read by the AWS deploy
	stacks []string     // set by Synth, in deploy order
}

func (s *synthStep) Prepare(ctx context.Context) (steps.Outcome, error) {
	return s.ledger.track(ctx, deploy.StepPrepareInfra, []any{s.m.infraSource(s.app.Infra), s.m.GoImage, s.m.NodeImage}, func() (steps.Outcome, error) {
		if _, err := s.m.cdkToolchain(s.app.Infra).Sync(ctx); err != nil {
			return steps.Outcome{}, fmt.Errorf("compiling the CDK app in %s: %w", s.app.Infra.Dir, err)
		}
		return steps.Outcome{Summary: "CDK app compiled, aws-cdk " + cdkCLIVersion}, nil
	})
}

func (s *synthStep) Synth(ctx context.Context, images []deploy.Image) (steps.Outcome, error) {
	var refs []string
	for _, img := range images {
		refs = append(refs, img.Service+"="+img.Ref)
	}
	in, err := s.m.infraInputs(ctx, s.app, "", s.env, refs, s.extra)
	if err != nil {
		return steps.Outcome{}, err
	}
	s.inputs = in
	return s.ledger.track(ctx, deploy.StepSynth, []any{s.m.infraSource(s.app.Infra), strings.Join(in.args(), " ")}, func() (steps.Outcome, error) {
		stacks, err := s.m.assemblyStacks(ctx, s.m.synthesize(in))
		if err != nil {
			return steps.Outcome{}, err
		}
		s.stacks = stacks
		out := steps.Outcome{Summary: s.m.synthSummary(ctx, in, stacks)}
		for _, st := range stacks {
			out.Artifacts = append(out.Artifacts, steps.Artifact{Kind: "stack", Name: "stack", Value: st})
		}
		return out, nil
	})
}

// outputKey is the stack output naming a service's ECS service, e.g.
// BackendServiceName for "backend" and ApiGatewayServiceName for "api-gateway".
func outputKey(service, suffix string) string {
	var b strings.Builder
	upper := true
	for _, r := range service {
		if r == '-' || r == '_' {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
		}
		upper = false
		b.WriteRune(r)
	}
	return b.String() + suffix
}
