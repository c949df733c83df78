package ecs

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// Rollout deploys spec to one service and follows the deployment its own
// UpdateService call started until that deployment completes (success),
// fails, is rolled back or replaced, or times out (a *RolloutError). With
// spec.Rollback it then returns the service to the task definition it ran
// before. The Result holds what is known even on failure.
func (d *Deployer) Rollout(ctx context.Context, spec Spec) (res Result, err error) {
	start := d.clock.Now()
	res = Result{Service: spec.Service, Cluster: spec.Cluster}
	defer func() { res.Duration = d.clock.Now().Sub(start) }()
	if err := spec.validate(); err != nil {
		return res, err
	}
	before, err := d.describeService(ctx, spec.Cluster, spec.Service)
	if err == nil {
		err = checkController(before)
	}
	if err != nil {
		return res, fmt.Errorf("ecs rollout of service %s: %w", spec.Service, err)
	}
	res.Previous = aws.ToString(before.TaskDefinition)
	if !circuitBreakerOn(before) {
		d.logf("%s: note: the deployment circuit breaker is off, so a broken release is only noticed at the %s timeout", spec.Service, spec.timeout())
	}
	if n := len(before.Deployments); n > 1 {
		d.logf("%s: note: %d deployments already under way; %s is recorded as the previous task definition", spec.Service, n, shortName(res.Previous))
	}

	res.TaskDefinition, res.Mode, err = d.plan(ctx, spec, res.Previous)
	if err != nil {
		return res, fmt.Errorf("ecs rollout of service %s: %w", spec.Service, err)
	}
	if res.Mode == ModeUnchanged {
		return res, d.verifyCurrent(ctx, spec, before, &res)
	}

	f := d.newFollower(spec, before.Events)
	t, err := d.startDeployment(ctx, spec, updateInput(spec, res.TaskDefinition, res.Previous, res.Mode == ModeForce), res.TaskDefinition, res.Previous)
	if err != nil {
		return res, fmt.Errorf("ecs rollout of service %s: %w", spec.Service, err)
	}
	res.DeploymentID = t.id
	v := f.run(ctx, t)
	res.Events = f.events
	if v.done {
		d.logf("%s: deployment %s of %s completed", spec.Service, t.id, shortName(t.taskDef))
		return res, nil
	}

	rerr := &RolloutError{Service: spec.Service, Cluster: spec.Cluster, Kind: v.kind, Reason: v.reason, Err: v.err}
	d.logf("%s: rollout failed: %s", spec.Service, v.reason)
	switch v.kind {
	case KindFailed, KindCircuitBreaker, KindTimeout:
		rerr.StoppedTasks = d.stoppedTasks(ctx, spec.Cluster, t)
	}
	if spec.Rollback {
		rerr.Rollback, res.RolledBack = d.rollback(ctx, spec, v, t, f)
		d.logf("%s: %s", spec.Service, rerr.Rollback)
	}
	res.Events = f.events
	rerr.Events = f.events
	return res, rerr
}

// verifyCurrent handles a service that already runs what was asked (a
// CloudFormation deploy may have moved it there): nothing is deployed, but
// success is only reported once its PRIMARY deployment is complete, the
// same test a rollout of our own passes.
func (d *Deployer) verifyCurrent(ctx context.Context, spec Spec, before *types.Service, res *Result) error {
	primary := primaryDeployment(before.Deployments)
	if primary == nil {
		return fmt.Errorf("ecs rollout of service %s: it runs %s but has no PRIMARY deployment to verify", spec.Service, shortName(res.Previous))
	}
	t := trackDeployment(spec, primary, "")
	res.DeploymentID = t.id
	d.logf("%s: already runs what was asked (%s); verifying its deployment %s", spec.Service, shortName(res.Previous), t.id)
	f := d.newFollower(spec, before.Events)
	v := f.run(ctx, t)
	res.Events = f.events
	if v.done {
		d.logf("%s: deployment %s of %s is complete; nothing to deploy", spec.Service, t.id, shortName(t.taskDef))
		return nil
	}
	return &RolloutError{Service: spec.Service, Cluster: spec.Cluster, Kind: v.kind, Reason: v.reason, Err: v.err, Events: f.events}
}

