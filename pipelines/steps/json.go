package steps

import (
	"encoding/json"
	"time"
)

// JSONReport is the report as scripts read it (Report.JSON). Its field
// names are part of stevedore's interface: add fields, never rename them.
type JSONReport struct {
	Title string `json:"title"`
	// Status is "succeeded", "failed", "cancelled" or "planned".
	Status string `json:"status"`
	// Summary is the verdict line, e.g. "1 of 9 steps failed (test); 4 skipped".
	Summary      string     `json:"summary"`
	Start        time.Time  `json:"start"`
	End          time.Time  `json:"end"`
	WallSeconds  float64    `json:"wallSeconds"`
	StepSeconds  float64    `json:"stepSeconds"`
	CriticalPath []string   `json:"criticalPath"`
	Steps        []JSONStep `json:"steps"`
}

// JSONStep is one step of a JSONReport.
type JSONStep struct {
	Name  string   `json:"name"`
	Needs []string `json:"needs"`
	// Status is ok, failed, skipped, cancelled or planned.
	Status Status `json:"status"`
	// Deliberate is true for a step skipped by its own choice (with Reason),
	// false for one skipped because a step it needs failed.
	Deliberate      bool       `json:"deliberate,omitempty"`
	Start           *time.Time `json:"start,omitempty"`
	End             *time.Time `json:"end,omitempty"`
	DurationSeconds float64    `json:"durationSeconds"`
	Cached          bool       `json:"cached"`
	Summary         string     `json:"summary,omitempty"`
	Artifacts       []Artifact `json:"artifacts"`
	Error           string     `json:"error,omitempty"`
	Reason          string     `json:"reason,omitempty"`
}

// JSON renders the report as one indented JSON document (see JSONReport).
func (r *Report) JSON() string {
	out := JSONReport{
		Title: r.title(), Status: r.status(), Summary: r.verdict().phrase,
		Start: r.Start.UTC(), End: r.End.UTC(),
		WallSeconds: r.Wall().Seconds(), StepSeconds: r.StepTime().Seconds(),
		CriticalPath: append([]string{}, CriticalPath(r)...), Steps: []JSONStep{},
	}
	for _, s := range r.Steps {
		js := JSONStep{
			Name: s.Name, Needs: append([]string{}, s.Needs...), Status: s.Status, Deliberate: s.Deliberate,
			DurationSeconds: s.Duration.Seconds(), Cached: s.Cached, Summary: s.Summary,
			Artifacts: append([]Artifact{}, s.Artifacts...), Error: s.Err, Reason: s.Reason,
		}
		if s.ran() {
			start, end := s.Start.UTC(), s.End.UTC()
			js.Start, js.End = &start, &end
		}
		out.Steps = append(out.Steps, js)
	}
	b, _ := json.MarshalIndent(out, "", "  ") // plain strings, numbers and times cannot fail
	return string(b)
}

// status is the whole run's state in one word.
func (r *Report) status() string {
	switch {
	case len(r.Names(StatusPlanned)) > 0:
		return "planned"
	case len(r.Names(StatusFailed)) > 0:
		return "failed"
	case len(r.Names(StatusCancelled)) > 0:
		return "cancelled"
	case r.Succeeded():
		return "succeeded"
	default:
		return "failed"
	}
}
