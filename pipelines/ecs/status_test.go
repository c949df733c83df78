package ecs

import (
	"context"
	"strings"
	"testing"
)

func TestStatus(t *testing.T) {
	back := dep{id: depBack, status: "PRIMARY", td: tdPrev, rollout: "COMPLETED", running: 2, desired: 2, createdAt: 30,
		reason: "ECS deployment circuit breaker: rolling back to deploymentId " + depOld + "."}
	scs := map[string]*scenario{
		"api":    {before: steady(old("PRIMARY", 2)), defs: releaseDefs()},
		"worker": {before: deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 1), old("ACTIVE", 1)), defs: releaseDefs()},
		"web":    {before: deps(back)},
	}
	h := newHarness(t, scs)
	got, err := h.d.Status(context.Background(), "prod", []string{"api", "worker", "web", "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d statuses", len(got))
	}
	api, worker, web, gone := got[0], got[1], got[2], got[3]
	if api.TaskDefinition != tdPrev || api.Images["app"] != digestA || api.Desired != 2 || api.Running != 2 || api.Last.ID != depOld || api.Last.Outcome != "completed" {
		t.Errorf("api = %+v", api)
	}
	if worker.TaskDefinition != tdNew || worker.Images["app"] != digestB || worker.Running != 2 || worker.Pending != 1 || worker.Last.ID != depOurs || worker.Last.Outcome != "in progress" || worker.Deployments != 2 {
		t.Errorf("worker = %+v", worker)
	}
	if web.Last.Outcome != "rolled back" {
		t.Errorf("web = %+v", web)
	}
	if gone.Problem != "not found in cluster prod (MISSING)" {
		t.Errorf("gone = %+v", gone)
	}
	text := worker.String()
	for _, want := range []string{"worker (cluster prod): api:8, 2/2 running, 1 pending", "container app: " + digestB,
		"last deployment ecs-svc/2222222222222222222 of api:8: in progress, started 2025-01-01T12:00:00Z", "2 deployments listed: a deployment is in flight"} {
		if !strings.Contains(text, want) {
			t.Errorf("String() lacks %q:\n%s", want, text)
		}
	}
	if h.fake.count("UpdateService")+h.fake.count("RegisterTaskDefinition") != 0 {
		t.Error("Status must only read")
	}
	if n := h.fake.count("DescribeTaskDefinition"); n != 2 {
		t.Errorf("DescribeTaskDefinition calls = %d, want 2 (api:5 and api:8, each once)", n)
	}
}
