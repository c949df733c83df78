package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// ServiceDeploymentSpec says which service deployment to follow through
// the service-deployments API.
type ServiceDeploymentSpec struct {
	// Cluster name or ARN; empty means the "default" cluster.
	Cluster string
	// Service name or ARN. Required.
	Service string
	// ARN of the service deployment. Empty: the first one created at or
	// after Since, waited for until the timeout.
	ARN string
	// Since bounds the search when ARN is empty (e.g. just before cdk
	// deploy started). Required then.
	Since time.Time
	// Timeout bounds the whole wait, not counting the time the gate runs;
	// 0 means DefaultTimeout. Give bake and step bake times on top.
	Timeout time.Duration
	// Poll is the DescribeServiceDeployments interval; 0 means DefaultPoll.
	Poll time.Duration
	// MaxAttempts is the retry budget of each ECS API call, as in Spec.
	MaxAttempts int
	// Images, if set (and ARN is empty), are the release's images by
	// container: a service already steady on them, alone, since before
	// Since is unchanged at once (ServiceDeploymentResult.Unchanged), as
	// with Follow, instead of waiting for a deployment that never comes.
	Images map[string]string
	// Gate, if set, runs when the deployment pauses at a PAUSE lifecycle
	// hook (POST_TEST_TRAFFIC_SHIFT, or POST_SCALE_UP for a service
	// without a load balancer): nil sends CONTINUE; an error, or a gate
	// that does not finish in time, sends ROLLBACK, and the rollout fails
	// with that error once the rollback has ended. A deployment that
	// succeeds without ever pausing fails too: its gate never ran.
	Gate func(ctx context.Context) error
	// GateTimeout bounds one run of Gate; 0 means DefaultGateTimeout. It
	// is cut short to end 30 s before the hook expires.
	GateTimeout time.Duration
}

// DefaultGateTimeout bounds one run of a gate.
const DefaultGateTimeout = 10 * time.Minute

// ServiceDeploymentResult describes a followed service deployment.
type ServiceDeploymentResult struct {
	// ARN of the service deployment.
	ARN string
	// Status is its last status, e.g. SUCCESSFUL.
	Status string
	// TargetRevision is the service revision it deployed.
	TargetRevision string
	// Stages are the lifecycle stages seen, in order.
	Stages []string
	// Gated are the stages at which the gate passed and CONTINUE was sent.
	Gated []string
	// Unchanged: the service already ran Images steadily; nothing was
	// deployed and the gate did not run.
	Unchanged bool
	// Elapsed from the call to the verdict.
	Elapsed time.Duration
}

