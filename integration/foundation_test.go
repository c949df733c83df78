//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFunctionsAreListedWithHelp(t *testing.T) {
	r := mustDagger(t, nil, "functions")
	for _, fn := range []string{"config", "image", "images", "frontend-dist", "frontend-image", "test", "serve", "serve-frontend", "with-service", "with-aws", "with-registry", "publish"} {
		found := false
		for _, line := range strings.Split(r.stdout, "\n") {
			f := strings.Fields(line)
			if len(f) > 1 && f[0] == fn {
				found = true
			}
		}
		if !found {
			t.Errorf("dagger functions does not list %q with a description:\n%s", fn, r.stdout)
		}
	}
}

// The backend image starts as a service and answers healthy on /health.
func TestBackendServiceAnswersHealthy(t *testing.T) {
	r := mustDagger(t, nil, "-c", `container | from golang:1.26 | with-service-binding app $(serve) | with-exec -- curl -sf http://app:9889/health | stdout`)
	if strings.TrimSpace(r.stdout) != `{"status":"healthy"}` {
		t.Fatalf("health answer = %q", r.stdout)
	}
}

// The frontend image serves the built index.html with hashed assets.
func TestFrontendImageServesIndex(t *testing.T) {
	r := mustDagger(t, nil, "-c", `container | from golang:1.26 | with-service-binding web $(serve-frontend) | with-exec -- curl -sfi http://web/ | stdout`)
	assertContains(t, "frontend answer", r.stdout, "HTTP/1.1 200", "<title>CAO console</title>", `src="/assets/main-`, "Cache-Control: no-cache")
}

func TestTestPassesOnTheExamples(t *testing.T) {
	r := mustDagger(t, nil, "call", "test")
	assertContains(t, "test output", r.stdout, "✔ backend: go test ./...", "ok  \texample.com/cao-server", "✔ frontend: npm test", "# pass 3")
}

// A broken test fails the function, and the failure shows that test's output.
func TestTestFailsOnABrokenTest(t *testing.T) {
	src := exampleApp(t)
	edit(t, src, "examples/backend/main_test.go", `if body["status"] != "healthy" {`, `if body["status"] != "sick" {`)
	r := dagger(t, nil, "call", "--source", src, "test")
	if r.err == nil {
		t.Fatalf("test passed on a broken test:\n%s", r.stdout)
	}
	assertContains(t, "failure", r.output(), "tests failed", "✘ backend: `go test ./...` exited with code 1", "--- FAIL: TestHealth", "FAIL\texample.com/cao-server")
	if strings.Contains(r.output(), "✘ frontend") {
		t.Error("the frontend tests did not break, yet were reported failing")
	}
}

// Bad input gives one clear error naming the problem.
func TestBadInputErrors(t *testing.T) {
	empty := t.TempDir()
	missingDockerfile := exampleApp(t)
	edit(t, missingDockerfile, "stevedore.yaml", "dockerfile: docker/backend.Dockerfile", "dockerfile: docker/missing.Dockerfile")
	invalid := exampleApp(t)
	edit(t, invalid, "stevedore.yaml", "port: 9889", "port: 0")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"source without a description", []string{"call", "--source", empty, "config"},
			[]string{"no app description: add stevedore.yaml"}},
		{"explicit config missing", []string{"call", "--source", empty, "--config", "app/stevedore.yaml", "config"},
			[]string{`cannot read the app description "app/stevedore.yaml"`}},
		{"missing dockerfile", []string{"call", "--source", missingDockerfile, "image"},
			[]string{`services[backend].dockerfile: file "docker/missing.Dockerfile" not found in the source directory`}},
		{"invalid description", []string{"call", "--source", invalid, "config"},
			[]string{"stevedore.yaml: invalid app description", "services[backend].port: must be between 1 and 65535 (got 0)"}},
		{"unknown service", []string{"call", "image", "--service", "api"},
			[]string{`no service named "api": the app has backend`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dagger(t, nil, tc.args...)
			if r.err == nil {
				t.Fatalf("succeeded:\n%s", r.stdout)
			}
			assertContains(t, "error", r.stderr, tc.want...)
		})
	}
}

