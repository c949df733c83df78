package ecs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// Revision is the outcome of RegisterRevision and MigrationRevision.
type Revision struct {
	// ARN is the task definition to deploy: the new revision, or the
	// current one when nothing changed.
	ARN string
	// Previous is the revision the service runs now.
	Previous string
	// Changed is false when the containers already ran the requested
	// images; then no revision was registered.
	Changed bool
	// Reused is true when ARN is an existing revision of the family that
	// already holds exactly the wanted task definition, so nothing was
	// registered (a re-run of the same release).
	Reused bool
}

// ImagesTag is the tag stevedore puts on the revisions it registers: a
// digest of every container's image, so a person (or a policy) can tell
// which image set a revision was made for.
const ImagesTag = "stevedore:images"

// reuseDepth is how many of a family's newest ACTIVE revisions are searched
// for one to reuse: CloudFormation may have registered a few since.
const reuseDepth = 10

// MigrationRevision returns a revision of the service's current task
// definition in which only the named containers run the given
// (digest-pinned) images, for a one-off task such as a migration. An
// existing ACTIVE revision of the family with exactly that content is reused
// (Reused), so a re-run registers nothing. When the service already runs
// those images, Changed is false and ARN is its current revision.
func (d *Deployer) MigrationRevision(ctx context.Context, cluster, service string, images map[string]string) (Revision, error) {
	if len(images) == 0 {
		return Revision{}, fmt.Errorf("migration revision for service %s: no images given: name at least one container and its image", service)
	}
	if err := checkImages(images, false); err != nil {
		return Revision{}, fmt.Errorf("migration revision for service %s: %w", service, err)
	}
	svc, err := d.describeService(ctx, cluster, service)
	if err != nil {
		return Revision{}, fmt.Errorf("migration revision for service %s: %w", service, err)
	}
	rev, err := d.registerRevision(ctx, aws.ToString(svc.TaskDefinition), images)
	if err != nil {
		return rev, fmt.Errorf("migration revision for service %s: %w", service, err)
	}
	switch {
	case !rev.Changed:
		d.logf("%s: already runs these images (%s); no migration revision needed", service, shortName(rev.ARN))
	case rev.Reused:
		d.logf("%s: reusing %s for these images (registered earlier)", service, shortName(rev.ARN))
	default:
		d.logf("%s: registered %s for the migration (from %s, new images only)", service, shortName(rev.ARN), shortName(rev.Previous))
	}
	return rev, nil
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
// task-definition ARN; images are already checked. An existing revision
// with exactly the wanted content is reused instead of registering another.
func (d *Deployer) registerRevision(ctx context.Context, current string, images map[string]string) (Revision, error) {
	out, err := d.describeTaskDefinition(ctx, current)
	if err != nil {
		return Revision{}, err
	}
	defs, changed, err := withImages(out.TaskDefinition.ContainerDefinitions, images, current)
	if err != nil || !changed {
		return Revision{ARN: current, Previous: current}, err
	}
	in := registerInput(out.TaskDefinition, out.Tags)
	in.ContainerDefinitions = defs
	in.Tags = append(in.Tags, types.Tag{Key: aws.String(ImagesTag), Value: aws.String(imageSetKey(defs))})
	reused, err := d.findRevision(ctx, aws.ToString(out.TaskDefinition.Family), in)
	if err != nil {
		return Revision{}, err
	}
	if reused != "" {
		return Revision{ARN: reused, Previous: current, Changed: true, Reused: true}, nil
	}
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

// describeTaskDefinition describes one revision with its tags.
func (d *Deployer) describeTaskDefinition(ctx context.Context, arn string) (*ecs.DescribeTaskDefinitionOutput, error) {
	out, err := d.api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(arn),
		Include:        []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})
	if err != nil {
		return nil, awsconf.Explain("ecs:DescribeTaskDefinition", err)
	}
	if out.TaskDefinition == nil {
		return nil, fmt.Errorf("ecs:DescribeTaskDefinition returned no task definition for %s", shortName(arn))
	}
	return out, nil
}

// findRevision returns the newest of the family's latest ACTIVE revisions
// whose content equals want (tags aside), or "" when there is none.
func (d *Deployer) findRevision(ctx context.Context, family string, want *ecs.RegisterTaskDefinitionInput) (string, error) {
	list, err := d.api.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{
		FamilyPrefix: aws.String(family), Status: types.TaskDefinitionStatusActive,
		Sort: types.SortOrderDesc, MaxResults: aws.Int32(reuseDepth),
	})
	if err != nil {
		return "", awsconf.Explain("ecs:ListTaskDefinitions", err)
	}
	for _, arn := range list.TaskDefinitionArns {
		if fam, _, ok := splitRevision(arn); !ok || fam != family {
			continue // familyPrefix also matches longer family names
		}
		out, err := d.describeTaskDefinition(ctx, arn)
		if err != nil {
			return "", err
		}
		if sameContent(registerInput(out.TaskDefinition, out.Tags), want) {
			return arn, nil
		}
	}
	return "", nil
}

// sameContent: two revisions would run the same thing (tags aside).
func sameContent(a, b *ecs.RegisterTaskDefinitionInput) bool {
	x, y := *a, *b
	x.Tags, y.Tags = nil, nil
	return reflect.DeepEqual(x, y)
}

// imageSetKey is the value of ImagesTag: a digest of every container's
// name and image (a tag value holds at most 256 characters, a list of
// image references does not fit).
func imageSetKey(defs []types.ContainerDefinition) string {
	lines := make([]string, len(defs))
	for i, c := range defs {
		lines[i] = aws.ToString(c.Name) + "=" + aws.ToString(c.Image)
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])
}
