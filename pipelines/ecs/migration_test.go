package ecs

import (
	"context"
	"strings"
	"testing"
)

// The migration's one-off revision is registered once per image set and
// found again on a re-run, which registers nothing.
func TestMigrationRevisionRegistersOnceAndReuses(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": imageScenario()})
	ctx := context.Background()
	images := map[string]string{"app": digestB}

	first, err := h.d.MigrationRevision(ctx, "prod", "api", images)
	if err != nil {
		t.Fatal(err)
	}
	if first != (Revision{ARN: tdNew, Previous: tdPrev, Changed: true}) {
		t.Fatalf("first call = %+v, want a new revision api:8", first)
	}
	again, err := h.d.MigrationRevision(ctx, "prod", "api", images)
	if err != nil {
		t.Fatal(err)
	}
	if again != (Revision{ARN: tdNew, Previous: tdPrev, Changed: true, Reused: true}) {
		t.Fatalf("re-run = %+v, want api:8 reused", again)
	}
	if n := h.fake.count("RegisterTaskDefinition"); n != 1 {
		t.Fatalf("RegisterTaskDefinition calls = %d, want 1: a re-run registers nothing", n)
	}
	if !strings.Contains(h.log(), "reusing api:8") {
		t.Errorf("the reuse must be logged:\n%s", h.log())
	}

	// Other images: another revision, not the one made for digestB.
	other, err := h.d.MigrationRevision(ctx, "prod", "api", map[string]string{"envoy": "public.ecr.aws/appmesh/envoy@sha256:" + strings.Repeat("c", 64)})
	if err != nil {
		t.Fatal(err)
	}
	if other.Reused || !strings.HasSuffix(other.ARN, "api:9") {
		t.Fatalf("other images = %+v, want a new api:9", other)
	}

	// The service's task definition changed since (say, a new environment
	// variable from a stack update): the old migration revision no longer
	// matches it and must not be reused.
	h.fake.mu.Lock()
	app := h.fake.defs[tdPrev].td["containerDefinitions"].([]any)[0].(map[string]any)
	app["environment"] = []any{map[string]any{"name": "ENV", "value": "prod"}, map[string]any{"name": "FEATURE", "value": "on"}}
	h.fake.mu.Unlock()
	changed, err := h.d.MigrationRevision(ctx, "prod", "api", images)
	if err != nil {
		t.Fatal(err)
	}
	if changed.Reused || !strings.HasSuffix(changed.ARN, "api:10") {
		t.Fatalf("after the task definition changed = %+v, want a new api:10", changed)
	}
}

func TestMigrationRevisionWhenTheServiceAlreadyRunsTheImages(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": imageScenario()})
	rev, err := h.d.MigrationRevision(context.Background(), "prod", "api", map[string]string{"app": digestA})
	if err != nil {
		t.Fatal(err)
	}
	if rev.Changed || rev.ARN != tdPrev {
		t.Fatalf("revision = %+v, want the current api:5 unchanged", rev)
	}
	if h.fake.count("RegisterTaskDefinition")+h.fake.count("ListTaskDefinitions") != 0 {
		t.Error("nothing may be registered or searched")
	}
}

func TestMigrationRevisionRefusals(t *testing.T) {
	cases := []struct {
		name    string
		images  map[string]string
		wantErr string
		calls   int
	}{
		{"no images", nil, "migration revision for service api: no images given", 0},
		{"tag refused", map[string]string{"app": "api:latest"}, `container "app": image "api:latest" is not pinned by digest`, 0},
		{"unknown container", map[string]string{"web": digestB}, `container "web" not found in task definition api:5 (it has: app, envoy)`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]*scenario{"api": imageScenario()})
			_, err := h.d.MigrationRevision(context.Background(), "prod", "api", tc.images)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
			if n := h.fake.count("DescribeServices"); n != tc.calls {
				t.Errorf("DescribeServices calls = %d, want %d", n, tc.calls)
			}
			if n := h.fake.count("RegisterTaskDefinition"); n != 0 {
				t.Errorf("nothing may be registered, got %d", n)
			}
		})
	}
}
