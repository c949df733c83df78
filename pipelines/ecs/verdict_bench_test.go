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
// Gate cases: the deployment pauses at its PAUSE hook, stevedore's gate
// answers, and the fake serves what follows that answer; the decisive
// state is then timed from the action. pause-to-action is the delay from
// the pause to the gate's CONTINUE/ROLLBACK. The SDK waiter, given the
// same deployment through DescribeServices, never answers the hook: both
// revisions stay up until its max wait, so a passing gate is a failure to
// it and a failing one "correct" only by its timeout.
//
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
	// sd scripts a service deployment; states is then what DescribeServices
	// shows of it at the same time (for the SDK waiter).
	sd []map[string]any
	// gate: the deployment pauses at a PAUSE hook (script index pauseAt)
	// and the gate passes (nil) or fails; after the action the fake serves
	// after[action], whose entry decisive decides the verdict.
	gate    func(context.Context) error
	pauseAt int
	after   map[string][]map[string]any
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
// For a gate case it is when the decisive state would begin had the gate
// answered the moment the deployment paused (the waiter never answers).
func (c benchCase) changeAt(offset time.Duration) time.Duration {
	if c.gate != nil {
		return time.Duration(c.pauseAt+c.decisive)*benchStep - offset
	}
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
	// Service deployments (blue/green, linear, canary): stevedore reads
	// the service-deployments API; the SDK waiter only has DescribeServices,
	// which shows the same deployment as ECS deployments (the scripts'
	// states), and cannot answer a PAUSE hook at all.
	for _, c := range append(sdBenchCases(), gateBenchCases()...) {
		b.Run(c.name+"/stevedore-poll-5s", func(b *testing.B) { measure(b, c, 10, serviceDeploymentRun) })
		b.Run(c.name+"/sdk-stable-waiter", func(b *testing.B) { measure(b, c, 3, waiterRun) })
	}
	for _, c := range gateBenchCases() {
		b.Run(c.name+"/pause-to-action", func(b *testing.B) { measurePause(b, c, 10) })
	}
}

// bgStates is DescribeServices' view of a blue/green deployment: both
// revisions running for n states, then final.
func bgStates(n int, final state) []state {
	out := make([]state, 0, n+1)
	for range n {
		out = append(out, deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 2), old("ACTIVE", 2)))
	}
	return append(out, final)
}

// gateBenchCases script a blue/green deployment that pauses at
// POST_TEST_TRAFFIC_SHIFT (the second state) for the gate; the decisive
// state is the last of the script served after the gate's action.
func gateBenchCases() []benchCase {
	pass := func(context.Context) error { return nil }
	fail := func(context.Context) error { return errSmoke }
	script := []map[string]any{sd("IN_PROGRESS", "SCALE_UP", 1, 0, nil), paused()}
	// The waiter sees both revisions running for as long as the hook is
	// paused: nobody continues it, so it waits until its max wait.
	waiting := bgStates(2, deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 2), old("ACTIVE", 2)))
	return []benchCase{
		{name: "gate-pass-bluegreen-success", wantSuccess: true, sd: script, states: waiting, gate: pass, pauseAt: 1, decisive: 3,
			after: map[string][]map[string]any{"CONTINUE": {sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 100, nil), sd("IN_PROGRESS", "BAKE_TIME", 2, 100, nil),
				sd("IN_PROGRESS", "CLEAN_UP", 2, 100, nil), sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil)}}},
		{name: "gate-fail-rollback", sd: script, states: waiting, gate: fail, pauseAt: 1, decisive: 2,
			after: map[string][]map[string]any{"ROLLBACK": rolledBack("ROLLBACK_SUCCESSFUL", nil)}},
	}
}

