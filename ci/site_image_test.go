package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/ocipush"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush/ocitest"
)

// The site image pushed the way a deploy pushes it unpacks to exactly the
// built site, and a second push of the same site uploads nothing.
func TestSiteImageIsTheSite(t *testing.T) {
	ctx := context.Background()
	files := map[string]string{"index.html": "<h1>shop</h1>", "_next/static/app.js": "console.log(1)"}
	dist := dag.Directory()
	for name, body := range files {
		dist = dist.WithNewFile(name, body)
	}
	reg := ocitest.NewRegistry(t, "AWS", "pw")
	push := func() *PublishedImage {
		tg := &pushTarget{host: reg.Host, username: "AWS", password: "pw", insecure: true, repos: map[string]string{siteKey: "shop-site"}, tmp: t.TempDir(), cleanup: func() {}}
		p, err := tg.push(ctx, siteKey, []*dagger.Container{siteContainer(dist)}, []string{"c0ffee1"})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := push()
	if !first.Pushed || first.Repository != reg.Host+"/shop-site" {
		t.Fatalf("first push %+v", first)
	}
	out := t.TempDir()
	digest, err := ocipush.Extract(ctx, first.Ref, out, ocipush.PullOptions{Username: "AWS", Password: "pw", Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	if digest != first.Digest {
		t.Fatalf("extracted %s, pushed %s", digest, first.Digest)
	}
	for name, body := range files {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || string(b) != body {
			t.Errorf("%s: %q, %v", name, b, err)
		}
	}
	if again := push(); again.Pushed || again.Digest != first.Digest {
		t.Fatalf("second push of the same site %+v, first %s", again, first.Digest)
	}
}
