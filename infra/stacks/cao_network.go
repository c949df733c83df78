package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// CAONetwork is CAONetworkStack: the VPC and the three security groups of the guide.
type CAONetwork struct {
	// Stack is CAONetworkStack-<env>.
	Stack awscdk.Stack
	// Vpc spreads public and private subnets over the environment's AZs.
	Vpc awsec2.Vpc
	// AlbSG takes 80/443 from anywhere.
	AlbSG awsec2.SecurityGroup
	// TasksSG takes the CAO port only from AlbSG.
	TasksSG awsec2.SecurityGroup
	// RedisSG takes 6379 only from TasksSG and sends nothing.
	RedisSG awsec2.SecurityGroup
}

// NewCAONetwork creates CAONetworkStack-<env>.
func NewCAONetwork(scope constructs.Construct, s config.Settings, env *awscdk.Environment) *CAONetwork {
	stack := newStack(scope, s, "Network", "CAO network: VPC and security groups", env)
	vpc := parts.NewVpc(stack, "Vpc", parts.VpcOptions{
		MaxAZs:      s.Env.MaxAZs,
		AZs:         s.AZs,
		NATGateways: s.Env.NATGateways,
		Endpoints:   s.VpcEndpoints,
		DynamoDB:    true,
	})
	port := config.CAO.Services[0].Port
	n := &CAONetwork{
		Stack:   stack,
		Vpc:     vpc,
		AlbSG:   newSecurityGroup(stack, "AlbSecurityGroup", vpc, "CAO load balancer", true),
		TasksSG: newSecurityGroup(stack, "TasksSecurityGroup", vpc, "CAO server tasks", true),
		RedisSG: newSecurityGroup(stack, "RedisSecurityGroup", vpc, "CAO Redis", false),
	}
	allowWeb(n.AlbSG)
	allowFrom(n.TasksSG, n.AlbSG, port, "CAO server from the load balancer")
	allowFrom(n.RedisSG, n.TasksSG, 6379, "Redis from CAO server tasks")
	parts.Output(stack, "VpcId", *vpc.VpcId(), "VPC ID")
	return n
}
