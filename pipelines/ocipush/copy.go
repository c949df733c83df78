package ocipush

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Copy puts the image src (repository@sha256:…) into to.Repository under
// the same digest (an index stays an index) and points to.Tags at it.
// When the destination already holds the digest nothing is uploaded, only
// missing tags are added. from holds the source registry's credentials.
func Copy(ctx context.Context, src string, from PullOptions, to PushOptions) (PushResult, error) {
	fe := endpoint{username: from.Username, password: from.Password, insecure: from.Insecure, dial: from.Dial, log: from.Log}
	te := endpoint{username: to.Username, password: to.Password, insecure: to.Insecure, dial: to.Dial, log: to.Log}
	if err := fe.validate(); err != nil {
		return PushResult{}, err
	}
	if err := te.validate(); err != nil {
		return PushResult{}, err
	}
	tags, err := normalizeTags(to.Tags)
	if err != nil {
		return PushResult{}, err
	}
	ref, err := name.NewDigest(src, fe.nameOptions()...)
	if err != nil {
		return PushResult{}, fmt.Errorf("copy source %q is not a digest-pinned reference (repository@sha256:…): %w", src, err)
	}
	repo, err := parseRepository(to.Repository, te)
	if err != nil {
		return PushResult{}, err
	}
	desc, err := remote.Get(ref, fe.remoteOptions(ctx, ref.Context().Registry)...)
	if isNotFound(err) {
		return PushResult{}, fe.redact(fmt.Errorf("image %s not found on the source registry (HTTP 404): %w", ref.Name(), err))
	}
	if err != nil {
		return PushResult{}, fe.explain("pull", ref.Context().RegistryStr(), err)
	}
	digest := desc.Digest.String()
	pinned := repo.Digest(digest)
	res := PushResult{Digest: digest, Ref: pinned.Name(), Tags: tags}
	opts := te.remoteOptions(ctx, repo.Registry)
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return PushResult{}, err
	}
	present, err := te.has(ctx, puller, pinned)
	if err != nil {
		return PushResult{}, err
	}
	pending := tags
	if present {
		logf(te.log, "%s: already present, nothing copied", pinned.Name())
	} else {
		first := repo.Tag(tags[0])
		logf(te.log, "copying %s to %s", ref.Name(), first.Name())
		if desc.MediaType.IsIndex() {
			idx, ierr := desc.ImageIndex()
			if ierr == nil {
				err = remote.WriteIndex(first, idx, opts...)
			} else {
				err = ierr
			}
		} else {
			img, ierr := desc.Image()
			if ierr == nil {
				err = remote.Write(first, img, opts...)
			} else {
				err = ierr
			}
		}
		if err != nil {
			return PushResult{}, te.explain("push", repo.RegistryStr(), err)
		}
		res.Pushed = true
		pending = tags[1:]
	}
	for _, t := range pending {
		tag := repo.Tag(t)
		if d, err := puller.Head(ctx, tag); err == nil && d.Digest.String() == digest {
			continue
		} else if err != nil && !isNotFound(err) {
			return PushResult{}, te.explain("look up tags", repo.RegistryStr(), err)
		}
		if err := remote.Tag(tag, desc, opts...); err != nil {
			return PushResult{}, te.explain("tag images", repo.RegistryStr(), err)
		}
		logf(te.log, "tagged %s", tag.Name())
	}
	return res, nil
}

// Extract writes the filesystem of the image ref (its layers applied in
// order, whiteouts honoured) into dir, and returns the digest ref resolved
// to. For an image built as `WithRootfs(site)` that is the site itself.
// From an index it takes o.Platform's image, or the only one.
func Extract(ctx context.Context, ref, dir string, o PullOptions) (string, error) {
	e := endpoint{username: o.Username, password: o.Password, insecure: o.Insecure, dial: o.Dial, log: o.Log}
	if err := e.validate(); err != nil {
		return "", err
	}
	r, err := name.ParseReference(ref, e.nameOptions()...)
	if err != nil {
		return "", fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	opts := e.remoteOptions(ctx, r.Context().Registry)
	desc, err := remote.Get(r, opts...)
	if isNotFound(err) {
		return "", e.redact(fmt.Errorf("image %s not found on the registry (HTTP 404): %w", r.Name(), err))
	}
	if err != nil {
		return "", e.explain("pull", r.Context().RegistryStr(), err)
	}
	img, err := singleImage(desc, o.Platform)
	if err != nil {
		return "", e.redact(fmt.Errorf("image %s: %w", r.Name(), err))
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	if err := untar(rc, r.Name(), dir); err != nil {
		return "", e.explain("pull", r.Context().RegistryStr(), err)
	}
	logf(e.log, "extracted %s into %s", r.Name(), dir)
	return desc.Digest.String(), nil
}

// singleImage is the image of desc: itself, or the index's image for
// platform (the only one when platform is empty).
func singleImage(desc *remote.Descriptor, platform string) (v1.Image, error) {
	if !desc.MediaType.IsIndex() {
		return desc.Image()
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var want *v1.Platform
	if platform != "" {
		if want, err = v1.ParsePlatform(platform); err != nil {
			return nil, fmt.Errorf("invalid platform %q: %w", platform, err)
		}
	}
	var found []v1.Descriptor
	for _, d := range m.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		if want == nil || (d.Platform != nil && d.Platform.Satisfies(*want)) {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		return nil, fmt.Errorf("the index has %d matching images (platform %q): name one platform", len(found), platform)
	}
	return idx.Image(found[0].Digest)
}

// untar unpacks the regular files and directories of the tar stream r
// (named name in errors) into dir, refusing entries outside it; links and
// devices are skipped.
func untar(r io.Reader, name, dir string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s is not a readable tar file: %w", name, err)
		}
		rel := filepath.Clean(filepath.FromSlash(strings.TrimPrefix(hdr.Name, "/")))
		if rel == "." {
			continue
		}
		if filepath.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%s holds an entry outside the archive (%q): refusing to unpack it", name, hdr.Name)
		}
		target := filepath.Join(dir, rel)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := writeFile(target, tr); err != nil {
				return err
			}
		}
	}
}
