package steps

import (
	"fmt"
	"os"
)

// AppendToFile appends the report's Markdown to path, creating the file if
// missing. It is meant for $GITHUB_STEP_SUMMARY, which collects every
// summary a job writes, so it never truncates.
func AppendToFile(path string, r *Report) error {
	if path == "" {
		return fmt.Errorf("append pipeline summary: no file path given (is GITHUB_STEP_SUMMARY set?)")
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("append pipeline summary to %s: %w", path, err)
	}
	if _, err := f.WriteString(r.Markdown() + "\n"); err != nil {
		_ = f.Close()
		return fmt.Errorf("append pipeline summary to %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append pipeline summary to %s: %w", path, err)
	}
	return nil
}
