package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsservicediscovery"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// qdrantEphemeralGiB is the task storage holding Qdrant's data. Qdrant
// does not support network file systems (EFS), so data lives on the task
// and is rebuilt or restored from a snapshot when the task is replaced.
const qdrantEphemeralGiB = 50

// CommanderQdrant is CommanderQdrantStack: the app's ECS cluster and Qdrant,
// reachable only inside the VPC at QdrantURL through Cloud Map DNS.
type CommanderQdrant struct {
	// Stack is CommanderQdrantStack-<env>.
	Stack awscdk.Stack
	// Cluster is the app's ECS cluster, shared with the backend.
	Cluster awsecs.Cluster
	// QdrantURL is http://qdrant.<namespace>:6333.
	QdrantURL string
	// Service is the Qdrant service (for the dashboard).
	Service *parts.Service
}

// NewCommanderQdrant creates CommanderQdrantStack-<env>. Cloud Map (a
// private DNS A record per task) was chosen over an internal load balancer:
// there is one Qdrant task, it costs nothing, and the security group keeps
// it reachable from the backend only.
func NewCommanderQdrant(scope constructs.Construct, s config.Settings, env *awscdk.Environment, net *CommanderNetwork) *CommanderQdrant {
	stack := newStack(scope, s, "Qdrant", "commander.ai Qdrant vector database on ECS Fargate", env)
	svc, _ := config.Commander.Service("qdrant")
	cluster := newCluster(stack, s, net.Vpc)
	nsName := config.ServiceDiscoveryNamespace(s.App, s.Env.Name)
	namespace := awsservicediscovery.NewPrivateDnsNamespace(stack, jsii.String("Namespace"), &awsservicediscovery.PrivateDnsNamespaceProps{
		Name:        &nsName,
		Vpc:         net.Vpc,
		Description: jsii.String("commander.ai internal services"),
	})
	service := parts.NewService(stack, "Qdrant", parts.ServiceProps{
		Settings:     s,
		Service:      svc,
		Cluster:      cluster,
		CPU:          s.Env.QdrantCPU,
		MemoryMiB:    s.Env.QdrantMemoryMiB,
		DesiredCount: 1,
		Environment: map[string]*string{
			"QDRANT__SERVICE__HTTP_PORT": jsii.String(fmt.Sprint(svc.Port)),
			"QDRANT__TELEMETRY_DISABLED": jsii.String("true"),
		},
		SecurityGroup: net.QdrantSG,
		// One Qdrant at a time: the old task stops before the new one
		// starts, so the backend never resolves two diverging indexes.
		MinHealthyPercent: 0,
		MaxHealthyPercent: 100,
		HealthCheckGrace:  awscdk.Duration_Seconds(jsii.Number(60)),
		ContainerHealthCheck: &awsecs.HealthCheck{
			// The Qdrant image ships bash but no curl: probe the port.
			Command:     jsii.Strings("CMD-SHELL", fmt.Sprintf("bash -c ':> /dev/tcp/127.0.0.1/%d' || exit 1", svc.Port)),
			Interval:    awscdk.Duration_Seconds(jsii.Number(30)),
			Timeout:     awscdk.Duration_Seconds(jsii.Number(5)),
			Retries:     jsii.Number(3),
			StartPeriod: awscdk.Duration_Seconds(jsii.Number(30)),
		},
		CloudMap: &awsecs.CloudMapOptions{
			CloudMapNamespace: namespace,
			Name:              jsii.String(svc.Key),
			DnsRecordType:     awsservicediscovery.DnsRecordType_A,
			DnsTtl:            awscdk.Duration_Seconds(jsii.Number(10)),
		},
		EphemeralStorageGiB: qdrantEphemeralGiB,
	})
	url := fmt.Sprintf("http://%s.%s:%d", svc.Key, nsName, svc.Port)
	parts.Output(stack, "QdrantUrl", url, "Qdrant URL inside the VPC")
	return &CommanderQdrant{Stack: stack, Cluster: cluster, QdrantURL: url, Service: service}
}
