package s3site

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// checkBucket makes sure the bucket exists and is reachable before anything
// is written. HeadBucket answers with a bare status code, so the status,
// not the error code, says what went wrong.
func checkBucket(ctx context.Context, api s3API, bucket, region string) error {
	_, err := api.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		return nil
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return fmt.Errorf("bucket %s does not exist (region %s): create it first (deploy the frontend stack) or fix the bucket name: %w", bucket, region, err)
		case http.StatusForbidden:
			return fmt.Errorf("access denied to bucket %s: the credentials need s3:ListBucket on arn:aws:s3:::%s and s3:GetObject, s3:PutObject (s3:DeleteObject with delete) on arn:aws:s3:::%s/*: %w", bucket, bucket, bucket, err)
		case http.StatusMovedPermanently:
			if other := re.Response.Header.Get("X-Amz-Bucket-Region"); other != "" {
				return fmt.Errorf("bucket %s is in region %s, not %s: set the region to %s: %w", bucket, other, region, other, err)
			}
		}
	}
	return awsconf.Explain("s3:ListBucket", fmt.Errorf("checking bucket %s: %w", bucket, err))
}
