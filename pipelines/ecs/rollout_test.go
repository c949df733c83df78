package ecs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

// stoppedTasks are what ListTasks/DescribeTasks report after a failure:
// one task of our deployment, one of the old revision (must be left out).
var stoppedTasks = []map[string]any{
	{"taskArn": "arn:aws:ecs:us-east-1:123456789012:task/prod/badtask1", "taskDefinitionArn": tdNew, "startedBy": depOurs,
		"lastStatus": "STOPPED", "stoppedReason": "Essential container in task exited", "stopCode": "EssentialContainerExited", "stoppedAt": epoch + 4,
		"containers": []any{map[string]any{"name": "app", "exitCode": 1, "reason": ""}, map[string]any{"name": "envoy", "exitCode": 137}}},
	{"taskArn": "arn:aws:ecs:us-east-1:123456789012:task/prod/oldtask9", "taskDefinitionArn": tdPrev, "startedBy": depOld,
		"lastStatus": "STOPPED", "stoppedReason": "Scaling activity initiated by deployment", "stoppedAt": epoch - 100,
		"containers": []any{map[string]any{"name": "app", "exitCode": 0}}},
}

type rolloutCase struct {
	name string
	spec Spec
	sc   *scenario
	// wantErr lists substrings of the error; none means success.
	wantErr []string
	// wantKind is the RolloutError kind, when the rollout got that far.
	wantKind FailureKind
	// wantAt is the fake time of the verdict.
	wantAt time.Duration
	// wantUpdates is the number of UpdateService calls.
	wantUpdates int
	check       func(t *testing.T, h *harness, res Result, err error)
}

