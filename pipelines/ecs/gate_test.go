package ecs

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

const hookID = "hook-0001"

// hook is a PAUSE lifecycle hook detail in a given status; it expires an
// hour after the clock's start unless expires says otherwise.
func hook(status, timeoutAction string, expires int) map[string]any {
	if expires == 0 {
		expires = 3600
	}
	return map[string]any{"lifecycleHookDetails": []any{map[string]any{
		"hookId": hookID, "targetType": "PAUSE", "status": status, "timeoutAction": timeoutAction, "expiresAt": epoch + expires}}}
}

// paused is a blue/green deployment waiting at POST_TEST_TRAFFIC_SHIFT.
func paused() map[string]any {
	return sd("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", 2, 0, hook("AWAITING_ACTION", "ROLLBACK", 0))
}

// upToPause is a blue/green deployment from PRE_SCALE_UP to the pause
// (polls at 0, 5, 10, 15 s; paused from 20 s).
func upToPause() []map[string]any {
	return []map[string]any{sd("IN_PROGRESS", "PRE_SCALE_UP", 0, 0, nil), sd("IN_PROGRESS", "SCALE_UP", 1, 0, nil),
		sd("IN_PROGRESS", "POST_SCALE_UP", 2, 0, nil), sd("IN_PROGRESS", "TEST_TRAFFIC_SHIFT", 2, 0, nil), paused()}
}

// afterContinue is the rest of a blue/green deployment once CONTINUE is
// sent: production traffic, bake, clean-up, success (3 polls later).
func afterContinue(done map[string]any) []map[string]any {
	passed := hook("SUCCEEDED", "ROLLBACK", 0)
	return []map[string]any{sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 100, passed), sd("IN_PROGRESS", "BAKE_TIME", 2, 100, passed),
		sd("IN_PROGRESS", "CLEAN_UP", 2, 100, passed), done}
}

// rolledBack is a deployment rolling back and then ending in final.
func rolledBack(final string, extra map[string]any) []map[string]any {
	return []map[string]any{sd("ROLLBACK_REQUESTED", "POST_TEST_TRAFFIC_SHIFT", 2, 0, extra), sd("ROLLBACK_IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", 2, 0, extra),
		sd(final, "CLEAN_UP", 0, 0, extra)}
}

var errSmoke = errors.New(`gate: smoke GET /api/orders: want 200, got 500 after 3 attempts: {"detail":"relation \"orders\" does not exist"}`)

