package ecs

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// describeService returns the service, or a clear error when it does not
// exist or is being deleted.
func (d *Deployer) describeService(ctx context.Context, cluster, service string) (*types.Service, error) {
	out, err := d.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: optString(cluster), Services: []string{service}})
	if err != nil {
		return nil, awsconf.Explain("ecs:DescribeServices", err)
	}
	if _, msg := serviceProblem(out, cluster, service); msg != "" {
		return nil, errors.New(msg)
	}
	return &out.Services[0], nil
}

// serviceProblem says why a DescribeServices answer holds no usable
// service: not found (Failures reason MISSING), or status DRAINING/INACTIVE.
func serviceProblem(out *ecs.DescribeServicesOutput, cluster, service string) (FailureKind, string) {
	for _, f := range out.Failures {
		if aws.ToString(f.Reason) == "MISSING" {
			return KindServiceMissing, fmt.Sprintf("service %s not found in cluster %s: check the service and cluster names and the region", service, clusterName(cluster))
		}
		return KindServiceMissing, fmt.Sprintf("describing service %s in cluster %s failed: %s %s", service, clusterName(cluster), aws.ToString(f.Reason), aws.ToString(f.Detail))
	}
	if len(out.Services) == 0 {
		return KindServiceMissing, fmt.Sprintf("service %s not found in cluster %s: check the service and cluster names and the region", service, clusterName(cluster))
	}
	switch status := aws.ToString(out.Services[0].Status); status {
	case "DRAINING", "INACTIVE":
		return KindServiceInactive, fmt.Sprintf("service %s in cluster %s is %s (deleted or being deleted): recreate it or fix the service name", service, clusterName(cluster), status)
	}
	return "", ""
}

// checkController refuses services whose deployments ECS does not run
// itself: their deployments list does not describe the rollout.
func checkController(svc *types.Service) error {
	if c := svc.DeploymentController; c != nil && c.Type != "" && c.Type != types.DeploymentControllerTypeEcs {
		return fmt.Errorf("service %s uses the %s deployment controller: only the ECS controller's rolling deployments can be followed here", aws.ToString(svc.ServiceName), c.Type)
	}
	return nil
}

// circuitBreakerOn reports whether ECS stops a broken deployment by itself.
func circuitBreakerOn(svc *types.Service) bool {
	dc := svc.DeploymentConfiguration
	return dc != nil && dc.DeploymentCircuitBreaker != nil && dc.DeploymentCircuitBreaker.Enable
}

func clusterName(cluster string) string {
	if cluster == "" {
		return "default"
	}
	return shortName(cluster)
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
