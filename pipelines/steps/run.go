package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stevedore-ci/stevedore/pipelines/internal/words"
)

// Options tune Run.
type Options struct {
	// Title heads the report, e.g. "Deploy production".
	Title string
	// MaxParallel caps how many steps run at once; 0 or less means no cap.
	MaxParallel int
	// Clock returns the current time; nil means time.Now. It is called from
	// several goroutines, so a fake clock must be safe for concurrent use.
	Clock func() time.Time
	// Log receives one line when a step starts or ends ("▶ build",
	// "✔ build 12.3s (cached)", "✘ push: …"). Calls never overlap. Nil means silent.
	Log func(line string)
	// Plan runs nothing: every step is reported as planned, in topological order.
	Plan bool
	// Progress is how often Log gets a line naming the steps still running
	// and for how long, so a long CDK compile or npm install is never
	// silent: 0 means every 30 s, a negative value never.
	Progress time.Duration
	// Ticker starts the progress ticker and returns its channel and stop
	// function; nil means time.NewTicker. Tests pass a fake one.
	Ticker func(every time.Duration) (<-chan time.Time, func())
}

// DefaultProgress is the progress interval when Options.Progress is 0.
const DefaultProgress = 30 * time.Second

// progress starts the ticker of o, or returns a nil channel (never ready).
func (o Options) progress() (<-chan time.Time, func()) {
	every := o.Progress
	if every == 0 {
		every = DefaultProgress
	}
	if every < 0 || o.Log == nil {
		return nil, func() {}
	}
	if o.Ticker != nil {
		return o.Ticker(every)
	}
	t := time.NewTicker(every)
	return t.C, t.Stop
}

// Run validates the graph, then runs every step as soon as all its needs have
// succeeded, in parallel up to Options.MaxParallel.
//
// An invalid graph (empty or duplicate names, unknown needs, cycles, missing
// Run) is reported before any step runs. A failed step stops only the steps
// that need it, directly or transitively (they are skipped); independent
// steps run to completion. When ctx is cancelled, steps not yet started are
// marked cancelled and Run waits for the running ones to return.
//
// Run always returns a report (without steps when the graph is invalid). The
// error has one line per failed step (each a *StepError) plus one line when
// the run was cancelled.
func Run(ctx context.Context, steps []Step, o Options) (*Report, error) {
	now := o.Clock
	if now == nil {
		now = time.Now
	}
	start := now()
	g, err := buildGraph(steps, !o.Plan)
	if err != nil {
		return &Report{Title: o.Title, Start: start, End: now()}, err
	}
	if o.Plan {
		return plan(g, o.Title, start, now()), nil
	}
	s := newScheduler(g, o, now)
	s.run(ctx)
	r := &Report{Title: o.Title, Start: start, End: now(), Steps: s.ordered()}
	return r, runError(ctx, r, s.errs)
}

// plan reports every step as planned, in topological order.
func plan(g *graph, title string, start, end time.Time) *Report {
	r := &Report{Title: title, Start: start, End: end}
	for _, i := range g.order {
		res := StepResult{Name: g.steps[i].Name, Needs: g.stepNeeds(i), Status: StatusPlanned, Summary: g.steps[i].Plan}
		if skip := g.steps[i].Skip; skip != "" {
			res.Status, res.Reason, res.Deliberate = StatusSkipped, skip, true
		}
		r.Steps = append(r.Steps, res)
	}
	return r
}

// stepNeeds returns the deduplicated names of step i's needs.
func (g *graph) stepNeeds(i int) []string {
	var names []string
	for _, j := range g.needs[i] {
		names = append(names, g.steps[j].Name)
	}
	return names
}

// finished is what a worker sends back when its step returns.
type finished struct {
	idx int
	out Outcome
	err error
	end time.Time
}

// scheduler holds the state of one Run. Only the goroutine calling run
// touches it; workers talk to it through the done channel.
type scheduler struct {
	g       *graph
	o       Options
	now     func() time.Time
	results []StepResult
	state   []stepState
	waiting []int      // needs not yet succeeded, per step
	ready   []int      // steps whose needs all succeeded, sorted by topological rank
	started []int      // steps in the order they were launched
	blocked [][]string // names of the failed steps that caused each skip
	running int
	done    chan finished
	errs    []error // one *StepError per failed step, in finishing order
}

