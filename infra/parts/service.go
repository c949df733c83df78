package parts

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
)

// Autoscaling targets shared by every public service (CAO guide).
const (
	cpuTargetPercent  = 70
	requestsPerTarget = 1000
	scalingCooldown   = 60
)

// ServiceProps describes one Fargate service.
type ServiceProps struct {
	// Settings is the validated context (app, env, images, cost switches).
	Settings config.Settings
	// Service is the app service this construct runs.
	Service config.Service
	// Cluster runs the service.
	Cluster awsecs.ICluster
	// CPU, MemoryMiB and DesiredCount size the service.
	CPU, MemoryMiB, DesiredCount int
	// Environment holds the container's plain variables.
	Environment map[string]*string
	// Secrets holds the container's variables read from Secrets Manager.
	Secrets map[string]awsecs.Secret
	// SecurityGroup is the tasks' security group.
	SecurityGroup awsec2.ISecurityGroup
	// MinHealthyPercent and MaxHealthyPercent bound rolling deployments.
	MinHealthyPercent, MaxHealthyPercent int
	// HealthCheckGrace lets a new task start before health checks count.
	HealthCheckGrace awscdk.Duration
	// ContainerHealthCheck is the optional in-container health check.
	ContainerHealthCheck *awsecs.HealthCheck
	// CloudMap registers the tasks in a private DNS namespace (optional).
	CloudMap *awsecs.CloudMapOptions
	// EphemeralStorageGiB enlarges the task storage (0 keeps Fargate's 20 GiB).
	EphemeralStorageGiB int
}

// Service is a Fargate service with its own roles, log group and image.
type Service struct {
	// Service is the ECS service.
	Service awsecs.FargateService
	// TaskDefinition has the fixed family <app>-<env>-<service>.
	TaskDefinition awsecs.FargateTaskDefinition
	// TaskRole is what the application runs as.
	TaskRole awsiam.Role
	// ExecutionRole pulls the image, writes logs and reads secrets.
	ExecutionRole awsiam.Role
}

// NewService creates the task definition, roles, log group and service, and
// adds the outputs the pipeline reads: ClusterName, <Title>ServiceName and
// <Title>TaskFamily, on the enclosing stack.
func NewService(scope constructs.Construct, id string, p ServiceProps) *Service {
	s, svc := p.Settings, p.Service
	c := constructs.NewConstruct(scope, &id)
	path := config.RolePath(s.App, s.Env.Name)
	taskRole := newTaskRole(c, "TaskRole", path)
	execRole := newTaskRole(c, "ExecutionRole", path)

	family := config.TaskFamily(s.App, s.Env.Name, svc)
	taskProps := &awsecs.FargateTaskDefinitionProps{
		Family:         &family,
		Cpu:            jsii.Number(float64(p.CPU)),
		MemoryLimitMiB: jsii.Number(float64(p.MemoryMiB)),
		TaskRole:       taskRole,
		ExecutionRole:  execRole,
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_X86_64(),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	}
	if p.EphemeralStorageGiB > 0 {
		taskProps.EphemeralStorageGiB = jsii.Number(float64(p.EphemeralStorageGiB))
	}
	taskDef := awsecs.NewFargateTaskDefinition(c, jsii.String("TaskDefinition"), taskProps)
	logGroup := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(config.LogGroupName(s.Env.Name, svc)),
		Retention:     LogRetention(s.Env.LogRetentionDays),
		RemovalPolicy: RemovalPolicy(s.Env.Removal),
	})
	image, repo := ServiceImage(c, s, svc, execRole)
	container := taskDef.AddContainer(jsii.String(svc.Key), &awsecs.ContainerDefinitionOptions{
		Image:        image,
		Essential:    jsii.Bool(true),
		Environment:  &p.Environment,
		Secrets:      &p.Secrets,
		PortMappings: &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(float64(svc.Port)), Protocol: awsecs.Protocol_TCP}},
		Logging:      awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: &svc.Key, LogGroup: logGroup}),
		HealthCheck:  p.ContainerHealthCheck,
	})
	if repo != nil {
		// ServiceImage granted the execution role pull rights on the repository.
		awscdk.Annotations_Of(container).AcknowledgeWarning(jsii.String("@aws-cdk/aws-ecs:ecrImageRequiresPolicy"), jsii.String("pull rights granted on the repository"))
	}

	props := &awsecs.FargateServiceProps{
		Cluster:                p.Cluster,
		TaskDefinition:         taskDef,
		DesiredCount:           jsii.Number(float64(p.DesiredCount)),
		SecurityGroups:         &[]awsec2.ISecurityGroup{p.SecurityGroup},
		VpcSubnets:             Subnets(PrivateSubnets),
		AssignPublicIp:         jsii.Bool(false),
		CircuitBreaker:         &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		MinHealthyPercent:      jsii.Number(float64(p.MinHealthyPercent)),
		MaxHealthyPercent:      jsii.Number(float64(p.MaxHealthyPercent)),
		HealthCheckGracePeriod: p.HealthCheckGrace,
		CloudMapOptions:        p.CloudMap,
		PropagateTags:          awsecs.PropagatedTagSource_SERVICE,
		EnableECSManagedTags:   jsii.Bool(true),
	}
	if s.FargateSpot {
		props.CapacityProviderStrategies = &[]*awsecs.CapacityProviderStrategy{{CapacityProvider: jsii.String("FARGATE_SPOT"), Weight: jsii.Number(1)}}
	}
	service := awsecs.NewFargateService(c, jsii.String("Service"), props)

	stack := awscdk.Stack_Of(scope)
	if stack.Node().TryFindChild(jsii.String("ClusterName")) == nil {
		Output(stack, "ClusterName", *p.Cluster.ClusterName(), "ECS cluster the pipeline updates")
	}
	Output(stack, svc.Title+"ServiceName", *service.ServiceName(), "ECS service of "+svc.Key)
	Output(stack, svc.Title+"TaskFamily", family, "task definition family of "+svc.Key)
	if repo != nil {
		Output(stack, svc.Title+"RepositoryUri", *repo.RepositoryUri(), "ECR repository of "+svc.Key)
	}
	return &Service{Service: service, TaskDefinition: taskDef, TaskRole: taskRole, ExecutionRole: execRole}
}