// FollowServiceDeployment follows one service deployment by its ARN (or
// the first one started since spec.Since), logs each lifecycle stage with
// the target revision's task counts and traffic weights, and judges it by
// its status (see judgeServiceDeployment). Failures are *RolloutError.
func (d *Deployer) FollowServiceDeployment(ctx context.Context, spec ServiceDeploymentSpec) (res ServiceDeploymentResult, err error) {
	ctx = withBudget(ctx, spec.MaxAttempts)
	start := d.clock.Now()
	defer func() { res.Elapsed = d.clock.Now().Sub(start) }()
	if spec.Service == "" {
		return res, errors.New("following a service deployment: no service named")
	}
	if spec.ARN == "" && spec.Since.IsZero() {
		return res, fmt.Errorf("following a service deployment of %s: give its ARN or the time it started after", spec.Service)
	}
	if spec.ARN == "" && len(spec.Images) > 0 {
		unchanged, err := d.alreadyOn(ctx, spec)
		if err != nil {
			return res, fmt.Errorf("following the service deployment of %s: %w", spec.Service, err)
		}
		if unchanged {
			res.Unchanged = true
			d.logf("%s: already runs %s steadily; nothing was deployed", spec.Service, imageList(spec.Images))
			return res, nil
		}
	}
	poll, timeout := orDuration(spec.Poll, DefaultPoll), orDuration(spec.Timeout, DefaultTimeout)
	deadline := start.Add(timeout)
	res.ARN = spec.ARN
	fail := func(kind FailureKind, reason string, err error) error {
		d.logf("%s: release failed: %s", spec.Service, reason)
		return &RolloutError{Service: spec.Service, Cluster: spec.Cluster, Kind: kind, Reason: reason, Err: err}
	}
	gs := gateState{enabled: spec.Gate != nil, decided: map[string]*gateDecision{}, paused: map[string]string{}}
	notes := map[string]bool{}
	failures, last := 0, ""
	for {
		sd, err := d.pollServiceDeployment(ctx, spec, res.ARN)
		left := deadline.Sub(d.clock.Now())
		if err != nil {
			if ctx.Err() != nil || !transient(err) || left <= 0 {
				return res, fail(KindPollError, fmt.Sprintf("lost track of the service deployment of %s, which may still be running: %v", spec.Service, err), err)
			}
			failures++
			pause := min(backoff(poll, failures), left)
			d.logf("%s: the ECS API failed (%v); polling again in %s, until the %s timeout", spec.Service, err, pause, timeout)
			if err := d.clock.Sleep(ctx, pause); err != nil {
				return res, fail(KindPollError, "stopped waiting for the service deployment of "+spec.Service, err)
			}
			continue
		}
		failures = 0
		if sd != nil {
			res.ARN, res.Status = aws.ToString(sd.ServiceDeploymentArn), string(sd.Status)
			if t := sd.TargetServiceRevision; t != nil {
				res.TargetRevision = aws.ToString(t.Arn)
			}
			if stage := string(sd.LifecycleStage); stage != "" && (len(res.Stages) == 0 || res.Stages[len(res.Stages)-1] != stage) {
				res.Stages = append(res.Stages, stage)
			}
			if line := serviceDeploymentProgress(sd); line != last {
				last = line
				d.logf("%s: %s", spec.Service, line)
			}
			hs := judgeHook(sd, gs, d.clock.Now(), orDuration(spec.GateTimeout, DefaultGateTimeout))
			if hs.hookID != "" {
				gs.paused[hs.hookID] = hs.stage
			}
			if hs.note != "" && !notes[hs.note] {
				notes[hs.note] = true
				d.logf("%s: %s", spec.Service, hs.note)
			}
			if hs.run {
				began := d.clock.Now()
				gs.decided[hs.hookID] = d.runGate(ctx, spec, hs)
				hs.send = gs.decided[hs.hookID]
				deadline = deadline.Add(d.clock.Now().Sub(began)) // the gate's time is not the deployment's
			}
			if hs.send != nil {
				if err := d.sendGateDecision(ctx, spec, res.ARN, hs.hookID, hs.send); err != nil {
					return res, fail(KindPollError, err.Error(), err)
				}
				if hs.send.sent && hs.send.action == types.DeploymentLifecycleHookActionContinue {
					res.Gated = append(res.Gated, hs.stage)
				}
				if ctx.Err() != nil {
					what := "ROLLBACK was sent to service deployment %s, whose rollback is not followed"
					if !hs.send.sent {
						what = "ROLLBACK could not be sent to service deployment %s: its PAUSE hook's timeout action applies"
					}
					return res, fail(KindGateFailed, fmt.Sprintf("interrupted while the gate ran at %s; "+what+": %s", hs.stage, shortName(res.ARN), hs.send.evidence), ctx.Err())
				}
				if hs.send.sent {
					continue // see at once what ECS made of it
				}
			}
			v := judgeGated(sd, gs)
			if v.done {
				d.logf("%s: service deployment %s succeeded", spec.Service, shortName(res.ARN))
				return res, nil
			}
			if v.kind != "" {
				err := fail(v.kind, v.reason, nil).(*RolloutError)
				err.Rollback = v.rollback
				return res, err
			}
		}
		if left <= 0 {
			if sd == nil {
				return res, fail(KindNoDeployment, fmt.Sprintf("no service deployment of %s started after %s within %s", spec.Service, spec.Since.UTC().Format(time.RFC3339), timeout), nil)
			}
			return res, fail(KindTimeout, fmt.Sprintf("service deployment %s did not finish within %s (last: %s)", shortName(res.ARN), timeout, last), nil)
		}
		if err := d.clock.Sleep(ctx, min(poll, left)); err != nil {
			return res, fail(KindPollError, "stopped waiting for the service deployment of "+spec.Service, err)
		}
	}
}

// alreadyOn takes Follow's look at the start: is the service steady on
// spec.Images, alone, with a deployment older than spec.Since?
func (d *Deployer) alreadyOn(ctx context.Context, spec ServiceDeploymentSpec) (bool, error) {
	if err := (FollowSpec{Service: spec.Service, Images: spec.Images}).validate(); err != nil {
		return false, err
	}
	svc, err := d.describeService(ctx, spec.Cluster, spec.Service)
	if err != nil {
		return false, err
	}
	answer := &ecs.DescribeServicesOutput{Services: []types.Service{*svc}}
	defs := map[string]map[string]string{}
	if err := d.loadImages(ctx, answer, defs); err != nil {
		return false, err
	}
	_, _, unchanged := judgeFollow(answer, defs, followState{want: spec.Images, start: spec.Since, first: true, t: tracking{cluster: spec.Cluster, service: spec.Service}})
	return unchanged, nil
}

// runGate runs the caller's gate for one paused hook, within its budget,
// and turns the outcome into the action to send.
func (d *Deployer) runGate(ctx context.Context, spec ServiceDeploymentSpec, hs hookStep) *gateDecision {
	dec := &gateDecision{stage: hs.stage, action: types.DeploymentLifecycleHookActionRollback}
	if hs.budget <= 0 {
		dec.evidence = "the PAUSE hook expires too soon to run the gate"
		return dec
	}
	d.logf("%s: paused at %s: running the gate (at most %s)", spec.Service, hs.stage, hs.budget)
	gctx, cancel := context.WithTimeout(ctx, hs.budget)
	defer cancel()
	err := spec.Gate(gctx)
	switch {
	case err == nil && gctx.Err() == nil:
		d.logf("%s: the gate at %s passed: continuing", spec.Service, hs.stage)
		dec.action = types.DeploymentLifecycleHookActionContinue
		return dec
	case err == nil:
		err = gctx.Err()
	}
	if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("the gate did not finish within %s: %w", hs.budget, err)
	}
	dec.evidence = err.Error()
	d.logf("%s: the gate at %s failed: rolling back: %s", spec.Service, hs.stage, dec.evidence)
	return dec
}

