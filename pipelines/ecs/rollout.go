package ecs

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	ctx = withBudget(ctx, spec.MaxAttempts)
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
	if !circuitBreakerOn(before) {
		d.logf("%s: note: the deployment circuit breaker is off, so a broken release is only noticed at the %s timeout", spec.Service, spec.timeout())
	}
	before, chk, err := d.waitIdle(ctx, spec, before)
	if err != nil {
		return res, err
	}
	res.Previous = aws.ToString(before.TaskDefinition)
	if chk.completed == "" && spec.TaskDefinition == "" {
		return res, fmt.Errorf("ecs rollout of service %s: not building on %s: %s; deploy a known-good revision with a task definition instead, or fix the service first", spec.Service, shortName(res.Previous), chk.problem)
	}

	var registered bool
	res.TaskDefinition, res.Mode, registered, err = d.plan(ctx, spec, res.Previous)
	if err != nil {
		return res, fmt.Errorf("ecs rollout of service %s: %w", spec.Service, err)
	}
	if res.Mode == ModeUnchanged {
		return res, d.verifyCurrent(ctx, spec, before, &res)
	}

	f := d.newFollower(spec, before.Events)
	started := d.clock.Now()
	t, sdARN, err := d.startDeployment(ctx, spec, updateInput(spec, res.TaskDefinition, res.Previous, res.Mode == ModeForce), res.TaskDefinition, chk.completed)
	if err != nil {
		if registered {
			err = fmt.Errorf("%w; %s", err, d.deregister(ctx, res.TaskDefinition))
		}
		return res, fmt.Errorf("ecs rollout of service %s: %w", spec.Service, err)
	}
	res.DeploymentID = t.id
	if strategy := shiftingStrategy(before); strategy != "" {
		return d.followShifting(ctx, spec, res, strategy, sdARN, started)
	}
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
		rerr.StoppedTasks, rerr.Logs = d.stoppedTasks(ctx, spec.Cluster, t)
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
// change (or reuses one that has exactly them); registered says a revision
// was registered for this rollout.
func (d *Deployer) plan(ctx context.Context, spec Spec, current string) (taskDef string, mode Mode, registered bool, err error) {
	unchanged := func() (string, Mode, bool, error) {
		if spec.Force {
			d.logf("%s: %s already runs what was asked; forcing a new deployment as requested", spec.Service, shortName(current))
			return current, ModeForce, false, nil
		}
		return current, ModeUnchanged, false, nil
	}
	switch {
	case spec.TaskDefinition != "":
		if spec.TaskDefinition == current || spec.TaskDefinition == shortName(current) {
			return unchanged()
		}
		return spec.TaskDefinition, ModeTaskDefinition, false, nil
	case len(spec.Images) > 0:
		rev, err := d.registerRevision(ctx, current, spec.Images)
		if err != nil {
			return "", "", false, err
		}
		if !rev.Changed {
			return unchanged()
		}
		if rev.Reused {
			d.logf("%s: reusing %s (from %s, new images only; registered earlier)", spec.Service, shortName(rev.ARN), shortName(current))
		} else {
			d.logf("%s: registered %s (from %s, new images only)", spec.Service, shortName(rev.ARN), shortName(current))
		}
		return rev.ARN, ModeImage, !rev.Reused, nil
	}
	return current, ModeForce, false, nil
}

// deregister removes a revision this rollout registered but could not
// deploy, so no orphan is left; it returns one line saying how that went.
func (d *Deployer) deregister(ctx context.Context, arn string) string {
	if _, err := d.api.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil {
		return fmt.Sprintf("the revision %s registered for it is left behind (%v): remove it with aws ecs deregister-task-definition --task-definition %s", shortName(arn), awsconf.Explain("ecs:DeregisterTaskDefinition", err), shortName(arn))
	}
	d.logf("deregistered %s, which was registered for a rollout that could not start", shortName(arn))
	return fmt.Sprintf("deregistered the revision %s registered for it", shortName(arn))
}

