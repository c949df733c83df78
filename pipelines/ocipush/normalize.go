package ocipush

import (
	"cmp"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// sortedIndex orders an index's manifests by platform, then digest.
// BuildKit lists the platforms of a multi-platform export in the order
// their builds finish, so the same images could otherwise yield a new index
// digest on every run: a "new" image to push and roll out when nothing
// changed.
func sortedIndex(idx v1.ImageIndex) (v1.ImageIndex, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("cannot read the image index: %w", err)
	}
	sorted := slices.Clone(im.Manifests)
	slices.SortStableFunc(sorted, func(a, b v1.Descriptor) int {
		return cmp.Or(cmp.Compare(platformKey(a), platformKey(b)), cmp.Compare(a.Digest.String(), b.Digest.String()))
	})
	if slices.EqualFunc(sorted, im.Manifests, func(a, b v1.Descriptor) bool { return a.Digest == b.Digest }) {
		return idx, nil
	}
	out := mutate.IndexMediaType(empty.Index, im.MediaType)
	if len(im.Annotations) > 0 {
		out = mutate.Annotations(out, im.Annotations).(v1.ImageIndex)
	}
	for _, d := range sorted {
		var add mutate.Appendable
		if d.MediaType.IsIndex() {
			add, err = idx.ImageIndex(d.Digest)
		} else {
			add, err = idx.Image(d.Digest)
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read manifest %s of the image index: %w", d.Digest, err)
		}
		out = mutate.AppendManifests(out, mutate.IndexAddendum{Add: add, Descriptor: d})
	}
	return out, nil
}

func platformKey(d v1.Descriptor) string {
	if d.Platform == nil {
		return ""
	}
	return d.Platform.String()
}
