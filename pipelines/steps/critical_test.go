package steps

import (
	"slices"
	"testing"
	"time"
)

func TestCriticalPath(t *testing.T) {
	at := func(s int) time.Time { return base.Add(time.Duration(s) * time.Second) }
	ran := func(name string, from, to int, needs ...string) StepResult {
		return StepResult{Name: name, Needs: needs, Status: StatusOK, Start: at(from), End: at(to), Duration: at(to).Sub(at(from))}
	}
	tests := []struct {
		name  string
		steps []StepResult
		want  []string
	}{
		{"no steps", nil, nil},
		{"plan has no times", []StepResult{{Name: "a", Status: StatusPlanned}}, nil},
		{"single step", []StepResult{ran("a", 0, 3)}, []string{"a"}},
		{"longest of two independent steps", []StepResult{ran("short", 0, 2), ran("long", 0, 5)}, []string{"long"}},
		{"follows the need that ended last", []StepResult{
			ran("build", 0, 4), ran("synth", 0, 1), ran("push", 4, 6, "build"),
			ran("deploy", 6, 9, "synth", "push"), ran("publish", 1, 3, "synth"),
		}, []string{"build", "push", "deploy"}},
		{"a failed step can be the end of the path", []StepResult{
			ran("build", 0, 2), {Name: "rollout", Needs: []string{"build"}, Status: StatusFailed, Start: at(2), End: at(7), Err: "x"},
			ran("publish", 0, 5), {Name: "verify", Needs: []string{"rollout"}, Status: StatusSkipped, Reason: "needs rollout"},
		}, []string{"build", "rollout"}},
		{"skipped needs are ignored", []StepResult{
			ran("a", 0, 1), {Name: "b", Status: StatusSkipped}, ran("c", 1, 4, "a", "b"),
		}, []string{"a", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CriticalPath(&Report{Steps: tt.steps}); !slices.Equal(got, tt.want) {
				t.Errorf("CriticalPath = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCriticalPathOfARealRun(t *testing.T) {
	if got := CriticalPath(scriptedRun(t, nil)); !slices.Equal(got, []string{"a", "b", "d"}) {
		t.Errorf("CriticalPath = %v, want [a b d]", got)
	}
}
