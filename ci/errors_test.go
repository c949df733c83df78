package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// A failed command's error says what, which, and what the command printed.
func TestFailedQuotesTheCommand(t *testing.T) {
	ex := &dagger.ExecError{Cmd: []string{"sh", "-c", "npm ci"}, ExitCode: 1, Stdout: "added 0 packages", Stderr: "npm ERR! code ENOTFOUND\nnpm ERR! network request to https://registry.npmjs.org/left-pad failed\n"}
	err := failed("frontend install", "examples/frontend", ex)
	want := "frontend install failed (examples/frontend; `npm ci` exited 1):\n  npm ERR! code ENOTFOUND\n  npm ERR! network request to https://registry.npmjs.org/left-pad failed"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	var got *dagger.ExecError
	if !errors.As(err, &got) || got != ex {
		t.Error("errors.As no longer finds the ExecError")
	}
	// The generated dispatch code follows single Unwrap chains to the
	// engine's error and prints that instead; a list stops it.
	if _, single := err.(interface{ Unwrap() error }); single {
		t.Error("commandError must not have a single Unwrap: its message would be lost at the function boundary")
	}
	script := failed("health check", "http://api/health", &dagger.ExecError{Cmd: []string{"sh", "-c", "rc=0\ncheck x\nexit $rc"}, ExitCode: 1, Stderr: "http://api/health → HTTP 503: down"})
	if script.Error() != "health check failed (http://api/health): http://api/health → HTTP 503: down" {
		t.Errorf("a script is quoted in the error: %q", script)
	}
	if failed("x", "y", nil) != nil {
		t.Error("failed(nil) is not nil")
	}
}

// A Dockerfile RUN failure carries no ExecError: its command and exit code
// come from BuildKit's message.
func TestFailedNamesTheDockerfileRun(t *testing.T) {
	err := failed("image build", "backend, docker/backend.Dockerfile", errors.New(`process "/bin/sh -c pip install -r requirements.txt" did not complete successfully: exit code: 1`))
	if !strings.HasPrefix(err.Error(), "image build failed (backend, docker/backend.Dockerfile; `RUN pip install -r requirements.txt` exited 1)") {
		t.Errorf("error = %q", err)
	}
	plain := failed("starting the registry service", "", errors.New("connection refused"))
	if plain.Error() != "starting the registry service failed: connection refused" {
		t.Errorf("plain error = %q", plain)
	}
}

// The report row of a failed step gets the output of the command inside,
// whoever wrapped it, and the deploy error lists every failure with it.
func TestExplainFailures(t *testing.T) {
	ex := &dagger.ExecError{Cmd: []string{"cdk", "deploy"}, ExitCode: 1, Stderr: "❌ cao-dev-app failed: Resource handler returned message: \"subnet not found\""}
	stepErr := &steps.StepError{Step: "deploy-infra", Err: described("cdk deploy failed", ex)}
	r := &steps.Report{Steps: []steps.StepResult{{Name: "deploy-infra", Status: steps.StatusFailed, Err: "cdk deploy failed"}}}
	msgs := explainFailures(r, errors.Join(stepErr, errors.New("pipeline cancelled")))
	if len(msgs) != 2 || msgs[0] != "step deploy-infra failed: cdk deploy failed" || msgs[1] != "pipeline cancelled" {
		t.Errorf("messages = %q", msgs)
	}
	// An ExecError someone wrapped without quoting it gets its tail added.
	bare := &steps.StepError{Step: "deploy-infra", Err: wrapOnce{ex}}
	msgs = explainFailures(r, errors.Join(bare))
	want := "step deploy-infra failed: cdk: exit 1:\n    ❌ cao-dev-app failed: Resource handler returned message: \"subnet not found\""
	if len(msgs) != 1 || msgs[0] != want {
		t.Errorf("messages = %q\nwant %q", msgs, want)
	}
	if !strings.Contains(r.Steps[0].Err, "subnet not found") {
		t.Errorf("the report row lacks the command's output: %q", r.Steps[0].Err)
	}
}

// wrapOnce wraps an ExecError the way fmt.Errorf would, without calling its
// Error (a hand-made ExecError has no engine error inside to print).
type wrapOnce struct{ ex *dagger.ExecError }

func (w wrapOnce) Error() string { return "cdk: exit 1" }
func (w wrapOnce) Unwrap() error { return w.ex }

