package ocipush

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// writeLayoutTar streams img as an OCI image layout in a tar, the format
// AsTarball writes, keeping the manifest bytes (and so the digest) intact.
func writeLayoutTar(w io.Writer, ref name.Reference, img v1.Image) error {
	tw := tar.NewWriter(w)
	if err := writeTarFile(tw, "oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	written := map[v1.Hash]bool{}
	for _, l := range layers {
		if err := writeLayerBlob(tw, l, written); err != nil {
			return err
		}
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	if err := writeTarFile(tw, blobPath(cfgName), rawCfg); err != nil {
		return err
	}
	rawManifest, err := img.RawManifest()
	if err != nil {
		return err
	}
	desc, err := imageDescriptor(ref, img, rawManifest)
	if err != nil {
		return err
	}
	if err := writeTarFile(tw, blobPath(desc.Digest), rawManifest); err != nil {
		return err
	}
	index, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{desc}})
	if err != nil {
		return err
	}
	if err := writeTarFile(tw, "index.json", index); err != nil {
		return err
	}
	return tw.Close()
}

// imageDescriptor describes the manifest for index.json, naming the image
// the way buildkit's OCI exporter does.
func imageDescriptor(ref name.Reference, img v1.Image, rawManifest []byte) (v1.Descriptor, error) {
	h, size, err := v1.SHA256(bytes.NewReader(rawManifest))
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return v1.Descriptor{}, err
	}
	desc := v1.Descriptor{MediaType: mt, Digest: h, Size: size, Platform: cfg.Platform()}
	if tag, ok := ref.(name.Tag); ok {
		desc.Annotations = map[string]string{
			"io.containerd.image.name":          tag.Name(),
			"org.opencontainers.image.ref.name": tag.TagStr(),
		}
	}
	return desc, nil
}

// writeLayerBlob streams one compressed layer into the tar, once per digest.
func writeLayerBlob(tw *tar.Writer, l v1.Layer, written map[v1.Hash]bool) error {
	h, err := l.Digest()
	if err != nil {
		return err
	}
	if written[h] {
		return nil
	}
	size, err := l.Size()
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := tw.WriteHeader(&tar.Header{Name: blobPath(h), Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	n, err := io.Copy(tw, rc)
	if err != nil {
		return fmt.Errorf("cannot download layer %s: %w", h, err)
	}
	if n != size {
		return fmt.Errorf("layer %s: got %d bytes, the manifest says %d", h, n, size)
	}
	written[h] = true
	return nil
}

// writeTarFile adds one small regular file to the tar.
func writeTarFile(tw *tar.Writer, name string, data []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := tw.Write(data)
	return err
}

// blobPath is where an OCI layout stores the blob with digest h.
func blobPath(h v1.Hash) string {
	return "blobs/" + h.Algorithm + "/" + h.Hex
}
