package s3site

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// sha256MetaKey is the user metadata (x-amz-meta-sha256) Publish writes with
// every object, so later runs can compare contents whatever the ETag is.
const sha256MetaKey = "sha256"

// remoteObject is what the listing says about one object.
type remoteObject struct {
	size int64
	etag string // without quotes
}

// listRemote lists every object under prefix. "Folder" markers (keys ending
// in "/") are left out: they are never compared nor deleted.
func listRemote(ctx context.Context, api s3API, bucket, prefix string) (map[string]remoteObject, error) {
	objs := map[string]remoteObject{}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	pages := s3.NewListObjectsV2Paginator(api, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, awsconf.Explain("s3:ListBucket", fmt.Errorf("listing s3://%s/%s: %w", bucket, prefix, err))
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if key == "" || strings.HasSuffix(key, "/") {
				continue
			}
			objs[key] = remoteObject{size: aws.ToInt64(o.Size), etag: strings.Trim(aws.ToString(o.ETag), `"`)}
		}
	}
	return objs, nil
}

// compareObject reads an object's metadata and says why it must be
// re-uploaded, or "" when it already matches f.
func compareObject(ctx context.Context, api s3API, bucket string, f localFile) (reason string, err error) {
	out, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(f.key)})
	if err != nil {
		var nf *types.NotFound
		if errors.As(err, &nf) {
			return "object vanished since the listing", nil
		}
		return "", awsconf.Explain("s3:GetObject", fmt.Errorf("reading metadata of %s: %w", f.key, err))
	}
	etag := strings.Trim(aws.ToString(out.ETag), `"`)
	switch sum, ok := out.Metadata[sha256MetaKey]; {
	case ok && sum != f.sha256:
		return "content changed (sha256 differs)", nil
	case !ok && strings.Contains(etag, "-"):
		return "no sha256 metadata and a multipart ETag: cannot compare", nil
	case !ok && etag != f.md5:
		return "content changed (ETag differs from MD5)", nil
	}
	if got := aws.ToString(out.ContentType); got != f.contentType {
		return fmt.Sprintf("Content-Type changed (%q -> %q)", got, f.contentType), nil
	}
	if got := aws.ToString(out.CacheControl); got != f.cacheControl {
		return fmt.Sprintf("Cache-Control changed (%q -> %q)", got, f.cacheControl), nil
	}
	return "", nil
}