func TestRollout(t *testing.T) {
	before := with(steady(old("PRIMARY", 2)), "has reached a steady state.")
	inProgress := deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 0), old("ACTIVE", 2))
	failed := ours(tdNew, "PRIMARY", "FAILED", 0)
	failed.reason, failed.failed = "ECS deployment circuit breaker: tasks failed to start.", 2
	back := dep{id: depBack, status: "PRIMARY", td: tdPrev, rollout: "IN_PROGRESS", running: 0, desired: 2, createdAt: 10,
		reason: "ECS deployment circuit breaker: rolling back to deploymentId " + depOld + "."}
	failedActive := failed
	failedActive.status = "ACTIVE"
	backDone := back
	backDone.rollout, backDone.running, backDone.reason = "COMPLETED", 2, ""
	// The circuit breaker's rollback: ours fails, an old revision becomes
	// PRIMARY again, and finally the service is steady on it, which is
	// exactly what ServicesStableWaiter calls success.
	breakerStates := []state{
		inProgress,
		with(deps(failedActive, back, old("ACTIVE", 2)), "deployment ecs-svc/2222222222222222222 deployment failed: tasks failed to start.", "rolling back to deployment ecs-svc/1111111111111111111."),
		with(deps(backDone), "has reached a steady state."),
	}
	newTD := Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew}

	cases := []rolloutCase{
		{
			name: "success in force mode waits for COMPLETED and drained old tasks",
			spec: Spec{Cluster: "prod", Service: "api"},
			sc: &scenario{before: before, states: []state{
				with(deps(ours(tdPrev, "PRIMARY", "IN_PROGRESS", 0), old("ACTIVE", 2)), "has started 2 tasks: (task new1) (task new2)."),
				deps(ours(tdPrev, "PRIMARY", "IN_PROGRESS", 2), old("ACTIVE", 2)),
				with(deps(ours(tdPrev, "PRIMARY", "IN_PROGRESS", 2), old("ACTIVE", 0)), "has stopped 2 running tasks: (task old1) (task old2)."),
				with(deps(ours(tdPrev, "PRIMARY", "COMPLETED", 2)), "deployment ecs-svc/2222222222222222222 deployment completed.", "has reached a steady state."),
			}},
			wantAt: 15 * time.Second, wantUpdates: 1,
			check: func(t *testing.T, h *harness, res Result, err error) {
				body := h.fake.bodies("UpdateService")[0]
				if body["forceNewDeployment"] != true || body["taskDefinition"] != nil {
					t.Errorf("force mode must only force a new deployment, sent %v", body)
				}
				if res.Mode != ModeForce || res.DeploymentID != depOurs || res.TaskDefinition != tdPrev || res.Previous != tdPrev || res.Duration != 15*time.Second {
					t.Errorf("result = %+v", res)
				}
				if len(res.Events) != 4 || !strings.Contains(res.Events[0], "has started 2 tasks") || !strings.Contains(res.Events[3], "has reached a steady state") {
					t.Errorf("events must be the 4 new ones, oldest first: %q", res.Events)
				}
				if n := strings.Count(h.log(), "has started 2 tasks"); n != 1 {
					t.Errorf("each event must be logged once, got %d times:\n%s", n, h.log())
				}
				if !strings.Contains(h.log(), "2/2 running, 0 pending, 0 failed tasks, 1 other deployment(s) draining") {
					t.Errorf("progress lines missing:\n%s", h.log())
				}
			},
		},
		{
			name:     "circuit-breaker rollback fails at once even though the service ends stable",
			spec:     newTD,
			sc:       &scenario{before: before, states: breakerStates, stopped: stoppedTasks},
			wantKind: KindCircuitBreaker, wantAt: 5 * time.Second, wantUpdates: 1,
			wantErr: []string{
				"ecs rollout of service api (cluster prod) failed: deployment ecs-svc/2222222222222222222 was rolled back by the deployment circuit breaker to api:5 (ECS deployment circuit breaker: tasks failed to start.)",
				"deployment failed: tasks failed to start.",
				"task badtask1: Essential container in task exited [EssentialContainerExited]; container app: exit code 1; container envoy: exit code 137",
			},
			check: func(t *testing.T, h *harness, res Result, err error) {
				if strings.Contains(err.Error(), "oldtask9") {
					t.Errorf("tasks of other deployments must be left out: %v", err)
				}
				if res.RolledBack {
					t.Error("without Rollback the circuit breaker's rollback is not verified, so RolledBack must be false")
				}
			},
		},
		{
			name: "our deployment vanished and the older revision is PRIMARY again",
			spec: newTD,
			sc: &scenario{before: before, states: []state{inProgress,
				deps(dep{id: depBack, status: "PRIMARY", td: tdPrev, rollout: "COMPLETED", running: 2, desired: 2, createdAt: 8})}},
			wantKind: KindCircuitBreaker, wantAt: 5 * time.Second, wantUpdates: 1,
			wantErr: []string{"was rolled back to api:5: the older task definition is PRIMARY again"},
		},
		{
			name:     "rolloutState FAILED",
			spec:     newTD,
			sc:       &scenario{before: before, states: []state{inProgress, deps(failed, old("ACTIVE", 2))}, stopped: stoppedTasks},
			wantKind: KindFailed, wantAt: 5 * time.Second, wantUpdates: 1,
			wantErr: []string{"deployment ecs-svc/2222222222222222222 of api:8 failed: ECS deployment circuit breaker: tasks failed to start.", "container app: exit code 1"},
		},
		{
			name:     "stuck IN_PROGRESS with no failed tasks until the timeout",
			spec:     Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Timeout: time.Minute},
			sc:       &scenario{before: before, states: []state{inProgress}},
			wantKind: KindTimeout, wantAt: time.Minute, wantUpdates: 1,
			wantErr: []string{"did not complete within 1m0s (last state: deployment ecs-svc/2222222222222222222 (api:8) IN_PROGRESS: 0/2 running, 2 pending, 0 failed tasks"},
			check: func(t *testing.T, h *harness, res Result, err error) {
				// One DescribeServices before the update, then polls at 0, 5, ..., 60 s.
				if n := h.fake.count("DescribeServices"); n != 1+13 {
					t.Errorf("DescribeServices calls = %d, want 14", n)
				}
			},
		},
		{
			name:    "service not found",
			spec:    Spec{Cluster: "prod", Service: "api"},
			sc:      &scenario{before: state{missing: true}},
			wantErr: []string{"ecs rollout of service api: service api not found in cluster prod"},
		},
		{
			name:    "service INACTIVE before the rollout",
			spec:    Spec{Cluster: "prod", Service: "api"},
			sc:      &scenario{before: state{status: "INACTIVE", deps: before.deps}},
			wantErr: []string{"service api in cluster prod is INACTIVE"},
		},
		{
			name:     "service DRAINING during the rollout",
			spec:     newTD,
			sc:       &scenario{before: before, states: []state{inProgress, {status: "DRAINING", deps: inProgress.deps}}},
			wantKind: KindServiceInactive, wantAt: 5 * time.Second, wantUpdates: 1,
			wantErr: []string{"service api in cluster prod is DRAINING"},
		},
		{
			name:     "service deleted during the rollout",
			spec:     newTD,
			sc:       &scenario{before: before, states: []state{inProgress, {missing: true}}},
			wantKind: KindServiceMissing, wantAt: 5 * time.Second, wantUpdates: 1,
			wantErr: []string{"service api not found in cluster prod"},
		},
		{
			name: "throttling is retried by the SDK, then success",
			spec: newTD,
			sc: &scenario{before: before, states: []state{deps(ours(tdNew, "PRIMARY", "COMPLETED", 2))},
				failOps: map[string][]string{"DescribeServices": {"ThrottlingException", "ThrottlingException"}, "UpdateService": {"ThrottlingException"}}},
			wantAt: 0, wantUpdates: 2,
			check: func(t *testing.T, h *harness, res Result, err error) {
				// 2 throttled + 1 before the update + 1 poll.
				if n := h.fake.count("DescribeServices"); n != 4 {
					t.Errorf("DescribeServices calls = %d, want 4", n)
				}
			},
		},
		{
			name:    "throttled beyond the retry budget before the rollout starts",
			spec:    Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, MaxAttempts: 3},
			sc:      &scenario{before: before, failOps: map[string][]string{"DescribeServices": {"ThrottlingException", "ThrottlingException", "ThrottlingException"}}},
			wantErr: []string{"ecs:DescribeServices: still throttled after retries"},
		},
		{
			name:        "AccessDenied names ecs:UpdateService and is not retried",
			spec:        newTD,
			sc:          &scenario{before: before, failOps: map[string][]string{"UpdateService": {"AccessDeniedException"}}},
			wantUpdates: 1,
			wantErr:     []string{"ecs rollout of service api: ecs:UpdateService: access denied: the credentials in use lack the ecs:UpdateService permission"},
			check: func(t *testing.T, h *harness, res Result, err error) {
				var api smithy.APIError
				if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" {
					t.Errorf("the API error must stay wrapped: %v", err)
				}
			},
		},
		{
			name:        "AccessDenied while polling: the outcome is unknown, not failed",
			spec:        newTD,
			sc:          &scenario{before: before, states: []state{inProgress}, failOps: map[string][]string{"DescribeServices": {"", "AccessDeniedException"}}},
			wantKind:    KindPollError,
			wantUpdates: 1,
			wantErr:     []string{"lost track of deployment ecs-svc/2222222222222222222, which may still be running", "lack the ecs:DescribeServices permission"},
		},
		{
			name: "a concurrent deployment replaces ours",
			spec: newTD,
			sc: &scenario{before: before, states: []state{inProgress,
				deps(dep{id: depElse, status: "PRIMARY", td: tdOther, rollout: "IN_PROGRESS", desired: 2, createdAt: 3}, ours(tdNew, "ACTIVE", "IN_PROGRESS", 1), old("ACTIVE", 2))}},
			wantKind: KindReplaced, wantAt: 5 * time.Second, wantUpdates: 1,
			wantErr: []string{"was replaced by a newer deployment ecs-svc/4444444444444444444 of api:9"},
		},
		{
			name: "rollback: our deployment fails, we return to the recorded previous revision",
			spec: Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Rollback: true},
			sc: &scenario{before: before, states: []state{inProgress, deps(failed, old("ACTIVE", 2))},
				rollback: []state{deps(back, failedActive), deps(backDone)}},
			wantKind: KindFailed, wantAt: 10 * time.Second, wantUpdates: 2,
			wantErr: []string{"failed: deployment ecs-svc/2222222222222222222 of api:8 failed: ECS deployment circuit breaker: tasks failed to start; rolled back to api:5 successfully"},
			check: func(t *testing.T, h *harness, res Result, err error) {
				// api:5 was recorded before the update: "revision - 1" would be api:7.
				if got := h.fake.bodies("UpdateService")[1]["taskDefinition"]; got != tdPrev {
					t.Errorf("rollback deployed %v, want the recorded previous %s", got, tdPrev)
				}
				if !res.RolledBack {
					t.Error("RolledBack must be true")
				}
			},
		},
		{
			name: "rollback after a timeout fails too",
			spec: Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Rollback: true, Timeout: 30 * time.Second},
			sc: &scenario{before: before, states: []state{inProgress},
				rollback: []state{deps(back, ours(tdNew, "ACTIVE", "IN_PROGRESS", 0)), deps(dep{id: depBack, status: "PRIMARY", td: tdPrev, rollout: "FAILED", reason: "tasks failed to start", desired: 2})}},
			wantKind: KindTimeout, wantAt: 35 * time.Second, wantUpdates: 2,
			wantErr: []string{"did not complete within 30s", "; rollback to api:5 failed too: deployment ecs-svc/3333333333333333333 of api:5 failed: tasks failed to start"},
			check: func(t *testing.T, h *harness, res Result, err error) {
				if res.RolledBack {
					t.Error("RolledBack must be false")
				}
			},
		},
		{
			name:     "rollback after the circuit breaker's: verify it, start none",
			spec:     Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Rollback: true},
			sc:       &scenario{before: before, states: breakerStates},
			wantKind: KindCircuitBreaker, wantAt: 10 * time.Second, wantUpdates: 1,
			wantErr: []string{"rolled back by the deployment circuit breaker to api:5", "; the circuit breaker's rollback to api:5 completed"},
			check: func(t *testing.T, h *harness, res Result, err error) {
				if !res.RolledBack {
					t.Error("RolledBack must be true")
				}
			},
		},
		{
			// Issue 13.2: what UpdateService started must be what we asked
			// for; a COMPLETED deployment of another revision is not ours.
			name:     "the deployment UpdateService started runs another revision: reported, never completed",
			spec:     Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Rollback: true},
			sc:       &scenario{before: before, states: []state{deps(ours(tdOther, "PRIMARY", "COMPLETED", 2))}},
			wantKind: KindWrongRevision, wantAt: 0, wantUpdates: 1,
			wantErr: []string{"deployment ecs-svc/2222222222222222222 runs api:9, not api:8 that this rollout deploys: someone else changed the service at the same time",
				"; not rolled back: another deployment has taken over the service"},
		},
		{
			name:     "a forced deployment must redeploy the current revision",
			spec:     Spec{Cluster: "prod", Service: "api"},
			sc:       &scenario{before: before, states: []state{deps(ours(tdOther, "PRIMARY", "IN_PROGRESS", 0), old("ACTIVE", 2))}},
			wantKind: KindWrongRevision, wantAt: 0, wantUpdates: 1,
			wantErr: []string{"runs api:9, not api:5 that this rollout deploys"},
		},
		{
			name:   "a task definition given as family:revision matches the ARN ECS reports",
			spec:   Spec{Cluster: "prod", Service: "api", TaskDefinition: "api:8"},
			sc:     &scenario{before: before, states: []state{deps(ours(tdNew, "PRIMARY", "COMPLETED", 2))}},
			wantAt: 0, wantUpdates: 1,
		},
		{
			name:     "rollback in force mode: nothing older to return to",
			spec:     Spec{Cluster: "prod", Service: "api", Rollback: true},
			sc:       &scenario{before: before, states: []state{deps(dep{id: depOurs, status: "PRIMARY", td: tdPrev, rollout: "FAILED", desired: 2}, old("ACTIVE", 2))}},
			wantKind: KindFailed, wantAt: 0, wantUpdates: 1,
			wantErr: []string{"not rolled back: the failed deployment ran api:5, the task definition that was active before"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]*scenario{"api": tc.sc})
			res, err := h.d.Rollout(context.Background(), tc.spec)
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("unexpected error: %v\nlog:\n%s", err, h.log())
			}
			if len(tc.wantErr) > 0 && err == nil {
				t.Fatalf("want an error, got success %+v\nlog:\n%s", res, h.log())
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			var rerr *RolloutError
			if errors.As(err, &rerr) != (tc.wantKind != "") || (rerr != nil && rerr.Kind != tc.wantKind) {
				t.Errorf("error kind: got %v, want %q", err, tc.wantKind)
			}
			if tc.wantKind != "" || len(tc.wantErr) == 0 {
				if got := h.elapsed(); got != tc.wantAt {
					t.Errorf("verdict at %s of fake time, want %s", got, tc.wantAt)
				}
			}
			if n := h.fake.count("UpdateService"); n != tc.wantUpdates {
				t.Errorf("UpdateService calls = %d, want %d", n, tc.wantUpdates)
			}
			if tc.check != nil {
				tc.check(t, h, res, err)
			}
		})
	}
}

// The first line of a rollout error stands alone; details follow.
func TestRolloutErrorLayout(t *testing.T) {
	e := &RolloutError{Service: "api", Cluster: "prod", Kind: KindFailed, Reason: "deployment x failed: boom", Rollback: "rolled back to api:5 successfully",
		Events: []string{"e1", "e2"}, StoppedTasks: []string{"task t1: Essential container in task exited"}}
	lines := strings.Split(e.Error(), "\n")
	want := []string{
		"ecs rollout of service api (cluster prod) failed: deployment x failed: boom; rolled back to api:5 successfully",
		"  service events since the rollout started (oldest first):",
		"    e1", "    e2",
		"  stopped tasks of the failed deployment:",
		"    task t1: Essential container in task exited",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", e.Error(), strings.Join(want, "\n"))
	}
}
