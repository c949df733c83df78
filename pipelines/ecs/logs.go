package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// LogsAPI is the part of the CloudWatch Logs client this package uses to
// show why a task died; *cloudwatchlogs.Client satisfies it.
type LogsAPI interface {
	GetLogEvents(ctx context.Context, in *cloudwatchlogs.GetLogEventsInput, opts ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error)
}

var _ LogsAPI = (*cloudwatchlogs.Client)(nil)

const (
	// maxLogLines is how many of a failed container's last log lines an
	// error shows.
	maxLogLines = 50
	// maxLogTasks bounds the failed tasks whose logs are read: the first
	// ones tell the story, the rest repeat it.
	maxLogTasks = 2
)

// taskLogs returns, for the containers of a stopped task that failed
// (exit code not 0, or none), a header line and the last log lines from
// the awslogs driver's stream: <stream prefix>/<container>/<task id>. Where
// the logs cannot be read the line says which permission or setting is
// missing. defs caches task definitions by ARN.
func (d *Deployer) taskLogs(ctx context.Context, task types.Task, defs map[string]*types.TaskDefinition) []string {
	tdArn, id := aws.ToString(task.TaskDefinitionArn), shortName(aws.ToString(task.TaskArn))
	td, ok := defs[tdArn]
	if !ok {
		out, err := d.describeTaskDefinition(ctx, tdArn)
		if err != nil {
			return []string{fmt.Sprintf("task %s: logs not read: %v", id, err)}
		}
		td, defs[tdArn] = out.TaskDefinition, out.TaskDefinition
	}
	var lines []string
	for _, c := range failedContainers(task.Containers) {
		name := aws.ToString(c.Name)
		i := containerIndex(td.ContainerDefinitions, name)
		if i < 0 {
			continue
		}
		lines = append(lines, d.containerLogs(ctx, id, name, shortName(tdArn), td.ContainerDefinitions[i].LogConfiguration)...)
	}
	return lines
}

// failedContainers are those that exited non-zero or never exited; all of
// them when every one exited 0 (the task failed for another reason).
func failedContainers(cs []types.Container) []types.Container {
	var failed []types.Container
	for _, c := range cs {
		if c.ExitCode == nil || *c.ExitCode != 0 {
			failed = append(failed, c)
		}
	}
	if len(failed) == 0 {
		return cs
	}
	return failed
}

// containerLogs reads one container's last lines.
func (d *Deployer) containerLogs(ctx context.Context, taskID, container, taskDef string, lc *types.LogConfiguration) []string {
	head := fmt.Sprintf("task %s container %s", taskID, container)
	switch {
	case lc == nil:
		return []string{head + ": no logs: " + taskDef + " gives the container no logConfiguration; use the awslogs log driver to see its output here"}
	case lc.LogDriver != types.LogDriverAwslogs:
		return []string{fmt.Sprintf("%s: logs go to the %s driver, not awslogs, so they are not shown here", head, lc.LogDriver)}
	}
	group, prefix, region := lc.Options["awslogs-group"], lc.Options["awslogs-stream-prefix"], lc.Options["awslogs-region"]
	switch {
	case group == "":
		return []string{head + ": no logs: awslogs-group is not set in " + taskDef}
	case prefix == "":
		return []string{head + ": no logs: awslogs-stream-prefix is not set in " + taskDef + ", so the task's log stream has no name to find it by; set it"}
	case d.logs == nil:
		return []string{head + ": logs not read: this deployer has no CloudWatch Logs client"}
	}
	stream := prefix + "/" + container + "/" + taskID
	where := fmt.Sprintf("log group %s, stream %s", group, stream)
	var opts []func(*cloudwatchlogs.Options)
	if region != "" {
		opts = append(opts, func(o *cloudwatchlogs.Options) { o.Region = region })
	}
	out, err := d.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(group), LogStreamName: aws.String(stream),
		Limit: aws.Int32(maxLogLines), StartFromHead: aws.Bool(false),
	}, opts...)
	if err != nil {
		return []string{head + ": " + explainLogs(where, err)}
	}
	if len(out.Events) == 0 {
		return []string{head + ": wrote no log lines (" + where + ")"}
	}
	events := out.Events[max(0, len(out.Events)-maxLogLines):]
	lines := []string{fmt.Sprintf("%s: last %d log lines (%s):", head, len(events), where)}
	for _, ev := range events {
		for _, l := range strings.Split(strings.TrimRight(aws.ToString(ev.Message), "\n"), "\n") {
			lines = append(lines, "  | "+l)
		}
	}
	return lines
}

// explainLogs says why a log stream could not be read.
func explainLogs(where string, err error) string {
	var missing *logtypes.ResourceNotFoundException
	var api smithy.APIError
	switch {
	case errors.As(err, &missing):
		return "no logs: " + where + " does not exist (the container may never have started: see the stop reason)"
	case errors.As(err, &api) && strings.Contains(api.ErrorCode(), "AccessDenied"):
		return fmt.Sprintf("logs not read: the credentials in use lack the logs:GetLogEvents permission on %s: %v", where, err)
	}
	return "logs not read: " + awsconf.Explain("logs:GetLogEvents", err).Error()
}
