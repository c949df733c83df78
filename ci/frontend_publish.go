package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stevedore-ci/stevedore/pipelines/cfn"
	"github.com/stevedore-ci/stevedore/pipelines/s3site"
)

// Build the frontend, sync it to its S3 bucket and invalidate CloudFront.
//
// Only new or changed files are uploaded (assets first, HTML last), hashed assets
// get immutable cache headers and HTML no-cache, then CloudFront is
// invalidated for the changed paths only. Bucket and distribution come from
// the arguments or from the stack outputs FrontendBucketName and
// DistributionId. Never cached.
// +cache="never"
func (m *Stevedore) PublishFrontend(
	ctx context.Context,
	// S3 bucket (default: the FrontendBucketName output of --stack).
	// +optional
	bucket string,
	// CloudFront distribution id (default: the DistributionId output of --stack).
	// +optional
	distributionID string,
	// CloudFormation stacks whose outputs name the bucket and distribution.
	// +optional
	stack []string,
	// Key prefix inside the bucket.
	// +optional
	prefix string,
	// Delete objects that are no longer in the build.
	// +optional
	delete bool,
	// List what would change without touching the bucket.
	// +optional
	dryRun bool,
	// Wait until the CloudFront invalidation completes.
	// +optional
	wait bool,
	// Cache-Control rules PATTERN=VALUE, first match wins, e.g. "*.html=no-cache"
	// (values immutable, revalidate and short are presets).
	// +optional
	cacheRule []string,
) (string, error) {
	app, err := m.load(ctx)
	if err != nil {
		return "", err
	}
	if app.Frontend == nil {
		return "", errors.New("the app description has no frontend: add a frontend section to stevedore.yaml or call with-frontend")
	}
	rules, err := s3site.ParseRules(strings.Join(cacheRule, "\n"))
	if err != nil {
		return "", err
	}
	if err := m.requireCallerSource("publish-frontend"); err != nil {
		return "", err
	}
	cfg, cleanup, err := m.awsConfig(ctx, "publish-frontend")
	if err != nil {
		return "", err
	}
	defer cleanup()
	if bucket, distributionID, err = frontendTarget(ctx, cfg, bucket, distributionID, stack); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "stevedore-site-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if _, err := m.frontendDist(app.Frontend).Export(ctx, dir); err != nil {
		return "", fmt.Errorf("building the frontend: %w", err)
	}
	sum, err := s3site.Publish(ctx, dir, s3site.Options{
		AWS: cfg, Bucket: bucket, Prefix: prefix, DistributionID: distributionID,
		Delete: delete, DryRun: dryRun, Rules: rules, WaitInvalidation: wait,
		PathStyle: cfg.BaseEndpoint != nil, // emulators and gateways behind with-aws --endpoint
		Log:       func(s string) { log("%s", s) },
	})
	if err != nil {
		return "", err
	}
	return sum.String(), nil
}

// frontendTarget fills bucket and distribution from stack outputs.
func frontendTarget(ctx context.Context, cfg aws.Config, bucket, distribution string, stacks []string) (string, string, error) {
	if bucket != "" && (distribution != "" || len(stacks) == 0) {
		return bucket, distribution, nil
	}
	if len(stacks) == 0 {
		return "", "", errors.New("no bucket: pass --bucket (and --distribution-id), or --stack naming the stack with the FrontendBucketName output")
	}
	out, err := cfn.NewReader(cfg).Outputs(ctx, stacks...)
	if err != nil {
		return "", "", err
	}
	if bucket == "" {
		if bucket = out["FrontendBucketName"]; bucket == "" {
			return "", "", fmt.Errorf("stacks %s have no FrontendBucketName output: pass --bucket", strings.Join(stacks, ", "))
		}
	}
	if distribution == "" {
		distribution = out["DistributionId"]
	}
	return bucket, distribution, nil
}
