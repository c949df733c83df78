package steps

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// A step that chooses not to act is listed as skipped with its reason, and
// the steps that need it still run; the run still succeeds.
func TestDeliberateSkipKeepsDependentsRunning(t *testing.T) {
	r, err := Run(context.Background(), []Step{
		{Name: "synth", Run: ok(Outcome{Summary: "4 stacks"})},
		{Name: "deploy-infra", Needs: []string{"synth"}, Run: ok(Outcome{Skipped: "the local target does not deploy the CDK app"})},
		{Name: "rollout", Needs: []string{"deploy-infra"}, Run: ok(Outcome{Summary: "running"})},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := resultsByName(r)
	if s := got["deploy-infra"]; s.Status != StatusSkipped || !s.Deliberate || s.Reason != "the local target does not deploy the CDK app" {
		t.Errorf("deploy-infra = %+v", s)
	}
	if got["rollout"].Status != StatusOK {
		t.Errorf("rollout = %s, want ok: a deliberate skip must not hold back its dependents", got["rollout"].Status)
	}
	if !r.Succeeded() {
		t.Error("a run with only a deliberate skip did not succeed")
	}
	text := r.Text()
	for _, want := range []string{"2 steps succeeded; 1 skipped", "⊘ deploy-infra", "the local target does not deploy the CDK app"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if md := r.Markdown(); !strings.Contains(md, "| deploy-infra | ⏭️ skipped |") || !strings.Contains(md, "_the local target does not deploy the CDK app_") {
		t.Errorf("markdown lacks the skipped row:\n%s", md)
	}
}

// A multi-line error (a test's output) keeps its lines in every rendering.
func TestMultiLineErrorKeepsItsLines(t *testing.T) {
	testOut := "tests failed:\n✘ backend: `go test ./...` exited with code 1:\n--- FAIL: TestHealth (0.00s)\n    main_test.go:20: status = healthy"
	r, err := Run(context.Background(), []Step{
		{Name: "test", Run: func(context.Context) (Outcome, error) { return Outcome{}, errors.New(testOut + "\r\n\n") }},
	}, Options{})
	if err == nil {
		t.Fatal("no error")
	}
	if got := r.Steps[0].Err; got != testOut {
		t.Errorf("report error = %q, want the lines kept", got)
	}
	text := r.Text()
	for _, want := range []string{"error: tests failed:\n", "│ --- FAIL: TestHealth (0.00s)\n", "│     main_test.go:20: status = healthy\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(err.Error(), "step test failed: tests failed:\n    ✘ backend: `go test ./...` exited with code 1:\n    --- FAIL: TestHealth") {
		t.Errorf("error = %q", err)
	}
	if md := r.Markdown(); !strings.Contains(md, "--- FAIL: TestHealth (0.00s)<br>") {
		t.Errorf("markdown squashed the lines:\n%s", md)
	}
}

// A fake ticker: the test fires it by hand.
type fakeTicker struct {
	every time.Duration
	c     chan time.Time
}

func (f *fakeTicker) start(every time.Duration) (<-chan time.Time, func()) {
	f.every = every
	return f.c, func() {}
}

// While steps run, each tick logs which are still running and for how long.
func TestProgressLineWhileStepsRun(t *testing.T) {
	clock := &fakeClock{}
	feed := make(logFeed, 100)
	tick := &fakeTicker{c: make(chan time.Time)}
	release := make(chan struct{})
	done := make(chan *Report)
	go func() {
		r, _ := Run(context.Background(), []Step{
			{Name: "prepare-infra", Run: func(context.Context) (Outcome, error) { <-release; return Outcome{}, nil }},
			{Name: "quick", Run: ok(Outcome{})},
		}, Options{Clock: clock.Now, Log: feed.log, Ticker: tick.start})
		done <- r
	}()
	feed.waitFor(t, "✔ quick 0s")
	clock.Set(90 * time.Second)
	tick.c <- base.Add(90 * time.Second)
	feed.waitFor(t, "… still running: prepare-infra 1m30s")
	close(release)
	<-done
	if tick.every != DefaultProgress {
		t.Errorf("ticker every %s, want %s", tick.every, DefaultProgress)
	}
}

// Progress < 0 starts no ticker.
func TestProgressOff(t *testing.T) {
	tick := &fakeTicker{c: make(chan time.Time)}
	_, _ = Run(context.Background(), []Step{{Name: "a", Run: ok(Outcome{})}}, Options{Log: func(string) {}, Ticker: tick.start, Progress: -1})
	if tick.every != 0 {
		t.Error("a ticker started although progress is off")
	}
}

// The JSON rendering parses and keeps its field names.
func TestJSONReport(t *testing.T) {
	clock := &fakeClock{}
	r, _ := Run(context.Background(), []Step{
		{Name: "push", Run: func(context.Context) (Outcome, error) {
			clock.Set(2 * time.Second)
			return Outcome{Summary: "pushed", Artifacts: []Artifact{{Kind: KindImage, Name: "api", Value: "r/api@sha256:ab"}}}, nil
		}},
		{Name: "rollout", Needs: []string{"push"}, Run: func(context.Context) (Outcome, error) { return Outcome{}, errors.New("boom\nwhy") }},
		{Name: "verify", Needs: []string{"rollout"}, Run: ok(Outcome{})},
	}, Options{Title: "Deploy", Clock: clock.Now})
	var got map[string]any
	if err := json.Unmarshal([]byte(r.JSON()), &got); err != nil {
		t.Fatalf("JSON does not parse: %v", err)
	}
	var rep JSONReport
	_ = json.Unmarshal([]byte(r.JSON()), &rep)
	if rep.Title != "Deploy" || rep.Status != "failed" || rep.Summary != "1 of 3 steps failed (rollout); 1 skipped" || len(rep.Steps) != 3 {
		t.Fatalf("report = %+v", rep)
	}
	push, rollout, verify := rep.Steps[0], rep.Steps[1], rep.Steps[2]
	if push.Name != "push" || push.Status != StatusOK || push.DurationSeconds != 2 || push.Start == nil || len(push.Artifacts) != 1 || push.Artifacts[0].Value != "r/api@sha256:ab" {
		t.Errorf("push = %+v", push)
	}
	if rollout.Error != "boom\nwhy" || rollout.Status != StatusFailed {
		t.Errorf("rollout = %+v", rollout)
	}
	if verify.Status != StatusSkipped || verify.Reason != "needs rollout" || verify.Start != nil || verify.Deliberate {
		t.Errorf("verify = %+v", verify)
	}
	steps := got["steps"].([]any)[0].(map[string]any)
	for _, key := range []string{"name", "needs", "status", "start", "end", "durationSeconds", "cached", "summary", "artifacts"} {
		if _, ok := steps[key]; !ok {
			t.Errorf("step JSON lacks %q: %v", key, steps)
		}
	}
	for _, key := range []string{"title", "status", "summary", "start", "end", "wallSeconds", "stepSeconds", "criticalPath", "steps"} {
		if _, ok := got[key]; !ok {
			t.Errorf("report JSON lacks %q", key)
		}
	}
}

func TestRenderFormats(t *testing.T) {
	r := &Report{Title: "T", Steps: []StepResult{{Name: "a", Status: StatusOK}}}
	for format, want := range map[string]string{"text": "T: ✔", "markdown": "## T", "json": `"title": "T"`} {
		out, err := r.Render(format)
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("Render(%s) = %q, %v; want %q", format, out, err, want)
		}
	}
	if _, err := r.Render("html"); err == nil || !strings.Contains(err.Error(), `unknown report format "html": use text, markdown, json`) {
		t.Errorf("Render(html) error = %v", err)
	}
}

func TestTextArtifactLabel(t *testing.T) {
	for a, want := range map[Artifact]string{
		{Kind: KindImage, Name: "api", Value: "r/api@sha256:1"}: "image api: r/api@sha256:1",
		{Kind: KindURL, Value: "http://x/"}:                     "url http://x/",
	} {
		if got := textArtifact(a); got != want {
			t.Errorf("textArtifact(%+v) = %q, want %q", a, got, want)
		}
	}
}

// A stack artifact is for scripts: the JSON report lists it, the text and
// markdown reports leave it to the summary; other artifacts show.
func TestStackArtifactsOnlyInJSON(t *testing.T) {
	r := &Report{Title: "T", Steps: []StepResult{{Name: "synth", Status: StatusOK, Summary: "1 resource in 1 stack",
		Artifacts: []Artifact{{Kind: KindStack, Name: "stack", Value: "App-dev"}, {Kind: KindURL, Name: "site", Value: "https://x/"}}}}}
	for format, want := range map[string]bool{"text": false, "markdown": false, "json": true} {
		out, err := r.Render(format)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(out, "App-dev"); got != want {
			t.Errorf("%s names the stack artifact: %v, want %v:\n%s", format, got, want, out)
		}
		if !strings.Contains(out, "https://x/") {
			t.Errorf("%s lost the url artifact:\n%s", format, out)
		}
	}
}

// A multi-line summary keeps its first line in the step's row and puts
// each other line on its own line below it.
func TestTextMultiLineSummary(t *testing.T) {
	r := &Report{Title: "T", Steps: []StepResult{
		{Name: "synth", Status: StatusOK, Summary: "3 resources in 2 stacks for app/dev:\nNet-dev: 2 resources (AWS::EC2::VPC 2)\n\nApp-dev: 1 resource (AWS::IAM::Role 1)"},
		{Name: "verify", Status: StatusOK, Summary: "ok"},
	}}
	want := "  ✔ synth   0s    3 resources in 2 stacks for app/dev:\n" +
		"                    Net-dev: 2 resources (AWS::EC2::VPC 2)\n" +
		"                    App-dev: 1 resource (AWS::IAM::Role 1)\n" +
		"  ✔ verify  0s    ok\n"
	if _, got, _ := strings.Cut(r.Text(), "\n"); got != want {
		t.Errorf("text table =\n%s\nwant\n%s", got, want)
	}
}
