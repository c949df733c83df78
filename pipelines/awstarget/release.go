package awstarget

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecs "github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/internal/wait"
	"github.com/stevedore-ci/stevedore/pipelines/s3site"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// ecsTarget finds the cluster and ECS service of an app service in the outputs.
func ecsTarget(out deploy.Outputs, service string) (cluster, ecsService string, err error) {
	if cluster, err = out.Require(contract.OutputCluster); err != nil {
		return "", "", err
	}
	ecsService, err = out.Require(contract.ServiceOutput(service))
	return cluster, ecsService, err
}

// Migrate runs the migration command as a one-off task from the service's
// current task definition with only the new image swapped in, before any
// service moves to it. It is skipped when the service already runs the
// new image: the migration ran when that image was released (except right
// after a first deploy, when the services started with it).
func (t *Target) Migrate(ctx context.Context, image deploy.Image, out deploy.Outputs) (steps.Outcome, error) {
	s, err := t.service(image.Service)
	if err != nil {
		return steps.Outcome{}, err
	}
	if t.App.Migrate == nil || len(t.App.Migrate.Command) == 0 {
		return steps.Outcome{}, errors.New("no migration command: set migrate.command in stevedore.yaml")
	}
	command := strings.Join(t.App.Migrate.Command, " ")
	cluster, svc, err := ecsTarget(out, s.Name)
	if err != nil {
		if t.DryRun {
			return steps.Outcome{Summary: fmt.Sprintf("would run %q with %s once the stacks exist", command, image.Ref)}, nil
		}
		return steps.Outcome{}, err
	}
	running, err := t.runningImage(ctx, cluster, svc, s.Container)
	if err != nil {
		return steps.Outcome{}, err
	}
	if sameDigest(running, image.Ref) && !deploy.FirstDeploy(ctx) {
		return steps.Outcome{Skipped: fmt.Sprintf("%s already runs %s, migrated when it was released", svc, digestOf(image.Ref))}, nil
	}
	if t.DryRun {
		return steps.Outcome{Summary: fmt.Sprintf("would run %q with %s in %s/%s (now on %s)", command, image.Ref, cluster, svc, running)}, nil
	}
	rev, err := t.ECS.MigrationRevision(ctx, cluster, svc, map[string]string{s.Container: image.Ref})
	if err != nil {
		return steps.Outcome{}, err
	}
	res, err := t.ECS.RunTask(ctx, ecs.TaskSpec{
		Cluster: cluster, Service: svc, TaskDefinition: rev.ARN, Container: s.Container,
		Command: t.App.Migrate.Command, Poll: t.Poll,
	})
	if err != nil {
		return steps.Outcome{}, fmt.Errorf("migration %q failed, nothing was deployed: %w", command, err)
	}
	how := "registered"
	if rev.Reused {
		how = "reused"
	}
	return steps.Outcome{Summary: fmt.Sprintf("%q exited 0 in %s (revision %s, %s)", command, res.Duration.Round(time.Second), shortArn(rev.ARN), how)}, nil
}

// runningImage is the image the service's container runs now.
func (t *Target) runningImage(ctx context.Context, cluster, service, container string) (string, error) {
	api := awsecs.NewFromConfig(t.AWS)
	out, err := api.DescribeServices(ctx, &awsecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}})
	if err != nil {
		return "", awsconf.Explain("ecs:DescribeServices", fmt.Errorf("service %s: %w", service, err))
	}
	if len(out.Services) == 0 {
		return "", fmt.Errorf("service %s not found in cluster %s: the stack outputs name a service that does not exist", service, cluster)
	}
	td, err := api.DescribeTaskDefinition(ctx, &awsecs.DescribeTaskDefinitionInput{TaskDefinition: out.Services[0].TaskDefinition})
	if err != nil {
		return "", awsconf.Explain("ecs:DescribeTaskDefinition", err)
	}
	var names []string
	for _, c := range td.TaskDefinition.ContainerDefinitions {
		if aws.ToString(c.Name) == container {
			return aws.ToString(c.Image), nil
		}
		names = append(names, aws.ToString(c.Name))
	}
	return "", fmt.Errorf("task definition %s has no container %q (it has %s): set services[].container in stevedore.yaml", shortArn(aws.ToString(out.Services[0].TaskDefinition)), container, strings.Join(names, ", "))
}

