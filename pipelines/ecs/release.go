package ecs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// Follow waits for the ECS deployment that someone else starts, typically
// CloudFormation during cdk deploy, recognised as the deployment whose task
// definition runs spec.Images, and judges it by the rollout rules: it
// succeeds only when that deployment is PRIMARY, COMPLETED, fully running
// and alone. A service already steady on those images is "unchanged" at
// once. A circuit-breaker rollback, a FAILED deployment, a deployment
// replaced by another one, or none appearing within the timeout is a
// *RolloutError with the service events and why tasks stopped.
func (d *Deployer) Follow(ctx context.Context, spec FollowSpec) (res FollowResult, err error) {
	ctx = withBudget(ctx, spec.MaxAttempts)
	start := d.clock.Now()
	res = FollowResult{Service: spec.Service, Cluster: spec.Cluster}
	defer func() { res.Elapsed = d.clock.Now().Sub(start) }()
	if err := spec.validate(); err != nil {
		return res, err
	}
	before, err := d.describeService(ctx, spec.Cluster, spec.Service)
	if err == nil {
		err = checkController(before)
	}
	defs := map[string]map[string]string{} // task definition ARN -> container -> image
	answer := &ecs.DescribeServicesOutput{Services: []types.Service{*before}}
	if err == nil {
		err = d.loadImages(ctx, answer, defs)
	}
	if err != nil {
		return res, fmt.Errorf("following the release of service %s: %w", spec.Service, err)
	}
	rspec := Spec{Cluster: spec.Cluster, Service: spec.Service, Poll: spec.Poll, Timeout: spec.Timeout, MaxAttempts: spec.MaxAttempts}
	f := d.newFollower(rspec, before.Events)
	// The answer at the start alone can say "unchanged"; whatever else it
	// shows, the first poll sees again at once.
	since := start
	if !spec.Since.IsZero() {
		since = spec.Since
	}
	st := followState{want: spec.Images, start: since, first: true, t: tracking{cluster: spec.Cluster, service: spec.Service}}
	_, st, unchanged := judgeFollow(answer, defs, st)
	if unchanged {
		res.Outcome, res.DeploymentID, res.TaskDefinition = OutcomeUnchanged, st.t.id, st.t.taskDef
		d.logf("%s: already runs %s steadily (deployment %s of %s); nothing was deployed", spec.Service, imageList(spec.Images), st.t.id, shortName(st.t.taskDef))
		return res, nil
	}
	d.logf("%s: waiting for the deployment of %s", spec.Service, imageList(spec.Images))
	v, t := f.loop(ctx, st.t, func(ctx context.Context, out *ecs.DescribeServicesOutput) (verdict, tracking, error) {
		if err := d.loadImages(ctx, out, defs); err != nil {
			return verdict{}, st.t, err
		}
		var v verdict
		v, st, _ = judgeFollow(out, defs, st)
		return v, st.t, nil
	}, func(v verdict, t tracking) string {
		if t.id == "" {
			return fmt.Sprintf("no deployment of %s appeared within %s (%s): check that the stack update changes this service's task definition to these images", imageList(spec.Images), f.timeout, progress(v, t))
		}
		return fmt.Sprintf("deployment %s of %s did not complete within %s (last state: %s)", t.id, shortName(t.taskDef), f.timeout, progress(v, t))
	})
	res.Events, res.DeploymentID, res.TaskDefinition = f.events, t.id, t.taskDef
	if v.done {
		res.Outcome = OutcomeCompleted
		d.logf("%s: deployment %s of %s completed", spec.Service, t.id, shortName(t.taskDef))
		return res, nil
	}
	if t.id == "" && v.kind == KindTimeout {
		v.kind = KindNoDeployment
	}
	rerr := &RolloutError{Service: spec.Service, Cluster: spec.Cluster, Kind: v.kind, Reason: v.reason, Err: v.err, Events: f.events}
	d.logf("%s: release failed: %s", spec.Service, v.reason)
	if t.id != "" {
		switch v.kind {
		case KindFailed, KindCircuitBreaker, KindTimeout:
			rerr.StoppedTasks, rerr.Logs = d.stoppedTasks(ctx, spec.Cluster, t)
		}
	}
	return res, rerr
}

func (s FollowSpec) validate() error {
	if s.Service == "" {
		return errors.New("following a release: no service named")
	}
	if len(s.Images) == 0 {
		return fmt.Errorf("following the release of service %s: no images given: name each container and the digest-pinned image the release runs", s.Service)
	}
	if err := checkImages(s.Images, false); err != nil {
		return fmt.Errorf("following the release of service %s: %w", s.Service, err)
	}
	return nil
}

// loadImages adds the container images of every task definition the
// answer's deployments run to defs, describing each ARN once.
func (d *Deployer) loadImages(ctx context.Context, out *ecs.DescribeServicesOutput, defs map[string]map[string]string) error {
	for _, svc := range out.Services {
		for _, dep := range svc.Deployments {
			arn := aws.ToString(dep.TaskDefinition)
			if _, ok := defs[arn]; ok || arn == "" {
				continue
			}
			td, err := d.api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(arn)})
			if err != nil {
				return awsconf.Explain("ecs:DescribeTaskDefinition", err)
			}
			images := map[string]string{}
			if td.TaskDefinition != nil {
				for _, c := range td.TaskDefinition.ContainerDefinitions {
					images[aws.ToString(c.Name)] = aws.ToString(c.Image)
				}
			}
			defs[arn] = images
		}
	}
	return nil
}

// imageList renders "app=repo@sha256:1234567…, worker=…" for messages.
func imageList(images map[string]string) string {
	items := make([]string, 0, len(images))
	for _, name := range slices.Sorted(maps.Keys(images)) {
		items = append(items, name+"="+shortImage(images[name]))
	}
	return strings.Join(items, ", ")
}

// shortImage shortens a digest to 12 hex digits, enough to tell releases
// apart in a log.
func shortImage(ref string) string {
	repo, digest, ok := strings.Cut(ref, "@sha256:")
	if !ok || len(digest) < 12 {
		return ref
	}
	return shortName(repo) + "@sha256:" + digest[:12]
}
