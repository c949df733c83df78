package steps

import (
	"context"
	"testing"
	"time"
)

// scriptedRun runs a four-step graph on a fake clock, finishing steps in a
// fixed order so every start and end time is known:
//
//	a   0s → 1s
//	c   0s → 6s              (independent of a and b)
//	b   1s → 8s   needs a
//	d   8s → 9s   needs b, c
//
// d waited for b (ended 8s), not c (6s), so the critical path is a → b → d.
func scriptedRun(t *testing.T, outcomes map[string]Outcome) *Report {
	t.Helper()
	clock := &fakeClock{}
	feed := make(logFeed, 64)
	release := map[string]chan struct{}{}
	step := func(name string, needs ...string) Step {
		release[name] = make(chan struct{})
		return Step{Name: name, Needs: needs, Run: func(ctx context.Context) (Outcome, error) {
			select {
			case <-release[name]:
				return outcomes[name], nil
			case <-ctx.Done():
				return Outcome{}, ctx.Err()
			}
		}}
	}
	steps := []Step{step("a"), step("b", "a"), step("c"), step("d", "b", "c")}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel) // frees the steps if the script stalls
	type result struct {
		r   *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := Run(ctx, steps, Options{Title: "Deploy", Clock: clock.Now, Log: feed.log})
		done <- result{r, err}
	}()
	finish := func(name string, at time.Duration) {
		clock.Set(at)
		close(release[name])
	}
	feed.waitFor(t, "▶ a")
	feed.waitFor(t, "▶ c")
	finish("a", 1*time.Second)
	feed.waitFor(t, "▶ b")
	finish("c", 6*time.Second)
	feed.waitFor(t, "✔ c 6s"+cachedSuffix(outcomes["c"].Cached))
	finish("b", 8*time.Second)
	feed.waitFor(t, "▶ d")
	finish("d", 9*time.Second)
	res := <-done
	if res.err != nil {
		t.Fatalf("scripted run failed: %v", res.err)
	}
	return res.r
}

func TestScriptedRunTimes(t *testing.T) {
	r := scriptedRun(t, nil)
	want := map[string][2]time.Duration{"a": {0, time.Second}, "c": {0, 6 * time.Second}, "b": {time.Second, 8 * time.Second}, "d": {8 * time.Second, 9 * time.Second}}
	for name, w := range want {
		s := resultsByName(r)[name]
		if s.Start != base.Add(w[0]) || s.End != base.Add(w[1]) || s.Duration != w[1]-w[0] {
			t.Errorf("%s ran %v → %v (%v), want %v → %v", name, s.Start.Sub(base), s.End.Sub(base), s.Duration, w[0], w[1])
		}
	}
	if r.Wall() != 9*time.Second || r.StepTime() != 15*time.Second {
		t.Errorf("wall %v, step time %v; want 9s and 15s", r.Wall(), r.StepTime())
	}
}
