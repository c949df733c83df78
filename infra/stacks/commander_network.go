package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// Ports of commander.ai's data stores.
const (
	postgresPort = 5432
	redisPort    = 6379
)

// CommanderNetwork is CommanderNetworkStack: a three-tier VPC and one
// security group per component, each data store reachable from the
// backend only.
type CommanderNetwork struct {
	// Stack is CommanderNetworkStack-<env>.
	Stack awscdk.Stack
	// Vpc has public, private and isolated subnets.
	Vpc awsec2.Vpc
	// AlbSG takes 80/443 from anywhere.
	AlbSG awsec2.SecurityGroup
	// BackendSG takes the backend port from AlbSG only.
	BackendSG awsec2.SecurityGroup
	// QdrantSG takes the Qdrant port from BackendSG only.
	QdrantSG awsec2.SecurityGroup
	// DatabaseSG takes 5432 from BackendSG only and sends nothing.
	DatabaseSG awsec2.SecurityGroup
	// CacheSG takes 6379 from BackendSG only and sends nothing.
	CacheSG awsec2.SecurityGroup
}

// NewCommanderNetwork creates CommanderNetworkStack-<env>.
func NewCommanderNetwork(scope constructs.Construct, s config.Settings, env *awscdk.Environment) *CommanderNetwork {
	stack := newStack(scope, s, "Network", "commander.ai network: VPC and security groups", env)
	vpc := parts.NewVpc(stack, "Vpc", parts.VpcOptions{
		MaxAZs:      s.Env.MaxAZs,
		AZs:         s.AZs,
		NATGateways: s.Env.NATGateways,
		Isolated:    true,
		Endpoints:   s.VpcEndpoints,
	})
	backend, _ := config.Commander.Service("backend")
	qdrant, _ := config.Commander.Service("qdrant")
	n := &CommanderNetwork{
		Stack:      stack,
		Vpc:        vpc,
		AlbSG:      newSecurityGroup(stack, "AlbSecurityGroup", vpc, "commander.ai load balancer", true),
		BackendSG:  newSecurityGroup(stack, "BackendSecurityGroup", vpc, "commander.ai FastAPI backend", true),
		QdrantSG:   newSecurityGroup(stack, "QdrantSecurityGroup", vpc, "commander.ai Qdrant", true),
		DatabaseSG: newSecurityGroup(stack, "DatabaseSecurityGroup", vpc, "commander.ai PostgreSQL", false),
		CacheSG:    newSecurityGroup(stack, "CacheSecurityGroup", vpc, "commander.ai Redis", false),
	}
	allowWeb(n.AlbSG)
	allowFrom(n.BackendSG, n.AlbSG, backend.Port, "backend from the load balancer")
	allowFrom(n.QdrantSG, n.BackendSG, qdrant.Port, "Qdrant from the backend")
	allowFrom(n.DatabaseSG, n.BackendSG, postgresPort, "PostgreSQL from the backend")
	allowFrom(n.CacheSG, n.BackendSG, redisPort, "Redis from the backend")
	parts.Output(stack, "VpcId", *vpc.VpcId(), "VPC ID")
	return n
}
