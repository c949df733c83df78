package ecs

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

// API is the part of the ECS client this package uses; *ecs.Client
// satisfies it, and tests may hand in their own.
type API interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, opts ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	UpdateService(ctx context.Context, in *ecs.UpdateServiceInput, opts ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	RegisterTaskDefinition(ctx context.Context, in *ecs.RegisterTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	DeregisterTaskDefinition(ctx context.Context, in *ecs.DeregisterTaskDefinitionInput, opts ...func(*ecs.Options)) (*ecs.DeregisterTaskDefinitionOutput, error)
	ListTaskDefinitions(ctx context.Context, in *ecs.ListTaskDefinitionsInput, opts ...func(*ecs.Options)) (*ecs.ListTaskDefinitionsOutput, error)
	ListTasks(ctx context.Context, in *ecs.ListTasksInput, opts ...func(*ecs.Options)) (*ecs.ListTasksOutput, error)
	DescribeTasks(ctx context.Context, in *ecs.DescribeTasksInput, opts ...func(*ecs.Options)) (*ecs.DescribeTasksOutput, error)
	RunTask(ctx context.Context, in *ecs.RunTaskInput, opts ...func(*ecs.Options)) (*ecs.RunTaskOutput, error)
	ListServiceDeployments(ctx context.Context, in *ecs.ListServiceDeploymentsInput, opts ...func(*ecs.Options)) (*ecs.ListServiceDeploymentsOutput, error)
	DescribeServiceDeployments(ctx context.Context, in *ecs.DescribeServiceDeploymentsInput, opts ...func(*ecs.Options)) (*ecs.DescribeServiceDeploymentsOutput, error)
}

var _ API = (*ecs.Client)(nil)

// Deployer rolls out ECS services, registers task-definition revisions and
// runs one-off tasks. It is safe for concurrent use.
type Deployer struct {
	api   API
	logs  LogsAPI // nil: failed tasks' log tails are not read
	clock Clock
	mu    sync.Mutex // serialises log lines from parallel rollouts
	log   func(string)
}

// Option configures a Deployer.
type Option func(*Deployer)

// WithClock replaces the wall clock (tests use a fake one).
func WithClock(c Clock) Option { return func(d *Deployer) { d.clock = c } }

// WithLog sends each progress line to fn.
func WithLog(fn func(string)) Option { return func(d *Deployer) { d.log = fn } }

// WithOutput writes each progress line, newline-terminated, to w.
func WithOutput(w io.Writer) Option {
	return WithLog(func(line string) { fmt.Fprintln(w, line) })
}

// New returns a Deployer using ECS and CloudWatch Logs clients built from
// cfg (see awsconf.Load); the SDK's retryer handles throttling.
func New(cfg aws.Config, opts ...Option) *Deployer {
	d := NewFromAPI(ecs.NewFromConfig(cfg), opts...)
	d.logs = cloudwatchlogs.NewFromConfig(cfg)
	return d
}

// NewFromAPI returns a Deployer over any implementation of API; it reads
// no CloudWatch Logs, and its errors say so where a log tail would be.
func NewFromAPI(api API, opts ...Option) *Deployer {
	d := &Deployer{api: budgeted{api}, clock: SystemClock{}, log: func(string) {}}
	for _, o := range opts {
		o(d)
	}
	return d
}

// logf emits one progress line; lines of parallel rollouts never interleave.
func (d *Deployer) logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.log(line)
}
