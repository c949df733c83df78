// Package ecr holds the Amazon ECR API side of publishing an image: making
// sure the repository exists with the wanted settings, logging in to the
// registry, looking images up by digest and gating a release on the result
// of the image scan. The push itself happens
// elsewhere (pipelines/ocipush).
package ecr

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
)

// API is the part of *ecr.Client this package calls. Tests in other packages
// can hand a fake to NewFromAPI.
type API interface {
	DescribeRepositories(ctx context.Context, in *awsecr.DescribeRepositoriesInput, optFns ...func(*awsecr.Options)) (*awsecr.DescribeRepositoriesOutput, error)
	CreateRepository(ctx context.Context, in *awsecr.CreateRepositoryInput, optFns ...func(*awsecr.Options)) (*awsecr.CreateRepositoryOutput, error)
	PutLifecyclePolicy(ctx context.Context, in *awsecr.PutLifecyclePolicyInput, optFns ...func(*awsecr.Options)) (*awsecr.PutLifecyclePolicyOutput, error)
	GetAuthorizationToken(ctx context.Context, in *awsecr.GetAuthorizationTokenInput, optFns ...func(*awsecr.Options)) (*awsecr.GetAuthorizationTokenOutput, error)
	DescribeImages(ctx context.Context, in *awsecr.DescribeImagesInput, optFns ...func(*awsecr.Options)) (*awsecr.DescribeImagesOutput, error)
	DescribeImageScanFindings(ctx context.Context, in *awsecr.DescribeImageScanFindingsInput, optFns ...func(*awsecr.Options)) (*awsecr.DescribeImageScanFindingsOutput, error)
}

// Client runs the ECR calls of a publish step against the registry of the
// account and region in the aws.Config it was built from.
type Client struct {
	api API
}

// New builds a Client from an aws.Config (normally from awsconf.Load). optFns
// tune the SDK client, e.g. its HTTP client or endpoint.
func New(cfg aws.Config, optFns ...func(*awsecr.Options)) *Client {
	return &Client{api: awsecr.NewFromConfig(cfg, optFns...)}
}

// NewFromAPI builds a Client around any implementation of API (a fake in
// tests, or an SDK client built by hand).
func NewFromAPI(api API) *Client {
	return &Client{api: api}
}
