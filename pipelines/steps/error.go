package steps

import "strings"

// StepError is one failed step in Run's error. errors.As finds it, and
// errors.Is/As see through it to the step's own error.
type StepError struct {
	// Step is the failed step's name.
	Step string
	// Err is what the step's Run returned.
	Err error
}

// Error is one line: the step name and its error, newlines folded.
func (e *StepError) Error() string { return "step " + e.Step + " failed: " + oneLine(e.Err.Error()) }

// Unwrap returns the step's own error.
func (e *StepError) Unwrap() error { return e.Err }

// oneLine folds a multi-line message so each failure stays on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", "")), " ")
}
