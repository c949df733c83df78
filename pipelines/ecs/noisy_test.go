package ecs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// Issue 14.4: a noisy API never fails a deployment by itself.
func TestRolloutSurvivesANoisyAPI(t *testing.T) {
	before := steady(old("PRIMARY", 2))
	states := []state{deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 0), old("ACTIVE", 2)), deps(ours(tdNew, "PRIMARY", "COMPLETED", 2))}
	throttled := func(n int) []string {
		codes := []string{""} // the look before the rollout passes
		for i := 0; i < n; i++ {
			codes = append(codes, "ThrottlingException")
		}
		return codes
	}
	cases := []struct {
		name     string
		spec     Spec
		failOps  map[string][]string
		wantErr  string
		wantAt   time.Duration
		wantLog  string
		wantDesc int // DescribeServices calls
	}{
		{
			// 2 attempts per call, 3 polls in a row throttled: backoff 5, 10, 20 s.
			name:    "three throttled polls in a row, then the deployment completes",
			spec:    Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, MaxAttempts: 2},
			failOps: map[string][]string{"DescribeServices": throttled(6)},
			wantAt:  35 * time.Second, wantLog: "api: the ECS API failed (ecs:DescribeServices: still throttled after retries", wantDesc: 1 + 6 + 1,
		},
		{
			name:    "5xx answers are retried the same way",
			spec:    Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, MaxAttempts: 1},
			failOps: map[string][]string{"DescribeServices": {"", "ServerException", "ServerException"}},
			wantAt:  15 * time.Second, wantLog: "polling again in 10s, until the 15m0s timeout", wantDesc: 1 + 2 + 1,
		},
		{
			name:    "the default budget absorbs four throttles in one poll",
			spec:    Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew},
			failOps: map[string][]string{"DescribeServices": throttled(4)},
			wantAt:  5 * time.Second, wantDesc: 1 + 4 + 1 + 1,
		},
		{
			name:    "throttled until the rollout's own timeout: unknown, not failed",
			spec:    Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, MaxAttempts: 1, Timeout: time.Minute},
			failOps: map[string][]string{"DescribeServices": throttled(100)},
			wantErr: "lost track of deployment ecs-svc/2222222222222222222, which may still be running: the ECS API kept failing for 5 polls in a row until the 1m0s timeout",
			wantAt:  time.Minute,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]*scenario{"api": {before: before, states: states, failOps: tc.failOps}})
			_, err := h.d.Rollout(context.Background(), tc.spec)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("the deployment completed, yet: %v\n%s", err, h.log())
			}
			if tc.wantErr != "" {
				var rerr *RolloutError
				if !errors.As(err, &rerr) || rerr.Kind != KindPollError || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want a poll-error with %q", err, tc.wantErr)
				}
			}
			if got := h.elapsed(); got != tc.wantAt {
				t.Errorf("verdict at %s, want %s", got, tc.wantAt)
			}
			if !strings.Contains(h.log(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, h.log())
			}
			if n := h.fake.count("DescribeServices"); tc.wantDesc > 0 && n != tc.wantDesc {
				t.Errorf("DescribeServices calls = %d, want %d", n, tc.wantDesc)
			}
		})
	}
}

func TestFollowSurvivesThrottling(t *testing.T) {
	sc := &scenario{defs: releaseDefs(), failOps: map[string][]string{"DescribeServices": {"", "ThrottlingException", "ThrottlingException"}},
		states: []state{steady(old("PRIMARY", 2)), deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 0), old("ACTIVE", 2)), deps(ours(tdNew, "PRIMARY", "COMPLETED", 2))}}
	h := newHarness(t, map[string]*scenario{"api": sc})
	h.fake.startScript("api")
	res, err := h.d.Follow(context.Background(), FollowSpec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestB}, MaxAttempts: 1})
	if err != nil || res.Outcome != OutcomeCompleted {
		t.Fatalf("got %+v, %v\n%s", res, err, h.log())
	}
}

// A failed UpdateService leaves no revision behind that nothing runs; a
// reused revision (the migration's) is not ours to remove.
func TestFailedUpdateDeregistersTheOrphanRevision(t *testing.T) {
	sc := imageScenario()
	sc.failOps = map[string][]string{"UpdateService": {"AccessDeniedException"}}
	h := newHarness(t, map[string]*scenario{"api": sc})
	_, err := h.d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestB}})
	if err == nil || !strings.Contains(err.Error(), "lack the ecs:UpdateService permission") || !strings.Contains(err.Error(), "; deregistered the revision api:8 registered for it") {
		t.Fatalf("err = %v", err)
	}
	dereg := h.fake.bodies("DeregisterTaskDefinition")
	if len(dereg) != 1 || dereg[0]["taskDefinition"] != tdNew {
		t.Fatalf("DeregisterTaskDefinition calls = %v, want one for api:8", dereg)
	}

	sc = imageScenario()
	sc.failOps = map[string][]string{"UpdateService": {"AccessDeniedException"}}
	h = newHarness(t, map[string]*scenario{"api": sc})
	if _, err := h.d.MigrationRevision(context.Background(), "prod", "api", map[string]string{"app": digestB}); err != nil {
		t.Fatal(err)
	}
	_, err = h.d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestB}})
	if err == nil || strings.Contains(err.Error(), "deregistered") || h.fake.count("DeregisterTaskDefinition") != 0 {
		t.Fatalf("a reused revision must stay: err = %v, %d deregistrations", err, h.fake.count("DeregisterTaskDefinition"))
	}
}

