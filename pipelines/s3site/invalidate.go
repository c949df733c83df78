package s3site

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// invalidationPaths turns changed keys into viewer paths: "/key", plus "/x/"
// and "/x" for x/index.html and "/" for the root index.html, since
// CloudFront caches each URL form apart. Beyond threshold paths it returns
// just "/*": one wildcard costs the same as one path.
func invalidationPaths(keys []string, o Options) []string {
	set := map[string]bool{}
	for _, key := range keys {
		rel := key
		if o.OriginPathIsPrefix {
			rel = strings.TrimPrefix(key, o.Prefix)
		}
		set["/"+escapePath(rel)] = true
		if path.Base(rel) != "index.html" {
			continue
		}
		if dir := path.Dir(rel); dir == "." {
			set["/"] = true
		} else {
			set["/"+escapePath(dir)+"/"] = true
			set["/"+escapePath(dir)] = true
		}
	}
	if len(set) > o.InvalidateThreshold {
		return []string{"/*"}
	}
	paths := make([]string, 0, len(set))
	for p := range set {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

// escapePath URL-encodes each segment, as CloudFront expects for spaces,
// non-ASCII and "*" (which would otherwise be a wildcard).
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// invalidate creates the invalidation and, when asked, waits for it.
func invalidate(ctx context.Context, api cloudFrontAPI, o Options, paths []string) (id, status string, err error) {
	out, err := api.CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{
		DistributionId: aws.String(o.DistributionID),
		InvalidationBatch: &types.InvalidationBatch{
			CallerReference: aws.String(callerReference()),
			Paths:           &types.Paths{Quantity: aws.Int32(int32(len(paths))), Items: paths},
		},
	})
	if err != nil {
		return "", "", awsconf.Explain("cloudfront:CreateInvalidation",
			fmt.Errorf("invalidating %d paths on distribution %s: %w", len(paths), o.DistributionID, err))
	}
	id, status = aws.ToString(out.Invalidation.Id), aws.ToString(out.Invalidation.Status)
	o.Log(fmt.Sprintf("CloudFront invalidation %s created for %s", id, strings.Join(paths, " ")))
	if !o.WaitInvalidation || status == "Completed" {
		return id, status, nil
	}
	status, err = waitInvalidation(ctx, api, o, id)
	return id, status, err
}

// waitInvalidation polls until Completed, at most WaitTimeout/PollInterval
// times; counting polls instead of reading a clock keeps tests instant.
func waitInvalidation(ctx context.Context, api cloudFrontAPI, o Options, id string) (string, error) {
	polls := max(1, int((o.WaitTimeout+o.PollInterval-1)/o.PollInterval))
	status := ""
	for range polls {
		if err := o.Sleep(ctx, o.PollInterval); err != nil {
			return status, fmt.Errorf("waiting for CloudFront invalidation %s: %w", id, err)
		}
		out, err := api.GetInvalidation(ctx, &cloudfront.GetInvalidationInput{
			DistributionId: aws.String(o.DistributionID), Id: aws.String(id)})
		if err != nil {
			return status, awsconf.Explain("cloudfront:GetInvalidation", fmt.Errorf("waiting for invalidation %s: %w", id, err))
		}
		status = aws.ToString(out.Invalidation.Status)
		if status == "Completed" {
			o.Log("CloudFront invalidation " + id + " completed")
			return status, nil
		}
	}
	return status, fmt.Errorf("CloudFront invalidation %s still %s after %s: it goes on in the background; check it in the CloudFront console or raise the wait timeout", id, status, o.WaitTimeout)
}

// callerReference must differ between calls, or CloudFront treats a new
// request as a replay of the old one.
func callerReference() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("stevedore-%d-%s", time.Now().UnixNano(), hex.EncodeToString(b))
}
