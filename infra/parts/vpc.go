package parts

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Subnet group names: selections use these names, not subnet types, because
// with vpcEndpoints=true the "Private" tier becomes isolated too.
const (
	PublicSubnets   = "Public"
	PrivateSubnets  = "Private"
	IsolatedSubnets = "Isolated"
)

// VpcOptions sizes a VPC.
type VpcOptions struct {
	// MaxAZs is used when AZs is empty.
	MaxAZs int
	// AZs pins the availability zones.
	AZs []string
	// NATGateways is the NAT count when Endpoints is false.
	NATGateways int
	// Isolated adds a third tier without any route out (databases).
	Isolated bool
	// Endpoints removes NAT and adds VPC endpoints for what tasks need
	// to start: ECR (API + registry), S3 (image layers), CloudWatch Logs,
	// Secrets Manager.
	Endpoints bool
	// DynamoDB adds a DynamoDB gateway endpoint in Endpoints mode (CAO's session table).
	DynamoDB bool
}

// NewVpc creates a VPC with public, private and optionally isolated /24 tiers.
func NewVpc(scope constructs.Construct, id string, o VpcOptions) awsec2.Vpc {
	privateType := awsec2.SubnetType_PRIVATE_WITH_EGRESS
	nat := o.NATGateways
	if o.Endpoints {
		privateType, nat = awsec2.SubnetType_PRIVATE_ISOLATED, 0
	}
	tiers := []*awsec2.SubnetConfiguration{
		{Name: jsii.String(PublicSubnets), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
		{Name: jsii.String(PrivateSubnets), SubnetType: privateType, CidrMask: jsii.Number(24)},
	}
	if o.Isolated {
		tiers = append(tiers, &awsec2.SubnetConfiguration{Name: jsii.String(IsolatedSubnets), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(24)})
	}
	props := &awsec2.VpcProps{
		NatGateways:         jsii.Number(float64(nat)),
		SubnetConfiguration: &tiers,
	}
	if len(o.AZs) > 0 {
		props.AvailabilityZones = jsii.Strings(o.AZs...)
	} else {
		props.MaxAzs = jsii.Number(float64(o.MaxAZs))
	}
	vpc := awsec2.NewVpc(scope, &id, props)
	if o.Endpoints {
		addEndpoints(vpc, o.DynamoDB)
	}
	return vpc
}

func addEndpoints(vpc awsec2.Vpc, dynamoDB bool) {
	private := &[]*awsec2.SubnetSelection{{SubnetGroupName: jsii.String(PrivateSubnets)}}
	vpc.AddGatewayEndpoint(jsii.String("S3Endpoint"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_S3(), Subnets: private,
	})
	if dynamoDB {
		vpc.AddGatewayEndpoint(jsii.String("DynamoDBEndpoint"), &awsec2.GatewayVpcEndpointOptions{
			Service: awsec2.GatewayVpcEndpointAwsService_DYNAMODB(), Subnets: private,
		})
	}
	interfaces := []struct {
		id      string
		service awsec2.InterfaceVpcEndpointAwsService
	}{
		{"EcrApiEndpoint", awsec2.InterfaceVpcEndpointAwsService_ECR()},
		{"EcrDockerEndpoint", awsec2.InterfaceVpcEndpointAwsService_ECR_DOCKER()},
		{"LogsEndpoint", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS()},
		{"SecretsManagerEndpoint", awsec2.InterfaceVpcEndpointAwsService_SECRETS_MANAGER()},
	}
	for _, e := range interfaces {
		vpc.AddInterfaceEndpoint(jsii.String(e.id), &awsec2.InterfaceVpcEndpointOptions{
			Service: e.service,
			Subnets: &awsec2.SubnetSelection{SubnetGroupName: jsii.String(PrivateSubnets)},
		})
	}
}

// Subnets selects a subnet group by name.
func Subnets(group string) *awsec2.SubnetSelection {
	return &awsec2.SubnetSelection{SubnetGroupName: &group}
}
