package ecs

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// Issue 14.8: a failed deployment's error shows the failed containers'
// last log lines next to the stop reasons, or says why it cannot.
func TestFailureShowsTheLogTail(t *testing.T) {
	var sixty []string
	for i := 1; i <= 60; i++ {
		sixty = append(sixty, fmt.Sprintf("line %d", i))
	}
	sixty[59] = "sqlalchemy.exc.OperationalError: could not connect to server\n"
	const stream = "/ecs/api|api/app/badtask1"
	failed := ours(tdNew, "PRIMARY", "FAILED", 0)
	failed.reason = "ECS deployment circuit breaker: tasks failed to start."
	cases := []struct {
		name    string
		logs    map[string][]string
		failOps map[string][]string
		want    []string
		notWant []string
	}{
		{
			name: "the last 50 lines, oldest first, next to the stop reason",
			logs: map[string][]string{stream: sixty},
			want: []string{
				"stopped tasks of the failed deployment:\n    task badtask1: Essential container in task exited",
				"logs of the failed tasks:\n    task badtask1 container app: last 50 log lines (log group /ecs/api, stream api/app/badtask1):\n      | line 11\n",
				"      | sqlalchemy.exc.OperationalError: could not connect to server",
				// envoy exited 137 too, but logs nowhere stevedore can read.
				"task badtask1 container envoy: no logs: api:8 gives the container no logConfiguration; use the awslogs log driver",
			},
			notWant: []string{"| line 10\n"},
		},
		{
			name:    "no permission: names logs:GetLogEvents",
			logs:    map[string][]string{stream: sixty},
			failOps: map[string][]string{"GetLogEvents": {"AccessDeniedException"}},
			want:    []string{"task badtask1 container app: logs not read: the credentials in use lack the logs:GetLogEvents permission on log group /ecs/api, stream api/app/badtask1"},
		},
		{
			name: "no stream: the container never wrote",
			want: []string{"task badtask1 container app: no logs: log group /ecs/api, stream api/app/badtask1 does not exist (the container may never have started"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sc := &scenario{before: steady(old("PRIMARY", 2)), states: []state{deps(failed, old("ACTIVE", 2))},
				stopped: stoppedTasks, taskDef: richTaskDef, logs: tc.logs, failOps: tc.failOps}
			h := newHarness(t, map[string]*scenario{"api": sc})
			_, err := h.d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew})
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error has %q:\n%v", w, err)
				}
			}
			if got := h.fake.bodies("GetLogEvents"); len(got) == 0 || got[0]["limit"] != float64(50) || got[0]["startFromHead"] != false {
				t.Errorf("GetLogEvents requests = %v, want limit 50 from the end", got)
			}
		})
	}
}

func TestContainerLogsSettings(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": imageScenario()})
	d := NewFromAPI(h.d.api)
	cases := []struct {
		name string
		d    *Deployer
		def  string
		want string
	}{
		{"another driver", h.d, `{"logDriver": "fluentd"}`, "logs go to the fluentd driver, not awslogs"},
		{"no group", h.d, `{"logDriver": "awslogs", "options": {"awslogs-stream-prefix": "api"}}`, "awslogs-group is not set in api:8"},
		{"no prefix", h.d, `{"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/api"}}`, "awslogs-stream-prefix is not set in api:8, so the task's log stream has no name"},
		{"no logs client", d, `{"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/api", "awslogs-stream-prefix": "api"}}`, "logs not read: this deployer has no CloudWatch Logs client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lc := decodeLogConfig(t, tc.def)
			got := strings.Join(tc.d.containerLogs(context.Background(), "task1", "app", "api:8", lc), "\n")
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMigrationFailureShowsTheLogTail(t *testing.T) {
	sc := &scenario{before: steady(old("PRIMARY", 2)), taskDef: migrateTaskDef,
		logs: map[string][]string{"/ecs/api|api/migrate/migrate0000000000000000000000": {"INFO  [alembic] Running upgrade 1 -> 2", "ERROR relation \"users\" already exists"}},
		run:  []map[string]any{taskState("STOPPED", exited(3, ""), map[string]any{"stoppedReason": "Essential container in task exited"})}}
	h := newHarness(t, map[string]*scenario{"api": sc})
	res, err := h.d.RunTask(context.Background(), TaskSpec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Container: "migrate", Command: []string{"alembic", "upgrade", "head"}})
	if err == nil || !strings.Contains(err.Error(), "container migrate exited with code 3") ||
		!strings.Contains(err.Error(), "logs of the task:\n    task migrate0000000000000000000000 container migrate: last 2 log lines") ||
		!strings.Contains(err.Error(), `| ERROR relation "users" already exists`) {
		t.Fatalf("err = %v", err)
	}
	if len(res.Logs) != 3 {
		t.Errorf("Logs = %q", res.Logs)
	}
}

// migrateTaskDef is api:8 with a migrate container logging to /ecs/api.
var migrateTaskDef = `{"taskDefinition": {"taskDefinitionArn": "` + tdNew + `", "family": "api", "revision": 8, "status": "ACTIVE",
  "containerDefinitions": [
    {"name": "migrate", "image": "` + digestB + `", "essential": true,
     "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/api", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "api"}}},
    {"name": "envoy", "image": "envoy@sha256:` + strings.Repeat("e", 64) + `", "essential": true}]}}`

func decodeLogConfig(t *testing.T, raw string) *types.LogConfiguration {
	t.Helper()
	var m struct {
		LogDriver string            `json:"logDriver"`
		Options   map[string]string `json:"options"`
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	return &types.LogConfiguration{LogDriver: types.LogDriver(m.LogDriver), Options: m.Options}
}
