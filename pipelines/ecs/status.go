package ecs

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// ServiceStatus is what runs now in one ECS service.
type ServiceStatus struct {
	// Service and Cluster are as asked.
	Service string
	Cluster string // see Service
	// Problem is set, and the rest empty, when the service cannot be shown
	// (not found, being deleted).
	Problem string
	// TaskDefinition is the revision of the PRIMARY deployment.
	TaskDefinition string
	// Images maps each container of TaskDefinition to its image.
	Images map[string]string
	// Desired, Running and Pending are the service's task counts.
	Desired, Running, Pending int
	// Last is the newest deployment.
	Last DeploymentStatus
	// Deployments is how many deployments the service lists (1 at rest).
	Deployments int
}

// DeploymentStatus describes one deployment of a service.
type DeploymentStatus struct {
	// ID and TaskDefinition identify the deployment.
	ID             string
	TaskDefinition string // see ID
	// Outcome is "completed", "in progress", "failed" or "rolled back",
	// from its rollout state (see deploymentOutcome).
	Outcome string
	// Reason is ECS's rolloutStateReason, if any.
	Reason string
	// CreatedAt and UpdatedAt are when it started and last changed.
	CreatedAt time.Time
	UpdatedAt time.Time // see CreatedAt
}

// maxDescribe is how many services one DescribeServices call takes.
const maxDescribe = 10

// Status reads, without changing anything, what each named service runs:
// its task definition and images, task counts and its last deployment.
// A service that cannot be shown gets a Problem; API errors fail the call.
func (d *Deployer) Status(ctx context.Context, cluster string, services []string) ([]ServiceStatus, error) {
	if len(services) == 0 {
		return nil, fmt.Errorf("ecs status: no services named")
	}
	byName := map[string]*types.Service{}
	missing := map[string]string{}
	for chunk := range slices.Chunk(services, maxDescribe) {
		out, err := d.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: optString(cluster), Services: chunk})
		if err != nil {
			return nil, fmt.Errorf("ecs status: %w", awsconf.Explain("ecs:DescribeServices", err))
		}
		for i := range out.Services {
			s := &out.Services[i]
			byName[aws.ToString(s.ServiceName)], byName[aws.ToString(s.ServiceArn)] = s, s
		}
		for _, f := range out.Failures {
			missing[shortName(aws.ToString(f.Arn))] = aws.ToString(f.Reason)
		}
	}
	images := map[string]map[string]string{}
	result := make([]ServiceStatus, 0, len(services))
	for _, name := range services {
		st := ServiceStatus{Service: name, Cluster: cluster}
		svc, ok := byName[name]
		if !ok {
			st.Problem = fmt.Sprintf("not found in cluster %s (%s)", clusterName(cluster), orDefault(missing[shortName(name)], "MISSING"))
			result = append(result, st)
			continue
		}
		if status := aws.ToString(svc.Status); status != "ACTIVE" {
			st.Problem = "service is " + status
			result = append(result, st)
			continue
		}
		st = serviceStatus(st, svc)
		if st.TaskDefinition != "" {
			if _, ok := images[st.TaskDefinition]; !ok {
				out, err := d.describeTaskDefinition(ctx, st.TaskDefinition)
				if err != nil {
					return nil, fmt.Errorf("ecs status of service %s: %w", name, err)
				}
				images[st.TaskDefinition] = map[string]string{}
				for _, c := range out.TaskDefinition.ContainerDefinitions {
					images[st.TaskDefinition][aws.ToString(c.Name)] = aws.ToString(c.Image)
				}
			}
			st.Images = images[st.TaskDefinition]
		}
		result = append(result, st)
	}
	return result, nil
}

// serviceStatus fills in what one DescribeServices answer says.
func serviceStatus(st ServiceStatus, svc *types.Service) ServiceStatus {
	st.Desired, st.Running, st.Pending = int(svc.DesiredCount), int(svc.RunningCount), int(svc.PendingCount)
	st.Deployments = len(svc.Deployments)
	if p := primaryDeployment(svc.Deployments); p != nil {
		st.TaskDefinition = aws.ToString(p.TaskDefinition)
	} else {
		st.TaskDefinition = aws.ToString(svc.TaskDefinition)
	}
	var last *types.Deployment
	for i := range svc.Deployments {
		if last == nil || aws.ToTime(svc.Deployments[i].CreatedAt).After(aws.ToTime(last.CreatedAt)) {
			last = &svc.Deployments[i]
		}
	}
	if last != nil {
		st.Last = DeploymentStatus{
			ID: aws.ToString(last.Id), TaskDefinition: aws.ToString(last.TaskDefinition),
			Outcome: deploymentOutcome(last), Reason: aws.ToString(last.RolloutStateReason),
			CreatedAt: aws.ToTime(last.CreatedAt), UpdatedAt: aws.ToTime(last.UpdatedAt),
		}
	}
	return st
}

// deploymentOutcome names a deployment's state for people: a COMPLETED
// deployment the circuit breaker started to roll back is "rolled back".
func deploymentOutcome(d *types.Deployment) string {
	rollback := strings.Contains(strings.ToLower(aws.ToString(d.RolloutStateReason)), "rolling back")
	switch d.RolloutState {
	case types.DeploymentRolloutStateFailed:
		return "failed"
	case types.DeploymentRolloutStateInProgress:
		if rollback {
			return "rolling back"
		}
		return "in progress"
	case types.DeploymentRolloutStateCompleted:
		if rollback {
			return "rolled back"
		}
		return "completed"
	}
	if d.RunningCount == d.DesiredCount {
		return "completed"
	}
	return "in progress"
}

// String renders the status in a few lines for a terminal.
func (s ServiceStatus) String() string {
	if s.Problem != "" {
		return fmt.Sprintf("%s: %s", s.Service, s.Problem)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (cluster %s): %s, %d/%d running", s.Service, clusterName(s.Cluster), shortName(s.TaskDefinition), s.Running, s.Desired)
	if s.Pending > 0 {
		fmt.Fprintf(&b, ", %d pending", s.Pending)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Images)) {
		fmt.Fprintf(&b, "\n  container %s: %s", name, s.Images[name])
	}
	if l := s.Last; l.ID != "" {
		fmt.Fprintf(&b, "\n  last deployment %s of %s: %s", l.ID, shortName(l.TaskDefinition), l.Outcome)
		if !l.CreatedAt.IsZero() {
			fmt.Fprintf(&b, ", started %s", l.CreatedAt.UTC().Format(time.RFC3339))
		}
		if l.Reason != "" {
			b.WriteString(" - " + l.Reason)
		}
	}
	if s.Deployments > 1 {
		fmt.Fprintf(&b, "\n  %d deployments listed: a deployment is in flight", s.Deployments)
	}
	return b.String()
}
