package ecr

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// Image describes an image stored in a repository.
type Image struct {
	Digest    string
	Tags      []string
	PushedAt  time.Time
	SizeBytes int64
}

// FindImage looks an image up by digest. found is false, with no error, when
// the repository holds no such image.
func (c *Client) FindImage(ctx context.Context, repo, digest string) (img Image, found bool, err error) {
	if err := validateDigest(digest); err != nil {
		return Image{}, false, err
	}
	return c.findImage(ctx, repo, types.ImageIdentifier{ImageDigest: aws.String(digest)})
}

func (c *Client) findImage(ctx context.Context, repo string, id types.ImageIdentifier) (Image, bool, error) {
	if err := ValidateRepositoryName(repo); err != nil {
		return Image{}, false, err
	}
	out, err := c.api.DescribeImages(ctx, &awsecr.DescribeImagesInput{
		RepositoryName: aws.String(repo),
		ImageIds:       []types.ImageIdentifier{id},
	})
	switch {
	case hasCode(err, codeImageNotFound):
		return Image{}, false, nil
	case hasCode(err, codeRepositoryNotFound):
		return Image{}, false, errRepositoryMissing(repo)
	case err != nil:
		return Image{}, false, awsconf.Explain("ecr:DescribeImages", err)
	case len(out.ImageDetails) == 0:
		return Image{}, false, nil
	}
	d := out.ImageDetails[0]
	return Image{
		Digest:    aws.ToString(d.ImageDigest),
		Tags:      d.ImageTags,
		PushedAt:  aws.ToTime(d.ImagePushedAt),
		SizeBytes: aws.ToInt64(d.ImageSizeInBytes),
	}, true, nil
}
