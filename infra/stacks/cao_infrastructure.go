package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// CAO session settings of the guide.
const (
	caoSessionCookie = "cao-session"
	caoSessionHours  = 1
	caoTTLAttribute  = "expiresAt"
)

// NewCAOInfrastructure creates CAOInfrastructureStack-<env>: the cluster,
// the CAO server service behind a sticky ALB, its session table and Redis.
func NewCAOInfrastructure(scope constructs.Construct, s config.Settings, env *awscdk.Environment, net *CAONetwork, auth *CAOAuth) awscdk.Stack {
	stack := newStack(scope, s, "Infrastructure", "CAO server on ECS Fargate with ALB, DynamoDB and Redis", env)
	svc := config.CAO.Services[0]

	cluster := newCluster(stack, s, net.Vpc)
	sessions := awsdynamodb.NewTable(stack, jsii.String("SessionTable"), &awsdynamodb.TableProps{
		PartitionKey:        &awsdynamodb.Attribute{Name: jsii.String("sessionId"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:         awsdynamodb.BillingMode_PAY_PER_REQUEST,
		TimeToLiveAttribute: jsii.String(caoTTLAttribute),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		DeletionProtection: jsii.Bool(s.Env.DeletionProtection),
		RemovalPolicy:      parts.RemovalPolicy(s.Env.Removal),
	})
	// The guide's client connects to REDIS_HOST:REDIS_PORT without TLS, so
	// only encryption at rest is on here.
	redis := parts.NewRedis(stack, "Redis", parts.RedisProps{
		Description:   "CAO session cache " + s.Env.Name,
		Vpc:           net.Vpc,
		SecurityGroup: net.RedisSG,
		Env:           s.Env,
	})

	service := parts.NewService(stack, "Server", parts.ServiceProps{
		Settings:     s,
		Service:      svc,
		Cluster:      cluster,
		CPU:          s.Env.CPU,
		MemoryMiB:    s.Env.MemoryMiB,
		DesiredCount: s.Env.DesiredCount,
		Environment: map[string]*string{
			"PORT":           jsii.String("9889"),
			"USER_POOL_ID":   auth.UserPool.UserPoolId(),
			"DYNAMODB_TABLE": sessions.TableName(),
			"REDIS_HOST":     redis.AttrPrimaryEndPointAddress(),
			"REDIS_PORT":     redis.AttrPrimaryEndPointPort(),
		},
		SecurityGroup:     net.TasksSG,
		MinHealthyPercent: 100,
		MaxHealthyPercent: 200,
		HealthCheckGrace:  awscdk.Duration_Seconds(jsii.Number(60)),
	})
	sessions.GrantReadWriteData(service.TaskRole)

	alb := parts.NewPublicAlb(stack, "Alb", parts.PublicAlbProps{
		Vpc:           net.Vpc,
		SecurityGroup: net.AlbSG,
		Service:       service,
		Port:          svc.Port,
		Stickiness: &parts.Stickiness{
			CookieName: caoSessionCookie,
			Duration:   awscdk.Duration_Hours(jsii.Number(caoSessionHours)),
		},
	})
	service.AutoScale(s, alb.TargetGroup)
	alb.Outputs(stack)
	parts.Output(stack, "SessionTableName", *sessions.TableName(), "DynamoDB session table")
	return stack
}

// newCluster creates the app's ECS cluster with its fixed name, the one the
// GitHub deploy role is scoped to.
func newCluster(stack awscdk.Stack, s config.Settings, vpc awsec2.IVpc) awsecs.Cluster {
	return awsecs.NewCluster(stack, jsii.String("Cluster"), &awsecs.ClusterProps{
		Vpc:                            vpc,
		ClusterName:                    jsii.String(config.ClusterName(s.App, s.Env.Name)),
		EnableFargateCapacityProviders: jsii.Bool(s.FargateSpot),
	})
}
