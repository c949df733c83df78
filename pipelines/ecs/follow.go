package ecs

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// run polls until the tracked deployment succeeds, fails or times out.
func (f *follower) run(ctx context.Context, t tracking) verdict {
	deadline := f.d.clock.Now().Add(f.timeout)
	for {
		out, err := f.d.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: optString(f.cluster), Services: []string{f.service}})
		if err != nil {
			return f.pollError(ctx, t, err)
		}
		v := judge(out, t)
		if v.svc != nil {
			f.observe(v, t)
		}
		if v.done || v.kind != "" {
			return v
		}
		left := deadline.Sub(f.d.clock.Now())
		if left <= 0 {
			v.kind = KindTimeout
			v.reason = fmt.Sprintf("deployment %s of %s did not complete within %s (last state: %s)", t.id, shortName(t.taskDef), f.timeout, progress(v, t))
			return v
		}
		if err := f.d.clock.Sleep(ctx, min(f.poll, left)); err != nil {
			return f.pollError(ctx, t, err)
		}
	}
}

// pollError: we no longer know how the deployment is doing, which is not
// the same as knowing it failed, and the message says so.
func (f *follower) pollError(ctx context.Context, t tracking, err error) verdict {
	if ctx.Err() != nil {
		return verdict{kind: KindPollError, err: ctx.Err(), reason: fmt.Sprintf("stopped waiting for deployment %s (%v); it may still be running in ECS", t.id, ctx.Err())}
	}
	err = awsconf.Explain("ecs:DescribeServices", err)
	return verdict{kind: KindPollError, err: err, reason: fmt.Sprintf("lost track of deployment %s, which may still be running: %v", t.id, err)}
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