// stepState tracks where a step is in its life.
type stepState int

const (
	statePending stepState = iota // not started, may still start
	stateRunning
	stateFinal // has its final status
)

func newScheduler(g *graph, o Options, now func() time.Time) *scheduler {
	n := len(g.steps)
	s := &scheduler{
		g: g, o: o, now: now,
		results: make([]StepResult, n),
		state:   make([]stepState, n),
		waiting: make([]int, n),
		blocked: make([][]string, n),
		done:    make(chan finished, n), // workers never block on send
	}
	for i, st := range g.steps {
		s.results[i] = StepResult{Name: st.Name, Needs: g.stepNeeds(i)}
		s.waiting[i] = len(g.needs[i])
		if s.waiting[i] == 0 {
			s.ready = append(s.ready, i)
		}
	}
	s.ready = s.sortByRank(s.ready)
	return s
}

// run launches ready steps and collects results until nothing is running
// and nothing more may start.
func (s *scheduler) run(ctx context.Context) {
	var workers errgroup.Group // plain group: a failed step must not cancel its siblings
	cancelled := ctx.Done()
	tick, stop := s.o.progress()
	defer stop()
	for {
		for len(s.ready) > 0 && ctx.Err() == nil && (s.o.MaxParallel <= 0 || s.running < s.o.MaxParallel) {
			i := s.ready[0]
			s.ready = s.ready[1:]
			s.launch(ctx, &workers, i)
		}
		if s.running == 0 {
			break
		}
		select {
		case f := <-s.done:
			s.finish(ctx, f)
		case <-cancelled:
			cancelled = nil // stop launching; keep collecting the running steps
		case <-tick:
			s.logRunning()
		}
	}
	_ = workers.Wait() // workers always return nil; all have already reported
	for i := range s.state {
		if s.state[i] == statePending {
			s.state[i] = stateFinal
			s.results[i].Status = StatusCancelled
			s.results[i].Reason = "not started: " + cancelCause(ctx).Error()
			s.log("■ %s cancelled", s.results[i].Name)
		}
	}
}

func (s *scheduler) launch(ctx context.Context, workers *errgroup.Group, i int) {
	s.state[i] = stateRunning
	s.running++
	s.started = append(s.started, i)
	s.results[i].Start = s.now()
	s.log("▶ %s", s.results[i].Name)
	run := s.g.steps[i].Run
	if skip := s.g.steps[i].Skip; skip != "" {
		run = func(context.Context) (Outcome, error) { return Outcome{Skipped: skip}, nil }
	}
	workers.Go(func() error {
		out, err := callStep(ctx, run)
		s.done <- finished{idx: i, out: out, err: err, end: s.now()}
		return nil
	})
}

// callStep runs one step, turning a panic into an error so one broken step
// cannot take the whole pipeline (and its report) down.
func callStep(ctx context.Context, run func(context.Context) (Outcome, error)) (out Outcome, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return run(ctx)
}

func (s *scheduler) finish(ctx context.Context, f finished) {
	s.running--
	s.state[f.idx] = stateFinal
	r := &s.results[f.idx]
	r.End = f.end
	r.Duration = f.end.Sub(r.Start)
	r.Cached = f.out.Cached
	r.Summary = f.out.Summary
	r.Artifacts = f.out.Artifacts
	switch {
	case f.err == nil:
		r.Status = StatusOK
		if f.out.Skipped != "" {
			r.Status, r.Reason, r.Deliberate = StatusSkipped, f.out.Skipped, true
			s.log("⊘ %s skipped: %s", r.Name, r.Reason)
		} else {
			s.log("✔ %s %s%s", r.Name, formatDuration(r.Duration), cachedSuffix(r.Cached))
		}
		for _, d := range s.g.dependents[f.idx] {
			if s.waiting[d]--; s.waiting[d] == 0 && s.state[d] == statePending {
				s.ready = insertSorted(s.ready, d, s.rankLess)
			}
		}
	case ctx.Err() != nil && (errors.Is(f.err, context.Canceled) || errors.Is(f.err, context.DeadlineExceeded)):
		// Stopped because the run was cancelled: not the step's own failure.
		r.Status = StatusCancelled
		r.Err = errText(f.err.Error())
		s.log("■ %s cancelled after %s", r.Name, formatDuration(r.Duration))
	default:
		r.Status = StatusFailed
		r.Err = errText(f.err.Error())
		s.errs = append(s.errs, &StepError{Step: r.Name, Err: f.err})
		s.log("✘ %s: %s (%s)", r.Name, firstLine(r.Err), formatDuration(r.Duration))
		s.skipDependents(f.idx)
	}
}

