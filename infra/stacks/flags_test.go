package stacks

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// allFlags turns on every cost switch.
var allFlags = []string{"fargateSpot", "true", "vpcEndpoints", "true", "scheduledScaleIn", "true"}

func TestFargateSpot(t *testing.T) {
	tests := []struct {
		name     string
		ctx      map[string]string
		services map[string]int
	}{
		{"cao", caoContext("dev", allFlags...), map[string]int{"CAOInfrastructureStack-dev": 1}},
		{"commander", commanderContext("staging", append(allFlags, "image.qdrant", cmdQdrantEC)...), map[string]int{"CommanderQdrantStack-staging": 1, "CommanderBackendStack-staging": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synth(t, tt.ctx)
			for stack, n := range tt.services {
				tmpl := s.template(t, stack)
				spot := map[string]any{
					"CapacityProviderStrategy": []any{map[string]any{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}},
					"LaunchType":               assertions.Match_Absent(),
				}
				tmpl.count("AWS::ECS::Service", n)
				tmpl.props("AWS::ECS::Service", spot)
			}
		})
	}
	t.Run("cluster offers the spot provider", func(t *testing.T) {
		synth(t, caoContext("dev", allFlags...)).template(t, "CAOInfrastructureStack-dev").props("AWS::ECS::ClusterCapacityProviderAssociations", map[string]any{
			"CapacityProviders": arrayWith("FARGATE_SPOT"),
		})
	})
	t.Run("off by default", func(t *testing.T) {
		tmpl := synth(t, caoContext("dev")).template(t, "CAOInfrastructureStack-dev")
		tmpl.props("AWS::ECS::Service", map[string]any{"LaunchType": "FARGATE", "CapacityProviderStrategy": assertions.Match_Absent()})
		tmpl.count("AWS::ECS::ClusterCapacityProviderAssociations", 0)
	})
}

// endpointServices returns the service names of the VPC endpoints of a stack, as JSON.
func endpointServices(t *testing.T, s *synthesized, stack string) []string {
	t.Helper()
	var names []string
	for _, ep := range s.resources(t, stack, "AWS::EC2::VPCEndpoint") {
		names = append(names, js(ep["ServiceName"])+" "+js(ep["VpcEndpointType"]))
	}
	return names
}

func TestVpcEndpoints(t *testing.T) {
	tests := []struct {
		name, stack string
		ctx         map[string]string
		want        []string
	}{
		{"cao", "CAONetworkStack-dev", caoContext("dev", allFlags...),
			[]string{".s3", ".dynamodb", ".ecr.api", ".ecr.dkr", ".logs", ".secretsmanager"}},
		{"commander", "CommanderNetworkStack-staging", commanderContext("staging", append(allFlags, "image.qdrant", cmdQdrantEC)...),
			[]string{".s3", ".ecr.api", ".ecr.dkr", ".logs", ".secretsmanager"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synth(t, tt.ctx)
			tmpl := s.template(t, tt.stack)
			tmpl.count("AWS::EC2::NatGateway", 0)
			got := endpointServices(t, s, tt.stack)
			if len(got) != len(tt.want) {
				t.Errorf("endpoints = %v, want %v", got, tt.want)
			}
			for _, svc := range tt.want {
				var found bool
				for _, g := range got {
					found = found || strings.Contains(g, svc+`"`)
				}
				if !found {
					t.Errorf("no %s endpoint in %v", svc, got)
				}
			}
			// Tasks keep running in the Private tier, now without a route out.
			tmpl.props("AWS::EC2::Subnet", map[string]any{
				"Tags": arrayWith(map[string]any{"Key": "aws-cdk:subnet-name", "Value": "Private"}, map[string]any{"Key": "aws-cdk:subnet-type", "Value": "Isolated"}),
			})
		})
	}
	t.Run("nat by default", func(t *testing.T) {
		s := synth(t, caoContext("prod"))
		s.template(t, "CAONetworkStack-prod").count("AWS::EC2::NatGateway", 2)
		if got := endpointServices(t, s, "CAONetworkStack-prod"); len(got) != 0 {
			t.Errorf("endpoints without vpcEndpoints=true: %v", got)
		}
	})
}

func TestScheduledScaleIn(t *testing.T) {
	tests := []struct {
		name, stack string
		ctx         map[string]string
		min, max    int
	}{
		{"cao", "CAOInfrastructureStack-dev", caoContext("dev", allFlags...), 1, 2},
		{"commander", "CommanderBackendStack-staging", commanderContext("staging", append(allFlags, "image.qdrant", cmdQdrantEC)...), 2, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synth(t, tt.ctx).template(t, tt.stack).props("AWS::ApplicationAutoScaling::ScalableTarget", map[string]any{
				"ScheduledActions": []any{
					like(map[string]any{
						"Schedule":             "cron(0 22 * * ? *)",
						"ScalableTargetAction": map[string]any{"MinCapacity": 1, "MaxCapacity": 1},
					}),
					like(map[string]any{
						"Schedule":             "cron(0 6 * * ? *)",
						"ScalableTargetAction": map[string]any{"MinCapacity": tt.min, "MaxCapacity": tt.max},
					}),
				},
			})
		})
	}
}

func TestAvailabilityZones(t *testing.T) {
	privateSubnets := func(s *synthesized, stack string) int {
		n := 0
		for _, sub := range s.resources(t, stack, "AWS::EC2::Subnet") {
			if strings.Contains(js(sub["Tags"]), `"Value":"Private"`) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		name string
		ctx  map[string]string
		opts synthOptions
		want int
	}{
		// CDK can only address two AZs without knowing the region.
		{"environment-agnostic", commanderContext("prod"), synthOptions{}, 2},
		{"pinned with azs", commanderContext("prod", "azs", "us-east-1a,us-east-1b,us-east-1c"), synthOptions{}, 3},
		{"environment-aware", commanderContext("prod"), synthOptions{envAware: true}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthWith(t, tt.ctx, tt.opts)
			if got := privateSubnets(s, "CommanderNetworkStack-prod"); got != tt.want {
				t.Errorf("%d private subnets, want %d", got, tt.want)
			}
		})
	}
}
