package ocipush

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush/ocitest"
)

// layoutDir unpacks a layout tar into a directory.
func layoutDir(t *testing.T, tarPath string) string {
	t.Helper()
	dir := t.TempDir()
	if err := extractTar(tarPath, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// gzipFile writes a gzipped copy of path.
func gzipFile(t *testing.T, path string) string {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out := filepath.Join(t.TempDir(), "image.tar.gz")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := io.Copy(zw, in); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

// writeTar writes a tar holding the given files.
func writeTar(t *testing.T, files map[string]string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.tar")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestInspectSources(t *testing.T) {
	img := ocitest.Image(t, "linux/arm/v7")
	idx := ocitest.Index(t, "linux/amd64", "linux/arm64")
	imgTar := ocitest.ImageTar(t, img)
	cases := []struct {
		name      string
		src       string
		digest    string
		platforms []string
		index     bool
	}{
		{"layout tar with one image", imgTar, digestOf(t, img), []string{"linux/arm/v7"}, false},
		{"gzipped layout tar", gzipFile(t, imgTar), digestOf(t, img), []string{"linux/arm/v7"}, false},
		{"layout directory", layoutDir(t, imgTar), digestOf(t, img), []string{"linux/arm/v7"}, false},
		{"nested index", ocitest.IndexTar(t, idx, true), digestOf(t, idx), []string{"linux/amd64", "linux/arm64"}, true},
		{"flat index", ocitest.IndexTar(t, idx, false), digestOf(t, idx), []string{"linux/amd64", "linux/arm64"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Inspect(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if info.Digest != tc.digest || !slices.Equal(info.Platforms, tc.platforms) {
				t.Errorf("got %+v, want digest %s platforms %v", info, tc.digest, tc.platforms)
			}
			if isIndex := strings.Contains(info.MediaType, "index"); isIndex != tc.index {
				t.Errorf("media type %s, want index=%v", info.MediaType, tc.index)
			}
		})
	}
}

func TestInspectRejects(t *testing.T) {
	emptyLayout := t.TempDir()
	if _, err := layout.Write(emptyLayout, empty.Index); err != nil {
		t.Fatal(err)
	}
	twoImages := t.TempDir()
	p, err := layout.Write(twoImages, mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: ocitest.Image(t, "linux/amd64")},
		mutate.IndexAddendum{Add: ocitest.Image(t, "linux/amd64")}))
	if err != nil || p == "" {
		t.Fatal(err)
	}
	notTar := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(notTar, []byte(strings.Repeat("not a tar archive ", 64)), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, src, want string }{
		{"missing file", filepath.Join(t.TempDir(), "nope.tar"), "does not exist"},
		{"not a tar", notTar, "not a readable tar file"},
		{"tar without image", writeTar(t, map[string]string{"hello.txt": "hi"}), "neither an OCI image layout"},
		{"entry escaping the archive", writeTar(t, map[string]string{"../evil": "x"}), "outside the archive"},
		{"layout without manifests", emptyLayout, "holds no image"},
		{"two images without platforms", twoImages, "cannot tell which to push"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Inspect(tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
