package ecs

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestWithOutputWritesLines(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": imageScenario()})
	var buf bytes.Buffer
	d := New(h.fake.config(), WithClock(h.clock), WithOutput(&buf))
	if _, err := d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestA}}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "api: deployment ecs-svc/1111111111111111111 of api:5 is complete; nothing to deploy\n") {
		t.Fatalf("output = %q", buf.String())
	}
}

// Cancelling ctx stops the watch, says the deployment may still run, and
// never rolls back blindly.
func TestRolloutInterrupted(t *testing.T) {
	sc := &scenario{before: steady(old("PRIMARY", 2)), states: []state{deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 0), old("ACTIVE", 2))}}
	h := newHarness(t, map[string]*scenario{"api": sc})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.d.log = func(line string) {
		if strings.Contains(line, "IN_PROGRESS") {
			cancel()
		}
	}
	_, err := h.d.Rollout(ctx, Spec{Cluster: "prod", Service: "api", TaskDefinition: tdNew, Rollback: true})
	var rerr *RolloutError
	if !errors.As(err, &rerr) || rerr.Kind != KindPollError || !errors.Is(err, context.Canceled) {
		t.Fatalf("want a poll-error RolloutError wrapping context.Canceled, got %v", err)
	}
	if !strings.Contains(err.Error(), "may still be running in ECS") || !strings.Contains(err.Error(), "not rolled back") {
		t.Errorf("got %v", err)
	}
	if n := h.fake.count("UpdateService"); n != 1 {
		t.Errorf("no rollback may start, got %d updates", n)
	}
}
