package builtin

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// Subnet groups: selections use names, because without NAT the private
// tier is isolated too.
const (
	PublicSubnets   = "Public"
	PrivateSubnets  = "Private"
	IsolatedSubnets = "Isolated"
)

// Ports of the data stores.
const (
	postgresPort = 5432
	redisPort    = 6379
)

// Network is the VPC and every security group: one for the ALB, one per
// service, one per database or cache, each reachable only from what uses it.
type Network struct {
	Vpc awsec2.Vpc
	// Alb is nil without public services.
	Alb awsec2.SecurityGroup
	// Services and Resources are the security groups by name.
	Services  map[string]awsec2.SecurityGroup
	Resources map[string]awsec2.SecurityGroup
}

// newNetwork creates the VPC (public, private and, with a postgres
// resource, isolated /24 tiers; NAT gateways or, with natGateways 0, VPC
// endpoints) and the security groups.
func newNetwork(stack awscdk.Stack, plan *appspec.Plan) *Network {
	n := plan.Network
	privateType := awsec2.SubnetType_PRIVATE_WITH_EGRESS
	if n.Endpoints {
		privateType = awsec2.SubnetType_PRIVATE_ISOLATED
	}
	tiers := []*awsec2.SubnetConfiguration{
		{Name: jsii.String(PublicSubnets), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
		{Name: jsii.String(PrivateSubnets), SubnetType: privateType, CidrMask: jsii.Number(24)},
	}
	if hasType(plan, appspec.TypePostgres) {
		tiers = append(tiers, &awsec2.SubnetConfiguration{Name: jsii.String(IsolatedSubnets), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(24)})
	}
	props := &awsec2.VpcProps{
		IpAddresses:         awsec2.IpAddresses_Cidr(&n.Cidr),
		NatGateways:         jsii.Number(float64(n.NatGateways)),
		SubnetConfiguration: &tiers,
	}
	if len(n.Zones) > 0 {
		props.AvailabilityZones = jsii.Strings(n.Zones...)
	} else {
		props.MaxAzs = jsii.Number(float64(n.AZs))
	}
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), props)
	flowLogs := awslogs.NewLogGroup(stack, jsii.String("FlowLogs"), &awslogs.LogGroupProps{
		Retention:     retentionOf(plan.LogRetentionDays),
		RemovalPolicy: removal(plan.Removal),
	})
	flowLog := vpc.AddFlowLog(jsii.String("FlowLog"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
		TrafficType: awsec2.FlowLogTrafficType_REJECT,
	})
	suppress(flowLog, reasonFlowLogRole, "AwsSolutions-IAM5")
	if n.Endpoints {
		addEndpoints(vpc, hasType(plan, appspec.TypeDynamoDB))
	}
	net := &Network{Vpc: vpc, Services: map[string]awsec2.SecurityGroup{}, Resources: map[string]awsec2.SecurityGroup{}}
	sg := func(id, description string, out bool) awsec2.SecurityGroup {
		return awsec2.NewSecurityGroup(stack, jsii.String(id), &awsec2.SecurityGroupProps{
			Vpc: vpc, Description: jsii.String(description), AllowAllOutbound: jsii.Bool(out),
		})
	}
	for _, s := range plan.Services {
		if s.Public && net.Alb == nil {
			net.Alb = sg("AlbSecurityGroup", plan.App+" load balancer", true)
			suppress(net.Alb, reasonPublicAlb, "AwsSolutions-EC23")
			net.Alb.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(80)), jsii.String("HTTP from anywhere"), nil)
			net.Alb.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from anywhere"), nil)
		}
		net.Services[s.Name] = sg(contract.Pascal(s.Name)+"SecurityGroup", plan.App+" "+s.Name+" tasks", true)
	}
	for _, s := range plan.Services {
		own := net.Services[s.Name]
		if s.Public {
			allowFrom(own, net.Alb, s.Port, s.Name+" from the load balancer")
		}
		if s.Internal != "" {
			for _, u := range usersOf(plan, s.Internal) {
				allowFrom(own, net.Services[u.Name], s.Port, s.Name+" from "+u.Name)
			}
		}
	}
	for _, r := range plan.Resources {
		port := map[string]int{appspec.TypePostgres: postgresPort, appspec.TypeRedis: redisPort}[r.Type]
		if port == 0 {
			continue
		}
		group := sg(r.ID+"SecurityGroup", plan.App+" "+r.Name+" ("+r.Type+")", false)
		net.Resources[r.Name] = group
		for _, u := range usersOf(plan, r.Name) {
			allowFrom(group, net.Services[u.Name], port, r.Name+" from "+u.Name)
		}
	}
	output(stack, "VpcId", vpc.VpcId(), "VPC ID")
	return net
}

// allowFrom opens one TCP port of sg to the members of peer only.
func allowFrom(sg awsec2.SecurityGroup, peer awsec2.ISecurityGroup, port int, description string) {
	sg.AddIngressRule(peer, awsec2.Port_Tcp(jsii.Number(float64(port))), &description, nil)
}

// addEndpoints adds what tasks need to start without NAT: ECR (API and
// registry), S3 (image layers), CloudWatch Logs, Secrets Manager, and
// DynamoDB when a table is described.
func addEndpoints(vpc awsec2.Vpc, dynamoDB bool) {
	private := &[]*awsec2.SubnetSelection{subnets(PrivateSubnets)}
	vpc.AddGatewayEndpoint(jsii.String("S3Endpoint"), &awsec2.GatewayVpcEndpointOptions{Service: awsec2.GatewayVpcEndpointAwsService_S3(), Subnets: private})
	if dynamoDB {
		vpc.AddGatewayEndpoint(jsii.String("DynamoDBEndpoint"), &awsec2.GatewayVpcEndpointOptions{Service: awsec2.GatewayVpcEndpointAwsService_DYNAMODB(), Subnets: private})
	}
	for id, svc := range map[string]awsec2.InterfaceVpcEndpointAwsService{
		"EcrApiEndpoint":         awsec2.InterfaceVpcEndpointAwsService_ECR(),
		"EcrDockerEndpoint":      awsec2.InterfaceVpcEndpointAwsService_ECR_DOCKER(),
		"LogsEndpoint":           awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS(),
		"SecretsManagerEndpoint": awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER(),
	} {
		ep := vpc.AddInterfaceEndpoint(jsii.String(id), &awsec2.InterfaceVpcEndpointOptions{Service: svc, Subnets: subnets(PrivateSubnets)})
		suppress(ep, reasonEndpointSG, "AwsSolutions-EC23", "CdkNagValidationFailure")
	}
}

func hasType(plan *appspec.Plan, typ string) bool {
	for _, r := range plan.Resources {
		if r.Type == typ {
			return true
		}
	}
	return false
}