func (s Spec) validate() error {
	if s.Service == "" {
		return errors.New("ecs rollout: no service named")
	}
	if len(s.Images) > 0 && s.TaskDefinition != "" {
		return fmt.Errorf("ecs rollout of service %s: give either images or a task definition, not both", s.Service)
	}
	if err := checkImages(s.Images, s.AllowTags); err != nil {
		return fmt.Errorf("ecs rollout of service %s: %w", s.Service, err)
	}
	return nil
}

// plan decides what to deploy and registers a new revision when images
// change.
func (d *Deployer) plan(ctx context.Context, spec Spec, current string) (string, Mode, error) {
	unchanged := func() (string, Mode, error) {
		if spec.Force {
			d.logf("%s: %s already runs what was asked; forcing a new deployment as requested", spec.Service, shortName(current))
			return current, ModeForce, nil
		}
		return current, ModeUnchanged, nil
	}
	switch {
	case spec.TaskDefinition != "":
		if spec.TaskDefinition == current || spec.TaskDefinition == shortName(current) {
			return unchanged()
		}
		return spec.TaskDefinition, ModeTaskDefinition, nil
	case len(spec.Images) > 0:
		rev, err := d.registerRevision(ctx, current, spec.Images)
		if err != nil {
			return "", "", err
		}
		if !rev.Changed {
			return unchanged()
		}
		d.logf("%s: registered %s (from %s, new images only)", spec.Service, shortName(rev.ARN), shortName(current))
		return rev.ARN, ModeImage, nil
	}
	return current, ModeForce, nil
}

// updateInput builds the UpdateService request that deploys taskDef.
func updateInput(spec Spec, taskDef, current string, force bool) *ecs.UpdateServiceInput {
	in := &ecs.UpdateServiceInput{Cluster: optString(spec.Cluster), Service: aws.String(spec.Service), ForceNewDeployment: force}
	if taskDef != current {
		in.TaskDefinition = aws.String(taskDef)
	}
	return in
}

// startDeployment calls UpdateService and identifies the deployment it
// created: the PRIMARY one in the response, which must deploy want (the
// revision registered, given or forced). previous is what the service ran
// before, to recognise a rollback to it.
func (d *Deployer) startDeployment(ctx context.Context, spec Spec, in *ecs.UpdateServiceInput, want, previous string) (tracking, error) {
	out, err := d.api.UpdateService(ctx, in, withAttempts(attempts(spec.MaxAttempts)))
	if err != nil {
		return tracking{}, awsconf.Explain("ecs:UpdateService", err)
	}
	var primary *types.Deployment
	if out.Service != nil {
		primary = primaryDeployment(out.Service.Deployments)
	}
	if primary == nil {
		return tracking{}, errors.New("ecs:UpdateService answered without a PRIMARY deployment: cannot tell which deployment to follow")
	}
	t := trackDeployment(spec, primary, previous)
	d.logf("%s: started deployment %s of %s (previous: %s)", spec.Service, t.id, shortName(t.taskDef), shortName(previous))
	if want != "" && !sameRevision(t.taskDef, want) {
		// Not what we asked for: follow it as ours-with-the-wanted-revision,
		// which judge reports as KindWrongRevision at the first poll.
		t.taskDef = want
	}
	return t, nil
}

func trackDeployment(spec Spec, dep *types.Deployment, previous string) tracking {
	return tracking{
		cluster: spec.Cluster, service: spec.Service,
		id: aws.ToString(dep.Id), taskDef: aws.ToString(dep.TaskDefinition),
		created: aws.ToTime(dep.CreatedAt), previous: previous,
	}
}