func TestGateScenarios(t *testing.T) {
	alarm := map[string]any{"alarms": map[string]any{"alarmNames": []any{"api-5xx"}, "triggeredAlarmNames": []any{"api-5xx"}, "status": "TRIGGERED"},
		"rollback": map[string]any{"reason": "CloudWatch alarm api-5xx is in ALARM", "startedAt": epoch + 30}}
	passed := func(context.Context) error { return nil }
	failing := func(context.Context) error { return errSmoke }
	hanging := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	cases := []struct {
		name        string
		script      []map[string]any
		after       map[string][]map[string]any
		failOps     map[string][]string
		gate        func(context.Context) error
		gateTimeout time.Duration
		wantKind    FailureKind
		wantErr     []string
		wantStages  []string
		wantGated   []string
		wantGates   int32    // gate runs
		wantActions []string // ContinueServiceDeployment actions, then STOP:<type>
		wantAt      time.Duration
		wantLog     string
	}{
		{
			name: "blue/green success through every stage", script: upToPause(), gate: passed,
			after:      map[string][]map[string]any{"CONTINUE": afterContinue(sd("SUCCESSFUL", "CLEAN_UP", 2, 100, hook("SUCCEEDED", "ROLLBACK", 0)))},
			wantStages: []string{"PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"},
			wantGated:  []string{"POST_TEST_TRAFFIC_SHIFT"}, wantGates: 1, wantActions: []string{"CONTINUE"},
			// Paused at 20 s, continued at once; SUCCESSFUL three polls later.
			wantAt: 35 * time.Second, wantLog: "the gate at POST_TEST_TRAFFIC_SHIFT passed: continuing",
		},
		{
			name: "gate check fails: ROLLBACK sent, ROLLBACK_SUCCESSFUL, the rollout fails with the check's output", script: upToPause(), gate: failing,
			after:    map[string][]map[string]any{"ROLLBACK": rolledBack("ROLLBACK_SUCCESSFUL", nil)},
			wantKind: KindGateFailed, wantGates: 1, wantActions: []string{"ROLLBACK"}, wantAt: 30 * time.Second,
			wantErr: []string{"the gate at POST_TEST_TRAFFIC_SHIFT failed, so stevedore rolled service deployment sd0000000001 back: " + errSmoke.Error(),
				"the rollback succeeded (ROLLBACK_SUCCESSFUL): the previous revision serves all traffic"},
		},
		{
			name: "an alarm fires during the bake after the gate passed: rolled back, with the alarm's name", script: upToPause(), gate: passed,
			after: map[string][]map[string]any{"CONTINUE": {sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 100, nil), sd("IN_PROGRESS", "BAKE_TIME", 2, 100, nil),
				sd("ROLLBACK_IN_PROGRESS", "BAKE_TIME", 2, 0, alarm), sd("ROLLBACK_SUCCESSFUL", "CLEAN_UP", 0, 0, alarm)}},
			wantKind: KindRolledBack, wantGates: 1, wantActions: []string{"CONTINUE"}, wantGated: []string{"POST_TEST_TRAFFIC_SHIFT"}, wantAt: 35 * time.Second,
			wantErr: []string{"was rolled back (rollback: CloudWatch alarm api-5xx is in ALARM; alarms fired: api-5xx)"},
		},
		{
			name: "someone else stops the deployment before the pause: the gate never runs", gate: passed,
			script: []map[string]any{sd("IN_PROGRESS", "SCALE_UP", 1, 0, nil), sd("STOP_REQUESTED", "SCALE_UP", 1, 0, nil),
				sd("STOPPED", "SCALE_UP", 1, 0, map[string]any{"statusReason": "Stopped by user arn:aws:iam::123456789012:user/ops"})},
			wantKind: KindStopped, wantAt: 10 * time.Second,
			wantErr: []string{"was stopped before it finished, by someone else or by a newer deployment (Stopped by user arn:aws:iam::123456789012:user/ops)"},
		},
		{
			name: "linear: gate at the test route, then traffic steps 25/50/75/100 and success", script: upToPause(), gate: passed,
			after: map[string][]map[string]any{"CONTINUE": {sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 25, nil), sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 50, nil),
				sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 75, nil), sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 100, nil),
				sd("IN_PROGRESS", "BAKE_TIME", 2, 100, nil), sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil)}},
			wantGated: []string{"POST_TEST_TRAFFIC_SHIFT"}, wantGates: 1, wantActions: []string{"CONTINUE"}, wantAt: 45 * time.Second,
			wantLog: "stage PRODUCTION_TRAFFIC_SHIFT: 2/2 running, 0 pending, production traffic 75%",
		},
		{
			name: "canary: the circuit breaker rolls the 10% canary back", script: upToPause(), gate: passed,
			after: map[string][]map[string]any{"CONTINUE": {sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 10, nil), sd("IN_PROGRESS", "BAKE_TIME", 2, 10, nil),
				sd("ROLLBACK_IN_PROGRESS", "BAKE_TIME", 0, 0, map[string]any{"deploymentCircuitBreaker": map[string]any{"status": "TRIGGERED", "failureCount": 3, "threshold": 3}}),
				sd("ROLLBACK_SUCCESSFUL", "CLEAN_UP", 0, 0, map[string]any{"deploymentCircuitBreaker": map[string]any{"status": "TRIGGERED", "failureCount": 3, "threshold": 3}})}},
			wantKind: KindRolledBack, wantGated: []string{"POST_TEST_TRAFFIC_SHIFT"}, wantGates: 1, wantActions: []string{"CONTINUE"}, wantAt: 35 * time.Second,
			wantErr: []string{"was rolled back (circuit breaker: 3 of 3 tasks failed)"}, wantLog: "production traffic 10%",
		},
		{
			name: "the gate fails and so does the rollback: ROLLBACK_FAILED", script: upToPause(), gate: failing,
			after:    map[string][]map[string]any{"ROLLBACK": rolledBack("ROLLBACK_FAILED", map[string]any{"statusReason": "old revision's tasks failed to start"})},
			wantKind: KindRollbackFailed, wantGates: 1, wantActions: []string{"ROLLBACK"}, wantAt: 30 * time.Second,
			wantErr: []string{errSmoke.Error(), "the rollback FAILED (ROLLBACK_FAILED) (old revision's tasks failed to start): the service may be half on each revision"},
		},
		{
			name: "hook timeout: no gate, nobody continues, ECS takes the timeout action ROLLBACK",
			script: append(upToPause(), paused(), sd("ROLLBACK_IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", 2, 0, hook("TIMED_OUT", "ROLLBACK", 0)),
				sd("ROLLBACK_SUCCESSFUL", "CLEAN_UP", 0, 0, hook("TIMED_OUT", "ROLLBACK", 0))),
			wantKind: KindHookTimedOut, wantAt: 35 * time.Second,
			wantErr: []string{"paused at POST_TEST_TRAFFIC_SHIFT and nobody continued it before its PAUSE hook timed out, so ECS took the timeout action ROLLBACK; it ended ROLLBACK_SUCCESSFUL"},
			wantLog: "paused at POST_TEST_TRAFFIC_SHIFT (PAUSE hook hook-0001) and this rollout has no gate: waiting for someone to call ContinueServiceDeployment; ECS takes the timeout action ROLLBACK at 2025-01-01T13:00:00Z",
		},
		{
			name: "a gate that cannot finish in time rolls back", script: upToPause(), gate: hanging, gateTimeout: 20 * time.Millisecond,
			after:    map[string][]map[string]any{"ROLLBACK": rolledBack("ROLLBACK_SUCCESSFUL", nil)},
			wantKind: KindGateFailed, wantGates: 1, wantActions: []string{"ROLLBACK"}, wantAt: 30 * time.Second,
			wantErr: []string{"the gate did not finish within 20ms: context deadline exceeded"},
		},
		{
			name: "a hook about to expire rolls back without running the gate", gate: passed,
			script:   []map[string]any{sd("IN_PROGRESS", "POST_SCALE_UP", 2, 0, hook("AWAITING_ACTION", "ROLLBACK", 20))},
			after:    map[string][]map[string]any{"ROLLBACK": rolledBack("ROLLBACK_SUCCESSFUL", nil)},
			wantKind: KindGateFailed, wantActions: []string{"ROLLBACK"}, wantAt: 10 * time.Second,
			wantErr: []string{"the gate at POST_SCALE_UP failed", "the PAUSE hook expires too soon to run the gate"},
		},
		{
			name: "a hook that times out with CONTINUE is flagged", gate: passed,
			script:  []map[string]any{sd("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", 2, 0, hook("AWAITING_ACTION", "CONTINUE", 0))},
			after:   map[string][]map[string]any{"CONTINUE": {sd("SUCCESSFUL", "CLEAN_UP", 2, 100, hook("SUCCEEDED", "CONTINUE", 0))}},
			wantLog: "warning: the PAUSE hook at POST_TEST_TRAFFIC_SHIFT times out with CONTINUE", wantGates: 1, wantActions: []string{"CONTINUE"},
			wantGated: []string{"POST_TEST_TRAFFIC_SHIFT"},
		},
		{
			name: "CONTINUE throttled: sent again on the next poll, the gate runs once", script: upToPause(), gate: passed, failOps: map[string][]string{"ContinueServiceDeployment": {"ThrottlingException"}},
			after:     map[string][]map[string]any{"CONTINUE": afterContinue(sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil))},
			wantGated: []string{"POST_TEST_TRAFFIC_SHIFT"}, wantGates: 1, wantActions: []string{"CONTINUE", "CONTINUE"}, wantAt: 40 * time.Second,
			wantLog: "sending CONTINUE failed",
		},
		{
			name: "CONTINUE refused: rolled back instead, so nothing goes live by the hook's timeout", script: upToPause(), gate: passed,
			failOps:  map[string][]string{"ContinueServiceDeployment": {"AccessDeniedException"}},
			after:    map[string][]map[string]any{"ROLLBACK": rolledBack("ROLLBACK_SUCCESSFUL", nil)},
			wantKind: KindGateFailed, wantGates: 1, wantActions: []string{"CONTINUE", "ROLLBACK"}, wantAt: 30 * time.Second,
			wantErr: []string{"the gate passed but CONTINUE was refused", "not authorized to perform: ecs:ContinueServiceDeployment"},
		},
		{
			name: "ROLLBACK refused by ContinueServiceDeployment: StopServiceDeployment ROLLBACK instead", script: upToPause(), gate: failing,
			failOps:  map[string][]string{"ContinueServiceDeployment": {"AccessDeniedException"}},
			after:    map[string][]map[string]any{"STOP:ROLLBACK": rolledBack("ROLLBACK_SUCCESSFUL", nil)},
			wantKind: KindGateFailed, wantGates: 1, wantActions: []string{"ROLLBACK", "STOP:ROLLBACK"}, wantAt: 30 * time.Second,
			wantErr: []string{errSmoke.Error(), "ROLLBACK_SUCCESSFUL"},
		},
		{
			name: "a gate configured on a deployment without a PAUSE hook fails: it went live untested", gate: passed,
			script:   []map[string]any{sd("IN_PROGRESS", "SCALE_UP", 1, 100, nil), sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil)},
			wantKind: KindGateSkipped, wantAt: 5 * time.Second,
			wantErr: []string{"succeeded without pausing at a PAUSE lifecycle hook, so the gate never ran"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]*scenario{"api": {serviceDeployments: tc.script, sdAfter: tc.after, failOps: tc.failOps}})
			var runs atomic.Int32
			spec := ServiceDeploymentSpec{Cluster: "prod", Service: "api", ARN: sdArn, MaxAttempts: 1, GateTimeout: tc.gateTimeout}
			if tc.gate != nil {
				spec.Gate = func(ctx context.Context) error { runs.Add(1); return tc.gate(ctx) }
			}
			res, err := h.d.FollowServiceDeployment(context.Background(), spec)
			if len(tc.wantErr) == 0 && err != nil {
				t.Fatalf("unexpected error %v\n%s", err, h.log())
			}
			for _, want := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v\nlacks %q\n%s", err, want, h.log())
				}
			}
			var rerr *RolloutError
			if errors.As(err, &rerr) != (tc.wantKind != "") || (rerr != nil && rerr.Kind != tc.wantKind) {
				t.Errorf("kind: got %v, want %q", err, tc.wantKind)
			}
			if got := runs.Load(); got != tc.wantGates {
				t.Errorf("gate ran %d times, want %d", got, tc.wantGates)
			}
			if got := actions(h.fake); !reflect.DeepEqual(got, tc.wantActions) {
				t.Errorf("actions sent %q, want %q", got, tc.wantActions)
			}
			for _, b := range h.fake.bodies("ContinueServiceDeployment") {
				if b["hookId"] != hookID || b["serviceDeploymentArn"] != sdArn {
					t.Errorf("ContinueServiceDeployment body %v, want hook %s of %s", b, hookID, sdArn)
				}
			}
			if tc.wantStages != nil && !reflect.DeepEqual(res.Stages, tc.wantStages) {
				t.Errorf("stages = %v, want %v", res.Stages, tc.wantStages)
			}
			if !reflect.DeepEqual(res.Gated, tc.wantGated) {
				t.Errorf("gated = %v, want %v", res.Gated, tc.wantGated)
			}
			if h.elapsed() != tc.wantAt {
				t.Errorf("verdict at %s, want %s\n%s", h.elapsed(), tc.wantAt, h.log())
			}
			if !strings.Contains(h.log(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, h.log())
			}
		})
	}
}

