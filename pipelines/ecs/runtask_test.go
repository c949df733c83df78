package ecs

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

// taskState is one scripted DescribeTasks answer for the migration task.
func taskState(status string, container map[string]any, extra map[string]any) map[string]any {
	t := map[string]any{"taskArn": runArn, "taskDefinitionArn": tdNew, "lastStatus": status}
	if container != nil {
		t["containers"] = []any{container, map[string]any{"name": "envoy", "exitCode": 0}}
	}
	for k, v := range extra {
		t[k] = v
	}
	return t
}

func exited(code int, reason string) map[string]any {
	c := map[string]any{"name": "migrate", "exitCode": code}
	if reason != "" {
		c["reason"] = reason
	}
	return c
}

func TestRunTask(t *testing.T) {
	migration := TaskSpec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Container: "migrate", Command: []string{"alembic", "upgrade", "head"}}
	stopped := map[string]any{"stoppedReason": "Essential container in task exited", "stopCode": "EssentialContainerExited"}
	cases := []struct {
		name     string
		spec     TaskSpec
		sc       *scenario
		wantErr  string
		wantExit int
		wantAt   time.Duration
		check    func(t *testing.T, h *harness)
	}{
		{
			name: "migration exits 0 (after a throttled RunTask, retried with the same client token)",
			spec: migration,
			sc: &scenario{before: steady(old("PRIMARY", 2)), failOps: map[string][]string{"RunTask": {"ThrottlingException"}}, run: []map[string]any{
				taskState("PROVISIONING", nil, nil), taskState("RUNNING", nil, nil), taskState("STOPPED", exited(0, ""), stopped)}},
			wantExit: 0, wantAt: 10 * time.Second,
			check: func(t *testing.T, h *harness) {
				bodies := h.fake.bodies("RunTask")
				if len(bodies) != 2 || bodies[0]["clientToken"] == nil || bodies[0]["clientToken"] != bodies[1]["clientToken"] {
					t.Fatalf("a retried RunTask must reuse its idempotency token, or a migration could start twice: %v", bodies)
				}
				body := bodies[1]
				delete(body, "clientToken")
				want := map[string]any{
					"cluster": "prod", "taskDefinition": tdNew, "count": float64(1), "startedBy": "stevedore",
					"launchType": "FARGATE", "platformVersion": "1.4.0",
					"networkConfiguration": map[string]any{"awsvpcConfiguration": map[string]any{
						"subnets": []any{"subnet-aaa", "subnet-bbb"}, "securityGroups": []any{"sg-app"}, "assignPublicIp": "DISABLED"}},
					"overrides": map[string]any{"containerOverrides": []any{map[string]any{"name": "migrate", "command": []any{"alembic", "upgrade", "head"}}}},
				}
				if !reflect.DeepEqual(body, want) {
					t.Errorf("RunTask body = %v\nwant %v", body, want)
				}
			},
		},
		{
			name: "migration exits 1",
			spec: migration,
			sc: &scenario{before: steady(old("PRIMARY", 2)), run: []map[string]any{
				taskState("RUNNING", nil, nil), taskState("STOPPED", exited(1, "alembic: target database is not up to date"), stopped)}},
			wantErr:  "task migrate0000000000000000000000: container migrate exited with code 1 (stopped reason: Essential container in task exited [EssentialContainerExited]; container reason: alembic: target database is not up to date)",
			wantExit: 1, wantAt: 5 * time.Second,
		},
		{
			name: "network overrides and the service's task definition",
			spec: TaskSpec{Cluster: "prod", Service: "api", Container: "migrate", Subnets: []string{"subnet-private"}, AssignPublicIP: "ENABLED"},
			sc:   &scenario{before: steady(old("PRIMARY", 2)), run: []map[string]any{taskState("STOPPED", exited(0, ""), nil)}},
			check: func(t *testing.T, h *harness) {
				body := h.fake.bodies("RunTask")[0]
				vpc := body["networkConfiguration"].(map[string]any)["awsvpcConfiguration"].(map[string]any)
				if !reflect.DeepEqual(vpc["subnets"], []any{"subnet-private"}) || vpc["assignPublicIp"] != "ENABLED" || !reflect.DeepEqual(vpc["securityGroups"], []any{"sg-app"}) {
					t.Errorf("network overrides not applied on top of the service's: %v", vpc)
				}
				if body["taskDefinition"] != tdPrev || body["overrides"] != nil {
					t.Errorf("must run the service's task definition with the image's command: %v", body)
				}
			},
		},
		{
			name: "container never started",
			spec: migration,
			sc: &scenario{before: steady(old("PRIMARY", 2)), run: []map[string]any{taskState("STOPPED", map[string]any{"name": "migrate", "reason": "CannotPullContainerError: pull access denied"},
				map[string]any{"stoppedReason": "Task failed to start", "stopCode": "TaskFailedToStart"})}},
			wantErr:  "container migrate never exited, so it probably did not start (stopped reason: Task failed to start [TaskFailedToStart]; container reason: CannotPullContainerError: pull access denied)",
			wantExit: -1,
		},
		{
			name:     "RunTask failures",
			spec:     migration,
			sc:       &scenario{before: steady(old("PRIMARY", 2)), runFailures: []map[string]any{{"reason": "RESOURCE:MEMORY", "detail": "no capacity"}}},
			wantErr:  "ecs:RunTask could not start api:8: RESOURCE:MEMORY (no capacity)",
			wantExit: -1,
		},
		{
			name:     "timeout leaves the task running and says so",
			spec:     TaskSpec{Cluster: "prod", TaskDefinition: tdNew, Container: "migrate", Timeout: 20 * time.Second, Subnets: []string{"subnet-a"}},
			sc:       &scenario{before: steady(old("PRIMARY", 2)), run: []map[string]any{taskState("RUNNING", nil, nil)}},
			wantErr:  "task migrate0000000000000000000000 still RUNNING after 20s: it was left running",
			wantExit: -1, wantAt: 20 * time.Second,
		},
		{
			name:     "no container named",
			spec:     TaskSpec{Cluster: "prod", TaskDefinition: tdNew},
			sc:       &scenario{},
			wantErr:  "no container named",
			wantExit: -1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]*scenario{"api": tc.sc})
			res, err := h.d.RunTask(context.Background(), tc.spec)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v\n%s", err, h.log())
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("got error %v, want %q", err, tc.wantErr)
			}
			if res.ExitCode != tc.wantExit {
				t.Errorf("exit code = %d, want %d", res.ExitCode, tc.wantExit)
			}
			if got := h.elapsed(); got != tc.wantAt || res.Duration != tc.wantAt {
				t.Errorf("finished at %s (duration %s), want %s", got, res.Duration, tc.wantAt)
			}
			if tc.check != nil {
				tc.check(t, h)
			}
		})
	}
}
