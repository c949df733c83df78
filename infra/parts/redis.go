package parts

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
)

// RedisEngineVersion is the ElastiCache Redis version of both guides.
const RedisEngineVersion = "7.1"

// RedisProps sizes a Redis replication group.
type RedisProps struct {
	// Description names the group in the console.
	Description string
	// Vpc and SecurityGroup place the nodes in the private subnets.
	Vpc           awsec2.IVpc
	SecurityGroup awsec2.ISecurityGroup
	// Env gives node type, node count, snapshot retention and removal.
	Env config.Env
	// TransitEncryption makes clients connect with TLS (rediss://).
	TransitEncryption bool
}

// NewRedis creates a Redis replication group, encrypted at rest, with
// automatic failover and Multi-AZ when the environment has more than one node.
func NewRedis(scope constructs.Construct, id string, p RedisProps) awselasticache.CfnReplicationGroup {
	c := constructs.NewConstruct(scope, &id)
	var subnetIDs []interface{}
	for _, id := range *p.Vpc.SelectSubnets(Subnets(PrivateSubnets)).SubnetIds {
		subnetIDs = append(subnetIDs, id)
	}
	group := awselasticache.NewCfnSubnetGroup(c, jsii.String("SubnetGroup"), &awselasticache.CfnSubnetGroupProps{
		Description: jsii.String(p.Description + " subnets"),
		SubnetIds:   &subnetIDs,
	})
	replicated := p.Env.RedisNodes > 1
	redis := awselasticache.NewCfnReplicationGroup(c, jsii.String("ReplicationGroup"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupDescription: &p.Description,
		Engine:                      jsii.String("redis"),
		EngineVersion:               jsii.String(RedisEngineVersion),
		CacheNodeType:               &p.Env.RedisNodeType,
		NumCacheClusters:            jsii.Number(float64(p.Env.RedisNodes)),
		AutomaticFailoverEnabled:    &replicated,
		MultiAzEnabled:              &replicated,
		CacheSubnetGroupName:        group.Ref(),
		SecurityGroupIds:            &[]*string{p.SecurityGroup.SecurityGroupId()},
		AtRestEncryptionEnabled:     jsii.Bool(true),
		TransitEncryptionEnabled:    jsii.Bool(p.TransitEncryption),
		SnapshotRetentionLimit:      jsii.Number(float64(p.Env.RedisSnapshotRetentionDays)),
	})
	removal := p.Env.Removal
	if p.Env.DBRemoval == config.RemovalSnapshot {
		removal = config.RemovalSnapshot
	}
	redis.ApplyRemovalPolicy(RemovalPolicy(removal), nil)
	return redis
}
