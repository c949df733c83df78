package steps

import (
	"context"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

func TestRunRejectsInvalidGraphsBeforeRunningAnything(t *testing.T) {
	var ran atomic.Int32
	run := func(context.Context) (Outcome, error) { ran.Add(1); return Outcome{}, nil }
	step := func(name string, needs ...string) Step { return Step{Name: name, Needs: needs, Run: run} }

	tests := []struct {
		name  string
		steps []Step
		want  []string // every line must appear in the error
	}{
		{"empty name", []Step{step("ok"), step("")}, []string{"step #2 has an empty name"}},
		{"duplicate name", []Step{step("build"), step("push"), step("build")}, []string{`step name "build" is used twice (steps #1 and #3)`}},
		{"unknown need", []Step{step("build"), step("push", "biuld")}, []string{`step "push" needs unknown step "biuld"`}},
		{"self need", []Step{step("loop", "loop")}, []string{"dependency cycle: loop → loop"}},
		{"three-step cycle", []Step{step("a", "c"), step("b", "a"), step("c", "b"), step("free")}, []string{"dependency cycle: a → c → b → a (each step needs the next)"}},
		{"cycle reached through a tail", []Step{step("x", "a"), step("a", "b"), step("b", "a")}, []string{"dependency cycle: a → b → a"}},
		{"missing run", []Step{{Name: "deploy"}}, []string{`step "deploy" has no Run function`}},
		{"all problems at once", []Step{step(""), step("a", "nope"), step("a")}, []string{"step #1 has an empty name", `step "a" needs unknown step "nope"`, `step name "a" is used twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Run(context.Background(), tt.steps, Options{Title: "t"})
			if err == nil {
				t.Fatal("Run accepted an invalid graph")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if got := len(lines(err.Error())); got != len(tt.want) {
				t.Errorf("error has %d lines, want %d: %q", got, len(tt.want), err)
			}
			if ran.Load() != 0 {
				t.Errorf("%d steps ran despite the invalid graph", ran.Load())
			}
			if r == nil || len(r.Steps) != 0 || r.Title != "t" {
				t.Errorf("want an empty report titled t, got %+v", r)
			}
		})
	}
}

func TestPlanRunsNothingAndListsStepsTopologically(t *testing.T) {
	var ran atomic.Int32
	run := func(context.Context) (Outcome, error) { ran.Add(1); return Outcome{}, nil }
	steps := []Step{
		{Name: "verify", Needs: []string{"deploy", "publish"}, Run: run},
		{Name: "deploy", Needs: []string{"push", "push"}, Run: run, Plan: "the gate would check health /health"},
		{Name: "publish", Needs: []string{"frontend"}}, // no Run: allowed when planning
		{Name: "push", Needs: []string{"build"}, Run: run},
		{Name: "frontend", Run: run},
		{Name: "build", Run: run},
	}
	r, err := Run(context.Background(), steps, Options{Plan: true})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ran.Load() != 0 {
		t.Fatalf("plan mode ran %d steps", ran.Load())
	}
	var order []string
	for _, s := range r.Steps {
		order = append(order, s.Name)
		if s.Status != StatusPlanned {
			t.Errorf("%s: status %s, want planned", s.Name, s.Status)
		}
	}
	// Kahn's algorithm taking the earliest-declared ready step each time.
	if got, want := strings.Join(order, ","), "frontend,publish,build,push,deploy,verify"; got != want {
		t.Errorf("plan order %s, want %s", got, want)
	}
	if got := resultsByName(r)["deploy"].Needs; len(got) != 1 || got[0] != "push" {
		t.Errorf("deploy needs %v, want the duplicate folded to [push]", got)
	}
	if r.Succeeded() {
		t.Error("a plan reported success, but nothing ran")
	}
	if md := r.Markdown(); strings.Contains(md, "```mermaid") || !strings.Contains(md, "| deploy | 📝 planned | – |  | the gate would check health /health<br>needs push |") {
		t.Errorf("plan markdown should list steps with what they would do, their needs and no chart:\n%s", md)
	}
	if txt := r.Text(); !strings.Contains(txt, "the gate would check health /health") {
		t.Errorf("plan text lacks what deploy would do:\n%s", txt)
	}
	// A run shows what the step did, not what it would have done.
	r, err = Run(context.Background(), []Step{{Name: "deploy", Run: run, Plan: "the gate would check health /health"}}, Options{})
	if err != nil || strings.Contains(r.Text(), "would check") {
		t.Errorf("a run shows the step's plan line (err %v):\n%s", err, r.Text())
	}
}

// A step skipped by design is reported so in a plan and in a run, and the
// steps that need it are not held back.
func TestStepSkipKnownBeforehand(t *testing.T) {
	var ran atomic.Int32
	run := func(context.Context) (Outcome, error) { ran.Add(1); return Outcome{}, nil }
	graph := []Step{
		{Name: "synth", Run: run},
		{Name: "deploy-infra", Needs: []string{"synth"}, Skip: "the local target does not deploy the CDK app"},
		{Name: "verify", Needs: []string{"deploy-infra"}, Run: run},
	}
	for _, planMode := range []bool{true, false} {
		ran.Store(0)
		r, err := Run(context.Background(), graph, Options{Plan: planMode})
		if err != nil {
			t.Fatalf("plan=%v: %v", planMode, err)
		}
		byName := resultsByName(r)
		if s := byName["deploy-infra"]; s.Status != StatusSkipped || !s.Deliberate || s.Reason != "the local target does not deploy the CDK app" {
			t.Errorf("plan=%v: deploy-infra = %+v, want skipped with its reason", planMode, s)
		}
		want, wantRan := StatusOK, int32(2)
		if planMode {
			want, wantRan = StatusPlanned, 0
		}
		if s := byName["verify"]; s.Status != want {
			t.Errorf("plan=%v: verify status %s, want %s", planMode, s.Status, want)
		}
		if planMode && !strings.Contains(r.Text(), "plan: 2 steps and 1 skipped (deploy-infra), nothing was run") {
			t.Errorf("plan verdict does not count the skipped step:\n%s", r.Text())
		}
		if planMode {
			// Nothing started: no duration, no times, in any format.
			for format, row := range map[string]*regexp.Regexp{
				"text":     regexp.MustCompile(`(?m)^  ⊘ deploy-infra +- +the local target`),
				"markdown": regexp.MustCompile(`(?m)^\| deploy-infra \| ⏭️ skipped \| – \|`),
			} {
				out, _ := r.Render(format)
				if !row.MatchString(out) {
					t.Errorf("plan, %s: the skipped step shows a duration:\n%s", format, out)
				}
			}
			if js := r.JSON(); strings.Contains(js, `"start": "0001-`) {
				t.Errorf("plan, json: the skipped step has a zero start time:\n%s", js)
			}
		}
		if path := CriticalPath(r); planMode && len(path) != 0 {
			t.Errorf("a plan has a critical path: %v", path)
		}
		if ran.Load() != wantRan {
			t.Errorf("plan=%v: %d steps ran, want %d", planMode, ran.Load(), wantRan)
		}
	}
}
