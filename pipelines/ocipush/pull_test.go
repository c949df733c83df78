package ocipush

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush/ocitest"
)

func pullOpts(reg *ocitest.Registry) PullOptions {
	return PullOptions{Username: reg.Username, Password: reg.Password}
}

func TestPullRoundTrip(t *testing.T) {
	reg := ecrRegistry(t)
	img := ocitest.Image(t, "linux/amd64")
	single := mustPush(t, ocitest.ImageTar(t, img), pushOpts(reg, "app", "v1"))
	idx := ocitest.Index(t, "linux/amd64", "linux/arm64")
	multi := mustPush(t, ocitest.IndexTar(t, idx, true), pushOpts(reg, "multi", "v1"))
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	amd64, arm64 := im.Manifests[0].Digest.String(), im.Manifests[1].Digest.String()

	cases := []struct {
		name, ref, platform         string
		wantDigest, wantImageDigest string
		wantPlatform                string
	}{
		{"image by digest", single.Ref, "", single.Digest, single.Digest, "linux/amd64"},
		{"image by tag", reg.Repo("app:v1"), "", single.Digest, single.Digest, "linux/amd64"},
		{"index, default platform", multi.Ref, "", multi.Digest, amd64, "linux/amd64"},
		{"index, arm64", reg.Repo("multi:v1"), "linux/arm64", multi.Digest, arm64, "linux/arm64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "pulled.tar")
			o := pullOpts(reg)
			o.Platform = tc.platform
			res, err := Pull(context.Background(), tc.ref, dst, o)
			if err != nil {
				t.Fatal(err)
			}
			if res.Digest != tc.wantDigest || res.ImageDigest != tc.wantImageDigest || res.Platform != tc.wantPlatform {
				t.Errorf("got %+v, want digest %s image %s platform %s", res, tc.wantDigest, tc.wantImageDigest, tc.wantPlatform)
			}
			if local, err := LocalDigest(dst); err != nil || local != tc.wantImageDigest {
				t.Errorf("the written tarball holds %s (%v), want %s", local, err, tc.wantImageDigest)
			}
		})
	}
}

func TestPullDockerFormat(t *testing.T) {
	reg := ecrRegistry(t)
	img := ocitest.Image(t, "linux/amd64")
	res := mustPush(t, ocitest.ImageTar(t, img), pushOpts(reg, "app", "v1"))
	dst := filepath.Join(t.TempDir(), "pulled.tar")
	o := pullOpts(reg)
	o.Format = FormatDocker
	if _, err := Pull(context.Background(), res.Ref, dst, o); err != nil {
		t.Fatal(err)
	}
	got, err := tarball.ImageFromPath(dst, nil)
	if err != nil {
		t.Fatalf("the docker tarball does not load: %v", err)
	}
	gotCfg, err := got.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	wantCfg, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if gotCfg != wantCfg {
		t.Errorf("config %s, want %s", gotCfg, wantCfg)
	}
}

func TestPullFailures(t *testing.T) {
	reg := ecrRegistry(t)
	res := mustPush(t, ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64")), pushOpts(reg, "app", "v1"))
	wrong := ocitest.ECRPassword(t)
	cases := []struct {
		name, ref  string
		edit       func(*PullOptions)
		want       string
		missingDir bool
	}{
		{"wrong password", res.Ref, func(o *PullOptions) { o.Password = wrong }, "refused the credentials for user AWS (HTTP 401)", false},
		{"missing tag", reg.Repo("app:nope"), func(*PullOptions) {}, "not found on the registry (HTTP 404)", false},
		{"other platform", res.Ref, func(o *PullOptions) { o.Platform = "linux/s390x" }, "is for linux/amd64, not linux/s390x", false},
		{"bad platform", res.Ref, func(o *PullOptions) { o.Platform = "linux" }, "invalid platform", false},
		{"bad format", res.Ref, func(o *PullOptions) { o.Format = "zip" }, "unknown tarball format", false},
		{"bad reference", "app:v1:v2", func(*PullOptions) {}, "invalid image reference", false},
		{"output directory missing", res.Ref, func(*PullOptions) {}, "cannot create the output file", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := filepath.Join(t.TempDir(), "pulled.tar")
			if tc.missingDir {
				dst = filepath.Join(t.TempDir(), "no", "such", "dir", "pulled.tar")
			}
			o := pullOpts(reg)
			tc.edit(&o)
			_, err := Pull(context.Background(), tc.ref, dst, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), wrong) {
				t.Error("the password leaked into the error")
			}
			if exists(dst) {
				t.Error("a failed pull left an output file")
			}
		})
	}
}

func TestPullMissingPlatformOfIndex(t *testing.T) {
	reg := ecrRegistry(t)
	res := mustPush(t, ocitest.IndexTar(t, ocitest.Index(t, "linux/amd64", "linux/arm64"), false), pushOpts(reg, "app", "v1"))
	o := pullOpts(reg)
	o.Platform = "linux/s390x"
	_, err := Pull(context.Background(), res.Ref, filepath.Join(t.TempDir(), "x.tar"), o)
	if err == nil || !strings.Contains(err.Error(), "has no linux/s390x image") {
		t.Errorf("got %v, want an error naming the missing platform", err)
	}
}
