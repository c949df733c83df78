package s3site

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// maxDeleteBatch is the most keys DeleteObjects takes in one call.
const maxDeleteBatch = 1000

// deleteKeys removes keys in batches and returns how many are gone. A
// DeleteObjects call can succeed while some keys fail; those are reported
// as an error too, with the S3 code so Explain can name the permission.
func deleteKeys(ctx context.Context, api s3API, o Options, keys []string) (int, error) {
	deleted := 0
	for start := 0; start < len(keys); start += maxDeleteBatch {
		batch := keys[start:min(start+maxDeleteBatch, len(keys))]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := api.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(o.Bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return deleted, awsconf.Explain("s3:DeleteObject", fmt.Errorf("deleting %d objects: %w", len(batch), err))
		}
		if len(out.Errors) > 0 {
			first := out.Errors[0]
			apiErr := &smithy.GenericAPIError{Code: aws.ToString(first.Code), Message: aws.ToString(first.Message)}
			return deleted + len(batch) - len(out.Errors), awsconf.Explain("s3:DeleteObject",
				fmt.Errorf("%d of %d objects not deleted, first %s: %w", len(out.Errors), len(batch), aws.ToString(first.Key), apiErr))
		}
		deleted += len(batch)
		for _, k := range batch {
			o.Log("deleted " + k)
		}
	}
	return deleted, nil
}
