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
	"github.com/stevedore-ci/stevedore/pipelines/cmdout"
)

// Run the tests of every backend service and of the frontend, in parallel.
//
// It fails with the output of the tests that failed. Results are cached:
// unchanged code is not tested twice.
func (m *Stevedore) Test(ctx context.Context) (string, error) {
	app, err := m.load(ctx)
	if err != nil {
		return "", err
	}
	if !hasTests(app) {
		return "", errors.New("nothing to test: give a service a test section (a command, and an image, stage or serviceImage to run it in) or the frontend a test command")
	}
	suites, err := m.testSuites(ctx, app)
	if err != nil {
		return "", err
	}
	return runSuites(ctx, suites)
}

// hasTests reports whether the app has a test command to run.
func hasTests(app *appspec.App) bool {
	for _, s := range app.Services {
		if s.Test != nil {
			return true
		}
	}
	return app.Frontend != nil && app.Frontend.Test != ""
}

// suite is one test command in one container. inputs identify it for the
// report's cached column, besides its name and command.
type suite struct {
	name, command string
	inputs        []any
	ctr           *dagger.Container
	// build, for tests in an image built from the service's Dockerfile,
	// builds that image first, so a failed Dockerfile step is reported as
	// a build failure, not as the tests'.
	build func(context.Context) error
}

// testSuites lists the test commands of the app, services first.
func (m *Stevedore) testSuites(ctx context.Context, app *appspec.App) ([]suite, error) {
	var out []suite
	for i := range app.Services {
		s := &app.Services[i]
		if s.Test == nil {
			continue
		}
		if s.Test.Image != "" {
			ctr := withToolCaches(dag.Container().From(s.Test.Image), s.Test.Cache).
				WithDirectory("/src", m.dir(s.Context)).
				WithWorkdir("/src")
			out = append(out, suite{name: s.Name, command: s.Test.Command, inputs: []any{s.Test.Image, m.dir(s.Context)}, ctr: ctr})
			continue
		}
		st, err := m.builtSuite(ctx, s)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	if fe := app.Frontend; fe != nil && fe.Test != "" {
		out = append(out, suite{name: "frontend", command: fe.Test, inputs: []any{fe.Image, m.dir(fe.Dir)}, ctr: m.frontendDeps(fe)})
	}
	return out, nil
}

// builtSuite runs a service's tests in a stage of its Dockerfile
// (test.stage) or in its own image (test.serviceImage): the very build the
// build step makes, so the image is built once. The command runs in the
// image's WORKDIR as its USER; test.mount copies the context over the
// WORKDIR, the image's other files staying.
func (m *Stevedore) builtSuite(ctx context.Context, s *appspec.Service) (suite, error) {
	t, target := s.Test, s.TestTarget()
	img, err := m.dockerBuild(ctx, s, target, "")
	if err != nil {
		return suite{}, err
	}
	ctr := withToolCaches(img, t.Cache)
	inputs := append(m.buildInputs(ctx, s, target), "mount", t.Mount)
	if t.Mount {
		ctr = ctr.WithDirectory(".", m.dir(s.Context))
		inputs = append(inputs, m.dir(s.Context))
	}
	build := func(ctx context.Context) error {
		if _, err := img.Sync(ctx); err != nil {
			if t.Stage != "" {
				return failed("test image build", fmt.Sprintf("%s, %s, stage %s", s.Name, s.Dockerfile, t.Stage), err)
			}
			return imageBuildFailed(s, err) // the build step's own image
		}
		return nil
	}
	return suite{name: s.Name, command: t.Command, inputs: inputs, ctr: ctr, build: build}, nil
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
			if s.build != nil {
				if err := s.build(ctx); err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("✘ %s: %s", s.name, describeErr(err)))
					mu.Unlock()
					return nil
				}
			}
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

// describeFailure names the suite and shows the end of its output (test
// runners report on stdout, so both streams count).
func describeFailure(s suite, err error) string {
	var exec *dagger.ExecError
	if errors.As(err, &exec) {
		r := cmdout.Result{Cmd: exec.Cmd, ExitCode: exec.ExitCode, Stdout: exec.Stdout, Stderr: exec.Stderr}
		ran := "`" + s.command + "`"
		if cmd := commandLine(exec.Cmd); cmd != "" && !sameCommand(exec.Cmd, s.command) {
			ran = fmt.Sprintf("`%s` (before `%s`)", cmd, s.command) // e.g. the frontend's npm ci
		}
		return fmt.Sprintf("✘ %s: %s exited with code %d:\n%s", s.name, ran, exec.ExitCode, cmdout.Indent(r.Combined(60), "  "))
	}
	return fmt.Sprintf("✘ %s: `%s` could not run: %s", s.name, s.command, describeErr(err))
}

