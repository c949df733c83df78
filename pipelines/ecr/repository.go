package ecr

import (
	"context"
	"fmt"
	"path"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// RepositoryPolicy holds the settings a repository gets when EnsureRepository
// creates it. An existing repository is never changed.
type RepositoryPolicy struct {
	// ScanOnPush turns on basic scanning of every pushed image.
	ScanOnPush bool
	// ImmutableTags forbids re-pointing a tag to another image.
	ImmutableTags bool
	// KeepLast expires all but the newest KeepLast images; 0 sets no
	// lifecycle policy.
	KeepLast int
	// MutableTags lists tags (wildcard "*" allowed, at most 5) that stay
	// movable in an immutable repository, e.g. "latest". Ignored when
	// ImmutableTags is false, since every tag is movable then.
	MutableTags []string
}

// Repository describes an ECR repository and the settings it has.
type Repository struct {
	Name       string
	URI        string // e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app
	ARN        string
	RegistryID string
	// Created is true when this call created the repository.
	Created bool
	// ScanOnPush and TagMutability are the repository's actual settings
	// (MUTABLE, IMMUTABLE, IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION).
	ScanOnPush    bool
	TagMutability string
	// TagExclusions are the tag patterns exempt from TagMutability.
	TagExclusions []string
}

// TagIsImmutable reports whether ECR will refuse to move tag once it points
// to an image, given the repository's mutability settings.
func (r Repository) TagIsImmutable(tag string) bool {
	excluded := false
	for _, pattern := range r.TagExclusions {
		if ok, _ := path.Match(pattern, tag); ok {
			excluded = true
			break
		}
	}
	switch types.ImageTagMutability(r.TagMutability) {
	case types.ImageTagMutabilityImmutable:
		return true
	case types.ImageTagMutabilityImmutableWithExclusion:
		return !excluded
	case types.ImageTagMutabilityMutableWithExclusion:
		return excluded
	}
	return false
}

// maxTagExclusions is ECR's limit on imageTagMutabilityExclusionFilters.
const maxTagExclusions = 5

var tagFilterPattern = regexp.MustCompile(`^[0-9a-zA-Z._*-]{1,128}$`)

func (p RepositoryPolicy) validate() error {
	if p.KeepLast < 0 {
		return fmt.Errorf("invalid KeepLast %d: use 0 for no lifecycle policy or a positive number of images to keep", p.KeepLast)
	}
	if !p.ImmutableTags {
		return nil
	}
	if len(p.MutableTags) > maxTagExclusions {
		return fmt.Errorf("too many mutable tags (%d): ECR allows at most %d exclusion filters; use a wildcard such as dev-*", len(p.MutableTags), maxTagExclusions)
	}
	for _, t := range p.MutableTags {
		if !tagFilterPattern.MatchString(t) {
			return fmt.Errorf("invalid mutable tag filter %q: use 1 to 128 letters, digits, '.', '_', '-' or '*'", t)
		}
	}
	return nil
}

// EnsureRepository returns the repository called name, creating it with the
// settings of p when it does not exist. An existing repository is reported
// as it is: its settings are not changed and no lifecycle policy is added,
// so a repository managed by hand or by CDK is never overridden (and the
// role needs no ecr:GetLifecyclePolicy permission).
func (c *Client) EnsureRepository(ctx context.Context, name string, p RepositoryPolicy) (Repository, error) {
	if err := ValidateRepositoryName(name); err != nil {
		return Repository{}, err
	}
	if err := p.validate(); err != nil {
		return Repository{}, fmt.Errorf("repository %s: %w", name, err)
	}
	repo, found, err := c.describeRepository(ctx, name)
	if err != nil || found {
		return repo, err
	}

	out, err := c.api.CreateRepository(ctx, createInput(name, p))
	if hasCode(err, codeRepositoryAlreadyExists) {
		// Another job created it between our describe and create.
		repo, found, err = c.describeRepository(ctx, name)
		if err == nil && !found {
			err = fmt.Errorf("repository %s was reported as existing but cannot be described: retry the job", name)
		}
		return repo, err
	}
	if err != nil {
		return Repository{}, awsconf.Explain("ecr:CreateRepository", err)
	}
	if out.Repository == nil {
		return Repository{}, fmt.Errorf("ecr:CreateRepository returned no repository for %s: retry the job", name)
	}
	repo = fromSDKRepository(*out.Repository)
	repo.Created = true

	if p.KeepLast > 0 {
		if err := c.putKeepLastPolicy(ctx, name, p.KeepLast); err != nil {
			// Later runs find the repository and leave it alone, so say how
			// to recover instead of failing silently next time.
			return repo, fmt.Errorf("repository %s was created but its lifecycle policy was not set (add it by hand or delete the repository and re-run): %w", name, err)
		}
	}
	return repo, nil
}

func createInput(name string, p RepositoryPolicy) *awsecr.CreateRepositoryInput {
	in := &awsecr.CreateRepositoryInput{
		RepositoryName:             aws.String(name),
		ImageScanningConfiguration: &types.ImageScanningConfiguration{ScanOnPush: p.ScanOnPush},
		ImageTagMutability:         types.ImageTagMutabilityMutable,
	}
	if p.ImmutableTags {
		in.ImageTagMutability = types.ImageTagMutabilityImmutable
		if len(p.MutableTags) > 0 {
			in.ImageTagMutability = types.ImageTagMutabilityImmutableWithExclusion
			for _, t := range p.MutableTags {
				in.ImageTagMutabilityExclusionFilters = append(in.ImageTagMutabilityExclusionFilters,
					types.ImageTagMutabilityExclusionFilter{Filter: aws.String(t), FilterType: types.ImageTagMutabilityExclusionFilterTypeWildcard})
			}
		}
	}
	return in
}

func (c *Client) putKeepLastPolicy(ctx context.Context, name string, keep int) error {
	text, err := keepLastPolicy(keep)
	if err != nil {
		return err
	}
	_, err = c.api.PutLifecyclePolicy(ctx, &awsecr.PutLifecyclePolicyInput{
		RepositoryName:      aws.String(name),
		LifecyclePolicyText: aws.String(text),
	})
	return awsconf.Explain("ecr:PutLifecyclePolicy", err)
}

// describeRepository returns found=false, with no error, when the repository
// does not exist.
func (c *Client) describeRepository(ctx context.Context, name string) (Repository, bool, error) {
	out, err := c.api.DescribeRepositories(ctx, &awsecr.DescribeRepositoriesInput{RepositoryNames: []string{name}})
	if hasCode(err, codeRepositoryNotFound) {
		return Repository{}, false, nil
	}
	if err != nil {
		return Repository{}, false, awsconf.Explain("ecr:DescribeRepositories", err)
	}
	for _, r := range out.Repositories {
		if aws.ToString(r.RepositoryName) == name {
			return fromSDKRepository(r), true, nil
		}
	}
	return Repository{}, false, nil
}

func fromSDKRepository(r types.Repository) Repository {
	repo := Repository{
		Name:          aws.ToString(r.RepositoryName),
		URI:           aws.ToString(r.RepositoryUri),
		ARN:           aws.ToString(r.RepositoryArn),
		RegistryID:    aws.ToString(r.RegistryId),
		TagMutability: string(r.ImageTagMutability),
	}
	if r.ImageScanningConfiguration != nil {
		repo.ScanOnPush = r.ImageScanningConfiguration.ScanOnPush
	}
	for _, f := range r.ImageTagMutabilityExclusionFilters {
		repo.TagExclusions = append(repo.TagExclusions, aws.ToString(f.Filter))
	}
	return repo
}
