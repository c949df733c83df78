package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/cmdout"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// renderDeploy prints a deploy's report in the chosen format. A failed run
// returns an error holding the failures (each with what its command said)
// and the text report (an error is read in a terminal or a log, where
// markdown would be noise) — or, for --format json, the JSON report alone.
func renderDeploy(r *steps.Report, runErr error, format string) (string, error) {
	failures := explainFailures(r, runErr)
	if runErr == nil {
		return r.Render(format)
	}
	if format == "json" {
		// Only the document, so a script can parse the error output as it
		// parses a success: each failed step's error is inside it.
		return "", errors.New(r.JSON())
	}
	return "", fmt.Errorf("%s\n\n%s", strings.Join(failures, "\n"), r.Text())
}

// explainFailures puts into each failed step's row the output of the
// command that failed inside it, whichever step wrapped it (a Dockerfile
// RUN, npm, a test suite, cdk, curl), and returns one message per error.
func explainFailures(r *steps.Report, runErr error) []string {
	if runErr == nil {
		return nil
	}
	errs := []error{runErr}
	if joined, ok := runErr.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	var out []string
	for _, err := range errs {
		var se *steps.StepError
		if !errors.As(err, &se) {
			out = append(out, err.Error())
			continue
		}
		msg := strings.TrimSpace(describeErr(se.Err))
		for i := range r.Steps {
			if r.Steps[i].Name == se.Step {
				r.Steps[i].Err = msg
			}
		}
		first, rest, multi := strings.Cut(msg, "\n")
		line := "step " + se.Step + " failed: " + first
		if multi {
			line += "\n" + cmdout.Indent(rest, "  ")
		}
		out = append(out, line)
	}
	return out
}
