package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// DefaultTaskTimeout bounds a one-off task when TaskSpec.Timeout is 0.
const DefaultTaskTimeout = 30 * time.Minute

// missingGrace is how long a just-started task may be unknown to
// DescribeTasks (eventual consistency) before that counts as an error.
const missingGrace = time.Minute

// TaskSpec describes a one-off task, such as `alembic upgrade head` run
// before a rollout.
type TaskSpec struct {
	// Cluster name or ARN; empty means the "default" cluster.
	Cluster string
	// TaskDefinition (ARN or family[:revision]); empty means Service's
	// current one.
	TaskDefinition string
	// Container whose command is overridden and whose exit code decides
	// success. Required.
	Container string
	// Command replaces the container's command; empty keeps the image's.
	Command []string
	// Service, if set, lends its network configuration, launch type or
	// capacity provider strategy and platform version, so the task can
	// reach what the service reaches (e.g. the database).
	Service string
	// Subnets overrides the awsvpc subnets.
	Subnets []string
	// SecurityGroups overrides the awsvpc security groups.
	SecurityGroups []string
	// AssignPublicIP ("ENABLED"/"DISABLED") overrides the awsvpc setting.
	AssignPublicIP string
	// LaunchType overrides the launch type; without Service it defaults to
	// FARGATE.
	LaunchType string
	// Timeout bounds the wait for the task to stop; 0 means
	// DefaultTaskTimeout.
	Timeout time.Duration
	// Poll is the DescribeTasks interval; 0 means DefaultPoll.
	Poll time.Duration
}

// TaskResult describes a finished one-off task.
type TaskResult struct {
	// TaskARN of the started task; empty if none started.
	TaskARN string
	// TaskDefinition the task ran.
	TaskDefinition string
	// Container whose exit code decided the outcome.
	Container string
	// ExitCode of Container; -1 when it never exited (e.g. the image
	// could not be pulled).
	ExitCode int
	// StoppedReason and StopCode are what ECS said about the stop.
	StoppedReason string
	StopCode      string // see StoppedReason
	// Duration from the call to the verdict.
	Duration time.Duration
	// Logs are the failed containers' last CloudWatch Logs lines (or why
	// they could not be read), when the task failed.
	Logs []string
}

// RunTask starts one task, waits until it stops and succeeds only when
// spec.Container exited with code 0. The error's first line names the task,
// the exit code and the reasons ECS gave.
func (d *Deployer) RunTask(ctx context.Context, spec TaskSpec) (res TaskResult, err error) {
	start := d.clock.Now()
	res = TaskResult{Container: spec.Container, ExitCode: -1}
	defer func() { res.Duration = d.clock.Now().Sub(start) }()
	if spec.Container == "" {
		return res, errors.New("ecs run-task: no container named: set the container whose exit code decides success")
	}
	in, err := d.runTaskInput(ctx, spec)
	if err != nil {
		return res, err
	}
	res.TaskDefinition = aws.ToString(in.TaskDefinition)
	out, err := d.api.RunTask(ctx, in)
	if err != nil {
		return res, awsconf.Explain("ecs:RunTask", err)
	}
	if len(out.Failures) > 0 || len(out.Tasks) == 0 {
		return res, fmt.Errorf("ecs:RunTask could not start %s: %s", shortName(res.TaskDefinition), failureList(out.Failures))
	}
	res.TaskARN = aws.ToString(out.Tasks[0].TaskArn)
	d.logf("task %s: started from %s (container %s: %s)", shortName(res.TaskARN), shortName(res.TaskDefinition), spec.Container, strings.Join(spec.Command, " "))
	task, err := d.waitStopped(ctx, spec, res.TaskARN)
	if err != nil {
		return res, err
	}
	if res, err = d.taskVerdict(res, task); err != nil {
		res.Logs = d.taskLogs(ctx, task, map[string]*types.TaskDefinition{})
		if len(res.Logs) > 0 {
			err = fmt.Errorf("%w\n  logs of the task:\n    %s", err, strings.Join(res.Logs, "\n    "))
		}
	}
	return res, err
}

// runTaskInput builds the RunTask request, borrowing from the service.
func (d *Deployer) runTaskInput(ctx context.Context, spec TaskSpec) (*ecs.RunTaskInput, error) {
	in := &ecs.RunTaskInput{
		Cluster:        optString(spec.Cluster),
		TaskDefinition: optString(spec.TaskDefinition),
		Count:          aws.Int32(1),
		StartedBy:      aws.String("stevedore"),
	}
	if spec.Service != "" {
		svc, err := d.describeService(ctx, spec.Cluster, spec.Service)
		if err != nil {
			return nil, fmt.Errorf("ecs run-task: %w", err)
		}
		if in.TaskDefinition == nil {
			in.TaskDefinition = svc.TaskDefinition
		}
		in.NetworkConfiguration = copyNetwork(svc.NetworkConfiguration)
		in.PlatformVersion = svc.PlatformVersion
		if len(svc.CapacityProviderStrategy) > 0 {
			in.CapacityProviderStrategy = svc.CapacityProviderStrategy
		} else {
			in.LaunchType = svc.LaunchType
		}
	} else {
		in.LaunchType = types.LaunchTypeFargate
	}
	if in.TaskDefinition == nil {
		return nil, errors.New("ecs run-task: no task definition: name one or a service to take it from")
	}
	if spec.LaunchType != "" {
		in.LaunchType, in.CapacityProviderStrategy = types.LaunchType(spec.LaunchType), nil
	}
	if len(spec.Subnets) > 0 || len(spec.SecurityGroups) > 0 || spec.AssignPublicIP != "" {
		if in.NetworkConfiguration == nil {
			in.NetworkConfiguration = &types.NetworkConfiguration{}
		}
		vpc := in.NetworkConfiguration.AwsvpcConfiguration
		if vpc == nil {
			vpc = &types.AwsVpcConfiguration{}
			in.NetworkConfiguration.AwsvpcConfiguration = vpc
		}
		if len(spec.Subnets) > 0 {
			vpc.Subnets = spec.Subnets
		}
		if len(spec.SecurityGroups) > 0 {
			vpc.SecurityGroups = spec.SecurityGroups
		}
		if spec.AssignPublicIP != "" {
			vpc.AssignPublicIp = types.AssignPublicIp(spec.AssignPublicIP)
		}
	}
	if len(spec.Command) > 0 {
		in.Overrides = &types.TaskOverride{ContainerOverrides: []types.ContainerOverride{{Name: aws.String(spec.Container), Command: spec.Command}}}
	}
	return in, nil
}

