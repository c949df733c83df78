package s3site

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// uploadPhases orders uploads for zero downtime: every asset before any
// HTML, so a visitor who gets a new page finds the assets it references.
func uploadPhases(files []localFile) [][]localFile {
	var assets, pages []localFile
	for _, f := range files {
		if isHTML(f.rel) {
			pages = append(pages, f)
		} else {
			assets = append(assets, f)
		}
	}
	return [][]localFile{assets, pages}
}

// uploadResult records what reached the bucket, also when a phase failed.
type uploadResult struct {
	mu      sync.Mutex
	written []string
	bytes   int64
}

func (r *uploadResult) add(f localFile) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.written = append(r.written, f.key)
	r.bytes += f.size
}

// uploadAll uploads the phases in order, each with a bounded worker pool.
// The first failure cancels the pool: no further upload starts, and the
// next phase never runs.
func uploadAll(ctx context.Context, api s3API, o Options, files []localFile) (*uploadResult, error) {
	res := &uploadResult{}
	for _, phase := range uploadPhases(files) {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(o.Concurrency)
		for _, f := range phase {
			if gctx.Err() != nil {
				break
			}
			g.Go(func() error {
				if gctx.Err() != nil {
					return nil
				}
				if err := putFile(gctx, api, o.Bucket, f); err != nil {
					return err
				}
				res.add(f)
				o.Log(fmt.Sprintf("uploaded %s (%s; %s)", f.key, f.contentType, f.cacheControl))
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return res, err
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// putFile streams one file to S3 with its headers and its SHA-256 as
// metadata. The body is the open file, so retries can rewind it.
func putFile(ctx context.Context, api s3API, bucket string, f localFile) error {
	fh, err := os.Open(f.path)
	if err != nil {
		return fmt.Errorf("opening %s: %w", f.path, err)
	}
	defer fh.Close()
	_, err = api.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(f.key),
		Body:          fh,
		ContentLength: aws.Int64(f.size),
		ContentType:   aws.String(f.contentType),
		CacheControl:  aws.String(f.cacheControl),
		Metadata:      map[string]string{sha256MetaKey: f.sha256},
	})
	if err != nil {
		return awsconf.Explain("s3:PutObject", fmt.Errorf("uploading %s: %w", f.key, err))
	}
	return nil
}