// Starting while someone else's deployment is in flight waits for it,
// bounded by the timeout, and builds on / rolls back to only a revision
// whose deployment completed.
func TestRolloutWaitsForTheDeploymentInFlight(t *testing.T) {
	mid := func(status, rollout string, running int) dep {
		return dep{id: depElse, status: status, td: tdMid, rollout: rollout, running: running, pending: 2 - running, desired: 2, createdAt: -10}
	}
	failed := ours(tdNew, "PRIMARY", "FAILED", 0)
	failed.reason = "ECS deployment circuit breaker: tasks failed to start."
	t.Run("waits, then deploys; the rollback target is the revision that just completed", func(t *testing.T) {
		sc := &scenario{
			prelude:  []state{deps(mid("PRIMARY", "IN_PROGRESS", 1), old("ACTIVE", 1)), deps(mid("PRIMARY", "COMPLETED", 2))},
			states:   []state{deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 0), mid("ACTIVE", "COMPLETED", 2)), deps(failed, mid("ACTIVE", "COMPLETED", 2))},
			rollback: []state{deps(dep{id: depBack, status: "PRIMARY", td: tdMid, rollout: "COMPLETED", running: 2, desired: 2, createdAt: 20})},
		}
		h := newHarness(t, map[string]*scenario{"api": sc})
		res, err := h.d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Rollback: true})
		var rerr *RolloutError
		if !errors.As(err, &rerr) || rerr.Kind != KindFailed || !strings.Contains(err.Error(), "rolled back to api:7 successfully") {
			t.Fatalf("err = %v\n%s", err, h.log())
		}
		if !strings.Contains(h.log(), "deployment ecs-svc/4444444444444444444 of api:7 is in flight; waiting up to 15m0s for it to finish before starting") ||
			!strings.Contains(h.log(), "the deployment in flight finished after 5s; the service runs api:7") {
			t.Errorf("the wait must be reported:\n%s", h.log())
		}
		if res.Previous != tdMid || h.fake.bodies("UpdateService")[1]["taskDefinition"] != tdMid {
			t.Errorf("previous %s, rollback to %v: want api:7", res.Previous, h.fake.bodies("UpdateService")[1]["taskDefinition"])
		}
	})
	t.Run("the deployment in flight is rolled back by the circuit breaker: never roll back to it", func(t *testing.T) {
		back := dep{id: depBack, status: "PRIMARY", td: tdPrev, rollout: "IN_PROGRESS", running: 1, pending: 1, desired: 2, createdAt: 3}
		backDone := back
		backDone.rollout, backDone.running, backDone.pending = "COMPLETED", 2, 0
		sc := &scenario{
			prelude: []state{
				deps(mid("PRIMARY", "IN_PROGRESS", 0), old("ACTIVE", 2)),
				deps(back, mid("ACTIVE", "FAILED", 0), old("ACTIVE", 1)),
				deps(backDone)},
			states:   []state{deps(failed, backDone)},
			rollback: []state{deps(dep{id: depOld, status: "PRIMARY", td: tdPrev, rollout: "COMPLETED", running: 2, desired: 2, createdAt: 30})},
		}
		h := newHarness(t, map[string]*scenario{"api": sc})
		_, err := h.d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Rollback: true})
		if err == nil || !strings.Contains(err.Error(), "rolled back to api:5 successfully") {
			t.Fatalf("err = %v\n%s", err, h.log())
		}
		if got := h.fake.bodies("UpdateService")[1]["taskDefinition"]; got != tdPrev {
			t.Errorf("rolled back to %v, want api:5 (api:7 never completed)", got)
		}
	})
	t.Run("still in flight at the timeout: refused, nothing started", func(t *testing.T) {
		sc := &scenario{prelude: []state{deps(mid("PRIMARY", "IN_PROGRESS", 1), old("ACTIVE", 1))}}
		h := newHarness(t, map[string]*scenario{"api": sc})
		_, err := h.d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Timeout: 30 * time.Second})
		if err == nil || !strings.Contains(err.Error(), "deployment ecs-svc/4444444444444444444 of api:7, in flight when the rollout began, did not finish within 30s: not starting on top of it") {
			t.Fatalf("err = %v", err)
		}
		if h.fake.count("UpdateService") != 0 || h.elapsed() != 30*time.Second {
			t.Errorf("%d updates at %s: want none, verdict at 30s", h.fake.count("UpdateService"), h.elapsed())
		}
	})
	t.Run("the only deployment FAILED: new images are not built on it", func(t *testing.T) {
		stuck := mid("PRIMARY", "FAILED", 0)
		stuck.reason = "tasks failed to start"
		sc := imageScenario()
		sc.before = deps(stuck)
		h := newHarness(t, map[string]*scenario{"api": sc})
		_, err := h.d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestB}})
		if err == nil || !strings.Contains(err.Error(), "not building on api:7: its only deployment ecs-svc/4444444444444444444 of api:7 FAILED (tasks failed to start), so that revision never completed") {
			t.Fatalf("err = %v", err)
		}
		if h.fake.count("RegisterTaskDefinition")+h.fake.count("UpdateService") != 0 {
			t.Error("nothing may be registered or deployed")
		}
	})
}
