package cmdout

import (
	"strings"
	"testing"
)

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		n        int
		want     string
	}{
		{"blank lines dropped", "a\n\n  \nb\n", 5, "a\nb"},
		{"last lines kept", "1\n2\n3\n4\n", 2, "… (2 lines above)\n3\n4"},
		{"escapes removed", "\x1b[31merror\x1b[0m: boom\r\n", 5, "error: boom"},
		{"carriage return redraw", "50%\r100%\ndone", 5, "100%\ndone"},
		{"no limit", "1\n2\n3", 0, "1\n2\n3"},
		{"empty", "\n\n", 3, ""},
	} {
		if got := Tail(tc.in, tc.n); got != tc.want {
			t.Errorf("%s: Tail(%q, %d) = %q, want %q", tc.name, tc.in, tc.n, got, tc.want)
		}
	}
	long := strings.Repeat("x", 1000)
	if got := Tail(long, 1); len([]rune(got)) != maxLine+1 || !strings.HasSuffix(got, "…") {
		t.Errorf("a long line is not cut: %d runes", len([]rune(got)))
	}
}

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Result
		mask []string
		want string
	}{
		{"stderr first", Result{Stdout: "progress", Stderr: "E: package foo not found\n", ExitCode: 100}, nil, "E: package foo not found"},
		{"stdout when stderr is empty", Result{Stdout: "FAIL x\n", ExitCode: 1}, nil, "FAIL x"},
		{"exit code when silent", Result{ExitCode: 3}, nil, "exit code 3, no output"},
		{"secret masked", Result{Stderr: "token s3cr3t rejected", ExitCode: 1}, []string{"s3cr3t", ""}, "token *** rejected"},
	} {
		if got := tc.r.Reason(5, tc.mask...); got != tc.want {
			t.Errorf("%s: Reason = %q, want %q", tc.name, got, tc.want)
		}
	}
	r := Result{Stdout: "--- FAIL: TestX\n    x_test.go:3: boom\n", Stderr: "exit status 1", ExitCode: 1}
	if got := r.Combined(10); got != "--- FAIL: TestX\n    x_test.go:3: boom\nexit status 1" {
		t.Errorf("Combined = %q", got)
	}
}

func TestMessage(t *testing.T) {
	if got := Message("image build", "backend, docker/backend.Dockerfile", "E: not found"); got != "image build failed (backend, docker/backend.Dockerfile): E: not found" {
		t.Errorf("one line: %q", got)
	}
	if got := Message("tests", "backend", "a\nb"); got != "tests failed (backend):\n  a\n  b" {
		t.Errorf("several lines: %q", got)
	}
	if got := Message("npm build", "", ""); got != "npm build failed" {
		t.Errorf("no reason: %q", got)
	}
}

func TestProcessFailure(t *testing.T) {
	cmd, code, ok := ProcessFailure(`building: process "/bin/sh -c echo \"E: no pkg\" >&2; exit 7" did not complete successfully: exit code: 7`)
	if !ok || cmd != `echo "E: no pkg" >&2; exit 7` || code != 7 {
		t.Errorf("got %q %d %v", cmd, code, ok)
	}
	if cmd, code, ok := ProcessFailure(`process "go build ./..." did not complete successfully: exit code: 1`); !ok || cmd != "go build ./..." || code != 1 {
		t.Errorf("exec form: %q %d %v", cmd, code, ok)
	}
	if _, _, ok := ProcessFailure("connection refused"); ok {
		t.Error("matched an unrelated error")
	}
}