// copyNetwork copies the service's network configuration so overrides
// never write into the DescribeServices answer.
func copyNetwork(n *types.NetworkConfiguration) *types.NetworkConfiguration {
	if n == nil || n.AwsvpcConfiguration == nil {
		return n
	}
	vpc := *n.AwsvpcConfiguration
	return &types.NetworkConfiguration{AwsvpcConfiguration: &vpc}
}

// waitStopped polls DescribeTasks until the task is STOPPED, logging each
// status change.
func (d *Deployer) waitStopped(ctx context.Context, spec TaskSpec, arn string) (types.Task, error) {
	poll, timeout := spec.Poll, spec.Timeout
	if poll <= 0 {
		poll = DefaultPoll
	}
	if timeout <= 0 {
		timeout = DefaultTaskTimeout
	}
	start := d.clock.Now()
	deadline, last := start.Add(timeout), ""
	for {
		out, err := d.api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: optString(spec.Cluster), Tasks: []string{arn}})
		if err != nil {
			return types.Task{}, fmt.Errorf("task %s may still be running: %w", shortName(arn), awsconf.Explain("ecs:DescribeTasks", err))
		}
		now := d.clock.Now()
		if len(out.Tasks) > 0 {
			task := out.Tasks[0]
			if status := aws.ToString(task.LastStatus); status != last {
				last = status
				d.logf("task %s: %s", shortName(arn), status)
			}
			if last == "STOPPED" {
				return task, nil
			}
		} else if now.Sub(start) >= missingGrace {
			return types.Task{}, fmt.Errorf("task %s vanished: ecs:DescribeTasks says %s", shortName(arn), failureList(out.Failures))
		}
		left := deadline.Sub(now)
		if left <= 0 {
			return types.Task{}, fmt.Errorf("task %s still %s after %s: it was left running; stop it (aws ecs stop-task) or raise the timeout", shortName(arn), orDefault(last, "unknown"), timeout)
		}
		if err := d.clock.Sleep(ctx, min(poll, left)); err != nil {
			return types.Task{}, fmt.Errorf("stopped waiting for task %s (%v); it may still be running", shortName(arn), err)
		}
	}
}

// taskVerdict fills res from the stopped task and fails unless the named
// container exited 0.
func (d *Deployer) taskVerdict(res TaskResult, task types.Task) (TaskResult, error) {
	res.StoppedReason, res.StopCode = aws.ToString(task.StoppedReason), string(task.StopCode)
	id := shortName(res.TaskARN)
	var c *types.Container
	for i := range task.Containers {
		if aws.ToString(task.Containers[i].Name) == res.Container {
			c = &task.Containers[i]
		}
	}
	if c == nil {
		names := make([]string, len(task.Containers))
		for i, tc := range task.Containers {
			names[i] = aws.ToString(tc.Name)
		}
		return res, fmt.Errorf("task %s has no container %q (it has: %s)", id, res.Container, strings.Join(names, ", "))
	}
	why := "stopped reason: " + orDefault(res.StoppedReason, "none given")
	if res.StopCode != "" {
		why += " [" + res.StopCode + "]"
	}
	if r := aws.ToString(c.Reason); r != "" {
		why += "; container reason: " + r
	}
	if c.ExitCode == nil {
		return res, fmt.Errorf("task %s: container %s never exited, so it probably did not start (%s)", id, res.Container, why)
	}
	res.ExitCode = int(*c.ExitCode)
	d.logf("task %s: container %s exited with code %d (%s)", id, res.Container, res.ExitCode, why)
	if res.ExitCode != 0 {
		return res, fmt.Errorf("task %s: container %s exited with code %d (%s)", id, res.Container, res.ExitCode, why)
	}
	return res, nil
}

// failureList renders API Failures as "arn: reason (detail)" items.
func failureList(fs []types.Failure) string {
	if len(fs) == 0 {
		return "no task and no reason returned"
	}
	items := make([]string, len(fs))
	for i, f := range fs {
		item := aws.ToString(f.Reason)
		if a := aws.ToString(f.Arn); a != "" {
			item = shortName(a) + ": " + item
		}
		if dt := aws.ToString(f.Detail); dt != "" {
			item += " (" + dt + ")"
		}
		items[i] = item
	}
	return strings.Join(items, "; ")
}
