package ecr

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// manifestMediaTypes are asked for when reading a manifest back. Listing all
// of them stops ECR from converting the manifest to another format, which
// would change its digest.
var manifestMediaTypes = []string{
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
}

// TagImage points tags at the image digest already in repo, without pushing
// anything: it reads the manifest back and puts it under each tag. A tag
// that already points at digest is left as it is.
func (c *Client) TagImage(ctx context.Context, repo, digest string, tags []string) error {
	if err := ValidateRepositoryName(repo); err != nil {
		return err
	}
	if err := validateDigest(digest); err != nil {
		return err
	}
	if len(tags) == 0 {
		return fmt.Errorf("no tags given for %s@%s: pass at least one tag", repo, digest)
	}
	for _, t := range tags {
		if err := validateTag(t); err != nil {
			return err
		}
	}
	manifest, mediaType, err := c.getManifest(ctx, repo, digest)
	if err != nil {
		return err
	}
	seen := make([]string, 0, len(tags))
	for _, tag := range tags {
		if slices.Contains(seen, tag) {
			continue
		}
		seen = append(seen, tag)
		in := &awsecr.PutImageInput{
			RepositoryName: aws.String(repo),
			ImageManifest:  aws.String(manifest),
			ImageDigest:    aws.String(digest),
			ImageTag:       aws.String(tag),
		}
		if mediaType != "" {
			in.ImageManifestMediaType = aws.String(mediaType)
		}
		_, err := c.api.PutImage(ctx, in)
		switch {
		case err == nil, hasCode(err, codeImageAlreadyExists):
			// ImageAlreadyExists: the tag already points at this digest.
		case hasCode(err, codeImageTagAlreadyExists):
			return fmt.Errorf("cannot tag %s@%s as %q: tag %s already points to another image and the repository has immutable tags (use a new tag, or list %s in the repository's mutable tags): %w", repo, digest, tag, tag, tag, err)
		default:
			return awsconf.Explain("ecr:PutImage", err)
		}
	}
	return nil
}

// getManifest returns the manifest stored under digest and its media type.
func (c *Client) getManifest(ctx context.Context, repo, digest string) (manifest, mediaType string, err error) {
	out, err := c.api.BatchGetImage(ctx, &awsecr.BatchGetImageInput{
		RepositoryName:     aws.String(repo),
		ImageIds:           []types.ImageIdentifier{{ImageDigest: aws.String(digest)}},
		AcceptedMediaTypes: manifestMediaTypes,
	})
	if hasCode(err, codeRepositoryNotFound) {
		return "", "", errRepositoryMissing(repo)
	}
	if err != nil {
		return "", "", awsconf.Explain("ecr:BatchGetImage", err)
	}
	for _, f := range out.Failures {
		if f.FailureCode == types.ImageFailureCodeImageNotFound {
			return "", "", fmt.Errorf("image %s not found in ECR repository %s: push it before tagging", digest, repo)
		}
		return "", "", fmt.Errorf("ecr:BatchGetImage could not read %s@%s: %s: %s", repo, digest, f.FailureCode, aws.ToString(f.FailureReason))
	}
	if len(out.Images) == 0 || aws.ToString(out.Images[0].ImageManifest) == "" {
		return "", "", fmt.Errorf("ecr:BatchGetImage returned no manifest for %s@%s: retry the job", repo, digest)
	}
	img := out.Images[0]
	return aws.ToString(img.ImageManifest), aws.ToString(img.ImageManifestMediaType), nil
}
