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
	// Timeout bounds the whole wait; 0 means DefaultTimeout.
	Timeout time.Duration
	// Poll is the DescribeServiceDeployments interval; 0 means DefaultPoll.
	Poll time.Duration
	// MaxAttempts is the retry budget of each ECS API call, as in Spec.
	MaxAttempts int
}

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
	poll, timeout := orDuration(spec.Poll, DefaultPoll), orDuration(spec.Timeout, DefaultTimeout)
	deadline := start.Add(timeout)
	res.ARN = spec.ARN
	fail := func(kind FailureKind, reason string, err error) error {
		d.logf("%s: release failed: %s", spec.Service, reason)
		return &RolloutError{Service: spec.Service, Cluster: spec.Cluster, Kind: kind, Reason: reason, Err: err}
	}
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
			v := judgeServiceDeployment(sd)
			if v.done {
				d.logf("%s: service deployment %s succeeded", spec.Service, shortName(res.ARN))
				return res, nil
			}
			if v.kind != "" {
				return res, fail(v.kind, v.reason, nil)
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
