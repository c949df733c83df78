package ecs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// heartbeat is how often an unchanged rollout still prints a line, so a
// CI log never looks hung.
const heartbeat = time.Minute

// follower polls one service and reports every new event once. It follows
// our deployment and then, if need be, the rollback deployment.
type follower struct {
	d                *Deployer
	cluster, service string
	poll, timeout    time.Duration
	seen             map[string]bool // events already reported or older than the rollout
	events           []string        // new events, oldest first
	lastLine         string
	lastLineAt       time.Time
}

func (d *Deployer) newFollower(spec Spec, before []types.ServiceEvent) *follower {
	f := &follower{d: d, cluster: spec.Cluster, service: spec.Service, poll: spec.poll(), timeout: spec.timeout(), seen: map[string]bool{}}
	for _, ev := range before {
		f.seen[eventKey(ev)] = true
	}
	return f
}

// maxBackoff caps the wait between polls that keep failing.
const maxBackoff = time.Minute

// step judges one DescribeServices answer; it may read more (task
// definitions) and returns the tracking to report progress against.
type step func(ctx context.Context, out *ecs.DescribeServicesOutput) (verdict, tracking, error)

// run polls until the tracked deployment succeeds, fails or times out.
func (f *follower) run(ctx context.Context, t tracking) verdict {
	v, _ := f.loop(ctx, t, func(_ context.Context, out *ecs.DescribeServicesOutput) (verdict, tracking, error) {
		return judge(out, t), t, nil
	}, func(v verdict, t tracking) string {
		return fmt.Sprintf("deployment %s of %s did not complete within %s (last state: %s)", t.id, shortName(t.taskDef), f.timeout, progress(v, t))
	})
	return v
}

// loop polls DescribeServices every poll interval and hands each answer to
// judgeStep until it decides or the timeout passes (then timeoutReason
// says why). Throttling, 5xx and network errors that outlast the SDK's
// retries are tried again, with growing pauses, until the timeout; other
// errors end the watch at once.
func (f *follower) loop(ctx context.Context, t tracking, judgeStep step, timeoutReason func(verdict, tracking) string) (verdict, tracking) {
	deadline := f.d.clock.Now().Add(f.timeout)
	failures := 0
	for {
		var v verdict
		out, err := f.d.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: optString(f.cluster), Services: []string{f.service}})
		if err != nil {
			err = awsconf.Explain("ecs:DescribeServices", err)
		} else {
			v, t, err = judgeStep(ctx, out)
		}
		left := deadline.Sub(f.d.clock.Now())
		if err != nil {
			if ctx.Err() != nil || !transient(err) || left <= 0 {
				return f.pollError(ctx, t, err, failures), t
			}
			failures++
			pause := min(backoff(f.poll, failures), left)
			f.d.logf("%s: the ECS API failed (%v); polling again in %s, until the %s timeout", f.service, err, pause, f.timeout)
			if err := f.d.clock.Sleep(ctx, pause); err != nil {
				return f.pollError(ctx, t, err, failures), t
			}
			continue
		}
		failures = 0
		if v.svc != nil {
			f.observe(v, t)
		}
		if v.done || v.kind != "" {
			return v, t
		}
		if left <= 0 {
			v.kind = KindTimeout
			v.reason = timeoutReason(v, t)
			return v, t
		}
		if err := f.d.clock.Sleep(ctx, min(f.poll, left)); err != nil {
			return f.pollError(ctx, t, err, failures), t
		}
	}
}

// backoff doubles the poll interval for each failed poll in a row.
func backoff(poll time.Duration, failures int) time.Duration {
	d := poll
	for i := 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, max(poll, maxBackoff))
}

// transient: an error that says nothing about the deployment and may pass
// (throttling, 5xx, network), including one the SDK's retries ran out on.
func transient(err error) bool {
	var exhausted *retry.MaxAttemptsError
	var quota ratelimit.QuotaExceededError
	return errors.As(err, &exhausted) || errors.As(err, &quota) ||
		retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// pollError: we no longer know how the deployment is doing, which is not
// the same as knowing it failed, and the message says so.
func (f *follower) pollError(ctx context.Context, t tracking, err error, failures int) verdict {
	what := "the deployment of " + f.service
	if t.id != "" {
		what = "deployment " + t.id
	}
	if ctx.Err() != nil {
		return verdict{kind: KindPollError, err: ctx.Err(), reason: fmt.Sprintf("stopped waiting for %s (%v); it may still be running in ECS", what, ctx.Err())}
	}
	reason := fmt.Sprintf("lost track of %s, which may still be running: %v", what, err)
	if failures > 0 {
		reason = fmt.Sprintf("lost track of %s, which may still be running: the ECS API kept failing for %d polls in a row until the %s timeout: %v", what, failures+1, f.timeout, err)
	}
	return verdict{kind: KindPollError, err: err, reason: reason}
}

// observe logs each new service event once and a progress line whenever
// the deployment's counts or state change (or a heartbeat is due).
func (f *follower) observe(v verdict, t tracking) {
	evs := v.svc.Events
	for i := len(evs) - 1; i >= 0; i-- { // the API lists newest first
		key := eventKey(evs[i])
		if f.seen[key] {
			continue
		}
		f.seen[key] = true
		line := formatEvent(evs[i])
		f.events = append(f.events, line)
		f.d.logf("%s: event: %s", f.service, line)
	}
	line := progress(v, t)
	now := f.d.clock.Now()
	if line != f.lastLine || now.Sub(f.lastLineAt) >= heartbeat {
		f.lastLine, f.lastLineAt = line, now
		f.d.logf("%s: %s", f.service, line)
	}
}

// progress summarises our deployment: counts, rollout state and reason.
func progress(v verdict, t tracking) string {
	d := v.ours
	if t.id == "" {
		line := "no deployment of the new images yet"
		if p := v.primary; p != nil {
			line += fmt.Sprintf("; PRIMARY is deployment %s (%s) %s", aws.ToString(p.Id), shortName(aws.ToString(p.TaskDefinition)), orDefault(string(p.RolloutState), aws.ToString(p.Status)))
		}
		return line
	}
	if d == nil {
		return fmt.Sprintf("deployment %s not listed", t.id)
	}
	line := fmt.Sprintf("deployment %s (%s) %s: %d/%d running, %d pending, %d failed tasks",
		t.id, shortName(t.taskDef), orDefault(string(d.RolloutState), aws.ToString(d.Status)),
		d.RunningCount, d.DesiredCount, d.PendingCount, d.FailedTasks)
	if others := len(v.svc.Deployments) - 1; others > 0 {
		line += fmt.Sprintf(", %d other deployment(s) draining", others)
	}
	if r := aws.ToString(d.RolloutStateReason); r != "" {
		line += " - " + r
	}
	return line
}

func eventKey(ev types.ServiceEvent) string {
	if ev.Id != nil {
		return *ev.Id
	}
	return formatEvent(ev)
}

func formatEvent(ev types.ServiceEvent) string {
	if ev.CreatedAt == nil {
		return aws.ToString(ev.Message)
	}
	return ev.CreatedAt.UTC().Format(time.RFC3339) + " " + aws.ToString(ev.Message)
}
