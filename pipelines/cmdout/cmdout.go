// Package cmdout turns what a failed command printed into the short reason
// an error message carries: the last lines of its stderr (or stdout when
// stderr is empty), without terminal escapes, blank lines or known secret
// values. It holds no Dagger types, so every caller formats failures the
// same way and the rules are tested without an engine.
package cmdout

import (
	"fmt"
	"regexp"
	"strings"
)

// DefaultLines is how many lines of output an error message keeps.
const DefaultLines = 20

// maxLine caps one kept line, so a minified bundle or a JSON blob cannot
// fill a terminal.
const maxLine = 300

// Result is what a finished command left behind.
type Result struct {
	// Cmd is the command line (arguments only; environment values are never
	// part of a Result).
	Cmd []string
	// ExitCode is the process's exit status.
	ExitCode int
	// Stdout and Stderr are everything the command printed.
	Stdout, Stderr string
}

// ansi matches terminal colour and cursor sequences.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// Tail returns the last n non-blank lines of out, trimmed of trailing
// spaces and terminal escapes, each cut to a few hundred characters. When
// lines were dropped, the first line says how many.
func Tail(out string, n int) string {
	out = ansi.ReplaceAllString(strings.ReplaceAll(out, "\r\n", "\n"), "")
	var kept []string
	for _, l := range strings.Split(out, "\n") {
		// A carriage return redraws the line: only what follows the last one shows.
		if i := strings.LastIndex(l, "\r"); i >= 0 {
			l = l[i+1:]
		}
		l = strings.TrimRight(l, " \t")
		if strings.TrimSpace(l) == "" {
			continue
		}
		if r := []rune(l); len(r) > maxLine {
			l = string(r[:maxLine]) + "…"
		}
		kept = append(kept, l)
	}
	if n > 0 && len(kept) > n {
		kept = append([]string{fmt.Sprintf("… (%d lines above)", len(kept)-n)}, kept[len(kept)-n:]...)
	}
	return strings.Join(kept, "\n")
}

// Reason is what the command said about its failure: the tail of stderr,
// else of stdout, else its exit code. Every value in mask (a secret the
// command may have echoed) is replaced by ***.
func (r Result) Reason(lines int, mask ...string) string {
	out := Tail(r.Stderr, lines)
	if out == "" {
		out = Tail(r.Stdout, lines)
	}
	if out == "" {
		out = fmt.Sprintf("exit code %d, no output", r.ExitCode)
	}
	return Mask(out, mask...)
}

// Combined is the tail of stdout followed by stderr, for commands such as
// test runners that report failures on stdout and warnings on stderr.
func (r Result) Combined(lines int, mask ...string) string {
	out := Tail(strings.TrimRight(r.Stdout, "\n")+"\n"+r.Stderr, lines)
	if out == "" {
		out = fmt.Sprintf("exit code %d, no output", r.ExitCode)
	}
	return Mask(out, mask...)
}

// Mask replaces every non-empty value in secrets by ***.
func Mask(s string, secrets ...string) string {
	for _, v := range secrets {
		if v != "" {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return s
}

// Message formats one failure: "<what> failed (<which>): <reason>", the
// reason on its own lines when it has several.
func Message(what, which, reason string) string {
	head := what + " failed"
	if which != "" {
		head += " (" + which + ")"
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return head
	case strings.Contains(reason, "\n"):
		return head + ":\n" + Indent(reason, "  ")
	default:
		return head + ": " + reason
	}
}

// Indent prefixes every line of s.
func Indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// processFailure is BuildKit's message for a failed Dockerfile RUN, the
// only trace of it an engine error carries (no output, no exit code field).
var processFailure = regexp.MustCompile(`process "(?:/bin/sh -c )?((?:[^"\\]|\\.)*)" did not complete successfully: exit code: (\d+)`)

// ProcessFailure finds a failed Dockerfile RUN in msg: its command (without
// the /bin/sh -c of the shell form) and exit code.
func ProcessFailure(msg string) (cmd string, exitCode int, ok bool) {
	m := processFailure.FindStringSubmatch(msg)
	if m == nil {
		return "", 0, false
	}
	_, _ = fmt.Sscan(m[2], &exitCode)
	return strings.ReplaceAll(m[1], `\"`, `"`), exitCode, true
}
