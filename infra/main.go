// Command infra is stevedore's built-in CDK app: it renders the
// infrastructure a stevedore.yaml describes (no infra.dir) for one
// environment, with every image pinned by digest from the context. It
// knows no app by name; the description is the source.
//
//	cdk synth -c stevedore:description=../stevedore.yaml -c env=dev \
//	  -c image.backend=<repo>@sha256:<digest>
//
// Optional: -c githubRepo=owner/name adds StevedoreGithubDeployStack-<env>,
// the GitHub OIDC deploy role whose policy is derived from the description.
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/builtin"
)

// crossStackStrength is the CDK feature flag choosing how stacks reference each other.
const crossStackStrength = "@aws-cdk/core:defaultCrossStackReferences"

func main() {
	app := awscdk.NewApp(nil)
	// Cross-stack references stay CloudFormation exports (CDK's current
	// default), stated so the CLI stops warning; -c overrides it.
	if app.Node().TryGetContext(jsii.String(crossStackStrength)) == nil {
		app.Node().SetContext(jsii.String(crossStackStrength), "strong")
	}
	if _, err := builtin.FromContext(app, contextLookup(app), environment()); err != nil {
		// Validation happens before any stack exists: nothing half-built is synthesized.
		fmt.Fprintln(os.Stderr, "error:", err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
	jsii.Close()
}

// contextLookup reads CDK context values (from -c flags and cdk.json) as
// strings; cdk.json may hold JSON booleans, -c always gives strings.
func contextLookup(app awscdk.App) builtin.Lookup {
	return func(key string) (string, bool) {
		v := app.Node().TryGetContext(&key)
		if v == nil {
			return "", false
		}
		return fmt.Sprint(v), true
	}
}

// environment pins account and region when the CDK CLI knows them
// (CDK_DEFAULT_ACCOUNT/CDK_DEFAULT_REGION); otherwise stacks stay
// environment-agnostic.
func environment() *awscdk.Environment {
	account, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION")
	if account == "" && region == "" {
		return nil
	}
	env := &awscdk.Environment{}
	if account != "" {
		env.Account = &account
	}
	if region != "" {
		env.Region = &region
	}
	return env
}
