package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/cfn"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/ecs"
)

// Show what runs now in each service of the deployed stacks.
//
// Read-only: per service of stevedore.yaml, the ECS service named by the
// stacks' outputs, its running task definition and image digests, the
// desired and running task counts, the last deployment and its outcome;
// then the environment's URLs. Needs with-aws. Never cached: it reads
// live state.
// +cache="never"
func (m *Stevedore) Status(
	ctx context.Context,
	// CloudFormation stacks whose outputs name the cluster and the services
	// (e.g. the stacks deploy printed), in deploy order.
	stack []string,
) (string, error) {
	if len(stack) == 0 {
		return "", fmt.Errorf("status: name the deployed stacks with --stack (the stack names deploy printed)")
	}
	app, err := m.load(ctx)
	if err != nil {
		return "", err
	}
	cfg, cleanup, err := m.awsConfig(ctx, "status")
	if err != nil {
		return "", err
	}
	defer cleanup()
	outputs, err := cfn.NewReader(cfg).Outputs(ctx, stack...)
	if err != nil {
		return "", fmt.Errorf("status: %w", err)
	}
	cluster := outputs[contract.OutputCluster]
	if cluster == "" {
		return "", fmt.Errorf("status: the stacks %s have no %s output: pass the stacks that hold the ECS cluster", strings.Join(stack, ", "), contract.OutputCluster)
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
