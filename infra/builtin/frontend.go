package builtin

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscertificatemanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// FrontendSite is a private bucket served only through CloudFront.
type FrontendSite struct {
	Bucket       awss3.Bucket
	Distribution awscloudfront.Distribution
}

// newFrontendSite creates the bucket (no public access, S3-managed
// encryption, TLS only) and a distribution reaching it through Origin
// Access Control, redirecting to HTTPS and answering unknown paths with
// /index.html (client-side routes), on the custom domain when one is
// described. stevedore's publish step uploads the site and invalidates.
func newFrontendSite(stack awscdk.Stack, plan *appspec.Plan) *FrontendSite {
	c := constructs.NewConstruct(stack, jsii.String("Site"))
	bucket := awss3.NewBucket(c, jsii.String("Bucket"), &awss3.BucketProps{
		BucketName:        jsii.String(plan.FrontendBucketName(*stack.Account(), *stack.Region())),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     removal(plan.Removal),
		AutoDeleteObjects: jsii.Bool(plan.Removal == appspec.RemovalDestroy),
	})
	spa := func(status float64) *awscloudfront.ErrorResponse {
		return &awscloudfront.ErrorResponse{
			HttpStatus: jsii.Number(status), ResponseHttpStatus: jsii.Number(200),
			ResponsePagePath: jsii.String("/index.html"), Ttl: awscdk.Duration_Seconds(jsii.Number(0)),
		}
	}
	props := &awscloudfront.DistributionProps{
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:               awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(bucket, nil),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			CachePolicy:          awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
			Compress:             jsii.Bool(true),
		},
		DefaultRootObject: jsii.String("index.html"),
		ErrorResponses:    &[]*awscloudfront.ErrorResponse{spa(403), spa(404)},
		HttpVersion:       awscloudfront.HttpVersion_HTTP2_AND_3,
	}
	url := "https://"
	if f := plan.Frontend; f.Domain != "" {
		props.DomainNames = jsii.Strings(f.Domain)
		props.Certificate = awscertificatemanager.Certificate_FromCertificateArn(c, jsii.String("Certificate"), &f.CertificateArn)
		props.MinimumProtocolVersion = awscloudfront.SecurityPolicyProtocol_TLS_V1_2_2021
	}
	dist := awscloudfront.NewDistribution(c, jsii.String("Distribution"), props)
	suppress(bucket, reasonSiteLogs, "AwsSolutions-S1")
	suppress(dist, reasonCloudFrontLogs, "AwsSolutions-CFR3")
	suppress(dist, reasonGeo, "AwsSolutions-CFR1")
	suppress(dist, reasonWaf, "AwsSolutions-CFR2")
	if plan.Frontend.Domain == "" {
		suppress(dist, reasonDefaultCert, "AwsSolutions-CFR4")
	}
	url += *dist.DistributionDomainName()
	if plan.Frontend.Domain != "" {
		url = "https://" + plan.Frontend.Domain
	}
	output(stack, contract.OutputFrontendBucket, bucket.BucketName(), "bucket the publish step uploads the site to")
	output(stack, contract.OutputDistribution, dist.DistributionId(), "CloudFront distribution the publish step invalidates")
	output(stack, contract.OutputFrontendURL, &url, "public URL of the site")
	output(stack, "CloudFrontUrl", dist.DistributionDomainName(), "CloudFront domain name")
	return &FrontendSite{Bucket: bucket, Distribution: dist}
}