// skipDependents marks every step downstream of the failed step as skipped,
// naming the failed step(s) that blocked it.
func (s *scheduler) skipDependents(failed int) {
	root := s.g.steps[failed].Name
	queue := append([]int(nil), s.g.dependents[failed]...)
	seen := map[int]bool{}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d] {
			continue
		}
		seen[d] = true
		queue = append(queue, s.g.dependents[d]...)
		if s.state[d] == statePending {
			s.state[d] = stateFinal
			s.results[d].Status = StatusSkipped
		} else if s.results[d].Status != StatusSkipped {
			continue // finished or cancelled earlier: keep that status
		}
		s.blocked[d] = append(s.blocked[d], root)
		s.results[d].Reason = "needs " + strings.Join(s.blocked[d], ", ")
		if len(s.blocked[d]) == 1 {
			s.log("⊘ %s skipped: %s", s.results[d].Name, s.results[d].Reason)
		}
	}
}

// ordered returns the results in launch order, then the steps that never
// started in topological order; both halves together stay topological.
func (s *scheduler) ordered() []StepResult {
	out := make([]StepResult, 0, len(s.results))
	for _, i := range s.started {
		out = append(out, s.results[i])
	}
	launched := make(map[int]bool, len(s.started))
	for _, i := range s.started {
		launched[i] = true
	}
	for _, i := range s.g.order {
		if !launched[i] {
			out = append(out, s.results[i])
		}
	}
	return out
}

// logRunning says which steps are still running and for how long, in
// launch order: "… still running: prepare-infra 1m30s, build:frontend 45s".
func (s *scheduler) logRunning() {
	now := s.now()
	var parts []string
	for _, i := range s.started {
		if s.state[i] == stateRunning {
			parts = append(parts, s.results[i].Name+" "+formatDuration(now.Sub(s.results[i].Start)))
		}
	}
	if len(parts) > 0 {
		s.log("… still running: %s", strings.Join(parts, ", "))
	}
}

func (s *scheduler) rankLess(a, b int) bool { return s.g.rank[a] < s.g.rank[b] }

func (s *scheduler) sortByRank(idx []int) []int {
	var out []int
	for _, i := range idx {
		out = insertSorted(out, i, s.rankLess)
	}
	return out
}

func (s *scheduler) log(format string, args ...any) {
	if s.o.Log != nil {
		s.o.Log(fmt.Sprintf(format, args...))
	}
}

// runError joins one line per failed step and one for a cancelled run.
func runError(ctx context.Context, r *Report, failures []error) error {
	errs := append([]error(nil), failures...)
	var stopped []string
	for _, st := range r.Steps {
		if st.Status == StatusCancelled {
			stopped = append(stopped, st.Name)
		}
	}
	if len(stopped) > 0 {
		errs = append(errs, fmt.Errorf("pipeline cancelled (%w): %s did not finish: %s", cancelCause(ctx), words.Count(len(stopped), "step"), strings.Join(stopped, ", ")))
	}
	return errors.Join(errs...)
}

// cancelCause is ctx's error, or context.Canceled should a step have
// reported cancellation on its own.
func cancelCause(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.Canceled
}

func cachedSuffix(cached bool) string {
	if cached {
		return " (cached)"
	}
	return ""
}
