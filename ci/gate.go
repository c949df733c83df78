package main

import (
	"context"
	"fmt"

	"github.com/stevedore-ci/stevedore/pipelines/ecs"
)

// Stop the ECS service deployment in flight on a service.
//
// Acts through StopServiceDeployment on the deployment that is PENDING or
// IN_PROGRESS (blue/green, linear, canary or rolling), e.g. one paused at
// its gate: with --rollback it goes back to the previous revision,
// without it stops where it stands (ABORT). Prints which deployment it
// stopped and how; fails, changing nothing, when none is in flight. Needs
// with-aws. Never cached.
// +cache="never"
func (m *Stevedore) AbortRollout(
	ctx context.Context,
	// ECS cluster name or ARN.
	cluster string,
	// ECS service name or ARN (e.g. the BackendServiceName output).
	service string,
	// Roll back to the previous revision instead of stopping where it stands.
	// +optional
	rollback bool,
) (string, error) {
	if cluster == "" || service == "" {
		return "", fmt.Errorf("abort-rollout: name the ECS cluster with --cluster and the service with --service (the ClusterName and <Service>ServiceName outputs)")
	}
	cfg, cleanup, err := m.awsConfig(ctx, "abort-rollout")
	if err != nil {
		return "", err
	}
	defer cleanup()
	res, err := ecs.New(cfg, ecs.WithLog(func(s string) { log("%s", s) })).AbortServiceDeployment(ctx, ecs.AbortSpec{Cluster: cluster, Service: service, Rollback: rollback})
	if err != nil {
		return "", fmt.Errorf("abort-rollout: %w", err)
	}
	return fmt.Sprintf("%s: %s\n", service, res), nil
}