// exampleApp is a copy of the example app: its description, the examples
// and stevedore's Dockerfiles (the CDK app itself is not needed to build).
func exampleApp(t *testing.T) string {
	t.Helper()
	dir := copyTree(t, "stevedore.yaml", "examples", "docker")
	if err := os.MkdirAll(filepath.Join(dir, "infra"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The app can be described by functions alone, without stevedore.yaml.
func TestDescribeWithFunctions(t *testing.T) {
	src := copyTree(t, "examples", "docker")
	r := mustDagger(t, nil, "call", "--source", src,
		"with-name", "--name", "demo",
		"with-service", "--name", "api", "--context", "examples/backend", "--dockerfile", "docker/backend.Dockerfile",
		"--port", "8080", "--health", "/health", "--test-image", "golang:1.26", "--test-command", "go test ./...",
		"--build-args", "RUNTIME_IMAGE=debian:bookworm-slim",
		"with-frontend", "--dir", "examples/frontend", "--test", "npm test",
		"config")
	assertContains(t, "config", r.stdout, "name: demo", "- name: api", "port: 8080", "repository: demo-api", "cache: go",
		"RUNTIME_IMAGE: debian:bookworm-slim", "dir: examples/frontend", "install: npm ci", "output: dist")
	bad := dagger(t, nil, "call", "--source", src, "with-name", "--name", "demo", "with-service", "--name", "api", "--context", "../up", "--port", "0", "config")
	if bad.err == nil {
		t.Fatal("an invalid service was accepted")
	}
	assertContains(t, "error", bad.stderr, `services[api].context: "../up" points outside the source directory`, "services[api].port: must be between 1 and 65535 (got 0)")
}

// A failing Dockerfile RUN fails the build naming the service, the
// Dockerfile, the RUN and its exit code (the engine returns no output for a
// Dockerfile step, so its stderr is only in the progress log); in deploy the
// report row carries the same.
func TestImageBuildFailureQuotesTheStep(t *testing.T) {
	src := exampleApp(t)
	marker := unique("no-such-package")
	edit(t, src, "docker/backend.Dockerfile", "FROM ${RUNTIME_IMAGE}\n",
		"FROM ${RUNTIME_IMAGE}\nRUN echo \"E: Unable to locate package "+marker+"\" >&2; exit 7\n")
	r := dagger(t, nil, "call", "--source", src, "image")
	if r.err == nil {
		t.Fatal("a failing RUN built")
	}
	want := "image build failed (backend, docker/backend.Dockerfile; `RUN echo \"E: Unable to locate package " + marker + "\" >&2; exit 7` exited 7)"
	assertContains(t, "error", r.stderr, "Error: "+want)
	dropInfra(t, src, "")
	d := dagger(t, nil, "call", "--source", src, "deploy")
	if d.err == nil {
		t.Fatal("deploy succeeded with a failing RUN")
	}
	assertContains(t, "deploy error", d.stderr, "step build:backend failed: "+want)
}

// `dagger functions` shows the first line of each doc comment: for these
// functions it must be one complete sentence.
func TestFunctionsShowCompleteSentences(t *testing.T) {
	r := mustDagger(t, nil, "functions")
	mine := map[string]bool{}
	for _, fn := range []string{"config", "deploy", "plan", "image", "images", "frontend-dist", "frontend-image", "test", "serve", "serve-frontend",
		"publish", "rollout", "run-task", "with-registry", "with-service-env", "with-frontend-env", "with-frontend-dockerfile", "with-migrate"} {
		mine[fn] = true
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !mine[f[0]] {
			continue
		}
		delete(mine, f[0])
		if desc := strings.Join(f[1:], " "); !strings.HasSuffix(desc, ".") {
			t.Errorf("%s: %q is not a complete sentence", f[0], desc)
		}
	}
	for fn := range mine {
		t.Errorf("dagger functions does not list %s", fn)
	}
}

// Every value of the description can be set by a function.
func TestWithFunctionsSetEveryValue(t *testing.T) {
	r := mustDagger(t, nil, "call",
		"with-service-env", "--service", "backend", "--env", "LOG_LEVEL=debug", "--env", "DATABASE_URL=postgres://db/app",
		"with-frontend-env", "--env", "NEXT_PUBLIC_API_URL=https://api.example.com",
		"with-frontend-dockerfile", "--dockerfile", "docker/frontend.Dockerfile",
		"with-migrate", "--service", "backend", "--command", "alembic,upgrade,head",
		"config")
	assertContains(t, "config", r.stdout, "LOG_LEVEL: debug", "DATABASE_URL: postgres://db/app", "NEXT_PUBLIC_API_URL: https://api.example.com",
		"dockerfile: docker/frontend.Dockerfile", "migrate:", "service: backend", "- alembic")
	bad := dagger(t, nil, "call", "with-migrate", "--service", "api", "--command", "x", "config")
	if bad.err == nil {
		t.Fatal("with-migrate accepted an unknown service")
	}
	assertContains(t, "error", bad.stderr, `no service named "api": the app has backend`)
}

// A failing frontend build says which command failed and quotes its output,
// through frontend-dist and inside deploy.
func TestFrontendBuildFailureQuotesNpm(t *testing.T) {
	src := exampleApp(t)
	marker := unique("cannot-resolve")
	if err := os.WriteFile(filepath.Join(src, "examples/frontend/build.mjs"), []byte("console.error('✘ [ERROR] Could not resolve \""+marker+"\"');\nprocess.exit(2);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := dagger(t, nil, "call", "--source", src, "frontend-dist", "entries")
	if r.err == nil {
		t.Fatal("a failing build succeeded")
	}
	assertContains(t, "error", r.stderr, "frontend build failed (examples/frontend; `npm run build` exited 2)", "Could not resolve \""+marker+"\"")
	dropInfra(t, src, "")
	d := dagger(t, nil, "call", "--source", src, "deploy")
	if d.err == nil {
		t.Fatal("deploy succeeded with a failing frontend build")
	}
	assertContains(t, "deploy error", d.stderr, "step build:frontend failed: frontend build failed (examples/frontend", "Could not resolve \""+marker+"\"")
}

// A failing health check says which URL answered what.
func TestDeployLocalHealthFailureSaysWhichURL(t *testing.T) {
	src := exampleApp(t)
	dropInfra(t, src, "")
	edit(t, src, "stevedore.yaml", "health: /health", "health: /nope")
	r := dagger(t, nil, "call", "--source", src, "deploy")
	if r.err == nil {
		t.Fatal("deploy succeeded although /nope answers 404")
	}
	assertContains(t, "error", r.stderr, "step verify failed: health check failed (http://backend:9889/nope, http://frontend/", "http://backend:9889/nope → HTTP 404: 404 page not found")
	assertNotContains(t, "error", r.stderr, "http://frontend/ → HTTP")
}
