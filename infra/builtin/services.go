package builtin

import (
	"fmt"
	"regexp"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsservicediscovery"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// Service is one rendered Fargate service.
type Service struct {
	Plan           appspec.PlanService
	Service        awsecs.FargateService
	TaskDefinition awsecs.FargateTaskDefinition
	TaskRole       awsiam.Role
	ExecutionRole  awsiam.Role
	// TargetGroup is set for public services.
	TargetGroup awselasticloadbalancingv2.ApplicationTargetGroup
	// AlternateTargetGroup is the second group of a public service whose
	// deployment shifts traffic (ECS moves the tasks between the two).
	AlternateTargetGroup awselasticloadbalancingv2.ApplicationTargetGroup
	// URL is how other services reach an internal service.
	URL string
}

// Alb is the public load balancer shared by the public services.
type Alb struct {
	LoadBalancer awselasticloadbalancingv2.ApplicationLoadBalancer
	Listener     awselasticloadbalancingv2.ApplicationListener
	scope        constructs.Construct
	hasDefault   bool
}

// ecrRef recognises an ECR image reference: account, region, China suffix, repository.
var ecrRef = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/(.+)$`)

// logRetention maps days to the CloudWatch Logs periods the presets use.
var logRetention = map[int]awslogs.RetentionDays{
	7: awslogs.RetentionDays_ONE_WEEK, 30: awslogs.RetentionDays_ONE_MONTH, 90: awslogs.RetentionDays_THREE_MONTHS,
}

// retentionOf is the CloudWatch Logs period of a preset's retention.
func retentionOf(days int) awslogs.RetentionDays {
	if r, ok := logRetention[days]; ok {
		return r
	}
	return awslogs.RetentionDays_ONE_MONTH
}

// renderServices creates the cluster (in the first service's stack), the
// Cloud Map namespace when a service is internal, the ALB when one is
// public, and every service in deploy order: internal services first, so
// their URLs exist when the services using them are rendered.
func (a *App) renderServices(images Images) {
	plan := a.Plan
	if len(plan.Services) == 0 {
		return
	}
	first := a.stack(plan.Services[0].Stack)
	spot := false
	for _, s := range plan.Services {
		spot = spot || s.Spot
	}
	cluster := awsecs.NewCluster(first, jsii.String("Cluster"), &awsecs.ClusterProps{
		Vpc:                            a.Network.Vpc,
		ClusterName:                    jsii.String(plan.ClusterName()),
		EnableFargateCapacityProviders: jsii.Bool(spot),
		ContainerInsightsV2:            awsecs.ContainerInsights_ENABLED,
	})
	output(first, contract.OutputCluster, cluster.ClusterName(), "ECS cluster of every service")
	var namespace awsservicediscovery.PrivateDnsNamespace
	for _, s := range plan.Services {
		if s.Internal != "" && namespace == nil {
			namespace = awsservicediscovery.NewPrivateDnsNamespace(first, jsii.String("Namespace"), &awsservicediscovery.PrivateDnsNamespaceProps{
				Name: jsii.String(plan.Namespace()), Vpc: a.Network.Vpc, Description: jsii.String(plan.App + " internal services"),
			})
		}
	}
	urls := map[string]string{}
	for _, s := range plan.Services {
		stack := a.stack(s.Stack)
		if s.Public && a.Alb == nil {
			a.Alb = newAlb(stack, a.Network)
		}
		svc := newService(stack, plan, s, serviceDeps{cluster: cluster, namespace: namespace, image: images[s.Name], net: a.Network, data: a.Data, urls: urls})
		if s.Internal != "" {
			svc.URL = fmt.Sprintf("http://%s.%s:%d", s.Internal, plan.Namespace(), s.Port)
			urls[s.Internal] = svc.URL
			output(stack, contract.Pascal(s.Name)+"Url", jsii.String(svc.URL), s.Name+" URL inside the VPC")
		}
		var shifted shiftedRoute
		if s.Public {
			svc.TargetGroup, shifted = a.Alb.route(svc, a.publicIndex(s.Name), plan.RolePath())
		}
		deploymentOutputs(stack, svc, a.Alb, shifted)
		if s.Autoscaling != nil {
			svc.autoscale()
		}
		a.Services[s.Name] = svc
	}
	if a.Alb != nil {
		a.Alb.finish()
		st := awscdk.Stack_Of(a.Alb.LoadBalancer)
		dns := *a.Alb.LoadBalancer.LoadBalancerDnsName()
		health := a.healthService()
		output(st, "LoadBalancerDNS", &dns, "public DNS name of the load balancer")
		output(st, contract.OutputHealthURL, jsii.String("http://"+dns+health.Path()+health.Plan.Health), "health endpoint stevedore checks after a deploy")
	}
}

// publicIndex is the listener rule priority base of a public service.
func (a *App) publicIndex(name string) int {
	i := 0
	for _, s := range a.Plan.Services {
		if s.Public {
			i++
		}
		if s.Name == name {
			return i
		}
	}
	return i
}

// healthService is the public service the HealthUrl output checks: the
// one on the default route, else the first public one.
func (a *App) healthService() *Service {
	var first *Service
	for _, s := range a.Plan.Services {
		if !s.Public {
			continue
		}
		if s.Path == "" && s.Host == "" {
			return a.Services[s.Name]
		}
		if first == nil {
			first = a.Services[s.Name]
		}
	}
	return first
}

// Path is the fixed prefix of a service's path pattern (/api for /api/*).
func (s *Service) Path() string {
	p := s.Plan.Path
	for len(p) > 0 && (p[len(p)-1] == '*' || p[len(p)-1] == '/') {
		p = p[:len(p)-1]
	}
	return p
}

type serviceDeps struct {
	cluster   awsecs.Cluster
	namespace awsservicediscovery.PrivateDnsNamespace
	image     contract.Image
	net       *Network
	data      map[string]*Resource
	urls      map[string]string
}

// newService creates the roles (under the plan's role path), the log
// group, the task definition with the digest-pinned image and the
// connection settings of what the service uses, and the service with the
// circuit breaker and rollback always on.
func newService(stack awscdk.Stack, plan *appspec.Plan, s appspec.PlanService, d serviceDeps) *Service {
	c := constructs.NewConstruct(stack, jsii.String(contract.Pascal(s.Name)))
	role := func(id string) awsiam.Role {
		return awsiam.NewRole(c, jsii.String(id), &awsiam.RoleProps{
			AssumedBy: awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
			Path:      jsii.String(plan.RolePath()),
		})
	}
	taskRole, execRole := role("TaskRole"), role("ExecutionRole")
	taskProps := &awsecs.FargateTaskDefinitionProps{
		Family:         jsii.String(plan.TaskFamily(s.Name)),
		Cpu:            jsii.Number(float64(s.CPU)),
		MemoryLimitMiB: jsii.Number(float64(s.Memory)),
		TaskRole:       taskRole,
		ExecutionRole:  execRole,
		RuntimePlatform: &awsecs.RuntimePlatform{
			CpuArchitecture:       awsecs.CpuArchitecture_X86_64(),
			OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX(),
		},
	}
	if s.Storage > 0 {
		taskProps.EphemeralStorageGiB = jsii.Number(float64(s.Storage))
	}
	taskDef := awsecs.NewFargateTaskDefinition(c, jsii.String("TaskDefinition"), taskProps)
	suppress(taskDef, reasonEnvVars, "AwsSolutions-ECS2")
	logs := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(fmt.Sprintf("/ecs/%s/%s", s.Repository, plan.Env.Name)),
		Retention:     retentionOf(plan.LogRetentionDays),
		RemovalPolicy: removal(plan.Removal),
	})

	env := map[string]*string{"PORT": jsii.String(fmt.Sprint(s.Port))}
	for k, v := range s.Env {
		env[k] = jsii.String(v)
	}
	secrets := map[string]awsecs.Secret{}
	for name, ref := range s.Secrets {
		secret := awssecretsmanager.Secret_FromSecretNameV2(c, jsii.String(name+"Secret"), jsii.String(ref.Secret))
		if ref.Key != "" {
			secrets[name] = awsecs.Secret_FromSecretsManager(secret, &ref.Key)
		} else {
			secrets[name] = awsecs.Secret_FromSecretsManager(secret, nil)
		}
	}
	for _, u := range s.Uses {
		if r, ok := d.data[u]; ok {
			e, sec := r.connect(taskRole)
			for k, v := range e {
				env[k] = v
			}
			for k, v := range sec {
				secrets[k] = v
			}
		} else if url, ok := d.urls[u]; ok {
			env[appspec.InternalURLVariable(u)] = jsii.String(url)
		}
	}

	image, repo := serviceImage(c, d.image, execRole)
	suppress(execRole, reasonExecWildcards, "AwsSolutions-IAM5")
	container := taskDef.AddContainer(jsii.String(s.Container), &awsecs.ContainerDefinitionOptions{
		Image:        image,
		Essential:    jsii.Bool(true),
		Environment:  &env,
		Secrets:      &secrets,
		PortMappings: &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(float64(s.Port)), Protocol: awsecs.Protocol_TCP}},
		Logging:      awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: &s.Name, LogGroup: logs}),
		HealthCheck:  containerHealth(s),
	})
	if repo != nil {
		awscdk.Annotations_Of(container).AcknowledgeWarning(jsii.String("@aws-cdk/aws-ecs:ecrImageRequiresPolicy"), jsii.String("pull rights granted on the repository"))
	}
	minHealthy, maxHealthy := 100, 200
	if s.OneAtATime {
		minHealthy, maxHealthy = 0, 100
	}
	props := &awsecs.FargateServiceProps{
		Cluster:              d.cluster,
		TaskDefinition:       taskDef,
		DesiredCount:         jsii.Number(float64(s.DesiredCount)),
		SecurityGroups:       &[]awsec2.ISecurityGroup{d.net.Services[s.Name]},
		VpcSubnets:           subnets(PrivateSubnets),
		AssignPublicIp:       jsii.Bool(false),
		CircuitBreaker:       &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		MinHealthyPercent:    jsii.Number(float64(minHealthy)),
		MaxHealthyPercent:    jsii.Number(float64(maxHealthy)),
		PropagateTags:        awsecs.PropagatedTagSource_SERVICE,
		EnableECSManagedTags: jsii.Bool(true),
	}
	if s.Public || len(s.HealthCommand) > 0 {
		props.HealthCheckGracePeriod = awscdk.Duration_Seconds(jsii.Number(s.HealthGrace.Seconds()))
	}
	if s.Internal != "" {
		props.CloudMapOptions = &awsecs.CloudMapOptions{
			CloudMapNamespace: d.namespace,
			Name:              &s.Internal,
			DnsRecordType:     awsservicediscovery.DnsRecordType_A,
			DnsTtl:            awscdk.Duration_Seconds(jsii.Number(10)),
		}
	}
	if s.Spot {
		props.CapacityProviderStrategies = &[]*awsecs.CapacityProviderStrategy{{CapacityProvider: jsii.String("FARGATE_SPOT"), Weight: jsii.Number(1)}}
	}
	deploymentProps(props, s.Deployment)
	service := awsecs.NewFargateService(c, jsii.String("Service"), props)
	pauseHook(service, s.Deployment)
	title := contract.Pascal(s.Name)
	if stack.Node().TryFindChild(jsii.String(contract.OutputCluster)) == nil {
		output(stack, contract.OutputCluster, d.cluster.ClusterName(), "ECS cluster of every service")
	}
	output(stack, contract.ServiceOutput(s.Name), service.ServiceName(), "ECS service of "+s.Name)
	output(stack, title+"TaskFamily", jsii.String(plan.TaskFamily(s.Name)), "task definition family of "+s.Name)
	return &Service{Plan: s, Service: service, TaskDefinition: taskDef, TaskRole: taskRole, ExecutionRole: execRole}
}

// containerHealth is the in-container health check of healthCommand.
func containerHealth(s appspec.PlanService) *awsecs.HealthCheck {
	if len(s.HealthCommand) == 0 {
		return nil
	}
	return &awsecs.HealthCheck{
		Command:     jsii.Strings(s.HealthCommand...),
		Interval:    awscdk.Duration_Seconds(jsii.Number(30)),
		Timeout:     awscdk.Duration_Seconds(jsii.Number(5)),
		Retries:     jsii.Number(3),
		StartPeriod: awscdk.Duration_Seconds(jsii.Number(30)),
	}
}

// serviceImage uses exactly the digest-pinned reference, so a deploy never
// reverts what was rolled out; an ECR repository is imported from the
// reference and the execution role may pull from it.
func serviceImage(scope constructs.Construct, img contract.Image, execRole awsiam.IRole) (awsecs.ContainerImage, awsecr.IRepository) {
	image := awsecs.ContainerImage_FromRegistry(jsii.String(img.String()), nil)
	m := ecrRef.FindStringSubmatch(img.Repository)
	if m == nil {
		return image, nil
	}
	partition := "aws"
	if m[3] != "" {
		partition = "aws-cn"
	}
	arn := fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", partition, m[2], m[1], m[4])
	repo := awsecr.Repository_FromRepositoryArn(scope, jsii.String("Repository"), &arn)
	repo.GrantPull(execRole)
	return image, repo
}

// newAlb creates the internet-facing ALB and its HTTP listener; the
// listener answers 404 where no service's route matches.
func newAlb(stack awscdk.Stack, net *Network) *Alb {
	c := constructs.NewConstruct(stack, jsii.String("Alb"))
	lb := awselasticloadbalancingv2.NewApplicationLoadBalancer(c, jsii.String("LoadBalancer"), &awselasticloadbalancingv2.ApplicationLoadBalancerProps{
		Vpc:                     net.Vpc,
		InternetFacing:          jsii.Bool(true),
		SecurityGroup:           net.Alb,
		VpcSubnets:              subnets(PublicSubnets),
		DropInvalidHeaderFields: jsii.Bool(true),
	})
	suppress(lb, reasonAlbLogs, "AwsSolutions-ELB2")
	listener := lb.AddListener(jsii.String("Http"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
		Port:     jsii.Number(80),
		Protocol: awselasticloadbalancingv2.ApplicationProtocol_HTTP,
		Open:     jsii.Bool(false),
	})
	return &Alb{LoadBalancer: lb, Listener: listener, scope: c}
}

// finish answers 404 where no route matches, unless a service has the default route.
func (a *Alb) finish() {
	if a.hasDefault {
		return
	}
	a.Listener.AddAction(jsii.String("NoRoute"), &awselasticloadbalancingv2.AddApplicationActionProps{
		Action: awselasticloadbalancingv2.ListenerAction_FixedResponse(jsii.Number(404), &awselasticloadbalancingv2.FixedResponseOptions{
			ContentType: jsii.String("text/plain"), MessageBody: jsii.String("no route"),
		}),
	})
}

// route creates the service's target group (health path, stickiness) in
// the ALB's stack and routes to it: the default action for a service with
// neither path nor host, a listener rule otherwise; a service whose
// deployment shifts traffic gets its rules, the alternate group and the
// test route from routeShifted.
func (a *Alb) route(svc *Service, priority int, rolePath string) (awselasticloadbalancingv2.ApplicationTargetGroup, shiftedRoute) {
	s := svc.Plan
	tgProps := &awselasticloadbalancingv2.ApplicationTargetGroupProps{
		Vpc:        svc.Service.Cluster().Vpc(),
		Port:       jsii.Number(float64(s.Port)),
		Protocol:   awselasticloadbalancingv2.ApplicationProtocol_HTTP,
		TargetType: awselasticloadbalancingv2.TargetType_IP,
		HealthCheck: &awselasticloadbalancingv2.HealthCheck{
			Path:                    &s.Health,
			HealthyHttpCodes:        jsii.String("200"),
			Interval:                awscdk.Duration_Seconds(jsii.Number(30)),
			Timeout:                 awscdk.Duration_Seconds(jsii.Number(5)),
			HealthyThresholdCount:   jsii.Number(2),
			UnhealthyThresholdCount: jsii.Number(3),
		},
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(30)),
	}
	if s.StickyCookie != "" {
		tgProps.StickinessCookieName = &s.StickyCookie
		tgProps.StickinessCookieDuration = awscdk.Duration_Seconds(jsii.Number(s.StickyFor.Seconds()))
	}
	id := contract.Pascal(s.Name) + "TargetGroup"
	tg := awselasticloadbalancingv2.NewApplicationTargetGroup(a.scope, &id, tgProps)
	var conditions []awselasticloadbalancingv2.ListenerCondition
	if s.Path != "" {
		conditions = append(conditions, awselasticloadbalancingv2.ListenerCondition_PathPatterns(jsii.Strings(s.Path)))
	}
	if s.Host != "" {
		conditions = append(conditions, awselasticloadbalancingv2.ListenerCondition_HostHeaders(jsii.Strings(s.Host)))
	}
	if s.Deployment.ShiftsTraffic() {
		return tg, a.routeShifted(svc, rolePath, tg, tgProps, conditions, 10*priority)
	}
	svc.Service.AttachToApplicationTargetGroup(tg)
	if len(conditions) == 0 {
		a.hasDefault = true
		a.Listener.AddAction(jsii.String("Default"+contract.Pascal(s.Name)), &awselasticloadbalancingv2.AddApplicationActionProps{
			Action: awselasticloadbalancingv2.ListenerAction_Forward(&[]awselasticloadbalancingv2.IApplicationTargetGroup{tg}, nil),
		})
		return tg, shiftedRoute{}
	}
	a.Listener.AddTargetGroups(jsii.String(contract.Pascal(s.Name)+"Route"), &awselasticloadbalancingv2.AddApplicationTargetGroupsProps{
		TargetGroups: &[]awselasticloadbalancingv2.IApplicationTargetGroup{tg},
		Conditions:   &conditions,
		Priority:     jsii.Number(float64(10 * priority)),
	})
	return tg, shiftedRoute{}
}

// autoscale bounds the task count, tracks CPU and, for public services
// with requestsPerTarget, ALB requests per target.
func (s *Service) autoscale() {
	as := s.Plan.Autoscaling
	scaling := s.Service.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{
		MinCapacity: jsii.Number(float64(as.Min)),
		MaxCapacity: jsii.Number(float64(as.Max)),
	})
	cooldown := awscdk.Duration_Seconds(jsii.Number(60))
	scaling.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsecs.CpuUtilizationScalingProps{
		TargetUtilizationPercent: jsii.Number(float64(as.CPU)), ScaleInCooldown: cooldown, ScaleOutCooldown: cooldown,
	})
	if as.RequestsPerTarget > 0 && s.TargetGroup != nil {
		scaling.ScaleOnRequestCount(jsii.String("Requests"), &awsecs.RequestCountScalingProps{
			RequestsPerTarget: jsii.Number(float64(as.RequestsPerTarget)), TargetGroup: s.TargetGroup,
			ScaleInCooldown: cooldown, ScaleOutCooldown: cooldown,
		})
	}
}
