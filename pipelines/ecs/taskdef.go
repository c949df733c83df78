package ecs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// Revision is the outcome of RegisterRevision.
type Revision struct {
	// ARN is the task definition to deploy: the new revision, or the
	// current one when nothing changed.
	ARN string
	// Previous is the revision the service runs now.
	Previous string
	// Changed is false when the containers already ran the requested
	// images; then no revision was registered.
	Changed bool
}

// RegisterRevision registers a copy of the service's current task definition
// in which only the named containers' images differ. Use it to run a
// migration with the new images (RunTask) before rolling the service out
// with Spec.TaskDefinition = Revision.ARN.
func (d *Deployer) RegisterRevision(ctx context.Context, cluster, service string, images map[string]string, allowTags bool) (Revision, error) {
	if len(images) == 0 {
		return Revision{}, errors.New("no images given: name at least one container and its image")
	}
	if err := checkImages(images, allowTags); err != nil {
		return Revision{}, err
	}
	svc, err := d.describeService(ctx, cluster, service)
	if err != nil {
		return Revision{}, err
	}
	return d.registerRevision(ctx, aws.ToString(svc.TaskDefinition), images)
}

// registerRevision does the work of RegisterRevision from the current
// task-definition ARN; images are already checked.
func (d *Deployer) registerRevision(ctx context.Context, current string, images map[string]string) (Revision, error) {
	out, err := d.api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(current),
		Include:        []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})
	if err != nil {
		return Revision{}, awsconf.Explain("ecs:DescribeTaskDefinition", err)
	}
	if out.TaskDefinition == nil {
		return Revision{}, fmt.Errorf("ecs:DescribeTaskDefinition returned no task definition for %s", shortName(current))
	}
	defs, changed, err := withImages(out.TaskDefinition.ContainerDefinitions, images, current)
	if err != nil || !changed {
		return Revision{ARN: current, Previous: current}, err
	}
	in := registerInput(out.TaskDefinition, out.Tags)
	in.ContainerDefinitions = defs
	reg, err := d.api.RegisterTaskDefinition(ctx, in)
	if err != nil {
		return Revision{}, awsconf.Explain("ecs:RegisterTaskDefinition", err)
	}
	if reg.TaskDefinition == nil || reg.TaskDefinition.TaskDefinitionArn == nil {
		return Revision{}, errors.New("ecs:RegisterTaskDefinition returned no task-definition ARN")
	}
	return Revision{ARN: aws.ToString(reg.TaskDefinition.TaskDefinitionArn), Previous: current, Changed: true}, nil
}

// registerInput copies every field RegisterTaskDefinition accepts from an
// existing revision. Read-only fields (ARN, revision, status, compatibilities,
// requiresAttributes, registeredAt/By, deregisteredAt, deleteRequestedAt)
// are left out because the API rejects or ignores them.
func registerInput(td *types.TaskDefinition, tags []types.Tag) *ecs.RegisterTaskDefinitionInput {
	return &ecs.RegisterTaskDefinitionInput{
		Family:                  td.Family,
		ContainerDefinitions:    td.ContainerDefinitions,
		Cpu:                     td.Cpu,
		Memory:                  td.Memory,
		NetworkMode:             td.NetworkMode,
		RequiresCompatibilities: td.RequiresCompatibilities,
		ExecutionRoleArn:        td.ExecutionRoleArn,
		TaskRoleArn:             td.TaskRoleArn,
		Volumes:                 td.Volumes,
		PlacementConstraints:    td.PlacementConstraints,
		RuntimePlatform:         td.RuntimePlatform,
		EphemeralStorage:        td.EphemeralStorage,
		ProxyConfiguration:      td.ProxyConfiguration,
		PidMode:                 td.PidMode,
		IpcMode:                 td.IpcMode,
		InferenceAccelerators:   td.InferenceAccelerators,
		EnableFaultInjection:    td.EnableFaultInjection,
		Tags:                    userTags(tags),
	}
}

// userTags drops tags whose keys start with "aws:" (CloudFormation puts
// aws:cloudformation:* on the revisions it creates): the API reserves that
// prefix and refuses to register a revision carrying them.
func userTags(tags []types.Tag) []types.Tag {
	var out []types.Tag
	for _, t := range tags {
		if !strings.HasPrefix(strings.ToLower(aws.ToString(t.Key)), "aws:") {
			out = append(out, t)
		}
	}
	return out
}
