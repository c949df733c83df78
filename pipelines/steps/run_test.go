package steps

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestStepsNeverStartBeforeTheirNeedsFinish(t *testing.T) {
	graph := map[string][]string{
		"build-backend": nil, "build-frontend": nil, "test": {"build-backend"},
		"synth": nil, "push": {"build-backend", "test"}, "cdk-deploy": {"synth", "push"},
		"migrate": {"cdk-deploy"}, "rollout": {"migrate"}, "publish": {"build-frontend", "cdk-deploy"},
		"verify": {"rollout", "publish"},
	}
	for _, limit := range []int{0, 1, 2, 3} {
		t.Run(fmt.Sprintf("MaxParallel=%d", limit), func(t *testing.T) {
			for range 20 { // repeat to give bad interleavings a chance
				ev := &events{}
				var steps []Step
				for name, needs := range graph {
					steps = append(steps, Step{Name: name, Needs: needs, Run: func(context.Context) (Outcome, error) {
						ev.add("start " + name)
						runtime.Gosched()
						ev.add("end " + name)
						return Outcome{}, nil
					}})
				}
				r, err := Run(context.Background(), steps, Options{MaxParallel: limit})
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if !r.Succeeded() || len(r.Steps) != len(graph) {
					t.Fatalf("want %d ok steps, got %+v", len(graph), r.Steps)
				}
				if got := len(ev.all()); got != 2*len(graph) {
					t.Fatalf("%d events, want each step to run exactly once (%d)", got, 2*len(graph))
				}
				for name, needs := range graph {
					for _, n := range needs {
						if ev.index("start "+name) < ev.index("end "+n) {
							t.Errorf("%s started before its need %s ended: %v", name, n, ev.all())
						}
					}
				}
				assertTopological(t, r)
			}
		})
	}
}

func TestIndependentStepsRunAtTheSameTime(t *testing.T) {
	// Each step finishes only once the other has started, so the run can
	// only succeed if both are running at once. If they ran one after the
	// other, the deadline would end the wait and the step would fail.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	frontend, backend := make(chan struct{}), make(chan struct{})
	rendezvous := func(mine, other chan struct{}) func(context.Context) (Outcome, error) {
		return func(ctx context.Context) (Outcome, error) {
			close(mine)
			select {
			case <-other:
				return Outcome{}, nil
			case <-ctx.Done():
				return Outcome{}, errors.New("the other build never ran at the same time")
			}
		}
	}
	r, err := Run(ctx, []Step{
		{Name: "build-frontend", Run: rendezvous(frontend, backend)},
		{Name: "build-backend", Run: rendezvous(backend, frontend)},
	}, Options{})
	if err != nil || !r.Succeeded() {
		t.Fatalf("independent steps did not run in parallel: %v", err)
	}
}

func TestMaxParallelCapsRunningSteps(t *testing.T) {
	for _, limit := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			var inFlight, peak atomic.Int32
			run := func(context.Context) (Outcome, error) {
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				runtime.Gosched()
				inFlight.Add(-1)
				return Outcome{}, nil
			}
			var steps []Step
			for i := range 6 {
				steps = append(steps, Step{Name: fmt.Sprintf("s%d", i), Run: run})
			}
			log, logf := logLines()
			if _, err := Run(context.Background(), steps, Options{MaxParallel: limit, Log: logf}); err != nil {
				t.Fatalf("Run: %v", err)
			}
			if p := peak.Load(); p > int32(limit) {
				t.Errorf("%d steps ran at once, limit %d", p, limit)
			}
			// The scheduler logs every start before it waits for a finish,
			// so the log shows how many steps it had in flight.
			running, most := 0, 0
			for _, l := range log.all() {
				switch {
				case strings.HasPrefix(l, "▶"):
					running++
				case strings.HasPrefix(l, "✔"):
					running--
				}
				most = max(most, running)
			}
			if most != limit {
				t.Errorf("scheduler had up to %d steps in flight, want exactly the limit %d: %v", most, limit, log.all())
			}
		})
	}
}

