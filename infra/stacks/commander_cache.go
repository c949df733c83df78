package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// NewCommanderCache creates CommanderCacheStack-<env>: Redis 7.1 encrypted
// in transit and at rest (clients use rediss://).
func NewCommanderCache(scope constructs.Construct, s config.Settings, env *awscdk.Environment, net *CommanderNetwork) awselasticache.CfnReplicationGroup {
	stack := newStack(scope, s, "Cache", "commander.ai Redis", env)
	redis := parts.NewRedis(stack, "Redis", parts.RedisProps{
		Description:       "commander.ai cache " + s.Env.Name,
		Vpc:               net.Vpc,
		SecurityGroup:     net.CacheSG,
		Env:               s.Env,
		TransitEncryption: true,
	})
	parts.Output(stack, "RedisEndpoint", *redis.AttrPrimaryEndPointAddress(), "Redis primary endpoint")
	return redis
}
