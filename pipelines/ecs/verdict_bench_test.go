package ecs

// Verdict delay and correctness: our follower against the SDK's
// ecs.ServicesStableWaiter on the same scripted rollouts.
//
// Each script changes state every benchStep of fake time; the "decisive"
// state is the first from which the right verdict can be known (success:
// COMPLETED and drained; circuit breaker: the old revision PRIMARY again;
// FAILED: rolloutState FAILED). Delay = verdict time - start of the
// decisive state. Runs shift the script's phase so the change falls at
// different points of the poll cycle.
//
// Method, honestly stated:
//   - stevedore: the real Rollout code on the fake clock, poll 5 s; exact.
//   - SDK waiter: the real ServicesStableWaiter.Wait code with real timers,
//     its own default delays (MinDelay 15 s and MaxDelay 600 s in
//     service/ecs v1.104.1, not the 120 s sometimes quoted) and a 15 min
//     max wait, all divided by waiterScale, against a script clock running
//     waiterScale times faster than the wall clock. Its jitter is random,
//     and each HTTP round trip (well under 1 ms real) counts as under a
//     second of fake time, so its figures are means over a few runs,
//     accurate to about a fake second.
//
// Run: go test -run '^$' -bench VerdictDelay ./pipelines/ecs/
// Each sub-benchmark prints fake-s-delay (mean), fake-s-max-delay and
// verdict-correct (fraction of runs with the right success/failure verdict,
// given no earlier than the decisive state: a verdict before it judged some
// other state of the service). The follow-* cases are the release model:
// CloudFormation starts the deployment a minute and a half after the
// follower began, so the service first looks stable on its old revision,
// which the waiter takes for success (a negative delay).
// The waiter's "correct" failure verdict for a FAILED rollout is only its
// max-wait timeout, as its delay shows: it does not look at rolloutState.

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

const (
	benchStep   = 30 * time.Second
	waiterScale = 1000 // 1 ms of wall time is 1 s of script time
)

type benchCase struct {
	name        string
	states      []state
	decisive    int // index of the first state that decides the verdict
	wantSuccess bool
	// follow: someone else (CloudFormation) starts the deployment; the
	// script begins at rest on the old revision and stevedore runs Follow
	// instead of Rollout.
	follow bool
	// sd, instead of states, scripts a service deployment.
	sd []map[string]any
}

func benchCases() []benchCase {
	inProgress := deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 0), old("ACTIVE", 2))
	failing := ours(tdNew, "PRIMARY", "IN_PROGRESS", 0)
	failing.failed = 2
	failed := ours(tdNew, "PRIMARY", "FAILED", 0)
	failed.failed, failed.reason = 3, "ECS deployment circuit breaker: tasks failed to start."
	failedActive := failed
	failedActive.status = "ACTIVE"
	back := dep{id: depBack, status: "PRIMARY", td: tdPrev, rollout: "IN_PROGRESS", running: 2, desired: 2, createdAt: 61,
		reason: "ECS deployment circuit breaker: rolling back to deploymentId " + depOld + "."}
	backDone := back
	backDone.rollout, backDone.reason = "COMPLETED", ""
	return []benchCase{
		{name: "success", decisive: 2, wantSuccess: true, states: []state{
			inProgress,
			deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 2), old("ACTIVE", 0)),
			deps(ours(tdNew, "PRIMARY", "COMPLETED", 2)),
		}},
		{name: "circuit-breaker-rollback", decisive: 2, states: []state{
			inProgress,
			deps(failing, old("ACTIVE", 2)),
			deps(failedActive, back, old("ACTIVE", 0)),
			deps(backDone),
		}},
		{name: "rollout-failed", decisive: 2, states: []state{
			inProgress,
			deps(failing, old("ACTIVE", 2)),
			deps(failed, old("ACTIVE", 2)),
		}},
		// The release model: cdk deploy moves the service a while after
		// the follower started; the service looks stable until then.
		{name: "follow-success", decisive: 3, wantSuccess: true, follow: true, states: []state{
			steady(old("PRIMARY", 2)),
			inProgress,
			deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 2), old("ACTIVE", 0)),
			deps(ours(tdNew, "PRIMARY", "COMPLETED", 2)),
		}},
		{name: "follow-circuit-breaker", decisive: 3, follow: true, states: []state{
			steady(old("PRIMARY", 2)),
			inProgress,
			deps(failing, old("ACTIVE", 2)),
			deps(failedActive, back, old("ACTIVE", 0)),
			deps(backDone),
		}},
	}
}

func (c benchCase) scenario(offset time.Duration) *scenario {
	return &scenario{before: steady(old("PRIMARY", 2)), states: c.states, step: benchStep, offset: offset, defs: releaseDefs()}
}

// changeAt is when the decisive state begins, after the script's start.
func (c benchCase) changeAt(offset time.Duration) time.Duration {
	return time.Duration(c.decisive)*benchStep - offset
}

// benchOffsets spreads n runs over one script step.
func benchOffsets(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = benchStep * time.Duration(i) / time.Duration(n)
	}
	return out
}

