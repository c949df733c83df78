//go:build integration

package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/ocipush/ocitest"
)

var refPattern = regexp.MustCompile(`\S+/cao-server@sha256:[0-9a-f]{64}`)

// publish pushes the example backend to a real registry on loopback that
// requires user AWS and an ECR-style token, reached through a host tunnel.
func publish(t *testing.T, reg *ocitest.Registry, password string, extra ...string) result {
	t.Helper()
	args := []string{"call",
		"with-registry", "--address", reg.Host, "--username", "AWS", "--password", "env:STEVEDORE_TEST_REGISTRY_PASSWORD",
		"--service", "tcp://" + reg.Host, "--insecure",
		"publish", "--git-sha", "0123456789abcdef0123456789abcdef01234567"}
	return dagger(t, []string{"STEVEDORE_TEST_REGISTRY_PASSWORD=" + password}, append(args, extra...)...)
}

func TestPublishToAuthenticatedRegistry(t *testing.T) {
	password := ocitest.ECRPassword(t)
	reg := ocitest.NewRegistry(t, "AWS", password)

	t.Run("wrong password is refused", func(t *testing.T) {
		canary := "CANARY-" + strings.Repeat("x", 40)
		r := publish(t, reg, canary)
		if r.err == nil {
			t.Fatalf("push with a wrong password succeeded:\n%s", r.stdout)
		}
		assertContains(t, "error", r.stderr, "refused the credentials for user AWS (HTTP 401)")
		assertNotContains(t, "output", r.output(), canary)
		if w := reg.Writes(); len(w) != 0 {
			t.Fatalf("a refused push wrote to the registry: %v", w)
		}
	})

	var ref string
	t.Run("right password pushes and returns the digest-pinned reference", func(t *testing.T) {
		r := publish(t, reg, password, "--tag", "latest")
		if r.err != nil {
			t.Fatalf("publish failed: %v\n%s", r.err, tailLines(r.output(), 60))
		}
		ref = refPattern.FindString(r.stdout)
		if ref == "" {
			t.Fatalf("no digest-pinned reference in the result:\n%s", r.stdout)
		}
		if !strings.HasPrefix(ref, reg.Host+"/cao-server@") {
			t.Fatalf("reference %q is not in the registry %s", ref, reg.Host)
		}
		// The digest stevedore reports is what the registry serves for both tags.
		digest := ref[strings.Index(ref, "@")+1:]
		for _, tag := range []string{"0123456789abcdef0123456789abcdef01234567", "latest"} {
			if got := reg.Head(t, reg.Host+"/cao-server:"+tag).Digest.String(); got != digest {
				t.Errorf("registry serves %s for tag %s, stevedore reported %s", got, tag, digest)
			}
		}
		assertContains(t, "result", r.stdout, "\tpushed\t")
		assertNotContains(t, "output", r.output(), password)
	})

	t.Run("second run pushes nothing", func(t *testing.T) {
		reg.Reset()
		r := publish(t, reg, password, "--tag", "latest")
		if r.err != nil {
			t.Fatalf("publish failed: %v\n%s", r.err, tailLines(r.output(), 60))
		}
		if got := refPattern.FindString(r.stdout); got != ref {
			t.Fatalf("second run returned %q, first %q", got, ref)
		}
		assertContains(t, "result", r.stdout, "already present, nothing pushed")
		assertContains(t, "log", r.stderr, "already present, nothing pushed")
		if w := reg.Writes(); len(w) != 0 {
			t.Fatalf("second run wrote to the registry: %v", w)
		}
		assertNotContains(t, "output", r.output(), password)
	})
}

// The registry password never reaches an exported file either: export the
// synthesized infra and the frontend build after a publish and grep them.
func TestSecretNeverInExportedFiles(t *testing.T) {
	canary := "CANARY-" + strings.Repeat("s", 32)
	out := t.TempDir()
	r := dagger(t, []string{"STEVEDORE_TEST_CANARY=" + canary}, "call",
		"with-registry", "--address", "localhost:1", "--username", "u", "--password", "env:STEVEDORE_TEST_CANARY",
		"frontend-dist", "export", "--path", out)
	if r.err != nil {
		t.Fatalf("export failed: %v\n%s", r.err, tailLines(r.output(), 40))
	}
	assertNotContains(t, "output", r.output(), canary)
	err := filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(data), canary) {
			t.Errorf("%s contains the secret", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Two platforms are built by cross-compiling (no emulation) and pushed as
// one index. The runtime image is scratch because only amd64 base images
// exist on this offline machine.
func TestPublishMultiPlatform(t *testing.T) {
	password := ocitest.ECRPassword(t)
	reg := ocitest.NewRegistry(t, "AWS", password)
	src := exampleApp(t)
	edit(t, src, "stevedore.yaml", "RUNTIME_IMAGE: debian:bookworm-slim", "RUNTIME_IMAGE: scratch")
	args := []string{"call", "--source", src,
		"with-registry", "--address", reg.Host, "--username", "AWS", "--password", "env:STEVEDORE_TEST_REGISTRY_PASSWORD",
		"--service", "tcp://" + reg.Host, "--insecure",
		"publish", "--git-sha", "abcdef1", "--platform", "linux/amd64", "--platform", "linux/arm64"}
	r := mustDagger(t, []string{"STEVEDORE_TEST_REGISTRY_PASSWORD=" + password}, args...)
	assertContains(t, "result", r.stdout, "platforms: linux/amd64, linux/arm64")
	desc := reg.Head(t, reg.Host+"/cao-server:abcdef1")
	if !strings.Contains(string(desc.MediaType), "index") {
		t.Fatalf("pushed %s, want an image index", desc.MediaType)
	}
	if ref := refPattern.FindString(r.stdout); !strings.HasSuffix(ref, desc.Digest.String()) {
		t.Fatalf("reported %q, registry serves %s", ref, desc.Digest)
	}
}
