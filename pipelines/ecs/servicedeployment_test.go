package ecs

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

const sdArn = "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/api/sd0000000001"

// sd is one scripted ServiceDeployment.
func sd(status, stage string, running int, prodWeight float64, extra map[string]any) map[string]any {
	m := map[string]any{
		"serviceDeploymentArn": sdArn, "status": status, "lifecycleStage": stage, "createdAt": epoch,
		"targetServiceRevision": map[string]any{"arn": "arn:aws:ecs:us-east-1:123456789012:service-revision/prod/api/8",
			"requestedTaskCount": 2, "runningTaskCount": running, "pendingTaskCount": 2 - running, "requestedProductionTrafficWeight": prodWeight},
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestJudgeServiceDeployment(t *testing.T) {
	alarms := &types.ServiceDeploymentAlarms{AlarmNames: []string{"api-5xx", "api-latency"}, TriggeredAlarmNames: []string{"api-5xx"}, Status: types.ServiceDeploymentRollbackMonitorsStatusTriggered}
	cases := []struct {
		sd       types.ServiceDeployment
		done     bool
		kind     FailureKind
		contains string
	}{
		{sd: types.ServiceDeployment{Status: types.ServiceDeploymentStatusSuccessful}, done: true},
		{sd: types.ServiceDeployment{Status: types.ServiceDeploymentStatusInProgress}},
		{sd: types.ServiceDeployment{Status: types.ServiceDeploymentStatusPending}},
		{sd: types.ServiceDeployment{Status: types.ServiceDeploymentStatusRollbackInProgress}},
		{sd: types.ServiceDeployment{Status: types.ServiceDeploymentStatusStopRequested}},
		{sd: types.ServiceDeployment{Status: types.ServiceDeploymentStatusRollbackSuccessful, Alarms: alarms, Rollback: &types.Rollback{Reason: aws.String("alarm triggered")}},
			kind: KindRolledBack, contains: "was rolled back (rollback: alarm triggered; alarms fired: api-5xx)"},
		{sd: types.ServiceDeployment{Status: types.ServiceDeploymentStatusRollbackFailed, DeploymentCircuitBreaker: &types.ServiceDeploymentCircuitBreaker{Status: types.ServiceDeploymentRollbackMonitorsStatusTriggered, FailureCount: 3, Threshold: 3}},
			kind: KindRollbackFailed, contains: "failed and so did its rollback (circuit breaker: 3 of 3 tasks failed)"},
		{sd: types.ServiceDeployment{Status: types.ServiceDeploymentStatusStopped, StatusReason: aws.String("stopped by user")},
			kind: KindStopped, contains: "was stopped before it finished, by someone else or by a newer deployment (stopped by user)"},
	}
	for _, tc := range cases {
		t.Run(string(tc.sd.Status), func(t *testing.T) {
			tc.sd.ServiceDeploymentArn = aws.String(sdArn)
			v := judgeServiceDeployment(&tc.sd)
			if v.done != tc.done || v.kind != tc.kind || !strings.Contains(v.reason, tc.contains) {
				t.Errorf("got done=%v kind=%q reason=%q, want done=%v kind=%q with %q", v.done, v.kind, v.reason, tc.done, tc.kind, tc.contains)
			}
		})
	}
}

func TestFollowServiceDeployment(t *testing.T) {
	alarmFired := map[string]any{"alarms": map[string]any{"alarmNames": []any{"api-5xx"}, "triggeredAlarmNames": []any{"api-5xx"}, "status": "TRIGGERED"},
		"rollback": map[string]any{"reason": "CloudWatch alarm api-5xx is in ALARM", "startedAt": epoch + 40}}
	cases := []struct {
		name       string
		spec       ServiceDeploymentSpec
		script     []map[string]any
		failOps    map[string][]string
		wantKind   FailureKind
		wantErr    string
		wantStages []string
		wantAt     time.Duration
		wantLog    string
	}{
		{
			name: "blue/green succeeds through every stage",
			spec: ServiceDeploymentSpec{Cluster: "prod", Service: "api", ARN: sdArn},
			script: []map[string]any{
				sd("IN_PROGRESS", "PRE_SCALE_UP", 0, 0, nil), sd("IN_PROGRESS", "SCALE_UP", 1, 0, nil), sd("IN_PROGRESS", "POST_SCALE_UP", 2, 0, nil),
				sd("IN_PROGRESS", "TEST_TRAFFIC_SHIFT", 2, 0, nil), sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 100, nil),
				sd("IN_PROGRESS", "BAKE_TIME", 2, 100, nil), sd("IN_PROGRESS", "CLEAN_UP", 2, 100, nil), sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil)},
			wantStages: []string{"PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"},
			wantAt:     35 * time.Second, wantLog: "service deployment sd0000000001 IN_PROGRESS, stage BAKE_TIME: 2/2 running, 0 pending, production traffic 100%",
		},
		{
			name: "linear: traffic steps up, then success",
			spec: ServiceDeploymentSpec{Cluster: "prod", Service: "api", ARN: sdArn},
			script: []map[string]any{sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 25, nil), sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 50, nil),
				sd("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", 2, 100, nil), sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil)},
			wantStages: []string{"PRODUCTION_TRAFFIC_SHIFT", "CLEAN_UP"},
			wantAt:     15 * time.Second, wantLog: "production traffic 50%",
		},
		{
			name: "an alarm fires during the bake: rolled back, with the alarm's name",
			spec: ServiceDeploymentSpec{Cluster: "prod", Service: "api", ARN: sdArn},
			script: []map[string]any{sd("IN_PROGRESS", "BAKE_TIME", 2, 100, nil), sd("ROLLBACK_IN_PROGRESS", "BAKE_TIME", 2, 0, alarmFired),
				sd("ROLLBACK_SUCCESSFUL", "CLEAN_UP", 0, 0, alarmFired)},
			wantKind: KindRolledBack, wantAt: 10 * time.Second,
			wantErr: "service deployment sd0000000001 was rolled back (rollback: CloudWatch alarm api-5xx is in ALARM; alarms fired: api-5xx)",
		},
		{
			name:     "the rollback fails too",
			spec:     ServiceDeploymentSpec{Cluster: "prod", Service: "api", ARN: sdArn},
			script:   []map[string]any{sd("IN_PROGRESS", "SCALE_UP", 0, 0, nil), sd("ROLLBACK_FAILED", "SCALE_UP", 0, 0, map[string]any{"statusReason": "tasks failed to start"})},
			wantKind: KindRollbackFailed, wantAt: 5 * time.Second, wantErr: "failed and so did its rollback (tasks failed to start)",
		},
		{
			name:     "someone else stops it",
			spec:     ServiceDeploymentSpec{Cluster: "prod", Service: "api", ARN: sdArn},
			script:   []map[string]any{sd("IN_PROGRESS", "SCALE_UP", 1, 0, nil), sd("STOP_REQUESTED", "SCALE_UP", 1, 0, nil), sd("STOPPED", "SCALE_UP", 1, 0, map[string]any{"statusReason": "Stopped by user"})},
			wantKind: KindStopped, wantAt: 10 * time.Second, wantErr: "was stopped before it finished, by someone else or by a newer deployment (Stopped by user)",
		},
		{
			name:    "found by start time once CloudFormation has started it; throttling retried",
			spec:    ServiceDeploymentSpec{Cluster: "prod", Service: "api", Since: time.Unix(epoch, 0), MaxAttempts: 1},
			script:  []map[string]any{nil, nil, sd("IN_PROGRESS", "SCALE_UP", 1, 100, nil), sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil)},
			failOps: map[string][]string{"DescribeServiceDeployments": {"ThrottlingException"}},
			// Polls at 0 and 5 s find none; at 10 s the describe is throttled,
			// so the 15 s poll sees it SUCCESSFUL.
			wantStages: []string{"CLEAN_UP"}, wantAt: 15 * time.Second, wantLog: "polling again in 5s",
		},
		{
			name:     "none starts within the timeout",
			spec:     ServiceDeploymentSpec{Cluster: "prod", Service: "api", Since: time.Unix(epoch, 0), Timeout: 30 * time.Second},
			script:   []map[string]any{nil},
			wantKind: KindNoDeployment, wantAt: 30 * time.Second, wantErr: "no service deployment of api started after 2025-01-01T12:00:00Z within 30s",
		},
		{
			name:    "neither ARN nor start time",
			spec:    ServiceDeploymentSpec{Cluster: "prod", Service: "api"},
			wantErr: "give its ARN or the time it started after",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]*scenario{"api": {serviceDeployments: tc.script, failOps: tc.failOps}})
			res, err := h.d.FollowServiceDeployment(context.Background(), tc.spec)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v\n%s", err, h.log())
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
			var rerr *RolloutError
			if errors.As(err, &rerr) != (tc.wantKind != "") || (rerr != nil && rerr.Kind != tc.wantKind) {
				t.Errorf("kind: got %v, want %q", err, tc.wantKind)
			}
			if tc.wantStages != nil && !reflect.DeepEqual(res.Stages, tc.wantStages) {
				t.Errorf("stages = %v, want %v", res.Stages, tc.wantStages)
			}
			if h.elapsed() != tc.wantAt {
				t.Errorf("verdict at %s, want %s", h.elapsed(), tc.wantAt)
			}
			if !strings.Contains(h.log(), tc.wantLog) {
				t.Errorf("log lacks %q:\n%s", tc.wantLog, h.log())
			}
		})
	}
}
