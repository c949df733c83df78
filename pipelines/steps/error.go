package steps

import (
	"fmt"
	"strings"
)

// StepError is one failed step in Run's error. errors.As finds it, and
// errors.Is/As see through it to the step's own error.
type StepError struct {
	// Step is the failed step's name.
	Step string
	// Err is what the step's Run returned.
	Err error
}

// Error starts with the step name; a multi-line error (a test's output, a
// compiler's message) keeps its lines, indented under the first.
func (e *StepError) Error() string {
	msg := errText(e.Err.Error())
	if first, rest, ok := strings.Cut(msg, "\n"); ok {
		return "step " + e.Step + " failed: " + first + "\n" + indent(rest, "    ")
	}
	return "step " + e.Step + " failed: " + msg
}

// Unwrap returns the step's own error.
func (e *StepError) Unwrap() error { return e.Err }

// maxErrLines caps how much of an error a report keeps; commands are
// expected to hand over a tail already, this only guards the layout.
const maxErrLines = 80

// errText normalizes an error for the report: line endings unified, blank
// lines and trailing spaces dropped, at most maxErrLines lines (the last ones).
func errText(s string) string {
	var kept []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		l = strings.TrimRight(strings.ReplaceAll(l, "\r", ""), " \t")
		if strings.TrimSpace(l) != "" {
			kept = append(kept, l)
		}
	}
	if len(kept) > maxErrLines {
		kept = append(kept[:1:1], kept[len(kept)-maxErrLines+1:]...)
	}
	return strings.Join(kept, "\n")
}

// indent prefixes every line of s.
func indent(s, prefix string) string { return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix) }

// oneLine folds a multi-line message so each failure stays on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", "")), " ")
}

// firstLine is the first line of s, saying how many lines follow.
func firstLine(s string) string {
	first, rest, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	return fmt.Sprintf("%s (+%d lines in the report)", first, strings.Count(rest, "\n")+1)
}
