// Command infra is the CDK app of stevedore's reference deployments: the
// CAO server (app=cao) and commander.ai (app=commander), per environment
// (env=dev|staging|prod), with images pinned by digest from the context.
//
//	cdk synth -c app=cao -c env=dev -c image.backend=<repo>@sha256:<digest>
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/stacks"
)

func main() {
	app := awscdk.NewApp(nil)
	settings, err := config.Parse(contextLookup(app))
	if err != nil {
		// Validation happens before any stack exists: nothing half-built is synthesized.
		fmt.Fprintln(os.Stderr, "error:", err)
		jsii.Close()
		os.Exit(1)
	}
	stacks.Build(app, settings, environment())
	app.Synth(nil)
	jsii.Close()
}

// contextLookup reads CDK context values (from -c flags and cdk.json) as
// strings; cdk.json may hold JSON booleans, -c always gives strings.
func contextLookup(app awscdk.App) config.Lookup {
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
