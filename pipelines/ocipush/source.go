package ocipush

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// SourceInfo describes a local image source.
type SourceInfo struct {
	// Digest of the manifest or index a push would create (sha256:…).
	Digest string `json:"digest"`
	// MediaType of that manifest or index.
	MediaType string `json:"mediaType"`
	// Platforms the image runs on.
	Platforms []string `json:"platforms"`
}

// Inspect opens src (an AsTarball tar, a docker save tar, or an OCI layout
// directory) and describes the image a push would upload, without network.
func Inspect(src string) (SourceInfo, error) {
	root, cleanup, err := openSource(src)
	if err != nil {
		return SourceInfo{}, err
	}
	defer cleanup()
	return root.info()
}

// LocalDigest is the digest a push of src would create; Push reports the
// same value, so it can be compared with what a registry holds.
func LocalDigest(src string) (string, error) {
	info, err := Inspect(src)
	return info.Digest, err
}

// artifact is the root of an image source: exactly one of image or index.
type artifact struct {
	image v1.Image
	index v1.ImageIndex
}

// taggable is what gets pushed and tagged.
func (a artifact) taggable() remote.Taggable {
	if a.index != nil {
		return a.index
	}
	return a.image
}

// info computes digest, media type and platforms of the root.
func (a artifact) info() (SourceInfo, error) {
	var (
		h   v1.Hash
		mt  types.MediaType
		err error
	)
	if a.index != nil {
		h, err = a.index.Digest()
		if err == nil {
			mt, err = a.index.MediaType()
		}
	} else {
		h, err = a.image.Digest()
		if err == nil {
			mt, err = a.image.MediaType()
		}
	}
	if err != nil {
		return SourceInfo{}, fmt.Errorf("cannot compute the image digest: %w", err)
	}
	platforms, err := a.platforms()
	if err != nil {
		return SourceInfo{}, err
	}
	return SourceInfo{Digest: h.String(), MediaType: string(mt), Platforms: platforms}, nil
}

// platforms lists the platforms of the root, skipping attestation entries
// (which buildkit marks unknown/unknown).
func (a artifact) platforms() ([]string, error) {
	out := []string{}
	if a.image != nil {
		cfg, err := a.image.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("cannot read the image config: %w", err)
		}
		if p := cfg.Platform(); p != nil {
			out = append(out, p.String())
		}
		return out, nil
	}
	im, err := a.index.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("cannot read the image index: %w", err)
	}
	seen := map[string]bool{}
	for _, d := range im.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" {
			continue
		}
		if s := d.Platform.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// openSource opens an image source and returns its root with a cleanup
// function that removes any unpacked copy; call it once done with the root.
func openSource(src string) (artifact, func(), error) {
	nop := func() {}
	st, err := os.Stat(src)
	if errors.Is(err, os.ErrNotExist) {
		return artifact{}, nop, fmt.Errorf("image source %s does not exist: give the tarball written by AsTarball or an OCI layout directory", src)
	}
	if err != nil {
		return artifact{}, nop, fmt.Errorf("cannot read image source %s: %w", src, err)
	}
	if st.IsDir() {
		root, err := layoutRoot(src)
		return root, nop, err
	}
	dir, err := os.MkdirTemp("", "stevedore-oci-")
	if err != nil {
		return artifact{}, nop, fmt.Errorf("cannot create a temporary directory to unpack %s: %w", src, err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	root, err := tarRoot(src, dir)
	if err != nil {
		cleanup()
		return artifact{}, nop, err
	}
	return root, cleanup, nil
}

// tarRoot unpacks the tar src into dir and finds its root: an OCI layout
// when index.json is present, else a docker save tarball.
func tarRoot(src, dir string) (artifact, error) {
	if err := extractTar(src, dir); err != nil {
		return artifact{}, err
	}
	if exists(filepath.Join(dir, "index.json")) {
		return layoutRoot(dir)
	}
	if !exists(filepath.Join(dir, "manifest.json")) {
		return artifact{}, fmt.Errorf("%s is neither an OCI image layout (no index.json) nor a docker save tarball (no manifest.json)", src)
	}
	img, err := tarball.Image(func() (io.ReadCloser, error) { return openTar(src) }, nil)
	if err != nil {
		return artifact{}, fmt.Errorf("cannot read the docker tarball %s (it must hold exactly one image): %w", src, err)
	}
	return artifact{image: img}, nil
}

// layoutRoot finds the single thing to push in an OCI layout: the one image
// or nested index that index.json names, or index.json itself when it
// lists one manifest per platform.
func layoutRoot(dir string) (artifact, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return artifact{}, fmt.Errorf("%s is not a readable OCI image layout: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return artifact{}, fmt.Errorf("cannot read index.json of the image layout: %w", err)
	}
	switch n := len(im.Manifests); {
	case n == 0:
		return artifact{}, errors.New("the image layout holds no image: index.json lists no manifest")
	case n == 1:
		return childRoot(idx, im.Manifests[0])
	}
	for _, d := range im.Manifests {
		if !d.MediaType.IsImage() || d.Platform == nil {
			return artifact{}, fmt.Errorf("the image layout lists %d manifests that are not one image per platform: cannot tell which to push", len(im.Manifests))
		}
	}
	sorted, err := sortedIndex(idx)
	return artifact{index: sorted}, err
}

// childRoot opens the manifest d of idx as an image or an index.
func childRoot(idx v1.ImageIndex, d v1.Descriptor) (artifact, error) {
	switch {
	case d.MediaType.IsIndex():
		child, err := idx.ImageIndex(d.Digest)
		if err != nil {
			return artifact{}, fmt.Errorf("cannot read the image index %s of the layout: %w", d.Digest, err)
		}
		sorted, err := sortedIndex(child)
		return artifact{index: sorted}, err
	case d.MediaType.IsImage():
		img, err := idx.Image(d.Digest)
		if err != nil {
			return artifact{}, fmt.Errorf("cannot read the image %s of the layout: %w", d.Digest, err)
		}
		return artifact{image: img}, nil
	}
	return artifact{}, fmt.Errorf("the image layout names a %q manifest, which is neither an image nor an index", d.MediaType)
}

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
