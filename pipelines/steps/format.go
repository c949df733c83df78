package steps

import (
	"fmt"
	"strings"
)

// Formats are the report renderings Render accepts, the default first.
var Formats = []string{"text", "markdown", "json"}

// CheckFormat reports a clear error for a format Render does not know.
func CheckFormat(format string) error {
	for _, f := range Formats {
		if format == f {
			return nil
		}
	}
	return fmt.Errorf("unknown report format %q: use %s", format, strings.Join(Formats, ", "))
}

// Render returns the report in one of Formats: text for a terminal,
// markdown for a job summary, json for scripts.
func (r *Report) Render(format string) (string, error) {
	switch format {
	case "text":
		return r.Text(), nil
	case "markdown":
		return r.Markdown(), nil
	case "json":
		return r.JSON() + "\n", nil
	}
	return "", CheckFormat(format)
}