// sdBenchCases script service deployments; their states are
// ServiceDeployment answers (benchCase.sd), stepping every benchStep.
func sdBenchCases() []benchCase {
	alarm := map[string]any{"alarms": map[string]any{"triggeredAlarmNames": []any{"api-5xx"}, "status": "TRIGGERED"}}
	return []benchCase{
		{name: "service-deployment-bluegreen-success", decisive: 4, wantSuccess: true, states: bgStates(4, deps(ours(tdNew, "PRIMARY", "COMPLETED", 2))), sd: []map[string]any{
			sd("IN_PROGRESS", "SCALE_UP", 1, 0, nil), sd("IN_PROGRESS", "TEST_TRAFFIC_SHIFT", 2, 0, nil),
			sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 100, nil), sd("IN_PROGRESS", "BAKE_TIME", 2, 100, nil),
			sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil)}},
		// DescribeServices shows the old revision PRIMARY again, alone and
		// steady, which the waiter takes for success.
		{name: "service-deployment-alarm-rollback", decisive: 3, states: bgStates(3, steady(old("PRIMARY", 2))), sd: []map[string]any{
			sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 100, nil), sd("IN_PROGRESS", "BAKE_TIME", 2, 100, nil),
			sd("ROLLBACK_IN_PROGRESS", "BAKE_TIME", 2, 0, alarm), sd("ROLLBACK_SUCCESSFUL", "CLEAN_UP", 0, 0, alarm)}},
	}
}

// serviceDeploymentRun is followerRun for FollowServiceDeployment.
func serviceDeploymentRun(tb testing.TB, c benchCase, offset time.Duration) (time.Duration, bool) {
	delay, _, ok := gatedRun(tb, c, offset)
	return delay, ok
}

// gatedRun follows a scripted service deployment, with the case's gate;
// it returns the verdict's delay after the decisive state, the delay from
// the pause to the gate's action (gate cases) and whether it was right.
func gatedRun(tb testing.TB, c benchCase, offset time.Duration) (time.Duration, time.Duration, bool) {
	h := newHarness(tb, map[string]*scenario{"api": {serviceDeployments: c.sd, sdAfter: c.after, step: benchStep, offset: offset}})
	defer h.fake.srv.Close()
	_, err := h.d.FollowServiceDeployment(context.Background(), ServiceDeploymentSpec{Cluster: "prod", Service: "api", ARN: sdArn, Poll: 5 * time.Second, Gate: c.gate})
	change, pause := c.changeAt(offset), time.Duration(0)
	if c.gate != nil { // timed from the gate's actual action
		h.fake.mu.Lock()
		acted := h.fake.sdT0.Sub(time.Unix(epoch, 0))
		h.fake.mu.Unlock()
		pause = acted - (time.Duration(c.pauseAt)*benchStep - offset)
		change = acted + time.Duration(c.decisive)*benchStep - offset
	}
	delay := h.elapsed() - change
	return delay, pause, (err == nil) == c.wantSuccess && delay >= 0
}

// measurePause reports how long after the deployment paused the gate's
// action was sent.
func measurePause(b *testing.B, c benchCase, runs int) {
	var sum, worst time.Duration
	n := 0
	for i := 0; i < b.N; i++ {
		for _, off := range benchOffsets(runs) {
			_, p, _ := gatedRun(b, c, off)
			sum, worst, n = sum+p, max(worst, p), n+1
		}
	}
	b.ReportMetric(sum.Seconds()/float64(n), "fake-s-delay")
	b.ReportMetric(worst.Seconds(), "fake-s-max-delay")
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
	for _, c := range append(append(benchCases(), sdBenchCases()...), gateBenchCases()...) {
		run := followerRun
		if c.sd != nil {
			run = serviceDeploymentRun
		}
		for _, off := range benchOffsets(10) {
			d, ok := run(t, c, off)
			if !ok || d < 0 || d > 5*time.Second {
				t.Errorf("%s, phase %s: verdict correct=%v after %s, want correct within 5s", c.name, off, ok, d)
			}
			if c.gate != nil {
				if _, p, _ := gatedRun(t, c, off); p < 0 || p > 5*time.Second {
					t.Errorf("%s, phase %s: gate action %s after the pause, want within 5s", c.name, off, p)
				}
			}
		}
	}
}