// actions lists the gate actions the fake received (failed calls too), in
// order: the ContinueServiceDeployment actions, then StopServiceDeployment
// as STOP:<type>.
func actions(f *fakeECS) []string {
	var out []string
	for _, b := range f.bodies("ContinueServiceDeployment") {
		out = append(out, fmt.Sprint(b["action"]))
	}
	for _, b := range f.bodies("StopServiceDeployment") {
		out = append(out, fmt.Sprint("STOP:", b["stopType"]))
	}
	return out
}

// An interrupted pipeline (its context cancelled while the gate runs)
// still sends ROLLBACK, so the paused deployment never goes live by itself.
func TestGateInterruptedSendsRollback(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": {serviceDeployments: []map[string]any{paused()},
		sdAfter: map[string][]map[string]any{"ROLLBACK": rolledBack("ROLLBACK_SUCCESSFUL", nil)}}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gate := func(gctx context.Context) error { cancel(); <-gctx.Done(); return gctx.Err() }
	_, err := h.d.FollowServiceDeployment(ctx, ServiceDeploymentSpec{Cluster: "prod", Service: "api", ARN: sdArn, Gate: gate})
	var rerr *RolloutError
	if !errors.As(err, &rerr) || rerr.Kind != KindGateFailed || !strings.Contains(err.Error(), "interrupted while the gate ran at POST_TEST_TRAFFIC_SHIFT; ROLLBACK was sent") {
		t.Fatalf("got %v, want an interrupted gate that sent ROLLBACK", err)
	}
	if got := actions(h.fake); !reflect.DeepEqual(got, []string{"ROLLBACK"}) {
		t.Errorf("actions %q, want ROLLBACK", got)
	}
}