// tail keeps the last n non-empty lines of out.
func tail(out string, n int) string { return cmdout.Tail(out, n) }

// commandError is a failed command described for people: what it was for,
// which service, file or step, and the end of what it printed. errors.As
// still finds the *dagger.ExecError underneath.
//
// Unwrap returns a list on purpose: at a function's boundary the generated
// dispatch code follows single Unwrap chains down to the engine's own error
// and returns that message instead of ours (so `building X: process … exit
// code: 1` became just `process … exit code: 1`); a list stops it there.
type commandError struct {
	msg string
	err error
}

func (e *commandError) Error() string   { return e.msg }
func (e *commandError) Unwrap() []error { return []error{e.err} }

// described keeps msg as the error's message across the function boundary
// (see commandError) while errors.Is/As still see err.
func described(msg string, err error) error { return &commandError{msg: msg, err: err} }

// failed wraps the error of work that ran commands in the engine (a
// Dockerfile RUN, npm, curl, a migration): "<what> failed (<which>): <the
// last lines of its stderr>". Other errors are wrapped with the same head.
// Only the command's own output is quoted: environment values never are.
func failed(what, which string, err error) error {
	if err == nil {
		return nil
	}
	var ce *commandError
	if errors.As(err, &ce) {
		return err // already described
	}
	var ex *dagger.ExecError
	if errors.As(err, &ex) {
		r := cmdout.Result{Cmd: ex.Cmd, ExitCode: ex.ExitCode, Stdout: ex.Stdout, Stderr: ex.Stderr}
		detail := which
		if cmd := commandLine(ex.Cmd); cmd != "" {
			detail = strings.TrimPrefix(detail+fmt.Sprintf("; `%s` exited %d", cmd, ex.ExitCode), "; ")
		}
		return &commandError{msg: cmdout.Message(what, detail, r.Reason(cmdout.DefaultLines)), err: err}
	}
	if cmd, code, ok := cmdout.ProcessFailure(err.Error()); ok {
		// A Dockerfile RUN: the engine returns no ExecError (no output) for
		// it, only this message; its output is in the build's progress log.
		detail := strings.TrimPrefix(which+fmt.Sprintf("; `RUN %s` exited %d", commandLine([]string{cmd}), code), "; ")
		return described(cmdout.Message(what, detail, "the step's own output is in the build log above (Dagger returns none for a Dockerfile step)"), err)
	}
	return described(cmdout.Message(what, which, err.Error()), err)
}

// describeErr is err's message followed by the tail of a failed command's
// output when one is inside and not yet quoted: how the report shows an
// error from any step, whoever wrapped it.
func describeErr(err error) string {
	var ce *commandError
	if errors.As(err, &ce) {
		return err.Error()
	}
	var ex *dagger.ExecError
	if errors.As(err, &ex) {
		r := cmdout.Result{Cmd: ex.Cmd, ExitCode: ex.ExitCode, Stdout: ex.Stdout, Stderr: ex.Stderr}
		return err.Error() + ":\n" + cmdout.Indent(r.Reason(cmdout.DefaultLines), "  ")
	}
	return err.Error()
}

// commandLine shows a command briefly: `sh -c X` as X, cut at 160
// characters; a multi-line script is not shown (its step says what it does).
// sameCommand reports whether an exec ran command (sh -c or split), white
// space aside: commandLine shortens long commands, this compares them whole.
func sameCommand(cmd []string, command string) bool {
	if len(cmd) == 3 && (cmd[0] == "sh" || cmd[0] == "/bin/sh") && cmd[1] == "-c" {
		cmd = cmd[2:]
	}
	return strings.Join(strings.Fields(strings.Join(cmd, " ")), " ") == strings.Join(strings.Fields(command), " ")
}

func commandLine(cmd []string) string {
	if len(cmd) == 3 && (cmd[0] == "sh" || cmd[0] == "/bin/sh") && cmd[1] == "-c" {
		cmd = cmd[2:]
	}
	if strings.Contains(strings.Join(cmd, " "), "\n") {
		return ""
	}
	s := strings.Join(strings.Fields(strings.Join(cmd, " ")), " ")
	if r := []rune(s); len(r) > 160 {
		s = string(r[:159]) + "…"
	}
	return s
}
