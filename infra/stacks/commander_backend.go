package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// apiSecret is a Secrets Manager secret the operator creates before the
// first deploy (guide, "Set Up Secrets") and the JSON field holding the value.
type apiSecret struct {
	env, id, name, field string
}

// apiSecrets are the guide's application secrets.
var apiSecrets = []apiSecret{
	{"OPENAI_API_KEY", "OpenAIKey", "commander-ai/openai", "api_key"},
	{"TAVILY_API_KEY", "TavilyKey", "commander-ai/tavily", "api_key"},
	{"SECRET_KEY", "JWTSecret", "commander-ai/jwt-secret", "secret_key"},
}

// environmentLabels is what the backend's ENVIRONMENT variable says per env.
var environmentLabels = map[string]string{"dev": "development", "staging": "staging", "prod": "production"}

// CommanderBackend is CommanderBackendStack: the FastAPI service behind a public ALB.
type CommanderBackend struct {
	// Stack is CommanderBackendStack-<env>.
	Stack awscdk.Stack
	// Service is the FastAPI service.
	Service *parts.Service
	// Alb is its public load balancer and target group.
	Alb *parts.PublicAlb
}

// NewCommanderBackend creates CommanderBackendStack-<env>. The database
// password reaches the container only as the DB_PASSWORD secret; the
// connection itself is described by DB_HOST, DB_PORT, DB_NAME and DB_USER.
func NewCommanderBackend(scope constructs.Construct, s config.Settings, env *awscdk.Environment, net *CommanderNetwork, db awsrds.DatabaseInstance, redis awselasticache.CfnReplicationGroup, qdrant *CommanderQdrant) *CommanderBackend {
	stack := newStack(scope, s, "Backend", "commander.ai FastAPI backend on ECS Fargate behind a public ALB", env)
	svc, _ := config.Commander.Service("backend")

	secrets := map[string]awsecs.Secret{
		"DB_PASSWORD": awsecs.Secret_FromSecretsManager(db.Secret(), jsii.String("password")),
	}
	for _, sec := range apiSecrets {
		imported := awssecretsmanager.Secret_FromSecretNameV2(stack, jsii.String(sec.id), jsii.String(sec.name))
		secrets[sec.env] = awsecs.Secret_FromSecretsManager(imported, jsii.String(sec.field))
	}
	service := parts.NewService(stack, "Backend", parts.ServiceProps{
		Settings:     s,
		Service:      svc,
		Cluster:      qdrant.Cluster,
		CPU:          s.Env.CPU,
		MemoryMiB:    s.Env.MemoryMiB,
		DesiredCount: s.Env.DesiredCount,
		Environment: map[string]*string{
			"ENVIRONMENT": jsii.String(environmentLabels[s.Env.Name]),
			"PORT":        jsii.String(fmt.Sprint(svc.Port)),
			"DB_HOST":     db.DbInstanceEndpointAddress(),
			"DB_PORT":     db.DbInstanceEndpointPort(),
			"DB_NAME":     jsii.String(dbName),
			"DB_USER":     jsii.String(dbUser),
			"REDIS_URL":   jsii.String(fmt.Sprintf("rediss://%s:%s/0", *redis.AttrPrimaryEndPointAddress(), *redis.AttrPrimaryEndPointPort())),
			"QDRANT_URL":  jsii.String(qdrant.QdrantURL),
		},
		Secrets:           secrets,
		SecurityGroup:     net.BackendSG,
		MinHealthyPercent: 100,
		MaxHealthyPercent: 200,
		HealthCheckGrace:  awscdk.Duration_Seconds(jsii.Number(60)),
	})
	alb := parts.NewPublicAlb(stack, "Alb", parts.PublicAlbProps{
		Vpc:           net.Vpc,
		SecurityGroup: net.AlbSG,
		Service:       service,
		Port:          svc.Port,
	})
	service.AutoScale(s, nil)
	alb.Outputs(stack)
	parts.Output(stack, "BackendUrl", *alb.LoadBalancer.LoadBalancerDnsName(), "Backend API URL")
	return &CommanderBackend{Stack: stack, Service: service, Alb: alb}
}