func newTaskRole(scope constructs.Construct, id, path string) awsiam.Role {
	return awsiam.NewRole(scope, &id, &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Path:      &path,
	})
}

// AutoScale bounds the task count by the environment, tracks 70 % CPU and,
// when targetGroup is set, 1000 requests per target; with
// scheduledScaleIn=true it also scales to one task at 22:00 UTC and back at
// 06:00 UTC.
func (s *Service) AutoScale(settings config.Settings, targetGroup awselasticloadbalancingv2.ApplicationTargetGroup) {
	env := settings.Env
	scaling := s.Service.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
		MinCapacity: jsii.Number(float64(env.MinTasks)),
		MaxCapacity: jsii.Number(float64(env.MaxTasks)),
	})
	cooldown := awscdk.Duration_Seconds(jsii.Number(scalingCooldown))
	scaling.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsecs.CpuUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(cpuTargetPercent),
		ScaleInCooldown:          cooldown,
		ScaleOutCooldown:         cooldown,
	})
	if targetGroup != nil {
		scaling.ScaleOnRequestCount(jsii.String("Requests"), &awsecs.RequestCountScalingProps{
			RequestsPerTarget: jsii.Number(requestsPerTarget),
			TargetGroup:       targetGroup,
			ScaleInCooldown:   cooldown,
			ScaleOutCooldown:  cooldown,
		})
	}
	if settings.ScheduledScaleIn {
		scaling.ScaleOnSchedule(jsii.String("NightScaleIn"), &awsapplicationautoscaling.ScalingSchedule{
			Schedule:    awsapplicationautoscaling.Schedule_Cron(&awsapplicationautoscaling.CronOptions{Hour: jsii.String("22"), Minute: jsii.String("0")}),
			MinCapacity: jsii.Number(1),
			MaxCapacity: jsii.Number(1),
		})
		scaling.ScaleOnSchedule(jsii.String("MorningScaleOut"), &awsapplicationautoscaling.ScalingSchedule{
			Schedule:    awsapplicationautoscaling.Schedule_Cron(&awsapplicationautoscaling.CronOptions{Hour: jsii.String("6"), Minute: jsii.String("0")}),
			MinCapacity: jsii.Number(float64(env.MinTasks)),
			MaxCapacity: jsii.Number(float64(env.MaxTasks)),
		})
	}
}
