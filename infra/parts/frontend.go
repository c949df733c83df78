package parts

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
)

// FrontendSite is a private bucket served only through CloudFront.
type FrontendSite struct {
	// Bucket holds the built site; the publish step uploads to it.
	Bucket awss3.Bucket
	// Distribution serves it over HTTPS.
	Distribution awscloudfront.Distribution
}

// NewFrontendSite creates the bucket (no public access, S3-managed
// encryption, TLS only) and a CloudFront distribution reaching it through
// Origin Access Control, redirecting HTTP to HTTPS and answering unknown
// paths (403/404 from S3) with /index.html so client-side routes work. No
// BucketDeployment: stevedore's publish step uploads the site and
// invalidates the distribution.
func NewFrontendSite(scope constructs.Construct, id, bucketName string, env config.Env) *FrontendSite {
	c := constructs.NewConstruct(scope, &id)
	destroy := env.Removal == config.RemovalDestroy
	bucket := awss3.NewBucket(c, jsii.String("Bucket"), &awss3.BucketProps{
		BucketName:        &bucketName,
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     RemovalPolicy(env.Removal),
		AutoDeleteObjects: jsii.Bool(destroy),
	})
	spa := func(status float64) *awscloudfront.ErrorResponse {
		return &awscloudfront.ErrorResponse{
			HttpStatus:         jsii.Number(status),
			ResponseHttpStatus: jsii.Number(200),
			ResponsePagePath:   jsii.String("/index.html"),
			Ttl:                awscdk.Duration_Seconds(jsii.Number(0)),
		}
	}
	dist := awscloudfront.NewDistribution(c, jsii.String("Distribution"), &awscloudfront.DistributionProps{
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:               awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(bucket, nil),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			CachePolicy:          awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
			Compress:             jsii.Bool(true),
		},
		DefaultRootObject: jsii.String("index.html"),
		ErrorResponses:    &[]*awscloudfront.ErrorResponse{spa(403), spa(404)},
		HttpVersion:       awscloudfront.HttpVersion_HTTP2_AND_3,
	})
	return &FrontendSite{Bucket: bucket, Distribution: dist}
}

// Outputs adds FrontendBucketName, DistributionId, FrontendUrl and the
// guide's CloudFrontUrl (the bare domain) to the enclosing stack.
func (f *FrontendSite) Outputs(stack awscdk.Stack) {
	domain := *f.Distribution.DistributionDomainName()
	Output(stack, "FrontendBucketName", *f.Bucket.BucketName(), "bucket the publish step uploads the site to")
	Output(stack, "DistributionId", *f.Distribution.DistributionId(), "CloudFront distribution the publish step invalidates")
	Output(stack, "FrontendUrl", "https://"+domain, "public URL of the site")
	Output(stack, "CloudFrontUrl", domain, "CloudFront domain name")
}
