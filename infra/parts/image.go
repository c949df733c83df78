package parts

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
)

// keepImages is how many images the lifecycle policy of a created repository keeps.
const keepImages = 10

// ServiceImage returns the container image of a service, exactly the
// digest-pinned reference of the context, so a deploy never reverts what
// the pipeline rolled out. When the image is in ECR, the repository is
// imported (the publish step created it before the first deploy; its
// account and region come from the reference) or, with
// createRepository=true, created here; the execution role gets pull rights
// on it. The repository is nil for images outside ECR.
func ServiceImage(scope constructs.Construct, s config.Settings, svc config.Service, executionRole awsiam.IRole) (awsecs.ContainerImage, awsecr.IRepository) {
	img := s.Images[svc.Key]
	image := awsecs.ContainerImage_FromRegistry(&img.Ref, nil)
	if !img.ECR {
		return image, nil
	}
	name := s.Repositories[svc.Key]
	var repo awsecr.IRepository
	if s.CreateRepository {
		repo = newRepository(scope, svc.Title+"Repository", name, s.Env.Removal)
	} else {
		arn := fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", img.Partition, img.Region, img.Account, name)
		repo = awsecr.Repository_FromRepositoryArn(scope, jsii.String(svc.Title+"Repository"), &arn)
	}
	repo.GrantPull(executionRole)
	return image, repo
}

func newRepository(scope constructs.Construct, id, name string, removal config.Removal) awsecr.Repository {
	return awsecr.NewRepository(scope, &id, &awsecr.RepositoryProps{
		RepositoryName:  &name,
		ImageScanOnPush: jsii.Bool(true),
		LifecycleRules: &[]*awsecr.LifecycleRule{{
			Description:   jsii.String("keep the last 10 images"),
			MaxImageCount: jsii.Number(keepImages),
		}},
		RemovalPolicy: RemovalPolicy(removal),
		// A destroyed dev repository takes its images with it.
		EmptyOnDelete: jsii.Bool(removal == config.RemovalDestroy),
	})
}
