package builtin

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// Lookup returns a CDK context value and whether it is set.
type Lookup func(key string) (string, bool)

// FromContext is the generic app: it reads the description named by
// -c stevedore:description=<path>, resolves it for -c env=<name>, checks
// the images (-c image.<service>=<repo>@sha256:...) and the optional
// GitHub deploy role keys, all before any construct exists, then renders
// the stacks. With githubRepo set and no image given, only the deploy-role
// stack is built (it is deployed before any image exists).
func FromContext(scope constructs.Construct, lookup Lookup, env *awscdk.Environment) ([]awscdk.Stack, error) {
	str := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	path := str(contract.ContextDescription)
	if path == "" {
		return nil, fmt.Errorf("%s is missing: pass -c %s=<path to stevedore.yaml> (stevedore does this for you)", contract.ContextDescription, contract.ContextDescription)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the description (-c %s): %w", contract.ContextDescription, err)
	}
	spec, err := appspec.Parse(path, data)
	if err != nil {
		return nil, err
	}
	envName := str(contract.ContextEnv)
	if envName == "" {
		return nil, fmt.Errorf("%s is missing: pass -c %s=<environment> (one of %s)", contract.ContextEnv, contract.ContextEnv, strings.Join(spec.EnvNames(), ", "))
	}
	plan, err := spec.BuiltinPlan(envName)
	if err != nil {
		return nil, err
	}
	gh, err := parseGithub(lookup)
	if err != nil {
		return nil, err
	}
	anyImage := false
	for _, s := range plan.Services {
		if str(contract.ImageContextKey(s.Name)) != "" {
			anyImage = true
		}
	}
	var stacks []awscdk.Stack
	if gh == nil || anyImage {
		images, err := ParseImages(plan, lookup)
		if err != nil {
			return nil, err
		}
		stacks = Render(scope, plan, images, env).Stacks
	}
	if gh != nil {
		stacks = append(stacks, NewGithubDeploy(scope, plan, gh, env))
	}
	return stacks, nil
}
