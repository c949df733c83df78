package steps

import "time"

// Report is the record of one Run.
type Report struct {
	// Title heads the rendered report (Options.Title).
	Title string
	// Start and End bound the whole run (wall time).
	Start, End time.Time
	// Steps are in start order, followed by the steps that never started,
	// so the list is always in a topological order.
	Steps []StepResult
}

// StepResult is what happened to one step.
type StepResult struct {
	// Name and Needs repeat the step's definition (Needs without duplicates).
	Name  string
	Needs []string
	// Status is the step's final state.
	Status Status
	// Start, End and Duration are zero for steps that never started.
	Start, End time.Time
	Duration   time.Duration
	// Cached, Summary and Artifacts come from the step's Outcome.
	Cached    bool
	Summary   string
	Artifacts []Artifact
	// Err is the step's error (failed or cancelled mid-run). It keeps the
	// error's own line breaks, so a test's or a compiler's output stays readable.
	Err string
	// Reason says why a step did not run, e.g. "needs push" for a skipped step.
	Reason string
	// Deliberate is true for a step that ran and chose not to act
	// (Outcome.Skipped): the steps that need it were not held back.
	Deliberate bool
}

// ran reports whether the step started, i.e. has real times. A step a
// plan lists as skipped (Step.Skip) is deliberate but never started.
func (s StepResult) ran() bool {
	if s.Deliberate && s.Start.IsZero() {
		return false
	}
	return s.Status == StatusOK || s.Status == StatusFailed || s.Deliberate || (s.Status == StatusCancelled && s.Err != "")
}

// shownArtifacts are the artifacts the text and markdown reports list:
// all but the stacks (KindStack), which the summary names.
func shownArtifacts(s StepResult) []Artifact {
	var out []Artifact
	for _, a := range s.Artifacts {
		if a.Kind != KindStack {
			out = append(out, a)
		}
	}
	return out
}

// Succeeded reports whether every step finished ok or deliberately skipped
// (true for an empty run, false for a plan).
func (r *Report) Succeeded() bool {
	for _, s := range r.Steps {
		if s.Status != StatusOK && !s.Deliberate {
			return false
		}
	}
	return true
}

// Names returns the names of the steps with the given status, in report order.
func (r *Report) Names(status Status) []string {
	var names []string
	for _, s := range r.Steps {
		if s.Status == status {
			names = append(names, s.Name)
		}
	}
	return names
}

// Wall is the run's elapsed wall time.
func (r *Report) Wall() time.Duration { return r.End.Sub(r.Start) }

// StepTime is the sum of every step's duration: what the run would take
// one step at a time. StepTime / Wall is the speed-up from parallelism.
func (r *Report) StepTime() time.Duration {
	var sum time.Duration
	for _, s := range r.Steps {
		sum += s.Duration
	}
	return sum
}

// Step returns the result for the named step, or false if there is none.
func (r *Report) Step(name string) (StepResult, bool) {
	for _, s := range r.Steps {
		if s.Name == name {
			return s, true
		}
	}
	return StepResult{}, false
}