func sameDigest(a, b string) bool {
	x, err1 := contract.ParseImage(a)
	y, err2 := contract.ParseImage(b)
	return err1 == nil && err2 == nil && x == y
}

// digestOf shortens a reference to its digest's first 12 hex digits, for
// summaries (the artifacts hold the full reference).
func digestOf(ref string) string {
	if img, err := contract.ParseImage(ref); err == nil {
		return img.Digest[:len("sha256:")+12]
	}
	return ref
}

// followGrace is how many polls a follower goes on after deploy-infra
// failed, to report the ECS deployment's own verdict.
const followGrace = 3

// minFollowGrace bounds that time from below: a poll is a round trip or
// two, slower than its interval when the interval is short.
const minFollowGrace = time.Second

// Follow judges the ECS deployment that deploy-infra starts for the
// service: the one whose task definition carries the new image. Before a
// first deploy the service does not exist yet, so it waits for
// deploy-infra's outputs. If deploy-infra fails without the deployment
// ever finishing, the follower stops a few polls later.
func (t *Target) Follow(ctx context.Context, image deploy.Image, run *deploy.InfraRun) (steps.Outcome, error) {
	// The release began with check-stacks, before deploy-infra, which may
	// have started the deployments before this follower started.
	since := time.Now()
	t.mu.Lock()
	if !t.checked.IsZero() && t.checked.Before(since) {
		since = t.checked
	}
	t.mu.Unlock()
	s, err := t.service(image.Service)
	if err != nil {
		return steps.Outcome{}, err
	}
	out := run.Current()
	first := false
	if _, _, err := ecsTarget(out, s.Name); err != nil {
		if t.DryRun {
			strategy, err := t.strategyOf(s.Name, out)
			if err != nil {
				return steps.Outcome{}, err
			}
			what := "the first deployment of " + image.Ref + " once deploy-infra created the service"
			return steps.Outcome{Summary: dryRunFollow(s, strategy, what)}, nil
		}
		first = true
		t.logf("%s: waiting for deploy-infra to create the service", deploy.RolloutStep(s.Name))
		if out, err = run.Wait(ctx); err != nil {
			return steps.Outcome{}, fmt.Errorf("deploy-infra failed before the service existed: %w", err)
		}
	}
	fctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-run.Done():
		case <-fctx.Done():
			return
		}
		// The ECS verdict (events, stopped tasks) says more than the
		// stack's failure: give the follower a few polls to reach it.
		if _, err := run.Wait(fctx); err != nil && wait.Sleep(fctx, max(followGrace*orDefault(t.Poll, DefaultPoll), minFollowGrace)) == nil {
			cancel(fmt.Errorf("deploy-infra failed before the deployment of %s finished: %w", s.Name, err))
		}
	}()
	o, err := t.follow(fctx, s, image, out, since, first)
	if cause := context.Cause(fctx); err != nil && ctx.Err() == nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return steps.Outcome{}, cause
	}
	return o, err
}

// Rollout judges the service's deployment of the image against outputs
// already known (the stacks are deployed): the verdict of Follow without
// a running deploy-infra.
func (t *Target) Rollout(ctx context.Context, image deploy.Image, out deploy.Outputs) (steps.Outcome, error) {
	s, err := t.service(image.Service)
	if err != nil {
		return steps.Outcome{}, err
	}
	return t.follow(ctx, s, image, out, time.Time{}, false)
}