func TestFailureSkipsDependentsAndSparesIndependentSteps(t *testing.T) {
	boom := errors.New("boom\nsecond line")
	aFailed := make(chan struct{})
	var closeOnce atomic.Bool
	logf := func(line string) {
		if strings.HasPrefix(line, "✘ a:") && closeOnce.CompareAndSwap(false, true) {
			close(aFailed)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ranSkipped atomic.Int32
	never := func(context.Context) (Outcome, error) { ranSkipped.Add(1); return Outcome{}, nil }
	steps := []Step{
		{Name: "a", Run: func(context.Context) (Outcome, error) { return Outcome{Summary: "tried"}, boom }},
		{Name: "b", Needs: []string{"a"}, Run: never},
		{Name: "d", Needs: []string{"b"}, Run: never},
		// c is still running when a fails; it must finish, with a live context.
		{Name: "c", Run: func(ctx context.Context) (Outcome, error) {
			select {
			case <-aFailed:
			case <-ctx.Done():
				return Outcome{}, errors.New("a's failure was never logged")
			}
			if ctx.Err() != nil {
				return Outcome{}, errors.New("context cancelled because a failed")
			}
			return Outcome{Summary: "published"}, nil
		}},
		{Name: "f", Needs: []string{"c"}, Run: func(context.Context) (Outcome, error) { return Outcome{}, errors.New("bad gateway") }},
		{Name: "e", Needs: []string{"a", "f"}, Run: never},
	}
	r, err := Run(ctx, steps, Options{Log: logf})
	if err == nil {
		t.Fatal("Run returned no error although steps failed")
	}
	if ranSkipped.Load() != 0 {
		t.Errorf("%d steps ran although a step they need failed", ranSkipped.Load())
	}
	got := resultsByName(r)
	want := map[string]struct {
		status Status
		reason string
	}{
		"a": {StatusFailed, ""}, "b": {StatusSkipped, "needs a"}, "d": {StatusSkipped, "needs a"},
		"c": {StatusOK, ""}, "f": {StatusFailed, ""}, "e": {StatusSkipped, "needs a, f"},
	}
	for name, w := range want {
		if got[name].Status != w.status || got[name].Reason != w.reason {
			t.Errorf("%s: got %s %q, want %s %q", name, got[name].Status, got[name].Reason, w.status, w.reason)
		}
	}
	if got["a"].Err != "boom\nsecond line" || got["a"].Summary != "tried" {
		t.Errorf("a: want the error with its line breaks and the summary kept, got %+v", got["a"])
	}
	errLines := lines(err.Error())
	if len(errLines) != 3 || errLines[0] != "step a failed: boom" || errLines[1] != "    second line" || errLines[2] != "step f failed: bad gateway" {
		t.Errorf("error should start one line per failed step, its own lines indented, got %q", err)
	}
	var se *StepError
	if !errors.Is(err, boom) || !errors.As(err, &se) || se.Step != "a" {
		t.Errorf("error should wrap the step's own error in a *StepError: %v", err)
	}
	assertTopological(t, r)
}

func TestPanickingStepFailsWithoutTakingDownTheRun(t *testing.T) {
	r, err := Run(context.Background(), []Step{
		{Name: "explode", Run: func(context.Context) (Outcome, error) { panic("kaboom") }},
		{Name: "after", Needs: []string{"explode"}, Run: ok(Outcome{})},
		{Name: "other", Run: ok(Outcome{})},
	}, Options{})
	got := resultsByName(r)
	if err == nil || got["explode"].Status != StatusFailed || got["explode"].Err != "panic: kaboom" {
		t.Errorf("panic should fail the step: err=%v result=%+v", err, got["explode"])
	}
	if got["after"].Status != StatusSkipped || got["other"].Status != StatusOK {
		t.Errorf("want after skipped and other ok, got %s and %s", got["after"].Status, got["other"].Status)
	}
}

func TestCancellationStopsStepsThatHaveNotStarted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{}, 2)
	var ranLate atomic.Int32
	steps := []Step{
		{Name: "rollout", Run: func(ctx context.Context) (Outcome, error) {
			started <- struct{}{}
			<-ctx.Done()
			return Outcome{}, fmt.Errorf("waiting for service: %w", ctx.Err())
		}},
		{Name: "verify", Needs: []string{"rollout"}, Run: func(context.Context) (Outcome, error) { ranLate.Add(1); return Outcome{}, nil }},
		// publish ignores cancellation and completes its upload.
		{Name: "publish", Run: func(ctx context.Context) (Outcome, error) {
			started <- struct{}{}
			<-ctx.Done()
			return Outcome{Summary: "uploaded"}, nil
		}},
	}
	go func() {
		<-started
		<-started
		cancel()
	}()
	r, err := Run(ctx, steps, Options{})
	if ranLate.Load() != 0 {
		t.Error("a step started after cancellation")
	}
	got := resultsByName(r)
	if got["rollout"].Status != StatusCancelled || !strings.Contains(got["rollout"].Err, "context canceled") {
		t.Errorf("rollout: %+v, want cancelled with its error", got["rollout"])
	}
	if got["verify"].Status != StatusCancelled || got["verify"].Reason != "not started: context canceled" {
		t.Errorf("verify: %+v, want cancelled before starting", got["verify"])
	}
	if got["publish"].Status != StatusOK {
		t.Errorf("publish: %s, want ok: it finished its work", got["publish"].Status)
	}
	if !errors.Is(err, context.Canceled) || err.Error() != "pipeline cancelled (context canceled): 2 steps did not finish: rollout, verify" {
		t.Errorf("error %q should say the run was cancelled and which steps did not finish", err)
	}
}

func TestAlreadyCancelledContextRunsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Int32
	run := func(context.Context) (Outcome, error) { ran.Add(1); return Outcome{}, nil }
	r, err := Run(ctx, []Step{{Name: "a", Run: run}, {Name: "b", Needs: []string{"a"}, Run: run}}, Options{})
	if ran.Load() != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("ran %d steps, err %v; want none and a cancellation error", ran.Load(), err)
	}
	for _, s := range r.Steps {
		if s.Status != StatusCancelled {
			t.Errorf("%s: %s, want cancelled", s.Name, s.Status)
		}
	}
}

func TestLogLines(t *testing.T) {
	clock := &fakeClock{}
	log, logf := logLines()
	_, _ = Run(context.Background(), []Step{
		{Name: "build", Run: func(context.Context) (Outcome, error) {
			clock.Set(12300 * time.Millisecond)
			return Outcome{Cached: true}, nil
		}},
		{Name: "push", Needs: []string{"build"}, Run: func(context.Context) (Outcome, error) {
			clock.Set(13 * time.Second)
			return Outcome{}, errors.New("denied")
		}},
		{Name: "deploy", Needs: []string{"push"}, Run: ok(Outcome{})},
	}, Options{Clock: clock.Now, Log: logf})
	want := []string{"▶ build", "✔ build 12.3s (cached)", "▶ push", "✘ push: denied (700ms)", "⊘ deploy skipped: needs push"}
	if got := log.all(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
