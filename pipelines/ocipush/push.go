package ocipush

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Push uploads the image in src (an AsTarball tar, a docker save tar, or an
// OCI layout directory) to o.Repository and points every tag at it. When
// the registry already holds the digest, nothing is uploaded: only tags
// that point elsewhere are moved. A multi-platform source is pushed as an
// index, so the digest is what `docker pull` resolves.
func Push(ctx context.Context, src string, o PushOptions) (PushResult, error) {
	e := endpoint{username: o.Username, password: o.Password, insecure: o.Insecure, dial: o.Dial, log: o.Log}
	tags, err := normalizeTags(o.Tags)
	if err != nil {
		return PushResult{}, err
	}
	if err := e.validate(); err != nil {
		return PushResult{}, err
	}
	repo, err := parseRepository(o.Repository, e)
	if err != nil {
		return PushResult{}, err
	}
	root, cleanup, err := openSource(src)
	if err != nil {
		return PushResult{}, err
	}
	defer cleanup()
	info, err := root.info()
	if err != nil {
		return PushResult{}, err
	}
	pinned := repo.Digest(info.Digest)
	res := PushResult{Digest: info.Digest, Ref: pinned.Name(), Tags: tags, Platforms: info.Platforms}
	logf(e.log, "image %s (%s)", info.Digest, strings.Join(info.Platforms, ", "))

	opts := e.remoteOptions(ctx, repo.Registry)
	puller, err := remote.NewPuller(opts...)
	if err != nil {
		return PushResult{}, err
	}
	present, err := e.has(ctx, puller, pinned)
	if err != nil {
		return PushResult{}, err
	}
	pending := tags
	if present {
		logf(e.log, "%s: already present, nothing pushed", pinned.Name())
	} else {
		first := repo.Tag(tags[0])
		logf(e.log, "pushing to %s", first.Name())
		if err := e.upload(ctx, first, root, opts, o.Jobs); err != nil {
			return PushResult{}, err
		}
		logf(e.log, "pushed %s", pinned.Name())
		res.Pushed = true
		pending = tags[1:]
	}
	if err := e.ensureTags(ctx, puller, repo, pending, root, info.Digest, opts); err != nil {
		return PushResult{}, err
	}
	return res, nil
}

// has reports whether the registry already holds the manifest ref names.
// A 403 counts as absent, as some registries answer 403 for unknown
// manifests; a real lack of rights then shows up on upload.
func (e endpoint) has(ctx context.Context, puller *remote.Puller, ref name.Digest) (bool, error) {
	_, err := puller.Head(ctx, ref)
	var terr *transport.Error
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	case errors.As(err, &terr) && terr.StatusCode == http.StatusForbidden:
		logf(e.log, "registry answered 403 when asked for %s; pushing anyway", ref.DigestStr())
		return false, nil
	}
	return false, e.explain("look up images", ref.RegistryStr(), err)
}

// upload pushes root and its blobs under ref; blobs and child manifests the
// registry already holds are skipped.
func (e endpoint) upload(ctx context.Context, ref name.Tag, root artifact, opts []remote.Option, jobs int) error {
	updates := make(chan v1.Update, 16)
	done := reportProgress(e.log, updates)
	opts = append(opts, remote.WithProgress(updates))
	if jobs > 0 {
		opts = append(opts, remote.WithJobs(jobs))
	}
	err := remote.Push(ref, root.taggable(), opts...)
	done()
	return e.explain("push", ref.RegistryStr(), err)
}

// ensureTags points each tag at digest, writing only the manifests of tags
// that are missing or point elsewhere.
func (e endpoint) ensureTags(ctx context.Context, puller *remote.Puller, repo name.Repository, tags []string, root artifact, digest string, opts []remote.Option) error {
	for _, t := range tags {
		ref := repo.Tag(t)
		desc, err := puller.Head(ctx, ref)
		if err == nil && desc.Digest.String() == digest {
			logf(e.log, "tag %s already points at %s", t, digest)
			continue
		}
		if err != nil && !isNotFound(err) {
			return e.explain("look up tags", repo.RegistryStr(), err)
		}
		if err := remote.Tag(ref, root.taggable(), opts...); err != nil {
			return e.explain("tag images", repo.RegistryStr(), err)
		}
		logf(e.log, "tagged %s", ref.Name())
	}
	return nil
}