// Rolling deployments keep today's verdicts: a service already steady on
// the release's images is unchanged, and no service-deployment action is
// ever sent.
func TestRollingUnchanged(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": {before: steady(dep{id: depOurs, td: tdNew, desired: 2, createdAt: -600}), defs: releaseDefs()}})
	res, err := h.d.Follow(context.Background(), FollowSpec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestB}})
	if err != nil || res.Outcome != OutcomeUnchanged {
		t.Fatalf("got %+v, %v; want unchanged", res, err)
	}
	if n := h.fake.count("ContinueServiceDeployment") + h.fake.count("StopServiceDeployment") + h.fake.count("UpdateService"); n != 0 {
		t.Errorf("%d changing calls, want none", n)
	}
}

func TestJudgeHook(t *testing.T) {
	now := time.Unix(epoch, 0)
	pause := func(status types.DeploymentLifecycleHookStatus, timeoutAction types.DeploymentLifecycleHookAction, expiresIn time.Duration) *types.ServiceDeployment {
		return &types.ServiceDeployment{ServiceDeploymentArn: aws.String(sdArn), Status: types.ServiceDeploymentStatusInProgress, LifecycleStage: types.ServiceDeploymentLifecycleStagePostTestTrafficShift,
			LifecycleHookDetails: []types.DeploymentLifecycleHookDetail{{HookId: aws.String(hookID), TargetType: types.DeploymentLifecycleHookTargetTypePause, Status: status,
				TimeoutAction: timeoutAction, ExpiresAt: aws.Time(now.Add(expiresIn))}}}
	}
	lambda := pause(types.DeploymentLifecycleHookStatusAwaitingAction, "", time.Hour)
	lambda.LifecycleHookDetails[0].TargetType = types.DeploymentLifecycleHookTargetTypeAwsLambda
	rollingBack := pause(types.DeploymentLifecycleHookStatusAwaitingAction, "", time.Hour)
	rollingBack.Status = types.ServiceDeploymentStatusRollbackInProgress
	on := gateState{enabled: true}
	unsent := gateState{enabled: true, decided: map[string]*gateDecision{hookID: {action: types.DeploymentLifecycleHookActionContinue}}}
	sent := gateState{enabled: true, decided: map[string]*gateDecision{hookID: {action: types.DeploymentLifecycleHookActionContinue, sent: true}}}
	cases := []struct {
		name   string
		sd     *types.ServiceDeployment
		gs     gateState
		run    bool
		budget time.Duration
		send   bool
		note   string
	}{
		{name: "awaiting: run within the gate timeout", sd: pause(types.DeploymentLifecycleHookStatusAwaitingAction, types.DeploymentLifecycleHookActionRollback, time.Hour), gs: on, run: true, budget: 10 * time.Minute},
		{name: "hook expires soon: the budget ends 30 s before", sd: pause(types.DeploymentLifecycleHookStatusAwaitingAction, types.DeploymentLifecycleHookActionRollback, 2*time.Minute), gs: on, run: true, budget: 90 * time.Second},
		{name: "decided, not yet accepted: send again", sd: pause(types.DeploymentLifecycleHookStatusAwaitingAction, "", time.Hour), gs: unsent, send: true},
		{name: "decided and sent: wait", sd: pause(types.DeploymentLifecycleHookStatusAwaitingAction, "", time.Hour), gs: sent},
		{name: "hook already succeeded", sd: pause(types.DeploymentLifecycleHookStatusSucceeded, "", time.Hour), gs: on},
		{name: "a Lambda hook is not ours", sd: lambda, gs: on},
		{name: "rolling back: nothing to decide", sd: rollingBack, gs: on},
		{name: "no gate: only said", sd: pause(types.DeploymentLifecycleHookStatusAwaitingAction, "", time.Hour), note: "this rollout has no gate"},
		{name: "timeout action CONTINUE flagged", sd: pause(types.DeploymentLifecycleHookStatusAwaitingAction, types.DeploymentLifecycleHookActionContinue, time.Hour), gs: on, run: true, budget: 10 * time.Minute, note: "times out with CONTINUE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := judgeHook(tc.sd, tc.gs, now, 10*time.Minute)
			if st.run != tc.run || (tc.run && st.budget != tc.budget) || (st.send != nil) != tc.send || !strings.Contains(st.note, tc.note) || (tc.note == "" && st.note != "") {
				t.Errorf("got %+v, want run=%v budget=%s send=%v note %q", st, tc.run, tc.budget, tc.send, tc.note)
			}
		})
	}
}

