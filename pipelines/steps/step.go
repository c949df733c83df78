// Package steps runs the deploy pipeline as a small dependency graph of plain
// functions: each step starts as soon as every step it needs has succeeded,
// independent steps run in parallel, and a failure only stops the steps that
// depend on it. The result is a Report that renders as Markdown (table plus a
// mermaid Gantt chart) for $GITHUB_STEP_SUMMARY or as text for a terminal.
//
// The package knows nothing about Dagger or AWS, so ordering, parallelism and
// failure propagation are tested with ordinary closures.
package steps

import "context"

// Step is one node of the pipeline graph.
type Step struct {
	// Name identifies the step in Needs, logs and reports; it must be unique
	// and non-empty.
	Name string
	// Needs lists the names of the steps that must succeed before this one starts.
	Needs []string
	// Run does the work. It should return promptly once ctx is done.
	// It may be nil only when the pipeline runs in Plan mode, or with Skip.
	Run func(ctx context.Context) (Outcome, error)
	// Skip, when set, is known before anything runs: the step will not act,
	// for this reason. It is reported as skipped (in Plan mode too, where
	// the other steps are "planned") and the steps that need it still run,
	// as with Outcome.Skipped; Run is not called.
	Skip string
	// Plan, when set, says what the step would do (e.g. "the gate would
	// check health /health"); Plan mode shows it as the planned step's
	// summary. It changes nothing the step does.
	Plan string
}

// Outcome is what a step reports about its work besides success or failure.
type Outcome struct {
	// Cached is true when the step's result came from a cache (e.g. Dagger's).
	Cached bool
	// Summary is one short human line, e.g. "3 images pushed".
	Summary string
	// Artifacts are the things the step produced, shown in the report.
	Artifacts []Artifact
	// Skipped, when set, says why the step chose not to act (e.g. "the
	// local target does not deploy the CDK app"). The step is reported as
	// skipped with that reason, and the steps that need it still run: a
	// configured step a target cannot run is listed, never dropped.
	Skipped string
}

// Artifact kinds the report renders specially; any other kind is shown as plain text.
const (
	// KindDigest is a content digest such as "sha256:…", shown as code.
	KindDigest = "digest"
	// KindImage is an image reference such as "repo:tag@sha256:…", shown as code.
	KindImage = "image"
	// KindURL is an http(s) address, shown as a link.
	KindURL = "url"
	// KindStack is a CloudFormation stack the step's summary already
	// names: listed for scripts (JSON), not repeated in text or markdown.
	KindStack = "stack"
)

// Artifact is one thing a step produced.
type Artifact struct {
	// Kind says how to render Value: KindDigest, KindImage, KindURL or any other word.
	Kind string `json:"kind"`
	// Name labels the artifact, e.g. "backend" or "site".
	Name string `json:"name"`
	// Value is the digest, image reference, URL or text.
	Value string `json:"value"`
}

// Status is the final state of a step in a Report.
type Status string

// Step statuses.
const (
	// StatusOK means the step ran and returned no error.
	StatusOK Status = "ok"
	// StatusFailed means the step ran and returned an error (or panicked).
	StatusFailed Status = "failed"
	// StatusSkipped means the step never started because a step it needs
	// (directly or transitively) failed, or that it ran and chose not to
	// act (Outcome.Skipped; StepResult.Deliberate is then true).
	StatusSkipped Status = "skipped"
	// StatusCancelled means the context was cancelled before the step could
	// finish: either it never started, or it stopped with the context's error.
	StatusCancelled Status = "cancelled"
	// StatusPlanned means the pipeline ran in Plan mode and nothing ran.
	StatusPlanned Status = "planned"
)
