//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The whole pipeline on its local target: tests, builds, push to the
// embedded registry, synth against the pushed digests, services started from
// those digests, health and index page checked, report printed.
func TestDeployLocal(t *testing.T) {
	r := mustDagger(t, nil, "call", "deploy", "--git-sha", "0123abc", "--format", "markdown")
	report := r.stdout
	assertContains(t, "report", report,
		"## stevedore deploy: cao → local (dev)",
		"✅ **9 steps succeeded; 1 skipped**",
		"| deploy-infra | ⏭️ skipped |", "_the local target does not deploy the CDK app",
		"| Step | Status | Duration | Cached | Details |",
		`http://backend:9889/health → {"status":"healthy"}`,
		`http://frontend/ → page "CAO console"`,
		"resources in 4 stacks for cao/dev:<br>CAO", "<br>CAONetworkStack-dev: ", " more types)",
		// The built-in infrastructure's resources: redis has a local
		// stand-in bound to the backend, the others are named as missing.
		"local stand-ins: redis (redis); not emulated locally: session-table (dynamodb), user-pool (cognito)",
		"redis → local redis stand-in res-redis:6379; not emulated locally: session-table (dynamodb), user-pool (cognito)",
		"```mermaid\ngantt",
		"Critical path: ",
	)
	for _, step := range []string{"test", "build:backend", "build:frontend", "prepare-infra", "push:backend", "synth", "rollout:backend", "publish:frontend", "verify"} {
		if !regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(step) + ` \| ✅ ok \|`).MatchString(report) {
			t.Errorf("report has no successful row for %s", step)
		}
	}
	// The service runs the digest that was pushed.
	refs := regexp.MustCompile("`(stevedore-registry:5000/cao-server@sha256:[0-9a-f]{64})`").FindAllStringSubmatch(report, -1)
	if len(refs) < 2 || refs[0][1] != refs[1][1] {
		t.Fatalf("push and rollout must name the same digest: %v", refs)
	}
	// The synth row names each stack once (its stack artifacts are for --format json).
	assertNotContains(t, "report", report, "<br>stack: ")
	// The embedded registry's "blob unknown" answers are not logged as errors.
	assertNotContains(t, "progress log", r.stderr, "level=error")
}

// A broken test stops the pipeline before anything is pushed; the report
// names the failed step and what it skipped.
func TestDeployLocalStopsOnFailedTests(t *testing.T) {
	src := exampleApp(t)
	edit(t, src, "examples/backend/main_test.go", `if body["status"] != "healthy" {`, `if body["status"] != "sick" {`)
	dropInfra(t, src, "")
	r := dagger(t, nil, "call", "--source", src, "deploy")
	if r.err == nil {
		t.Fatalf("deploy succeeded with a failing test:\n%s", r.stdout)
	}
	out := r.stderr
	assertContains(t, "error", out, "step test failed", "--- FAIL: TestHealth")
	for _, skipped := range []string{"push:backend", "rollout:backend", "publish:frontend", "verify"} {
		if !regexp.MustCompile(`⊘ ` + regexp.QuoteMeta(skipped) + `\s+-\s+needs test`).MatchString(out) {
			t.Errorf("%s is not reported skipped", skipped)
		}
	}
	if strings.Contains(out, "pushed, tags") {
		t.Error("an image was pushed although the tests failed")
	}
}

// dropInfra removes the infra: section (the last one of the repository's
// stevedore.yaml) from a copied description, so a test runs no synth, and
// the service's uses: of its resources; then it appends tail.
func dropInfra(t *testing.T, src, tail string) {
	t.Helper()
	p := filepath.Join(src, "stevedore.yaml")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := strings.Cut(string(data), "\ninfra:")
	if !ok {
		t.Fatal("stevedore.yaml has no infra: section")
	}
	if err := os.WriteFile(p, []byte(head+"\n"+tail), 0o644); err != nil {
		t.Fatal(err)
	}
	edit(t, src, "stevedore.yaml", "    uses: [user-pool, session-table, redis]\n", "")
}

func TestDeployRejectsUnknownTarget(t *testing.T) {
	r := dagger(t, nil, "call", "deploy", "--target", "moon")
	if r.err == nil {
		t.Fatal("unknown target accepted")
	}
	assertContains(t, "error", r.stderr, `unknown target "moon": use local (no AWS account needed) or aws`)
	r = dagger(t, nil, "call", "deploy", "--target", "aws")
	if r.err == nil {
		t.Fatal("aws target started without credentials")
	}
	assertContains(t, "error", r.stderr, "deploy needs an AWS account: call with-aws first")
}

// plan lists the graph without running a step.
func TestPlanLocalRunsNothing(t *testing.T) {
	r := mustDagger(t, nil, "call", "plan", "--format", "markdown")
	assertContains(t, "plan", r.stdout, "stevedore plan: cao → local (dev), dry run")
	for _, step := range []string{"test", "push:backend", "synth", "rollout:backend", "verify"} {
		if !regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(step) + ` \| .*planned`).MatchString(r.stdout) {
			t.Errorf("plan has no planned row for %s:\n%s", step, r.stdout)
		}
	}
	if !regexp.MustCompile(`(?m)^\| deploy-infra \| .*skipped .*does not deploy`).MatchString(r.stdout) {
		t.Errorf("plan does not list deploy-infra as skipped with its reason:\n%s", r.stdout)
	}
	assertNotContains(t, "plan", r.stdout, "pushed, tags", "✅ ok")
}

