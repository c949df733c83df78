package ecs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
)

// One service failing must neither cancel nor hide the others.
func TestRolloutAllWaitsForEveryService(t *testing.T) {
	workerFailed := make(chan struct{})
	// api only progresses once worker has failed, and then needs many more
	// polls: cancelling on the first error would fail it.
	apiStates := []state{deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 0), old("ACTIVE", 2))}
	for i := 0; i < 20; i++ {
		apiStates = append(apiStates, deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 1), old("ACTIVE", 1)))
	}
	apiStates = append(apiStates, deps(ours(tdNew, "PRIMARY", "COMPLETED", 2)))
	failed := ours(tdNew, "PRIMARY", "FAILED", 0)
	failed.reason = "ECS deployment circuit breaker: tasks failed to start."
	scs := map[string]*scenario{
		"api":    {before: steady(old("PRIMARY", 2)), states: apiStates, gate: workerFailed},
		"worker": {before: steady(old("PRIMARY", 2)), states: []state{deps(failed, old("ACTIVE", 2))}},
	}
	h := newHarness(t, scs)
	var once sync.Once
	h.d.log = func(line string) {
		if strings.HasPrefix(line, "worker: rollout failed") {
			once.Do(func() { close(workerFailed) })
		}
	}
	results, err := h.d.RolloutAll(context.Background(), []Spec{
		{Cluster: "prod", Service: "api", TaskDefinition: tdNew},
		{Cluster: "prod", Service: "worker", TaskDefinition: tdNew},
	})
	var all *RolloutAllError
	if !errors.As(err, &all) || len(all.Services) != 1 || all.Services[0] != "worker" {
		t.Fatalf("want a RolloutAllError naming worker only, got %v", err)
	}
	if first := strings.SplitN(err.Error(), "\n", 2)[0]; first != "ecs rollout failed for 1 of 2 services: worker" {
		t.Errorf("first line = %q", first)
	}
	var rerr *RolloutError
	if !errors.As(err, &rerr) || rerr.Service != "worker" || rerr.Kind != KindFailed {
		t.Errorf("the worker's RolloutError must be reachable, got %v", err)
	}
	if results[0].Service != "api" || results[0].DeploymentID != depOurs || results[0].Mode != ModeTaskDefinition {
		t.Errorf("api result = %+v", results[0])
	}
	if !strings.Contains(err.Error(), "worker (cluster prod) failed") || strings.Contains(err.Error(), "service api (cluster prod) failed") {
		t.Errorf("only worker may be reported failed:\n%v", err)
	}
}

func TestRolloutAllRefusesDuplicates(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": {before: steady(old("PRIMARY", 2))}})
	_, err := h.d.RolloutAll(context.Background(), []Spec{{Cluster: "prod", Service: "api"}, {Cluster: "prod", Service: "api", Force: true}})
	if err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Fatalf("got %v", err)
	}
	if n := h.fake.count("UpdateService"); n != 0 {
		t.Errorf("nothing may be deployed, got %d updates", n)
	}
}
