//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// builtTestApp is a repository whose one Dockerfile has a test stage and a
// final stage: `staged` tests in the test stage, `own` in its own image
// with the context (and so tests/, which the Dockerfile does not copy)
// copied over the WORKDIR.
func builtTestApp(t *testing.T, stage string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"stevedore.yaml": `name: builttest
services:
  - name: staged
    context: app
    port: 8000
    test:
      stage: ` + stage + `
      command: 'test "$(pwd)" = /app && cat test-marker && test ! -e runtime-marker && test ! -e tests && echo STAGE-OK'
  - name: own
    context: app
    port: 8001
    test:
      serviceImage: true
      mount: true
      command: 'test "$(pwd)" = /app && cat build-id && test ! -e test-marker && sh tests/check.sh'
`,
		"app/Dockerfile": `FROM debian:bookworm-slim AS base
WORKDIR /app
COPY main.sh .

FROM base AS test
RUN echo only-in-the-test-stage > test-marker

FROM base
RUN echo runtime > runtime-marker && echo "build $(od -An -N8 -tx8 /dev/urandom | tr -d ' ')" > build-id
`,
		"app/main.sh":        "echo serving\n",
		"app/tests/check.sh": "cat runtime-marker && echo MOUNT-OK\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// test.stage runs the command in that stage of the service's Dockerfile
// and test.serviceImage in the image `image` builds (the same build: the
// random id its RUN wrote is the same), in the image's WORKDIR; a stage
// the Dockerfile lacks fails before anything is built.
func TestTestInTheBuiltImage(t *testing.T) {
	src := builtTestApp(t, "test")
	r := mustDagger(t, nil, "call", "--source", src, "test")
	assertContains(t, "test output", r.stdout, "✔ staged:", "only-in-the-test-stage", "STAGE-OK", "✔ own:", "runtime\nMOUNT-OK")
	id := regexp.MustCompile(`build [0-9a-f]{16}`).FindString(r.stdout)
	if id == "" {
		t.Fatalf("the own suite printed no build id:\n%s", r.stdout)
	}
	img := mustDagger(t, nil, "call", "--source", src, "image", "--service", "own", "file", "--path", "/app/build-id", "contents")
	if got := strings.TrimSpace(img.stdout); got != id {
		t.Errorf("the service image has %q, the tests ran in an image with %q: not the same build", got, id)
	}

	bad := dagger(t, nil, "call", "--source", builtTestApp(t, "tset"), "test")
	if bad.err == nil {
		t.Fatalf("an unknown stage was accepted:\n%s", bad.stdout)
	}
	assertContains(t, "error", bad.stderr, `services[staged].test.stage: app/Dockerfile has no stage "tset" (its stages: base, test)`)
}
