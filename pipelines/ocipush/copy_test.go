package ocipush

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/stevedore-ci/stevedore/pipelines/ocipush/ocitest"
)

// A copy between two registries keeps the digest (an index stays an
// index), adds the tags, and uploads nothing the second time.
func TestCopyKeepsTheDigest(t *testing.T) {
	ctx := context.Background()
	src := ocitest.NewRegistry(t, "AWS", "one")
	dst := ocitest.NewRegistry(t, "AWS", "two")
	pushed, err := Push(ctx, ocitest.IndexTar(t, ocitest.Index(t, "linux/amd64", "linux/arm64"), false), PushOptions{
		Repository: src.Repo("shop-backend"), Tags: []string{"c0ffee1"}, Username: "AWS", Password: "one", Insecure: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	from := PullOptions{Username: "AWS", Password: "one", Insecure: true}
	to := PushOptions{Repository: dst.Repo("shop-backend"), Tags: []string{"c0ffee1", "prod"}, Username: "AWS", Password: "two", Insecure: true}
	res, err := Copy(ctx, pushed.Ref, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != pushed.Digest || !res.Pushed || res.Ref != dst.Repo("shop-backend")+"@"+pushed.Digest {
		t.Fatalf("copy %+v, source %+v", res, pushed)
	}
	for _, tag := range []string{"c0ffee1", "prod"} {
		if d := dst.Head(t, dst.Repo("shop-backend")+":"+tag); d.Digest.String() != pushed.Digest {
			t.Fatalf("tag %s points at %s, want %s", tag, d.Digest, pushed.Digest)
		}
	}
	dst.Reset()
	again, err := Copy(ctx, pushed.Ref, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if again.Pushed || len(dst.Writes()) != 0 {
		t.Fatalf("second copy pushed=%v writes=%v", again.Pushed, dst.Writes())
	}
}

// A source that is not pinned by digest is refused before any request.
func TestCopyNeedsADigest(t *testing.T) {
	dst := ocitest.NewRegistry(t, "", "")
	_, err := Copy(context.Background(), dst.Repo("a")+":latest", PullOptions{Insecure: true}, PushOptions{Repository: dst.Repo("b"), Tags: []string{"x"}, Insecure: true})
	if err == nil || !strings.Contains(err.Error(), "digest-pinned") || dst.Requests() != 0 {
		t.Fatalf("err %v, %d requests", err, dst.Requests())
	}
}

// Extract writes an image's filesystem: a site image gives back the site.
func TestExtractWritesTheFilesystem(t *testing.T) {
	ctx := context.Background()
	reg := ocitest.NewRegistry(t, "", "")
	site := t.TempDir()
	if err := os.MkdirAll(filepath.Join(site, "_next"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"index.html": "<h1>shop</h1>", "_next/app.js": "console.log(1)"} {
		if err := os.WriteFile(filepath.Join(site, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	layer, err := tarball.LayerFromFile(ocitest.TarDir(t, site))
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Push(ctx, ocitest.ImageTar(t, img), PushOptions{Repository: reg.Repo("shop-site"), Tags: []string{"c0ffee1"}, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	digest, err := Extract(ctx, res.Ref, out, PullOptions{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if digest != res.Digest {
		t.Fatalf("digest %s, pushed %s", digest, res.Digest)
	}
	for name, body := range map[string]string{"index.html": "<h1>shop</h1>", "_next/app.js": "console.log(1)"} {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || string(b) != body {
			t.Fatalf("%s: %q %v", name, b, err)
		}
	}
}