// The ends of a gated deployment the scenarios do not reach.
func TestJudgeGated(t *testing.T) {
	rolledBackBy := gateState{enabled: true, decided: map[string]*gateDecision{hookID: {stage: "POST_TEST_TRAFFIC_SHIFT", action: types.DeploymentLifecycleHookActionRollback, evidence: "health /health: want 200, got 503", sent: true}}}
	continued := gateState{enabled: true, decided: map[string]*gateDecision{hookID: {stage: "POST_TEST_TRAFFIC_SHIFT", action: types.DeploymentLifecycleHookActionContinue, sent: true}}}
	cases := []struct {
		name         string
		status       types.ServiceDeploymentStatus
		gs           gateState
		done         bool
		kind         FailureKind
		reason, back string
	}{
		{name: "ROLLBACK sent, yet SUCCESSFUL", status: types.ServiceDeploymentStatusSuccessful, gs: rolledBackBy, kind: KindGateFailed,
			reason: "health /health: want 200, got 503", back: "yet the deployment ended SUCCESSFUL: the new revision is live although its gate failed"},
		{name: "ROLLBACK sent, then someone stopped it", status: types.ServiceDeploymentStatusStopped, gs: rolledBackBy, kind: KindStopped,
			reason: "the gate at POST_TEST_TRAFFIC_SHIFT failed", back: "the deployment ended STOPPED instead of rolling back"},
		{name: "ROLLBACK sent, still rolling back", status: types.ServiceDeploymentStatusRollbackInProgress, gs: rolledBackBy},
		{name: "gate passed, SUCCESSFUL", status: types.ServiceDeploymentStatusSuccessful, gs: continued, done: true},
		{name: "no gate, SUCCESSFUL", status: types.ServiceDeploymentStatusSuccessful, done: true},
		{name: "gate on, never paused", status: types.ServiceDeploymentStatusSuccessful, gs: gateState{enabled: true}, kind: KindGateSkipped, reason: "the gate never ran"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := judgeGated(&types.ServiceDeployment{ServiceDeploymentArn: aws.String(sdArn), Status: tc.status}, tc.gs)
			if v.done != tc.done || v.kind != tc.kind || !strings.Contains(v.reason, tc.reason) || !strings.Contains(v.rollback, tc.back) {
				t.Errorf("got done=%v kind=%q reason=%q rollback=%q", v.done, v.kind, v.reason, v.rollback)
			}
		})
	}
}

