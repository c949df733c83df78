package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/cfn"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/ecs"
)

// Show what runs now in each service of an environment's stacks.
//
// Read-only: per service of stevedore.yaml, the ECS service named by the
// stacks' outputs, its running task definition and image digests, the
// desired and running task counts, the last deployment and its outcome;
// then the environment's URLs. The stacks are the environment's, as
// deploy synthesizes them, read in its own account and region
// (stevedore.yaml); --stack narrows them. Needs with-aws. Never cached:
// it reads live state.
// +cache="never"
func (m *Stevedore) Status(
	ctx context.Context,
	// Environment: dev, staging, prod or one declared in stevedore.yaml (e.g. qa, pr-123).
	// +default="dev"
	env string,
	// Only these stacks of the environment (default: all of them), e.g.
	// ShopServicesStack-prod; they must hold the ECS cluster's output.
	// +optional
	stack []string,
) (string, error) {
	app, err := m.load(ctx)
	if err != nil {
		return "", err
	}
	// The environment's stacks, as deploy synthesizes them: any image
	// digest gives the same stacks (as for destroy).
	in, err := m.infraInputs(ctx, app, "", env, placeholderImages(app), nil)
	if err != nil {
		return "", err
	}
	if _, err := m.requireAws("status"); err != nil {
		return "", err
	}
	if m, err = m.forEnvironment(ctx, "status", in.envSpec); err != nil {
		return "", err
	}
	asm, err := m.synthesized(ctx, in)
	if err != nil {
		return "", err
	}
	stacks, err := m.assemblyStacks(ctx, asm)
	if err != nil {
		return "", err
	}
	read, err := narrowStacks(env, stacks, stack)
	if err != nil {
		return "", err
	}
	cfg, cleanup, err := m.awsConfig(ctx, "status")
	if err != nil {
		return "", err
	}
	defer cleanup()
	outputs, err := cfn.NewReader(cfg).Outputs(ctx, read...)
	if err != nil {
		return "", fmt.Errorf("status: %w", err)
	}
	cluster := outputs[contract.OutputCluster]
	if cluster == "" {
		fix := "add the stack that holds the ECS cluster to --stack, or leave --stack out to read all of " + env
		if len(stack) == 0 {
			fix = "the CDK app must export the cluster's name as " + contract.OutputCluster
		}
		return "", fmt.Errorf("status: the stacks %s have no %s output: %s", strings.Join(read, ", "), contract.OutputCluster, fix)
	}
	var lines, ecsNames, names []string
	for _, s := range app.Services {
		if name := outputs[contract.ServiceOutput(s.Name)]; name != "" {
			ecsNames, names = append(ecsNames, name), append(names, s.Name)
		} else {
			lines = append(lines, fmt.Sprintf("%s: not deployed (the stacks have no %s output)", s.Name, contract.ServiceOutput(s.Name)))
		}
	}
	if len(ecsNames) > 0 {
		statuses, err := ecs.New(cfg).Status(ctx, cluster, ecsNames)
		if err != nil {
			return "", fmt.Errorf("status: %w", err)
		}
		for i, st := range statuses {
			lines = append(lines, names[i]+" = "+st.String())
		}
	}
	for _, key := range []string{contract.OutputHealthURL, contract.OutputFrontendURL} {
		if url := outputs[key]; url != "" {
			lines = append(lines, key+": "+url)
		}
	}
	return strings.Join(lines, "\n") + "\n", nil
}

// narrowStacks is the stacks status reads, in deploy order: all of env's,
// or those of them --stack names, refusing a name that is not one of env's.
func narrowStacks(env string, stacks, only []string) ([]string, error) {
	if len(only) == 0 {
		return stacks, nil
	}
	var unknown []string
	for _, s := range only {
		if !slices.Contains(stacks, s) {
			unknown = append(unknown, s)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("--stack %s: not a stack of environment %s (its stacks: %s): name some of those, or pass the --env the stack belongs to", strings.Join(unknown, ", "), env, strings.Join(stacks, ", "))
	}
	var out []string
	for _, s := range stacks {
		if slices.Contains(only, s) {
			out = append(out, s)
		}
	}
	return out, nil
}
