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
		r := publish(t, reg, password, "--tag", "latest", "line")
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
		r := publish(t, reg, password, "--tag", "latest", "line")
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

	t.Run("results are objects: publish ref prints the references", func(t *testing.T) {
		r := publish(t, reg, password, "ref")
		if r.err != nil {
			t.Fatalf("publish ref failed: %v\n%s", r.err, tailLines(r.output(), 60))
		}
		if got := strings.TrimSpace(r.stdout); got != ref {
			t.Fatalf("publish ref printed %q, want exactly %q", got, ref)
		}
		d := publish(t, reg, password, "digest")
		if got := strings.TrimSpace(d.stdout); d.err != nil || "sha256:"+strings.SplitN(ref, "@sha256:", 2)[1] != got {
			t.Fatalf("publish digest printed %q (%v)", got, d.err)
		}
	})
}

// AWS credentials never reach the output, an error or an exported file:
// canary keys go into with-aws, a publish fails on them (no AWS here), a
// synth is exported, and neither the logs nor the files contain them.
func TestSecretNeverInOutputErrorsOrFiles(t *testing.T) {
	keyID := "AKIA" + strings.Repeat("CANARY", 3)
	secret := "canary-secret-" + strings.Repeat("s", 24)
	env := []string{"CANARY_KEY_ID=" + keyID, "CANARY_SECRET=" + secret}
	// --source: without it stevedore refuses to publish its bundled example to AWS.
	withAws := []string{"call", "--source", ".", "with-aws", "--region", "eu-west-1", "--access-key-id", "env:CANARY_KEY_ID", "--secret-access-key", "env:CANARY_SECRET"}

	r := dagger(t, env, append(withAws, "publish", "--git-sha", "abcdef1")...)
	if r.err == nil {
		t.Fatal("publish to AWS succeeded on a machine without AWS")
	}
	assertContains(t, "error", r.stderr, "ecr:DescribeRepositories")
	assertNotContains(t, "publish output", r.output(), keyID, secret)

	out := t.TempDir()
	r = mustDagger(t, env, append(withAws, "synth", "--image", "backend="+digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server", 9), "export", "--path", out)...)
	assertNotContains(t, "synth output", r.output(), keyID, secret)
	files := 0
	err := filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(p)
		if err == nil && (strings.Contains(string(data), keyID) || strings.Contains(string(data), secret)) {
			t.Errorf("%s contains a credential", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 {
		t.Fatalf("only %d files exported: the check read nothing", files)
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
		"publish", "--git-sha", "abcdef1", "--platform", "linux/amd64", "--platform", "linux/arm64", "line"}
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