func TestCheckPlatforms(t *testing.T) {
	if err := checkPlatforms("linux/amd64", "linux/arm64", "linux/arm/v7", ""); err != nil {
		t.Error(err)
	}
	for _, bad := range []dagger.Platform{"amd64", "Linux/AMD64", "linux/amd64/v2/x", "linux amd64"} {
		if err := checkPlatforms(bad); err == nil || !strings.Contains(err.Error(), "use os/arch such as linux/amd64") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestRolloutResults(t *testing.T) {
	got := rolloutResults([]ecs.Result{
		{Service: "api", Mode: ecs.ModeImage, TaskDefinition: "arn:td/api:8", Previous: "arn:td/api:7", Duration: 61400 * time.Millisecond},
		{Service: "worker", Mode: ecs.ModeUnchanged, TaskDefinition: "arn:td/worker:3", Previous: "arn:td/worker:3"},
		{Service: "web", Mode: ecs.ModeImage, RolledBack: true, TaskDefinition: "arn:td/web:5"},
		{},
	})
	if len(got) != 3 {
		t.Fatalf("%d results", len(got))
	}
	for i, want := range []RolloutResult{
		{Service: "api", TaskDefinition: "arn:td/api:8", Previous: "arn:td/api:7", Outcome: "deployed", Seconds: 61},
		{Service: "worker", TaskDefinition: "arn:td/worker:3", Previous: "arn:td/worker:3", Outcome: "unchanged"},
		{Service: "web", TaskDefinition: "arn:td/web:5", Outcome: "rolled back"},
	} {
		if *got[i] != want {
			t.Errorf("result %d = %+v, want %+v", i, *got[i], want)
		}
	}
}

// Two apps on one engine keep separate cached columns.
func TestLedgerIsScopedPerApp(t *testing.T) {
	shared := map[string]string{}
	cao := &ledger{scope: ledgerScope("cao", `{"name":"cao"}`), prev: shared, next: shared}
	commander := &ledger{scope: ledgerScope("commander", `{"name":"commander"}`), prev: shared, next: shared}
	cao.remember("build:backend", "k1")
	commander.remember("build:backend", "k2")
	if !cao.hit("build:backend", "k1") || !commander.hit("build:backend", "k2") {
		t.Errorf("one app overwrote the other: %v", shared)
	}
	if cao.hit("build:backend", "k2") {
		t.Error("cao sees commander's entry")
	}
}

// The health check names each URL with what it answered.
func TestHealthScript(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh on this machine") // the script itself runs in a container elsewhere
	}
	bin := t.TempDir()
	fakeCurl := `#!/bin/sh
out=; for a; do [ "$prev" = -o ] && out=$a; prev=$a; url=$a; done
case $url in
  *ok*) printf '{"status":"healthy"}' >"$out"; printf 200 ;;
  *sick*) printf 'down for maintenance\n' >"$out"; printf 503 ;;
  *page*) printf '<html><title>CAO console</title></html>' >"$out"; printf 200 ;;
  *) echo "curl: (7) Failed to connect to refused port 80: Connection refused" >&2; printf 000; exit 7 ;;
esac
`
	if err := os.WriteFile(filepath.Join(bin, "curl"), []byte(fakeCurl), 0o755); err != nil {
		t.Fatal(err)
	}
	run := func(checks ...healthCheck) (string, string, error) {
		cmd := exec.Command("sh", "-c", healthScript(checks))
		cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	out, _, err := run(healthCheck{url: "http://ok:9889/health"}, healthCheck{url: "http://page/", title: true})
	if err != nil || out != "http://ok:9889/health → {\"status\":\"healthy\"}\nhttp://page/ → page \"CAO console\"\n" {
		t.Errorf("healthy: %q, %v", out, err)
	}
	_, stderr, err := run(healthCheck{url: "http://sick:9889/health"}, healthCheck{url: "http://refused/"}, healthCheck{url: "http://ok/health"})
	if err == nil {
		t.Fatal("a failing check exited 0")
	}
	for _, want := range []string{"http://sick:9889/health → HTTP 503: down for maintenance", "http://refused/ → curl: (7) Failed to connect to refused port 80: Connection refused"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// A suite whose setup (npm ci) fails says so instead of blaming the tests.
func TestDescribeFailureNamesTheCommandThatFailed(t *testing.T) {
	s := suite{name: "frontend", command: "npm test"}
	got := describeFailure(s, &dagger.ExecError{Cmd: []string{"sh", "-c", "npm ci"}, ExitCode: 1, Stderr: "npm ERR! missing package-lock.json"})
	if got != "✘ frontend: `npm ci` (before `npm test`) exited with code 1:\n  npm ERR! missing package-lock.json" {
		t.Errorf("got %q", got)
	}
	got = describeFailure(s, &dagger.ExecError{Cmd: []string{"sh", "-c", "npm test"}, ExitCode: 1, Stdout: "not ok 1 - renders\n"})
	if got != "✘ frontend: `npm test` exited with code 1:\n  not ok 1 - renders" {
		t.Errorf("got %q", got)
	}
	// A command too long to quote whole is still the suite's own command.
	long := suite{name: "api", command: "apt-get update -qq && apt-get install -y -qq python3-fastapi " + strings.Repeat("python3-x ", 20) + "&& python3 -m unittest discover -s tests -t . -v"}
	got = describeFailure(long, &dagger.ExecError{Cmd: []string{"sh", "-c", long.command}, ExitCode: 1, Stderr: "FAILED (failures=1)"})
	if strings.Contains(got, "(before") || !strings.HasPrefix(got, "✘ api: `apt-get update -qq") {
		t.Errorf("got %q", got)
	}
}

// A failed deploy with --format json errors with the JSON report alone,
// each failed step's error inside it, so scripts parse it like a success.
func TestRenderDeployFailureAsJSON(t *testing.T) {
	ex := &dagger.ExecError{Cmd: []string{"sh", "-c", "alembic upgrade head"}, ExitCode: 3, Stderr: "relation missing"}
	r := &steps.Report{Title: "t", Steps: []steps.StepResult{{Name: "migrate", Status: steps.StatusFailed}}}
	_, err := renderDeploy(r, errors.Join(&steps.StepError{Step: "migrate", Err: described("migration failed", ex)}), "json")
	if err == nil {
		t.Fatal("a failed run rendered without an error")
	}
	var doc struct {
		Status string `json:"status"`
		Steps  []struct {
			Name  string `json:"name"`
			Error string `json:"error"`
		} `json:"steps"`
	}
	if jerr := json.Unmarshal([]byte(err.Error()), &doc); jerr != nil {
		t.Fatalf("the error is not the JSON report: %v\n%s", jerr, err)
	}
	if len(doc.Steps) != 1 || doc.Steps[0].Name != "migrate" || !strings.Contains(doc.Steps[0].Error, "migration failed") {
		t.Fatalf("report = %+v", doc)
	}
}
