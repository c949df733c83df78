package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"dagger/stevedore/internal/dagger"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/cfn"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecr"
	"github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush"
	"github.com/stevedore-ci/stevedore/pipelines/s3site"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// awsTarget ships to the account of with-aws. In a dry run every step only
// reads: digests are compared with ECR, the stacks diffed, the bucket listed.
type awsTarget struct {
	m       *Stevedore
	app     *appspec.App
	env     string
	tags    []string
	dryRun  bool
	synth   *synthStep
	cfg     aws.Config
	cleanup func()

	hostOnce sync.Once
	host     string
	hostErr  error

	pushOnce sync.Once
	push     *pushTarget
	pushErr  error
}

// newAWSTarget refuses to start without credentials or without the CDK
// app: the AWS target deploys infrastructure.
func (m *Stevedore) newAWSTarget(ctx context.Context, app *appspec.App, env string, tags []string, dryRun bool, synth *synthStep) (*awsTarget, error) {
	if synth == nil {
		return nil, errors.New("deploy --target aws needs the CDK app: add infra.dir to stevedore.yaml (or use publish and rollout directly)")
	}
	cfg, cleanup, err := m.awsConfig(ctx, "deploy")
	if err != nil {
		return nil, err
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		cleanup()
		return nil, fmt.Errorf("deploy --target aws: no usable AWS credentials: %w", err)
	}
	return &awsTarget{m: m, app: app, env: env, tags: tags, dryRun: dryRun, synth: synth, cfg: cfg, cleanup: cleanup}, nil
}

func (a *awsTarget) close() { a.cleanup() }

// registryHost is the account's ECR registry (read-only lookup, for plans).
func (a *awsTarget) registryHost(ctx context.Context) (string, error) {
	a.hostOnce.Do(func() {
		reg, err := ecr.New(a.cfg).Login(ctx)
		a.host, a.hostErr = reg.Host, err
	})
	return a.host, a.hostErr
}

// registry ensures the ECR repositories and logs in, once.
func (a *awsTarget) registry(ctx context.Context) (*pushTarget, error) {
	a.pushOnce.Do(func() {
		var services []*appspec.Service
		for i := range a.app.Services {
			services = append(services, &a.app.Services[i])
		}
		a.push, a.pushErr = a.m.pushTarget(ctx, a.app, services, ecr.RepositoryPolicy{ScanOnPush: true, ImmutableTags: true, KeepLast: 30, MutableTags: []string{"latest"}})
	})
	return a.push, a.pushErr
}

func (a *awsTarget) Push(ctx context.Context, service string) (deploy.Image, steps.Outcome, error) {
	if !a.dryRun {
		return a.m.pushService(ctx, a.app, service, a.tags, a.registry)
	}
	s, err := a.app.Service(service)
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	img, err := a.m.serviceImage(ctx, s, "")
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	return a.planPush(ctx, s, img.AsTarball())
}

// planPush computes the image digest and asks ECR whether it has it.
func (a *awsTarget) planPush(ctx context.Context, s *appspec.Service, tarball *dagger.File) (deploy.Image, steps.Outcome, error) {
	dir, err := os.MkdirTemp("", "stevedore-plan-")
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, s.Name+".tar")
	if _, err := tarball.Export(ctx, file); err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	digest, err := ocipush.LocalDigest(file)
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	_, found, err := ecr.New(a.cfg).FindImage(ctx, s.Repository, digest)
	summary := "would push " + digest
	switch {
	case errors.Is(err, ecr.ErrRepositoryNotFound):
		summary = "would create repository " + s.Repository + " and push " + digest
	case err != nil:
		return deploy.Image{}, steps.Outcome{}, err
	case found:
		summary = "already in ECR, would skip the push"
	}
	host, err := a.registryHost(ctx)
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	ref := host + "/" + s.Repository + "@" + digest
	return deploy.Image{Service: s.Name, Ref: ref}, steps.Outcome{Summary: summary, Artifacts: []steps.Artifact{{Kind: steps.KindDigest, Name: s.Name, Value: digest}}}, nil
}

// DeployInfra runs cdk deploy (cdk diff in a dry run) and reads back the
// outputs of every stack through CloudFormation.
func (a *awsTarget) DeployInfra(ctx context.Context) (deploy.Outputs, steps.Outcome, error) {
	in, stacks := a.synth.inputs, a.synth.stacks
	cmd := []string{"deploy", "--all", "--require-approval", "never", "--progress", "events"}
	if a.dryRun {
		cmd = []string{"diff", "--all"}
	}
	out, err := a.m.cdkCommand(ctx, in, "deploy", cmd...)
	if err != nil {
		return nil, steps.Outcome{}, err
	}
	if a.dryRun {
		// Stacks that do not exist yet have no outputs: the plan says so.
		outputs, _ := cfn.NewReader(a.cfg).Outputs(ctx, stacks...)
		return deploy.Outputs(outputs), steps.Outcome{Summary: "cdk diff: " + tail(out, 20)}, nil
	}
	outputs, err := cfn.NewReader(a.cfg).Outputs(ctx, stacks...)
	if err != nil {
		return nil, steps.Outcome{}, err
	}
	o := steps.Outcome{Summary: fmt.Sprintf("%d stacks deployed", len(stacks))}
	for _, k := range []string{"HealthUrl", "FrontendUrl"} {
		if v := outputs[k]; v != "" {
			o.Artifacts = append(o.Artifacts, steps.Artifact{Kind: steps.KindURL, Name: k, Value: v})
		}
	}
	return deploy.Outputs(outputs), o, nil
}

