package s3site

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// localFile is one file of the built site with what S3 should store for it.
type localFile struct {
	rel          string // slash path relative to the site root
	key          string // Prefix + rel
	path         string // on disk
	size         int64
	md5          string // hex
	sha256       string // hex
	contentType  string
	cacheControl string
}

// scanSite walks dir and hashes every regular file (symlinks to files are
// followed), sorted by key. An empty site is an error: publishing it with
// Delete would wipe the bucket.
func scanSite(dir, prefix string, rules []matcher) ([]localFile, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("site directory %s: %w (did the frontend build run?)", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("site directory %s is a file: pass the build output folder (e.g. out/ or dist/)", dir)
	}
	var files []localFile
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := os.Stat(p) // follows symlinks
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		relOS, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(relOS)
		f := localFile{rel: rel, key: prefix + rel, path: p, size: fi.Size(),
			contentType: contentTypeFor(rel), cacheControl: cacheControlFor(rel, rules)}
		if f.md5, f.sha256, err = hashFile(p); err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading site directory %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("site directory %s is empty: nothing to publish (did the frontend build run?)", dir)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].key < files[j].key })
	return files, nil
}

// hashFile reads a file once for both digests: MD5 matches single-part S3
// ETags, SHA-256 is what Publish stores as metadata.
func hashFile(p string) (md5hex, sha256hex string, err error) {
	f, err := os.Open(p)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	m, s := md5.New(), sha256.New()
	if _, err := io.Copy(io.MultiWriter(m, s), f); err != nil {
		return "", "", err
	}
	return hex.EncodeToString(m.Sum(nil)), hex.EncodeToString(s.Sum(nil)), nil
}
