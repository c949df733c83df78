package steps

import (
	"fmt"
	"strings"
	"time"
)

// gantt renders a mermaid Gantt chart body (without the fence): one task per
// step at its real start and end, done for ok, active for failed or
// cancelled (mermaid has no "failed" tag), crit on the critical path, and a
// milestone at the end of the run for steps that never started. It returns ""
// when no step ran, since a chart of a plan has no times to show.
func (r *Report) gantt() string {
	crit := map[string]bool{}
	for _, name := range CriticalPath(r) {
		crit[name] = true
	}
	if len(crit) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("gantt\n")
	fmt.Fprintf(&b, "    title %s\n", mermaidText(r.title()))
	b.WriteString("    dateFormat x\n")
	b.WriteString("    axisFormat %H:%M:%S\n")
	b.WriteString("    todayMarker off\n")
	b.WriteString("    section Steps\n")
	for i, s := range r.Steps {
		var tags []string
		start, end := s.Start, s.End
		switch {
		case !s.ran():
			tags = append(tags, "milestone")
			start, end = r.End, r.End
		case s.Status == StatusOK:
			tags = append(tags, "done")
		default:
			tags = append(tags, "active")
		}
		if crit[s.Name] {
			tags = append(tags, "crit")
		}
		fmt.Fprintf(&b, "    %s :%s, s%d, %d, %d\n", ganttTaskName(s), strings.Join(tags, ", "), i+1, unixMillis(start), unixMillis(end))
	}
	return b.String()
}

// ganttTaskName starts with a status glyph, which also keeps a step named
// like a gantt keyword ("title", "section") from being read as one.
func ganttTaskName(s StepResult) string {
	name := statusGlyph[s.Status] + " " + mermaidText(s.Name)
	switch {
	case s.Cached:
		name += " (cached)"
	case !s.ran():
		name += " (" + string(s.Status) + ")"
	}
	return name
}

// mermaidText makes a string safe as a gantt task name or title: a colon
// ends the name, ';' and '#' end or escape the line, so they become
// look-alike characters.
var mermaidText = strings.NewReplacer(
	":", "∶", ";", "；", "#", "＃", "\r\n", " ", "\n", " ", "\r", " ",
).Replace

func unixMillis(t time.Time) int64 { return t.UnixMilli() }
