package fakeaws_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
)

// GetBucketLocation and GetBucketEncryption (the CDK CLI asks them of the
// assets bucket) answer the bucket's region, empty for us-east-1 as S3
// does, and S3's default encryption.
func TestS3BucketLocationAndEncryption(t *testing.T) {
	a := fakeaws.New(t)
	a.CreateBucket("cdk-assets")
	a.CreateBucket("web-eu")
	a.MoveBucket("web-eu", "eu-west-1")
	c := s3.NewFromConfig(a.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	for bucket, want := range map[string]string{"cdk-assets": "", "web-eu": "eu-west-1"} {
		out := must(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket)}))(t)
		if got := string(out.LocationConstraint); got != want {
			t.Errorf("location of %s = %q, want %q", bucket, got, want)
		}
	}
	enc := must(c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("cdk-assets")}))(t)
	if r := enc.ServerSideEncryptionConfiguration.Rules; len(r) != 1 || r[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != "AES256" {
		t.Errorf("encryption = %+v, want one AES256 rule", enc.ServerSideEncryptionConfiguration)
	}
	_, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("missing")})
	if errorCode(err) != "NoSuchBucket" {
		t.Errorf("location of a missing bucket: %v, want NoSuchBucket", err)
	}
	if m := a.Mutating(); len(m) != 0 {
		t.Errorf("GetBucketLocation reported as mutating: %v", m)
	}
}
