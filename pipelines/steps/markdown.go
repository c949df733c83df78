package steps

import (
	"fmt"
	"strings"
)

// Markdown renders the report for a GitHub job summary: heading, status
// line, critical path, a table of steps and a mermaid Gantt chart of when
// each step ran.
func (r *Report) Markdown() string {
	var b strings.Builder
	v := r.verdict()
	fmt.Fprintf(&b, "## %s\n\n", mdText(r.title()))
	fmt.Fprintf(&b, "%s **%s**", v.emoji, mdText(v.phrase))
	if v.timing != "" {
		b.WriteString(" " + mdText(v.timing))
	}
	b.WriteString("\n\n")
	if path := CriticalPath(r); len(path) > 0 {
		fmt.Fprintf(&b, "Critical path: %s\n\n", mdText(strings.Join(path, " → ")))
	}
	b.WriteString("| Step | Status | Duration | Cached | Details |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, s := range r.Steps {
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s |\n",
			mdText(s.Name), statusEmoji[s.Status], s.Status, durationCell(s), cachedCell(s.Cached), detailsCell(s))
	}
	if g := r.gantt(); g != "" {
		b.WriteString("\n```mermaid\n" + g + "```\n")
	}
	return b.String()
}

var statusEmoji = map[Status]string{
	StatusOK: "✅", StatusFailed: "❌", StatusSkipped: "⏭️", StatusCancelled: "⛔", StatusPlanned: "📝",
}

func durationCell(s StepResult) string {
	if !s.ran() {
		return "–"
	}
	return formatDuration(s.Duration)
}

func cachedCell(cached bool) string {
	if cached {
		return "yes"
	}
	return ""
}

// detailsCell joins summary, artifacts and error or reason with line breaks.
func detailsCell(s StepResult) string {
	var parts []string
	if s.Summary != "" {
		parts = append(parts, mdText(s.Summary))
	}
	for _, a := range shownArtifacts(s) {
		parts = append(parts, mdArtifact(a))
	}
	if s.Err != "" {
		parts = append(parts, "**error:** "+mdText(s.Err))
	}
	if s.Reason != "" {
		parts = append(parts, "_"+mdText(s.Reason)+"_")
	}
	if s.Status == StatusPlanned && len(s.Needs) > 0 {
		parts = append(parts, "needs "+mdText(strings.Join(s.Needs, ", ")))
	}
	return strings.Join(parts, "<br>")
}

// mdArtifact shows digests and images as code and http(s) URLs as links.
func mdArtifact(a Artifact) string {
	label := ""
	if a.Name != "" {
		label = mdText(a.Name) + ": "
	}
	switch a.Kind {
	case KindDigest, KindImage:
		return label + mdCode(a.Value)
	case KindURL:
		if strings.HasPrefix(a.Value, "https://") || strings.HasPrefix(a.Value, "http://") {
			text := a.Name
			if text == "" {
				text = a.Value
			}
			return "[" + mdText(text) + "](" + urlEscaper.Replace(a.Value) + ")"
		}
		return label + mdCode(a.Value)
	default:
		return label + mdText(a.Value)
	}
}

// mdText escapes text for a table cell: pipes would split the cell, the
// other characters would turn into emphasis, links or HTML.
var mdText = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`,
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "\r\n", "<br>", "\n", "<br>", "\r", "",
).Replace

// mdCode wraps s in a code span. Inside a table a pipe must still be
// escaped (GFM splits cells before it parses code spans).
func mdCode(s string) string {
	s = strings.NewReplacer("|", `\|`, "\r", "", "\n", " ").Replace(s)
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// urlEscaper keeps a URL from ending the link early or splitting the cell.
var urlEscaper = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "|", "%7C", "<", "%3C", ">", "%3E")
