package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// NewFrontend creates <Prefix>FrontendStack-<env>: the static site bucket and
// its CloudFront distribution, the same construct for both apps.
func NewFrontend(scope constructs.Construct, s config.Settings, env *awscdk.Environment) *parts.FrontendSite {
	stack := newStack(scope, s, "Frontend", "static frontend: private S3 bucket behind CloudFront", env)
	bucket := config.FrontendBucketName(s.App, s.Env.Name, *stack.Account(), *stack.Region())
	site := parts.NewFrontendSite(stack, "Site", bucket, s.Env)
	site.Outputs(stack)
	return site
}