// follow judges the deployment of image that began after since (zero: the
// call); one finished before is "unchanged". A service deployed
// blue-green, linear or canary is followed by its service deployment,
// through its gate; first says deploy-infra created the service.
func (t *Target) follow(ctx context.Context, s *appspec.Service, image deploy.Image, out deploy.Outputs, since time.Time, first bool) (steps.Outcome, error) {
	cluster, svc, err := ecsTarget(out, s.Name)
	if err != nil {
		return steps.Outcome{}, err
	}
	strategy, err := t.strategyOf(s.Name, out)
	if err != nil {
		return steps.Outcome{}, err
	}
	if t.DryRun {
		what := fmt.Sprintf("the deployment of %s that deploy-infra starts in %s/%s", image.Ref, cluster, svc)
		return steps.Outcome{Summary: dryRunFollow(s, strategy, what)}, nil
	}
	if strategy != contract.StrategyRolling {
		return t.followServiceDeployment(ctx, s, image, out, strategy, cluster, svc, since, first)
	}
	res, err := t.ECS.Follow(ctx, ecs.FollowSpec{
		Cluster: cluster, Service: svc, Images: map[string]string{s.Container: image.Ref},
		Timeout: orDefault(t.FollowTimeout, DefaultFollowTimeout), Poll: orDefault(t.Poll, DefaultPoll), Since: since,
	})
	if err != nil {
		return steps.Outcome{}, err
	}
	summary := fmt.Sprintf("%s: deployment %s of %s in %s", res.Outcome, res.DeploymentID, shortArn(res.TaskDefinition), res.Elapsed.Round(time.Second))
	if res.Outcome == ecs.OutcomeUnchanged {
		summary = fmt.Sprintf("unchanged: %s already runs %s, nothing deployed", svc, digestOf(image.Ref))
		if prev := t.imageBefore(s.Name); prev != "" && !sameDigest(prev, image.Ref) {
			summary = fmt.Sprintf("completed: %s moved from %s to %s (the deployment had finished when it was first looked at)", svc, digestOf(prev), digestOf(image.Ref))
		}
	}
	return steps.Outcome{Summary: summary, Artifacts: []steps.Artifact{{Kind: steps.KindImage, Name: s.Name, Value: image.Ref}}}, nil
}

// PublishFrontend syncs the built site to the stack's bucket and
// invalidates the distribution.
func (t *Target) PublishFrontend(ctx context.Context, out deploy.Outputs) (steps.Outcome, error) {
	bucket, err := out.Require(contract.OutputFrontendBucket)
	if err != nil {
		if t.DryRun {
			return steps.Outcome{Summary: "would upload the site once the frontend stack exists"}, nil
		}
		return steps.Outcome{}, err
	}
	var site string
	if t.SiteImage != nil && !t.DryRun {
		// The site as an image first: the bytes a promote or rollback
		// republishes are the bytes uploaded here.
		if site, err = t.SiteImage.Image(ctx); err != nil {
			return steps.Outcome{}, fmt.Errorf("pushing the site image: %w", err)
		}
		if _, err := contract.ParseImage(site); err != nil {
			return steps.Outcome{}, fmt.Errorf("site image: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "stevedore-site-")
	if err != nil {
		return steps.Outcome{}, err
	}
	defer os.RemoveAll(dir)
	if err := t.Site.Export(ctx, dir); err != nil {
		return steps.Outcome{}, fmt.Errorf("exporting the site: %w", err)
	}
	sum, err := s3site.Publish(ctx, dir, s3site.Options{
		AWS: t.AWS, Bucket: bucket, DistributionID: out[contract.OutputDistribution], DryRun: t.DryRun, Log: t.Log,
		// Emulators and gateways behind an endpoint have no per-bucket host names.
		PathStyle: t.AWS.BaseEndpoint != nil,
	})
	if err != nil {
		return steps.Outcome{}, err
	}
	o := steps.Outcome{Summary: sum.String()}
	if site != "" {
		t.mu.Lock()
		t.frontend = site
		t.mu.Unlock()
		o.Artifacts = append(o.Artifacts, steps.Artifact{Kind: steps.KindImage, Name: "site", Value: site})
	}
	if u := out[contract.OutputFrontendURL]; u != "" {
		o.Artifacts = append(o.Artifacts, steps.Artifact{Kind: steps.KindURL, Name: "frontend", Value: u})
	}
	return o, nil
}

// Frontend is the site image publish:frontend published ("" before, in a
// dry run, or without a SiteImage).
func (t *Target) Frontend() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.frontend
}

// shortArn keeps the last path element of an ARN (family:revision).
func shortArn(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
