//go:build integration

package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// repoRoot is the repository root (where dagger.json lives).
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// result is what one dagger invocation printed.
type result struct {
	stdout, stderr string
	err            error
	took           time.Duration
}

// output is stdout+stderr, for assertions about what a user would see.
func (r result) output() string { return r.stdout + "\n" + r.stderr }

// dagger runs the dagger CLI in the repository root with extra environment.
func dagger(t testing.TB, env []string, args ...string) result {
	t.Helper()
	if os.Getenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST") == "" {
		t.Fatal("no Dagger engine: source /run/dagger-offline/env (or run .ci/run) before the integration tests")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "dagger", args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	// Keep the progress output for failure messages, but bounded.
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4 << 20}
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), err: err, took: time.Since(start)}
	t.Logf("dagger %s (%s)", strings.Join(args, " "), r.took.Round(time.Second))
	return r
}

// mustDagger is dagger that fails the test on a non-zero exit.
func mustDagger(t testing.TB, env []string, args ...string) result {
	t.Helper()
	r := dagger(t, env, args...)
	if r.err != nil {
		t.Fatalf("dagger %s failed: %v\n%s", strings.Join(args, " "), r.err, tailLines(r.output(), 80))
	}
	return r
}

type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.buf.Len() < l.max {
		l.buf.Write(p)
	}
	return len(p), nil
}

var _ io.Writer = (*limitedBuffer)(nil)

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// copyTree copies the parts of the repository a test app needs into a
// temporary directory the test may then break.
func copyTree(t testing.TB, paths ...string) string {
	t.Helper()
	dst := t.TempDir()
	for _, p := range paths {
		src := filepath.Join(repoRoot(t), p)
		err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(repoRoot(t), path)
			if info.IsDir() {
				if info.Name() == "node_modules" || info.Name() == "dist" {
					return filepath.SkipDir
				}
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), data, info.Mode())
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// edit rewrites a file of a copied tree, failing if old is absent.
func edit(t testing.TB, root, file, old, new string) {
	t.Helper()
	p := filepath.Join(root, file)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func assertContains(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, tailLines(got, 60))
		}
	}
}

func assertNotContains(t testing.TB, what, got string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(got, b) {
			t.Errorf("%s contains %q, which must never appear", what, b)
		}
	}
}

func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }
