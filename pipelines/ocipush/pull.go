package ocipush

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// defaultPlatform is the platform Pull picks from an index by default.
const defaultPlatform = "linux/amd64"

// Pull fetches ref (repository:tag or repository@digest) and writes the
// image to the tarball dst, in a format Container.Import loads. From a
// multi-platform index it takes the image for o.Platform.
func Pull(ctx context.Context, ref, dst string, o PullOptions) (PullResult, error) {
	e := endpoint{username: o.Username, password: o.Password, insecure: o.Insecure, dial: o.Dial, log: o.Log}
	if err := e.validate(); err != nil {
		return PullResult{}, err
	}
	format, platform, err := pullSettings(o)
	if err != nil {
		return PullResult{}, err
	}
	if dst == "" {
		return PullResult{}, errors.New("no output file given for the pulled image")
	}
	r, err := name.ParseReference(ref, e.nameOptions()...)
	if err != nil {
		return PullResult{}, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	logf(e.log, "pulling %s", r.Name())
	opts := append(e.remoteOptions(ctx, r.Context().Registry), remote.WithPlatform(*platform))
	desc, err := remote.Get(r, opts...)
	if isNotFound(err) {
		return PullResult{}, e.redact(fmt.Errorf("image %s not found on the registry (HTTP 404): check the repository and the tag or digest: %w", r.Name(), err))
	}
	if err != nil {
		return PullResult{}, e.explain("pull", r.Context().RegistryStr(), err)
	}
	img, err := desc.Image()
	if err != nil {
		return PullResult{}, e.redact(fmt.Errorf("image %s has no %s image: %w", r.Name(), platform, err))
	}
	imgDigest, err := img.Digest()
	if err != nil {
		return PullResult{}, e.explain("pull", r.Context().RegistryStr(), err)
	}
	res := PullResult{Ref: ref, Digest: desc.Digest.String(), ImageDigest: imgDigest.String(), File: dst, Format: format}
	if res.Platform, err = imagePlatform(img); err != nil {
		return PullResult{}, e.explain("pull", r.Context().RegistryStr(), err)
	}
	if got, _ := v1.ParsePlatform(res.Platform); o.Platform != "" && res.Platform != "" && !got.Satisfies(*platform) {
		return PullResult{}, fmt.Errorf("image %s is for %s, not %s: build it for %s or pull another platform", r.Name(), res.Platform, platform, platform)
	}
	err = writeAtomically(dst, func(w io.Writer) error { return writeImage(w, r, img, format) })
	if errors.As(err, new(*fs.PathError)) {
		return PullResult{}, e.redact(err) // a local file problem, not the registry's
	}
	if err != nil {
		return PullResult{}, e.explain("pull", r.Context().RegistryStr(), err)
	}
	logf(e.log, "wrote %s (%s, %s) to %s", res.ImageDigest, res.Platform, format, dst)
	return res, nil
}

// pullSettings validates and defaults the format and platform of o.
func pullSettings(o PullOptions) (string, *v1.Platform, error) {
	format := o.Format
	if format == "" {
		format = FormatOCI
	}
	if format != FormatOCI && format != FormatDocker {
		return "", nil, fmt.Errorf("unknown tarball format %q: want %q or %q", format, FormatOCI, FormatDocker)
	}
	spec := o.Platform
	if spec == "" {
		spec = defaultPlatform
	}
	p, err := v1.ParsePlatform(spec)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return "", nil, fmt.Errorf("invalid platform %q: want os/arch[/variant], e.g. linux/amd64", spec)
	}
	return format, p, nil
}

// imagePlatform reads the platform from the image config.
func imagePlatform(img v1.Image) (string, error) {
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	if p := cfg.Platform(); p != nil {
		return p.String(), nil
	}
	return "", nil
}

// writeImage writes img as a tarball of the given format.
func writeImage(w io.Writer, ref name.Reference, img v1.Image, format string) error {
	if format == FormatDocker {
		return tarball.Write(ref, img, w)
	}
	return writeLayoutTar(w, ref, img)
}

// writeAtomically writes dst through write, via a temporary file in the
// same directory, so a failed pull never leaves a truncated tarball.
func writeAtomically(dst string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(dst), ".stevedore-oci-*")
	if err != nil {
		return fmt.Errorf("cannot create the output file %s: %w", dst, err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), dst)
}