// sendGateDecision sends CONTINUE or ROLLBACK for a paused hook. A
// transient failure leaves it unsent, for the next poll. A ROLLBACK that
// ContinueServiceDeployment refuses is sent as StopServiceDeployment
// ROLLBACK; a CONTINUE it refuses becomes a ROLLBACK, so that a rollout
// that fails never leaves the new revision to go live by the hook's
// timeout. An interrupted pipeline still sends its ROLLBACK.
func (d *Deployer) sendGateDecision(ctx context.Context, spec ServiceDeploymentSpec, arn, hookID string, dec *gateDecision) error {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), gateMargin)
		defer cancel()
		dec.action, dec.evidence = types.DeploymentLifecycleHookActionRollback, orDefault(dec.evidence, "the pipeline stopped")
	}
	_, err := d.api.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), HookId: aws.String(hookID), Action: dec.action})
	if err == nil {
		dec.sent = true
		d.logf("%s: sent %s to service deployment %s", spec.Service, dec.action, shortName(arn))
		return nil
	}
	err = awsconf.Explain("ecs:ContinueServiceDeployment", err)
	if transient(err) {
		d.logf("%s: sending %s failed (%v); trying again on the next poll", spec.Service, dec.action, err)
		return nil
	}
	if dec.action == types.DeploymentLifecycleHookActionContinue {
		dec.action, dec.evidence = types.DeploymentLifecycleHookActionRollback, "the gate passed but CONTINUE was refused: "+err.Error()
		return d.sendGateDecision(ctx, spec, arn, hookID, dec)
	}
	if _, serr := d.api.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), StopType: types.StopServiceDeploymentStopTypeRollback}); serr != nil {
		return fmt.Errorf("could not roll back service deployment %s after its gate failed (%s): %v; then %v; its PAUSE hook's timeout action applies", shortName(arn), dec.evidence, err, awsconf.Explain("ecs:StopServiceDeployment", serr))
	}
	dec.sent = true
	d.logf("%s: ContinueServiceDeployment refused ROLLBACK (%v); stopped service deployment %s with ROLLBACK instead", spec.Service, err, shortName(arn))
	return nil
}

// pollServiceDeployment describes the deployment with that ARN, or finds
// the first one started since spec.Since (nil while there is none).
func (d *Deployer) pollServiceDeployment(ctx context.Context, spec ServiceDeploymentSpec, arn string) (*types.ServiceDeployment, error) {
	if arn == "" {
		list, err := d.api.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
			Cluster: optString(spec.Cluster), Service: aws.String(spec.Service),
			CreatedAt: &types.CreatedAt{After: aws.Time(spec.Since)},
		})
		if err != nil {
			return nil, awsconf.Explain("ecs:ListServiceDeployments", err)
		}
		var first *types.ServiceDeploymentBrief
		for i := range list.ServiceDeployments {
			b := &list.ServiceDeployments[i]
			if first == nil || aws.ToTime(b.CreatedAt).Before(aws.ToTime(first.CreatedAt)) {
				first = b
			}
		}
		if first == nil {
			return nil, nil
		}
		arn = aws.ToString(first.ServiceDeploymentArn)
	}
	out, err := d.api.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	if err != nil {
		return nil, awsconf.Explain("ecs:DescribeServiceDeployments", err)
	}
	if len(out.ServiceDeployments) == 0 {
		return nil, fmt.Errorf("ecs:DescribeServiceDeployments does not know %s: %s", shortName(arn), failureList(out.Failures))
	}
	return &out.ServiceDeployments[0], nil
}

// serviceDeploymentProgress renders "service deployment X IN_PROGRESS,
// stage BAKE_TIME: 2/2 running, 0 pending, production traffic 100%".
func serviceDeploymentProgress(sd *types.ServiceDeployment) string {
	line := fmt.Sprintf("service deployment %s %s", shortName(aws.ToString(sd.ServiceDeploymentArn)), sd.Status)
	if sd.LifecycleStage != "" {
		line += ", stage " + string(sd.LifecycleStage)
	}
	if t := sd.TargetServiceRevision; t != nil {
		line += fmt.Sprintf(": %d/%d running, %d pending", t.RunningTaskCount, t.RequestedTaskCount, t.PendingTaskCount)
		var traffic []string
		if w := t.RequestedProductionTrafficWeight; w != nil {
			traffic = append(traffic, fmt.Sprintf("production traffic %g%%", *w))
		}
		if w := t.RequestedTestTrafficWeight; w != nil {
			traffic = append(traffic, fmt.Sprintf("test traffic %g%%", *w))
		}
		if len(traffic) > 0 {
			line += ", " + strings.Join(traffic, ", ")
		}
	}
	if r := aws.ToString(sd.StatusReason); r != "" {
		line += " - " + r
	}
	return line
}