// waitIdle waits, up to the rollout's timeout, for a deployment already in
// flight to finish, so the rollout never builds on, or records as its
// rollback target, a revision that has not completed.
func (d *Deployer) waitIdle(ctx context.Context, spec Spec, svc *types.Service) (*types.Service, startCheck, error) {
	chk := judgeStart(svc)
	if chk.busy == nil {
		return svc, chk, nil
	}
	busy := trackDeployment(spec, chk.busy, "")
	d.logf("%s: deployment %s of %s is in flight; waiting up to %s for it to finish before starting", spec.Service, busy.id, shortName(busy.taskDef), spec.timeout())
	start := d.clock.Now()
	f := d.newFollower(spec, svc.Events)
	v, _ := f.loop(ctx, busy, func(_ context.Context, out *ecs.DescribeServicesOutput) (verdict, tracking, error) {
		if kind, msg := serviceProblem(out, spec.Cluster, spec.Service); msg != "" {
			return verdict{kind: kind, reason: msg}, busy, nil
		}
		svc, chk = &out.Services[0], judgeStart(&out.Services[0])
		return verdict{done: chk.busy == nil, svc: svc, ours: deploymentByID(svc.Deployments, busy.id)}, busy, nil
	}, func(verdict, tracking) string {
		return fmt.Sprintf("deployment %s of %s, in flight when the rollout began, did not finish within %s: not starting on top of it; wait for it or stop it, then retry", busy.id, shortName(busy.taskDef), spec.timeout())
	})
	if !v.done {
		return nil, chk, &RolloutError{Service: spec.Service, Cluster: spec.Cluster, Kind: v.kind, Reason: v.reason, Err: v.err, Events: f.events}
	}
	d.logf("%s: the deployment in flight finished after %s; the service runs %s", spec.Service, d.clock.Now().Sub(start), shortName(aws.ToString(svc.TaskDefinition)))
	return svc, chk, nil
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
func (d *Deployer) startDeployment(ctx context.Context, spec Spec, in *ecs.UpdateServiceInput, want, previous string) (tracking, string, error) {
	out, err := d.api.UpdateService(ctx, in)
	if err != nil {
		return tracking{}, "", awsconf.Explain("ecs:UpdateService", err)
	}
	var primary *types.Deployment
	var sdARN string
	if out.Service != nil {
		primary = primaryDeployment(out.Service.Deployments)
		sdARN = aws.ToString(out.Service.CurrentServiceDeployment)
	}
	if primary == nil {
		return tracking{}, "", errors.New("ecs:UpdateService answered without a PRIMARY deployment: cannot tell which deployment to follow")
	}
	t := trackDeployment(spec, primary, previous)
	d.logf("%s: started deployment %s of %s (previous: %s)", spec.Service, t.id, shortName(t.taskDef), shortName(previous))
	if want != "" && !sameRevision(t.taskDef, want) {
		// Not what we asked for: follow it as ours-with-the-wanted-revision,
		// which judge reports as KindWrongRevision at the first poll.
		t.taskDef = want
	}
	return t, sdARN, nil
}

// shiftingStrategy is the service's ECS deployment strategy when it is
// one that ECS carries out as a service deployment with lifecycle stages
// (BLUE_GREEN, LINEAR, CANARY); "" for ROLLING.
func shiftingStrategy(svc *types.Service) types.DeploymentStrategy {
	if c := svc.DeploymentConfiguration; c != nil && c.Strategy != "" && c.Strategy != types.DeploymentStrategyRolling {
		return c.Strategy
	}
	return ""
}

// followShifting follows a rollout of a blue/green, linear or canary
// service by the service deployment its UpdateService started (the
// service's currentServiceDeployment, else the first created since), stage
// by stage. ECS rolls such a deployment back itself (alarms, circuit
// breaker); stevedore does not roll it back a second time.
func (d *Deployer) followShifting(ctx context.Context, spec Spec, res Result, strategy types.DeploymentStrategy, arn string, started time.Time) (Result, error) {
	d.logf("%s: %s deployment: following its service deployment", spec.Service, strategy)
	sd, err := d.FollowServiceDeployment(ctx, ServiceDeploymentSpec{
		Cluster: spec.Cluster, Service: spec.Service, ARN: arn, Since: started,
		Timeout: spec.timeout(), Poll: spec.poll(), MaxAttempts: spec.MaxAttempts,
	})
	if sd.ARN != "" {
		res.DeploymentID = shortName(sd.ARN)
	}
	switch types.ServiceDeploymentStatus(sd.Status) {
	case types.ServiceDeploymentStatusRollbackSuccessful:
		res.RolledBack = true
	}
	if err != nil {
		if re := (*RolloutError)(nil); errors.As(err, &re) && spec.Rollback && !res.RolledBack {
			re.Rollback = orDefault(re.Rollback, "not rolled back by stevedore: ECS rolls back a "+string(strategy)+" deployment itself (alarms, circuit breaker); use abort-rollout --rollback")
		}
		return res, err
	}
	return res, nil
}

func trackDeployment(spec Spec, dep *types.Deployment, previous string) tracking {
	return tracking{
		cluster: spec.Cluster, service: spec.Service,
		id: aws.ToString(dep.Id), taskDef: aws.ToString(dep.TaskDefinition),
		created: aws.ToTime(dep.CreatedAt), previous: previous,
	}
}
