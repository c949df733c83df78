package ecs

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// budgetKey carries a rollout's retry budget (Spec.MaxAttempts) to every
// ECS call made on its behalf.
type budgetKey struct{}

func withBudget(ctx context.Context, maxAttempts int) context.Context {
	return context.WithValue(ctx, budgetKey{}, attempts(maxAttempts))
}

// budgeted gives each call the SDK retry budget of the rollout it serves
// (DefaultMaxAttempts outside one).
type budgeted struct{ api API }

func attemptsOpt(ctx context.Context, opts []func(*ecs.Options)) []func(*ecs.Options) {
	n, ok := ctx.Value(budgetKey{}).(int)
	if !ok {
		n = DefaultMaxAttempts
	}
	return append(opts, func(o *ecs.Options) { o.RetryMaxAttempts = n })
}

func (b budgeted) DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error) {
	return b.api.DescribeServices(ctx, in, attemptsOpt(ctx, opts)...)
}

func (b budgeted) UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, opts ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error) {
	return b.api.UpdateService(ctx, in, attemptsOpt(ctx, opts)...)
}

func (b budgeted) DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	return b.api.DescribeTaskDefinition(ctx, in, attemptsOpt(ctx, opts)...)
}

func (b budgeted) RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error) {
	return b.api.RegisterTaskDefinition(ctx, in, attemptsOpt(ctx, opts)...)
}

func (b budgeted) DeregisterTaskDefinition(ctx context.Context, in *ecs.DeregisterTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error) {
	return b.api.DeregisterTaskDefinition(ctx, in, attemptsOpt(ctx, opts)...)
}

func (b budgeted) ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, opts ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error) {
	return b.api.ListTaskDefinitions(ctx, in, attemptsOpt(ctx, opts)...)
}

func (b budgeted) ListTasks(ctx context.Context, in *ecs.ListTasksInput, opts ...func(*ecs.Options)) (*ecs.ListTasksOutput, error) {
	return b.api.ListTasks(ctx, in, attemptsOpt(ctx, opts)...)
}

func (b budgeted) DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error) {
	return b.api.DescribeTasks(ctx, in, attemptsOpt(ctx, opts)...)
}

func (b budgeted) RunTask(ctx context.Context, in *ecs.RunTaskInput, opts ...func(*ecs.Options)) (*ecs.RunTaskOutput, error) {
	return b.api.RunTask(ctx, in, attemptsOpt(ctx, opts)...)
}

func (b budgeted) ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, opts ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error) {
	return b.api.ListServiceDeployments(ctx, in, attemptsOpt(ctx, opts)...)
}

func (b budgeted) DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, opts ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error) {
	return b.api.DescribeServiceDeployments(ctx, in, attemptsOpt(ctx, opts)...)
}
