package ocipush

import (
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/stevedore-ci/stevedore/pipelines/ocipush/ocitest"
)

// The same images in another order give the same digest and platform list.
func TestIndexDigestIgnoresManifestOrder(t *testing.T) {
	amd, arm := ocitest.Image(t, "linux/amd64"), ocitest.Image(t, "linux/arm64")
	index := func(imgs ...v1.Image) v1.ImageIndex {
		var idx v1.ImageIndex = empty.Index
		for _, img := range imgs {
			cfg, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: cfg.Platform()}})
		}
		return idx
	}
	for _, nested := range []bool{true, false} {
		a, err := Inspect(ocitest.IndexTar(t, index(amd, arm), nested))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Inspect(ocitest.IndexTar(t, index(arm, amd), nested))
		if err != nil {
			t.Fatal(err)
		}
		if a.Digest != b.Digest {
			t.Errorf("nested=%v: digest depends on manifest order: %s vs %s", nested, a.Digest, b.Digest)
		}
		if got := strings.Join(b.Platforms, ","); got != "linux/amd64,linux/arm64" {
			t.Errorf("nested=%v: platforms = %s, want sorted", nested, got)
		}
	}
}