// The default report is plain text a person reads in a terminal; --format
// json is one document with stable field names.
func TestPlanFormats(t *testing.T) {
	text := mustDagger(t, nil, "call", "plan").stdout
	assertContains(t, "text plan", text, "stevedore plan: cao → local (dev), dry run: ○ plan: 9 steps and 1 skipped (deploy-infra), nothing was run", "  ○ push:backend", "needs build:backend, test")
	assertNotContains(t, "text plan", text, "| Step |", "```mermaid", "## ")
	js := mustDagger(t, nil, "call", "plan", "--format", "json").stdout
	var rep struct {
		Title  string `json:"title"`
		Status string `json:"status"`
		Steps  []struct {
			Name   string   `json:"name"`
			Needs  []string `json:"needs"`
			Status string   `json:"status"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatalf("--format json does not parse: %v\n%s", err, js)
	}
	if rep.Status != "planned" || rep.Title != "stevedore plan: cao → local (dev), dry run" || len(rep.Steps) != 10 {
		t.Fatalf("json plan = %+v", rep)
	}
	bad := dagger(t, nil, "call", "plan", "--format", "html")
	if bad.err == nil {
		t.Fatal("--format html accepted")
	}
	assertContains(t, "error", bad.stderr, `unknown report format "html": use text, markdown, json`)
}

// migrate: runs on the local target too, in a one-off container from the new
// image with the service's env, before the services start; a migration
// exiting 3 fails the deploy and no service starts.
func TestDeployLocalFailedMigrationStopsTheRollout(t *testing.T) {
	src := exampleApp(t)
	dropInfra(t, src, "migrate:\n  service: backend\n  command: [sh, -c, 'echo \"migrating for $MIGRATION_MARKER\" >&2; exit 3']\n")
	edit(t, src, "stevedore.yaml", "    port: 9889\n", "    port: 9889\n    env:\n      MIGRATION_MARKER: marker-42\n")
	plan := mustDagger(t, nil, "call", "--source", src, "plan")
	assertContains(t, "plan", plan.stdout, "○ migrate", "needs push:backend", "would run `sh -c echo \"migrating for $MIGRATION_MARKER\" >&2; exit 3` in the new backend image")
	r := dagger(t, nil, "call", "--source", src, "deploy")
	if r.err == nil {
		t.Fatalf("deploy succeeded although the migration exited 3:\n%s", r.stdout)
	}
	assertContains(t, "error", r.stderr, "step migrate failed: migration failed (backend; `echo \"migrating for $MIGRATION_MARKER\" >&2; exit 3` exited 3): migrating for marker-42")
	if !regexp.MustCompile(`⊘ rollout:backend\s+-\s+needs migrate`).MatchString(r.stderr) {
		t.Errorf("rollout:backend is not reported skipped because of the migration:\n%s", tailLines(r.stderr, 40))
	}
}

// A passing migration runs after the push and before the service starts,
// with the service's env, and is a row of the report.
func TestDeployLocalRunsTheMigrationFirst(t *testing.T) {
	src := exampleApp(t)
	dropInfra(t, src, "migrate:\n  service: backend\n  command: [sh, -c, 'echo \"migrated for $MIGRATION_MARKER\"']\n")
	edit(t, src, "stevedore.yaml", "    port: 9889\n", "    port: 9889\n    env:\n      MIGRATION_MARKER: marker-7\n")
	r := mustDagger(t, nil, "call", "--source", src, "deploy", "--format", "json")
	var rep struct {
		Status string `json:"status"`
		Steps  []struct {
			Name    string    `json:"name"`
			Needs   []string  `json:"needs"`
			Status  string    `json:"status"`
			Summary string    `json:"summary"`
			Start   time.Time `json:"start"`
			End     time.Time `json:"end"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("json report does not parse: %v\n%s", err, r.stdout)
	}
	byName := map[string]int{}
	for i, s := range rep.Steps {
		byName[s.Name] = i
	}
	mi, ok := byName["migrate"]
	if !ok || rep.Status != "succeeded" {
		t.Fatalf("no migrate step, or the deploy failed: %s", r.stdout)
	}
	migrate, rollout := rep.Steps[mi], rep.Steps[byName["rollout:backend"]]
	if migrate.Status != "ok" || !strings.Contains(migrate.Summary, "migrated for marker-7") {
		t.Errorf("migrate = %+v", migrate)
	}
	if rollout.Start.Before(migrate.End) || !strings.Contains(strings.Join(rollout.Needs, ","), "migrate") {
		t.Errorf("the service started before the migration ended: migrate %+v, rollout %+v", migrate, rollout)
	}
}