// The time the gate runs does not count against the follower's timeout:
// a 20-minute gate on a 1-minute timeout still sees the deployment end.
func TestGateTimeNotCounted(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": {serviceDeployments: upToPause(),
		sdAfter: map[string][]map[string]any{"CONTINUE": afterContinue(sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil))}}})
	gate := func(ctx context.Context) error { return h.clock.Sleep(ctx, 20*time.Minute) }
	res, err := h.d.FollowServiceDeployment(context.Background(), ServiceDeploymentSpec{Cluster: "prod", Service: "api", ARN: sdArn, Timeout: time.Minute, Gate: gate})
	if err != nil || !reflect.DeepEqual(res.Gated, []string{"POST_TEST_TRAFFIC_SHIFT"}) {
		t.Fatalf("got %+v, %v; want success after the gate\n%s", res, err, h.log())
	}
	if h.elapsed() != 20*time.Minute+35*time.Second {
		t.Errorf("verdict at %s, want 20m35s", h.elapsed())
	}
}

// A re-run of the same commit on a blue/green service: the service already
// runs the release's images steadily, so nothing is awaited, the gate does
// not run and no action is sent.
func TestServiceDeploymentUnchanged(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": {before: steady(dep{id: depOurs, td: tdNew, desired: 2, createdAt: -600}), defs: releaseDefs()}})
	ran := false
	res, err := h.d.FollowServiceDeployment(context.Background(), ServiceDeploymentSpec{Cluster: "prod", Service: "api", Since: time.Unix(epoch, 0),
		Images: map[string]string{"app": digestB}, Gate: func(context.Context) error { ran = true; return nil }})
	if err != nil || !res.Unchanged || ran || h.elapsed() != 0 {
		t.Fatalf("got %+v, %v, gate ran=%v at %s; want unchanged at once", res, err, ran, h.elapsed())
	}
	if n := h.fake.count("DescribeServiceDeployments") + h.fake.count("ContinueServiceDeployment"); n != 0 {
		t.Errorf("%d service-deployment calls, want none", n)
	}
	// On the old images it waits for the release's service deployment.
	h = newHarness(t, map[string]*scenario{"api": {before: steady(old("PRIMARY", 2)), defs: releaseDefs(),
		serviceDeployments: []map[string]any{nil, sd("IN_PROGRESS", "SCALE_UP", 1, 0, nil), sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil)}}})
	res, err = h.d.FollowServiceDeployment(context.Background(), ServiceDeploymentSpec{Cluster: "prod", Service: "api", Since: time.Unix(epoch, 0), Images: map[string]string{"app": digestB}})
	if err != nil || res.Unchanged || res.Status != "SUCCESSFUL" || h.elapsed() != 10*time.Second {
		t.Fatalf("got %+v, %v at %s; want SUCCESSFUL at 10s", res, err, h.elapsed())
	}
}
