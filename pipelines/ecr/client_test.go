package ecr

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecr/types"
)

// describeOnly is an API fake for callers in other packages: only
// DescribeRepositories is implemented; any other call would panic.
type describeOnly struct {
	API
	asked []string
}

func (d *describeOnly) DescribeRepositories(_ context.Context, in *awsecr.DescribeRepositoriesInput, _ ...func(*awsecr.Options)) (*awsecr.DescribeRepositoriesOutput, error) {
	d.asked = append(d.asked, in.RepositoryNames...)
	return &awsecr.DescribeRepositoriesOutput{Repositories: []types.Repository{{
		RepositoryName: aws.String("app"), RepositoryUri: aws.String(testRegistry + "/app"), ImageTagMutability: types.ImageTagMutabilityImmutable,
	}}}, nil
}

func TestNewFromAPIUsesTheGivenImplementation(t *testing.T) {
	fake := &describeOnly{}
	repo, err := NewFromAPI(fake).EnsureRepository(context.Background(), "app", RepositoryPolicy{KeepLast: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(fake.asked) != 1 || fake.asked[0] != "app" || repo.URI != testRegistry+"/app" || repo.Created || !repo.TagIsImmutable("latest") {
		t.Errorf("repo = %+v, asked %v", repo, fake.asked)
	}
}
