package ecs

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// maxStoppedTasks bounds the failed tasks described in an error: the first
// few stop reasons tell the story, the rest repeat it.
const maxStoppedTasks = 5

// stoppedTasks returns one line per stopped task of the given deployment:
// why it stopped and each container's exit code and reason. Failing to
// look is reported as a line too: the rollout error matters more.
func (d *Deployer) stoppedTasks(ctx context.Context, cluster string, t tracking) (lines, logs []string) {
	family, _, ok := splitRevision(t.taskDef)
	if !ok {
		family = shortName(t.taskDef)
	}
	// startedBy would be narrower, but the API allows it only as the sole
	// filter; family plus STOPPED, then matching below, works everywhere.
	list, err := d.api.ListTasks(ctx, &ecs.ListTasksInput{Cluster: optString(cluster), Family: aws.String(family), DesiredStatus: types.DesiredStatusStopped})
	if err != nil {
		return []string{"(could not list stopped tasks: " + awsconf.Explain("ecs:ListTasks", err).Error() + ")"}, nil
	}
	if len(list.TaskArns) == 0 {
		return nil, nil
	}
	desc, err := d.api.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: optString(cluster), Tasks: list.TaskArns})
	if err != nil {
		return []string{"(could not describe stopped tasks: " + awsconf.Explain("ecs:DescribeTasks", err).Error() + ")"}, nil
	}
	tasks := ourTasks(desc.Tasks, t)
	sort.SliceStable(tasks, func(i, j int) bool { return aws.ToTime(tasks[i].StoppedAt).After(aws.ToTime(tasks[j].StoppedAt)) })
	defs := map[string]*types.TaskDefinition{}
	for i, task := range tasks {
		if i == maxStoppedTasks {
			lines = append(lines, fmt.Sprintf("... and %d more", len(tasks)-i))
			break
		}
		lines = append(lines, describeStoppedTask(task))
		if i < maxLogTasks {
			logs = append(logs, d.taskLogs(ctx, task, defs)...)
		}
	}
	return lines, logs
}

// ourTasks keeps the tasks of our task definition, and of those the ones
// our deployment started (ECS sets startedBy to the deployment id) when
// there are any: in force mode older deployments ran the same revision.
func ourTasks(all []types.Task, t tracking) []types.Task {
	var sameDef, ours []types.Task
	for _, task := range all {
		if aws.ToString(task.TaskDefinitionArn) != t.taskDef {
			continue
		}
		sameDef = append(sameDef, task)
		if aws.ToString(task.StartedBy) == t.id {
			ours = append(ours, task)
		}
	}
	if len(ours) > 0 {
		return ours
	}
	return sameDef
}

// describeStoppedTask renders "task <id>: <stoppedReason>; container
// <name>: exit code N (<reason>)".
func describeStoppedTask(t types.Task) string {
	parts := []string{orDefault(aws.ToString(t.StoppedReason), "no stop reason given")}
	if t.StopCode != "" {
		parts[0] += " [" + string(t.StopCode) + "]"
	}
	for _, c := range t.Containers {
		parts = append(parts, "container "+describeContainerExit(c))
	}
	return "task " + shortName(aws.ToString(t.TaskArn)) + ": " + strings.Join(parts, "; ")
}

// describeContainerExit renders "<name>: exit code N (<reason>)".
func describeContainerExit(c types.Container) string {
	s := aws.ToString(c.Name) + ": "
	if c.ExitCode != nil {
		s += fmt.Sprintf("exit code %d", *c.ExitCode)
	} else {
		s += "no exit code"
	}
	if r := aws.ToString(c.Reason); r != "" {
		s += " (" + r + ")"
	}
	return s
}
