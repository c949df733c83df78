package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
)

// crossStackStrength is the CDK feature flag choosing how stacks reference each other.
const crossStackStrength = "@aws-cdk/core:defaultCrossStackReferences"

// Build adds the stacks the settings select to scope, in deploy order:
// the app's stacks (unless only the GitHub deploy role is requested), then
// StevedoreGithubDeployStack-<env> when githubRepo is set. env pins
// account and region; nil synthesizes environment-agnostic stacks.
func Build(scope constructs.Construct, s config.Settings, env *awscdk.Environment) []awscdk.Stack {
	// Cross-stack references stay CloudFormation exports (CDK's current
	// default), stated so the CLI stops warning; -c overrides it.
	if scope.Node().TryGetContext(jsii.String(crossStackStrength)) == nil {
		scope.Node().SetContext(jsii.String(crossStackStrength), "strong")
	}
	tags := awscdk.Tags_Of(scope)
	tags.Add(jsii.String("stevedore:app"), &s.App.Name, nil)
	tags.Add(jsii.String("stevedore:env"), &s.Env.Name, nil)

	var built []awscdk.Stack
	if s.AppStacks {
		switch s.App.Name {
		case config.CAO.Name:
			built = buildCAO(scope, s, env)
		case config.Commander.Name:
			built = buildCommander(scope, s, env)
		}
	}
	if s.Github != nil {
		built = append(built, NewGithubDeploy(scope, s, env))
	}
	return built
}
