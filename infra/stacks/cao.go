package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/stevedore-ci/stevedore/infra/config"
)

// buildCAO adds the CAO guide's three stacks, and the frontend with frontend=true.
func buildCAO(scope constructs.Construct, s config.Settings, env *awscdk.Environment) []awscdk.Stack {
	net := NewCAONetwork(scope, s, env)
	auth := NewCAOAuth(scope, s, env)
	infra := NewCAOInfrastructure(scope, s, env, net, auth)
	built := []awscdk.Stack{net.Stack, auth.Stack, infra}
	if s.Frontend {
		site := NewFrontend(scope, s, env)
		built = append(built, awscdk.Stack_Of(site.Bucket))
	}
	return built
}