// followerRun returns our follower's verdict delay and whether it was
// right: a verdict before the decisive state judged something else.
func followerRun(tb testing.TB, c benchCase, offset time.Duration) (time.Duration, bool) {
	h := newHarness(tb, map[string]*scenario{"api": c.scenario(offset)})
	defer h.fake.srv.Close()
	var err error
	if c.follow {
		h.fake.startScript("api")
		_, err = h.d.Follow(context.Background(), FollowSpec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestB}, Poll: 5 * time.Second})
	} else {
		_, err = h.d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Poll: 5 * time.Second})
	}
	delay := h.elapsed() - c.changeAt(offset)
	return delay, (err == nil) == c.wantSuccess && delay >= 0
}

// waiterRun returns the SDK waiter's verdict delay and whether it was right.
func waiterRun(tb testing.TB, c benchCase, offset time.Duration) (time.Duration, bool) {
	base, realStart := time.Unix(epoch, 0), time.Now()
	now := func() time.Time { return base.Add(time.Since(realStart) * waiterScale) }
	f := newFakeECS(tb, now, map[string]*scenario{"api": c.scenario(offset)})
	defer f.srv.Close()
	f.startScript("api")
	w := ecs.NewServicesStableWaiter(ecs.NewFromConfig(f.config()), func(o *ecs.ServicesStableWaiterOptions) {
		o.MinDelay /= waiterScale // the waiter's own defaults, scaled
		o.MaxDelay /= waiterScale
	})
	err := w.Wait(context.Background(), &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}}, DefaultTimeout/waiterScale)
	delay := now().Sub(base) - c.changeAt(offset)
	return delay, (err == nil) == c.wantSuccess && delay >= 0
}

func BenchmarkVerdictDelay(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name+"/stevedore-poll-5s", func(b *testing.B) { measure(b, c, 10, followerRun) })
		b.Run(c.name+"/sdk-stable-waiter", func(b *testing.B) { measure(b, c, 3, waiterRun) })
	}
	// Service deployments (blue/green, linear, canary) have no SDK waiter:
	// ServicesStableWaiter does not read the service-deployments API, so
	// only stevedore's figures are given.
	for _, c := range sdBenchCases() {
		b.Run(c.name+"/stevedore-poll-5s", func(b *testing.B) { measure(b, c, 10, serviceDeploymentRun) })
	}
}

// sdBenchCases script service deployments; their states are
// ServiceDeployment answers (benchCase.sd), stepping every benchStep.
func sdBenchCases() []benchCase {
	alarm := map[string]any{"alarms": map[string]any{"triggeredAlarmNames": []any{"api-5xx"}, "status": "TRIGGERED"}}
	return []benchCase{
		{name: "service-deployment-bluegreen-success", decisive: 4, wantSuccess: true, sd: []map[string]any{
			sd("IN_PROGRESS", "SCALE_UP", 1, 0, nil), sd("IN_PROGRESS", "TEST_TRAFFIC_SHIFT", 2, 0, nil),
			sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 100, nil), sd("IN_PROGRESS", "BAKE_TIME", 2, 100, nil),
			sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil)}},
		{name: "service-deployment-alarm-rollback", decisive: 3, sd: []map[string]any{
			sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 100, nil), sd("IN_PROGRESS", "BAKE_TIME", 2, 100, nil),
			sd("ROLLBACK_IN_PROGRESS", "BAKE_TIME", 2, 0, alarm), sd("ROLLBACK_SUCCESSFUL", "CLEAN_UP", 0, 0, alarm)}},
	}
}

// serviceDeploymentRun is followerRun for FollowServiceDeployment.
func serviceDeploymentRun(tb testing.TB, c benchCase, offset time.Duration) (time.Duration, bool) {
	h := newHarness(tb, map[string]*scenario{"api": {serviceDeployments: c.sd, step: benchStep, offset: offset}})
	defer h.fake.srv.Close()
	_, err := h.d.FollowServiceDeployment(context.Background(), ServiceDeploymentSpec{Cluster: "prod", Service: "api", ARN: sdArn, Poll: 5 * time.Second})
	delay := h.elapsed() - c.changeAt(offset)
	return delay, (err == nil) == c.wantSuccess && delay >= 0
}

func measure(b *testing.B, c benchCase, runs int, run func(testing.TB, benchCase, time.Duration) (time.Duration, bool)) {
	var sum time.Duration
	worst := time.Duration(math.MinInt64)
	correct, n := 0, 0
	for i := 0; i < b.N; i++ {
		for _, off := range benchOffsets(runs) {
			d, ok := run(b, c, off)
			sum, worst, n = sum+d, max(worst, d), n+1
			if ok {
				correct++
			}
		}
	}
	b.ReportMetric(sum.Seconds()/float64(n), "fake-s-delay")
	b.ReportMetric(worst.Seconds(), "fake-s-max-delay")
	b.ReportMetric(float64(correct)/float64(n), "verdict-correct")
}

// Our follower's verdict is right and comes at most one poll interval after
// the decisive change, wherever in the poll cycle the change falls. Fake
// time makes this exact, so it is a plain test.
func TestFollowerVerdictWithinOnePoll(t *testing.T) {
	for _, c := range append(benchCases(), sdBenchCases()...) {
		run := followerRun
		if c.sd != nil {
			run = serviceDeploymentRun
		}
		for _, off := range benchOffsets(10) {
			d, ok := run(t, c, off)
			if !ok || d < 0 || d > 5*time.Second {
				t.Errorf("%s, phase %s: verdict correct=%v after %s, want correct within 5s", c.name, off, ok, d)
			}
		}
	}
}