// ecsTarget finds the cluster and ECS service of an app service in the outputs.
func ecsTarget(out deploy.Outputs, service string) (cluster, ecsService string, err error) {
	if cluster, err = out.Require("ClusterName"); err != nil {
		return "", "", err
	}
	ecsService, err = out.Require(outputKey(service, "ServiceName"))
	return cluster, ecsService, err
}

func (a *awsTarget) deployer() *ecs.Deployer {
	return ecs.New(a.cfg, ecs.WithLog(func(s string) { log("%s", s) }))
}

// Migrate registers the new revision and runs the migration command with it
// before any service moves to it.
func (a *awsTarget) Migrate(ctx context.Context, image deploy.Image, out deploy.Outputs) (steps.Outcome, error) {
	s, err := a.app.Service(image.Service)
	if err != nil {
		return steps.Outcome{}, err
	}
	command := strings.Join(a.app.Migrate.Command, " ")
	cluster, svc, err := ecsTarget(out, s.Name)
	if err != nil {
		return steps.Outcome{}, err
	}
	if a.dryRun {
		return steps.Outcome{Summary: fmt.Sprintf("would run %q with %s in %s/%s", command, image.Ref, cluster, svc)}, nil
	}
	d := a.deployer()
	rev, err := d.RegisterRevision(ctx, cluster, svc, map[string]string{s.Container: image.Ref}, false)
	if err != nil {
		return steps.Outcome{}, err
	}
	res, err := d.RunTask(ctx, ecs.TaskSpec{Cluster: cluster, Service: svc, TaskDefinition: rev.ARN, Container: s.Container, Command: a.app.Migrate.Command})
	if err != nil {
		return steps.Outcome{}, err
	}
	return steps.Outcome{Summary: fmt.Sprintf("%q exited 0 in %s", command, res.Duration.Round(time.Second))}, nil
}

// Rollout moves one ECS service to the pushed digest and follows it.
func (a *awsTarget) Rollout(ctx context.Context, image deploy.Image, out deploy.Outputs) (steps.Outcome, error) {
	s, err := a.app.Service(image.Service)
	if err != nil {
		return steps.Outcome{}, err
	}
	cluster, svc, err := ecsTarget(out, s.Name)
	if err != nil {
		if a.dryRun {
			return steps.Outcome{Summary: "would roll out " + image.Ref + " once the stacks exist"}, nil
		}
		return steps.Outcome{}, err
	}
	if a.dryRun {
		return steps.Outcome{Summary: fmt.Sprintf("would roll out %s to %s/%s", image.Ref, cluster, svc)}, nil
	}
	res, err := a.deployer().Rollout(ctx, ecs.Spec{Cluster: cluster, Service: svc, Images: map[string]string{s.Container: image.Ref}, Rollback: true})
	if err != nil {
		return steps.Outcome{}, err
	}
	return steps.Outcome{Summary: fmt.Sprintf("%s: %s → %s", res.Mode, shortArn(res.Previous), shortArn(res.TaskDefinition)),
		Artifacts: []steps.Artifact{{Kind: steps.KindImage, Name: s.Name, Value: image.Ref}}}, nil
}

// PublishFrontend syncs the built site to the stack's bucket.
func (a *awsTarget) PublishFrontend(ctx context.Context, out deploy.Outputs) (steps.Outcome, error) {
	bucket, err := out.Require("FrontendBucketName")
	if err != nil {
		if a.dryRun {
			return steps.Outcome{Summary: "would upload the site once the frontend stack exists"}, nil
		}
		return steps.Outcome{}, err
	}
	dir, err := os.MkdirTemp("", "stevedore-site-")
	if err != nil {
		return steps.Outcome{}, err
	}
	defer os.RemoveAll(dir)
	if _, err := a.m.frontendDist(a.app.Frontend).Export(ctx, dir); err != nil {
		return steps.Outcome{}, err
	}
	sum, err := s3site.Publish(ctx, dir, s3site.Options{
		AWS: a.cfg, Bucket: bucket, DistributionID: out["DistributionId"], DryRun: a.dryRun,
		Log: func(s string) { log("%s", s) },
	})
	if err != nil {
		return steps.Outcome{}, err
	}
	o := steps.Outcome{Summary: sum.String()}
	if u := out["FrontendUrl"]; u != "" {
		o.Artifacts = append(o.Artifacts, steps.Artifact{Kind: steps.KindURL, Name: "frontend", Value: u})
	}
	return o, nil
}

// Verify polls the health URL and the frontend URL of the stack outputs
// until they answer 200 (for at most two minutes).
func (a *awsTarget) Verify(ctx context.Context, _ []deploy.Image, out deploy.Outputs) (steps.Outcome, error) {
	var urls []string
	for _, k := range []string{"HealthUrl", "FrontendUrl"} {
		if v := out[k]; v != "" {
			urls = append(urls, v)
		}
	}
	if a.dryRun {
		return steps.Outcome{Summary: "would check " + strings.Join(urls, ", ")}, nil
	}
	if len(urls) == 0 {
		return steps.Outcome{}, errors.New("nothing to verify: the stacks export no HealthUrl or FrontendUrl output")
	}
	var arts []steps.Artifact
	for _, u := range urls {
		body, err := waitHTTP200(ctx, u, 2*time.Minute)
		if err != nil {
			return steps.Outcome{}, err
		}
		log("%s → %s", u, tail(body, 1))
		arts = append(arts, steps.Artifact{Kind: steps.KindURL, Name: "checked", Value: u})
	}
	return steps.Outcome{Summary: "all answered 200", Artifacts: arts}, nil
}

// waitHTTP200 retries GET url until it answers 200 or the time is up.
func waitHTTP200(ctx context.Context, url string, limit time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second}
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return "", err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(body), nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%s did not answer 200 within %s (last: %s)", url, limit, last)
		case <-time.After(5 * time.Second):
		}
	}
}
