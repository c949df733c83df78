package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"dagger/stevedore/internal/dagger"

	"golang.org/x/sync/errgroup"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// Run the tests of every backend service and of the frontend, in
// parallel, and fails with the output of the tests that failed. Results are
// cached: unchanged code is not tested twice.
func (m *Stevedore) Test(ctx context.Context) (string, error) {
	app, err := m.load(ctx)
	if err != nil {
		return "", err
	}
	suites := m.testSuites(app)
	if len(suites) == 0 {
		return "", errors.New("nothing to test: give a service a test section (image, command) or the frontend a test command")
	}
	return runSuites(ctx, suites)
}

// suite is one test command in one container. dir and image are its
// inputs, for the report's cached column.
type suite struct {
	name, command, image string
	dir                  *dagger.Directory
	ctr                  *dagger.Container
}

// testSuites lists the test commands of the app, services first.
func (m *Stevedore) testSuites(app *appspec.App) []suite {
	var out []suite
	for _, s := range app.Services {
		if s.Test == nil {
			continue
		}
		ctr := withToolCaches(dag.Container().From(s.Test.Image), s.Test.Cache).
			WithDirectory("/src", m.dir(s.Context)).
			WithWorkdir("/src")
		out = append(out, suite{name: s.Name, command: s.Test.Command, image: s.Test.Image, dir: m.dir(s.Context), ctr: ctr})
	}
	if fe := app.Frontend; fe != nil && fe.Test != "" {
		out = append(out, suite{name: "frontend", command: fe.Test, image: fe.Image, dir: m.dir(fe.Dir), ctr: m.frontendDeps(fe)})
	}
	return out
}

// runSuites runs every suite to completion (one failure does not hide
// another) and reports all failures with their output.
func runSuites(ctx context.Context, suites []suite) (string, error) {
	var (
		mu       sync.Mutex
		passed   = make([]string, len(suites))
		failures []string
		eg       errgroup.Group
	)
	for i, s := range suites {
		eg.Go(func() error {
			out, err := s.ctr.WithExec([]string{"sh", "-c", s.command}).CombinedOutput(ctx)
			if err != nil {
				mu.Lock()
				failures = append(failures, describeFailure(s, err))
				mu.Unlock()
				return nil
			}
			passed[i] = fmt.Sprintf("✔ %s: %s\n%s", s.name, s.command, tail(out, 15))
			return nil
		})
	}
	_ = eg.Wait()
	if len(failures) > 0 {
		return "", fmt.Errorf("tests failed:\n%s", strings.Join(failures, "\n"))
	}
	return strings.Join(passed, "\n"), nil
}

// describeFailure names the suite and shows the end of its output.
func describeFailure(s suite, err error) string {
	var exec *dagger.ExecError
	if errors.As(err, &exec) {
		return fmt.Sprintf("✘ %s: `%s` exited with code %d:\n%s", s.name, s.command, exec.ExitCode, tail(exec.Stdout+"\n"+exec.Stderr, 60))
	}
	return fmt.Sprintf("✘ %s: `%s` could not run: %v", s.name, s.command, err)
}

// tail keeps the last n non-empty lines of out.
func tail(out string, n int) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	kept := lines[:0]
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			kept = append(kept, l)
		}
	}
	if len(kept) > n {
		kept = append([]string{fmt.Sprintf("… (%d lines above)", len(kept)-n)}, kept[len(kept)-n:]...)
	}
	return strings.Join(kept, "\n")
}
