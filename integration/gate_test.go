//go:build integration

package integration

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// commanderConfig is the commander example's description, relative to a
// source that holds the repository's layout.
const commanderConfig = "examples/commander/stevedore.yaml"

// commanderSmoke is the smoke list of the commander example's backend, as
// a test replaces it in a copy.
const commanderSmoke = `      smoke:
        - {path: /conversations, status: 200}          # the table the migration made is readable
        - {path: /openapi.json, body: '"commander.ai"'}  # the app's own API, not another service
        - {method: POST, path: /conversations, status: 422}  # request validation is on
`

// localSteps is each step's "status: summary reason error" in a JSON
// deploy report.
func localSteps(t *testing.T, report string) (string, map[string]string) {
	t.Helper()
	var rep struct {
		Status string `json:"status"`
		Steps  []struct {
			Name, Status, Summary, Reason, Error string
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(report), &rep); err != nil {
		t.Fatalf("json report does not parse: %v\n%s", err, tailLines(report, 40))
	}
	got := map[string]string{}
	for _, s := range rep.Steps {
		got[s.Name] = s.Status + ": " + s.Summary + s.Reason + s.Error
	}
	return rep.Status, got
}

// The commander example's backend is blue-green with the gate: on the
// local target its new container passes /health and the three smoke
// requests (a read of the migrated table, the app's own OpenAPI title, a
// POST the app rejects with 422) before it serves, and the report's
// rollout row says so, check by check.
func TestLocalGateCommanderPasses(t *testing.T) {
	r := mustDagger(t, nil, "call", "--config", commanderConfig, "deploy", "--format", "json")
	status, got := localSteps(t, r.stdout)
	if status != "succeeded" {
		t.Fatalf("deploy status %q:\n%s", status, r.stdout)
	}
	assertContains(t, "rollout:backend", got["rollout:backend"],
		"ok: running from the pushed digest on port 8000; gate passed: health /health: 200 after ",
		"smoke GET /conversations: 200 after ", "smoke GET /openapi.json: 200 after ", "smoke POST /conversations: 422 after ")
	// qdrant has no gate: it only starts.
	assertNotContains(t, "rollout:qdrant", got["rollout:qdrant"], "gate")
	assertContains(t, "verify", got["verify"], `ok: http://backend:8000/health → {"status":"healthy"`)
}

// A smoke request the new local backend does not answer as described (a
// POST the app rejects with 422 where 201 is expected) fails its rollout
// with the check's evidence: the new container is stopped, nothing is
// replaced, and nothing after the rollout runs.
func TestLocalGateCommanderSmokeFails(t *testing.T) {
	src := copyTree(t, "examples/commander", "docker")
	edit(t, src, commanderConfig, commanderSmoke, "      smoke:\n        - {path: /conversations}\n        - {method: POST, path: /conversations, status: 201}\n")
	r := dagger(t, nil, "call", "--source", src, "--config", commanderConfig, "deploy", "--format", "json")
	if r.err == nil {
		t.Fatalf("deploy succeeded with a failing smoke request:\n%s", tailLines(r.stdout, 40))
	}
	report := errorText(r)
	report = report[strings.Index(report, "{"):]
	report = report[:strings.LastIndex(report, "}")+1]
	status, got := localSteps(t, report)
	if status != "failed" {
		t.Fatalf("deploy status %q", status)
	}
	assertContains(t, "rollout:backend", got["rollout:backend"],
		"failed: ", "local rollout of backend from stevedore-registry:5000/commander-ai-backend@sha256:",
		"failed its gate, so the new service was stopped and nothing was replaced (the previous local state is kept)",
		"gate of backend: smoke POST /conversations failed after 1 attempt(s)", "want 201, got 422: ", `"detail"`)
	assertContains(t, "verify", got["verify"], "skipped: ", "rollout:backend")
}

// A smokeCommand runs once in its own image after the requests, reaching
// the new local backend under its service name with the test header and
// the token as a secret; its failure is the gate's evidence (the
// command's own output and exit code), with the token scrubbed.
func TestLocalGateCommanderSmokeCommand(t *testing.T) {
	src := copyTree(t, "examples/commander", "docker")
	script := `import os, urllib.request as u; h, tok = os.environ["STEVEDORE_TEST_HEADER"], os.environ["STEVEDORE_TEST_TOKEN"]; ` +
		`r = u.urlopen(u.Request(os.environ["STEVEDORE_TEST_URL"] + "/conversations", headers={h: tok})); ` +
		`print("smoke:", r.status, "from", os.environ["STEVEDORE_TEST_URL"], "header", h, "token", tok, "of", len(tok), "chars"); raise SystemExit(3)`
	cmd, _ := json.Marshal([]string{"python3", "-c", script})
	edit(t, src, commanderConfig, commanderSmoke, commanderSmoke+"      smokeCommand:\n        image: python:3.11-slim\n        command: "+string(cmd)+"\n")
	r := dagger(t, nil, "call", "--source", src, "--config", commanderConfig, "deploy")
	if r.err == nil {
		t.Fatalf("deploy succeeded with a smoke command exiting 3:\n%s", tailLines(r.stdout, 40))
	}
	assertContains(t, "progress log", r.stderr, "backend: smoke GET /conversations: 200 after ") // the requests ran first
	assertContains(t, "error", errorText(r),
		"gate of backend: smoke command failed: the run in python:3.11-slim failed (`python3 -c import os", "exited 3): ",
		"smoke: 200 from http://backend:8000 header X-Stevedore-Test token ", "of 48 chars",
		"the new service was stopped and nothing was replaced")
	if tok := regexp.MustCompile(`\b[0-9a-f]{48}\b`).FindString(r.output()); tok != "" {
		t.Errorf("the test token %s… appears in the output", tok[:6])
	}
}
