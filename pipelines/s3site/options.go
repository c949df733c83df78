package s3site

import (
	"github.com/stevedore-ci/stevedore/pipelines/internal/wait"

	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Defaults applied by Publish to zero-valued Options fields.
const (
	DefaultConcurrency         = 8
	DefaultInvalidateThreshold = 15
	DefaultPollInterval        = 10 * time.Second
	DefaultWaitTimeout         = 15 * time.Minute
)

// Options says where and how to publish.
type Options struct {
	// AWS is the configuration from awsconf.Load (region, credentials,
	// endpoint override, retryer).
	AWS aws.Config
	// PathStyle addresses the bucket as ENDPOINT/bucket/key instead of
	// bucket.ENDPOINT/key: needed for MinIO-like gateways and tests.
	PathStyle bool

	// Bucket receives the files; it must already exist.
	Bucket string
	// Prefix is an optional key prefix ("site/v2"); the local directory maps
	// to PREFIX/relative/path. Only objects under it are compared or deleted.
	Prefix string
	// DistributionID of the CloudFront distribution to invalidate; empty
	// skips invalidation.
	DistributionID string
	// OriginPathIsPrefix says the distribution's origin path is /Prefix, so
	// viewer URLs do not contain Prefix and invalidation paths drop it.
	OriginPathIsPrefix bool

	// Delete removes objects under Prefix that are no longer in the build.
	Delete bool
	// DryRun lists what would change (Summary.Changes) and writes nothing.
	DryRun bool
	// Concurrency bounds parallel HeadObject and PutObject calls (default 8).
	Concurrency int
	// Rules choose Cache-Control per file; they are tried before the
	// built-in defaults, first match wins. See ParseRules.
	Rules []Rule
	// InvalidateThreshold is the most paths invalidated one by one; beyond
	// it Publish invalidates /* (default 15).
	InvalidateThreshold int

	// WaitInvalidation polls GetInvalidation until it is Completed, every
	// PollInterval (default 10s), giving up after WaitTimeout (default 15m).
	WaitInvalidation bool
	PollInterval     time.Duration
	WaitTimeout      time.Duration
	// Sleep waits between polls; tests replace it. Default: a timer that
	// stops when ctx is done.
	Sleep func(ctx context.Context, d time.Duration) error

	// Log receives one line per step; nil discards. Calls are serialized,
	// so Log need not be safe for concurrent use.
	Log func(string)
}

// withDefaults fills zero values and checks what can be checked offline.
func (o Options) withDefaults() (Options, error) {
	if o.Bucket == "" {
		return o, errors.New("no bucket: pass the S3 bucket that serves the site")
	}
	if strings.ContainsAny(o.Bucket, "/ ") {
		return o, fmt.Errorf("invalid bucket name %q: give the bare name, without s3:// or a path (use Prefix for a folder)", o.Bucket)
	}
	o.Prefix = normalizePrefix(o.Prefix)
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.InvalidateThreshold <= 0 {
		o.InvalidateThreshold = DefaultInvalidateThreshold
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = DefaultWaitTimeout
	}
	if o.Sleep == nil {
		o.Sleep = wait.Sleep
	}
	if o.Log == nil {
		o.Log = func(string) {}
	}
	var mu sync.Mutex
	log := o.Log
	o.Log = func(s string) {
		mu.Lock()
		defer mu.Unlock()
		log(s)
	}
	return o, nil
}

// normalizePrefix turns "/a/b", "a/b/" and "a/b" into "a/b/"; "" stays "".
func normalizePrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}
