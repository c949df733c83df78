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

// AbortSpec names the service whose deployment in flight to stop.
type AbortSpec struct {
	// Cluster name or ARN; empty means the "default" cluster.
	Cluster string
	// Service name or ARN. Required.
	Service string
	// Rollback stops with ROLLBACK (back to the previous revision) instead
	// of ABORT (stop where it stands).
	Rollback bool
}

// AbortResult says which service deployment was stopped, and how.
type AbortResult struct {
	// ARN of the stopped service deployment.
	ARN string
	// Status it had when it was stopped, e.g. IN_PROGRESS.
	Status string
	// TargetRevision is the service revision it was deploying.
	TargetRevision string
	// StopType is ROLLBACK or ABORT.
	StopType string
}

// String renders the result as one line for a CLI.
func (r AbortResult) String() string {
	return fmt.Sprintf("stopped service deployment %s (%s, deploying %s) with %s", shortName(r.ARN), r.Status, revisionName(r.TargetRevision), r.StopType)
}

// AbortServiceDeployment stops the service deployment in flight on a
// service through StopServiceDeployment, and says which one it stopped.
// With none in flight it fails and changes nothing.
func (d *Deployer) AbortServiceDeployment(ctx context.Context, spec AbortSpec) (AbortResult, error) {
	if spec.Service == "" {
		return AbortResult{}, errors.New("aborting a deployment: no service named")
	}
	list, err := d.api.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{
		Cluster: optString(spec.Cluster), Service: aws.String(spec.Service),
		Status: []types.ServiceDeploymentStatus{types.ServiceDeploymentStatusPending, types.ServiceDeploymentStatusInProgress},
	})
	if err != nil {
		return AbortResult{}, fmt.Errorf("aborting the deployment of %s: %w", spec.Service, awsconf.Explain("ecs:ListServiceDeployments", err))
	}
	b := inFlight(list.ServiceDeployments)
	if b == nil {
		return AbortResult{}, fmt.Errorf("aborting the deployment of %s (cluster %s): no service deployment is in flight (PENDING or IN_PROGRESS), nothing was stopped", spec.Service, clusterName(spec.Cluster))
	}
	res := AbortResult{ARN: aws.ToString(b.ServiceDeploymentArn), Status: string(b.Status), TargetRevision: aws.ToString(b.TargetServiceRevisionArn), StopType: string(types.StopServiceDeploymentStopTypeAbort)}
	if spec.Rollback {
		res.StopType = string(types.StopServiceDeploymentStopTypeRollback)
	}
	if _, err := d.api.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(res.ARN), StopType: types.StopServiceDeploymentStopType(res.StopType)}); err != nil {
		return res, fmt.Errorf("aborting service deployment %s of %s: %w", shortName(res.ARN), spec.Service, awsconf.Explain("ecs:StopServiceDeployment", err))
	}
	d.logf("%s: %s", spec.Service, res)
	return res, nil
}

// inFlight is the newest service deployment still PENDING or IN_PROGRESS.
func inFlight(list []types.ServiceDeploymentBrief) *types.ServiceDeploymentBrief {
	var best *types.ServiceDeploymentBrief
	for i := range list {
		b := &list[i]
		if b.Status != types.ServiceDeploymentStatusPending && b.Status != types.ServiceDeploymentStatusInProgress {
			continue
		}
		if best == nil || aws.ToTime(b.CreatedAt).After(aws.ToTime(best.CreatedAt)) {
			best = b
		}
	}
	return best
}

// revisionName shortens a service revision ARN to service/id, e.g. api/8.
func revisionName(arn string) string {
	parts := strings.Split(arn, "/")
	if len(parts) < 3 {
		return shortName(arn)
	}
	return strings.Join(parts[len(parts)-2:], "/")
}
