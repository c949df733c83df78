package steps

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// statusGlyph marks each status in terminal output and Gantt task names.
var statusGlyph = map[Status]string{
	StatusOK: "✔", StatusFailed: "✘", StatusSkipped: "⊘", StatusCancelled: "■", StatusPlanned: "○",
}

// Text renders the report for a terminal: a verdict line, one aligned line
// per step (artifacts on the lines below it) and the critical path.
func (r *Report) Text() string {
	var b strings.Builder
	v := r.verdict()
	fmt.Fprintf(&b, "%s: %s %s", r.title(), v.glyph, v.phrase)
	if v.timing != "" {
		b.WriteString(" " + v.timing)
	}
	b.WriteString("\n")
	for _, line := range lines(r.textTable()) {
		b.WriteString(strings.TrimRight(line, " ") + "\n") // tabwriter pads empty last cells
	}
	if path := CriticalPath(r); len(path) > 0 {
		fmt.Fprintf(&b, "critical path: %s\n", strings.Join(path, " → "))
	}
	return b.String()
}

// textTable aligns glyph and name, duration, cached and detail columns.
func (r *Report) textTable() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, s := range r.Steps {
		dur, cached := "-", ""
		if s.ran() {
			dur = formatDuration(s.Duration)
		}
		if s.Cached {
			cached = "cached"
		}
		detail, below, more := textDetail(s)
		fmt.Fprintf(w, "  %s %s\t%s\t%s\t%s\n", statusGlyph[s.Status], s.Name, dur, cached, detail)
		for _, l := range below {
			fmt.Fprintf(w, "\t\t\t  %s\n", l)
		}
		for _, a := range shownArtifacts(s) {
			fmt.Fprintf(w, "\t\t\t  %s\n", textArtifact(a))
		}
		for _, l := range more {
			fmt.Fprintf(w, "\t\t\t  │ %s\n", l)
		}
	}
	_ = w.Flush() // writes to a strings.Builder cannot fail
	return b.String()
}

// textDetail joins the summary's first line, error or reason, and a
// plan's needs on one line; the summary's other lines go below it, and
// the lines of a multi-line error follow in their own block.
func textDetail(s StepResult) (detail string, below, more []string) {
	var parts []string
	if summary := lines(s.Summary); len(summary) > 0 {
		parts = append(parts, oneLine(summary[0]))
		for _, l := range summary[1:] {
			if l = oneLine(l); l != "" {
				below = append(below, l)
			}
		}
	}
	if s.Err != "" {
		first, rest, _ := strings.Cut(s.Err, "\n")
		parts = append(parts, "error: "+first)
		more = lines(rest)
	}
	if s.Reason != "" {
		parts = append(parts, s.Reason)
	}
	if s.Status == StatusPlanned && len(s.Needs) > 0 {
		parts = append(parts, "needs "+strings.Join(s.Needs, ", "))
	}
	return strings.Join(parts, "; "), below, more
}

// textArtifact is "digest api: sha256:…", or "image 1234…/api:tag" without a name.
func textArtifact(a Artifact) string {
	label := strings.TrimSpace(a.Kind + " " + a.Name)
	if a.Name != "" {
		label += ":"
	}
	return strings.TrimSpace(label + " " + a.Value)
}

// lines splits text into lines without a trailing empty one.
func lines(s string) []string {
	if s = strings.TrimRight(s, "\n"); s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
