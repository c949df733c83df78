package builtin

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// How the built-in stacks implement a service's deployment (readme-gate.md,
// "Spec for the CDK side"). aws-cdk-go 2.270's awsecs L2 offers the
// strategy, bake time, linear and canary settings, deployment alarms and
// the alternate target (AlternateTarget, ListenerRuleConfiguration); its
// lifecycle hooks take Lambda targets only, so the PAUSE hook alone goes
// through the CfnService escape hatch.

// ecsStrategies maps stevedore's strategy names to ECS's.
var ecsStrategies = map[string]awsecs.DeploymentStrategy{
	contract.StrategyRolling:   awsecs.DeploymentStrategy_ROLLING,
	contract.StrategyBlueGreen: awsecs.DeploymentStrategy_BLUE_GREEN,
	contract.StrategyLinear:    awsecs.DeploymentStrategy_LINEAR,
	contract.StrategyCanary:    awsecs.DeploymentStrategy_CANARY,
}

// Listener rule priorities of a service routed by the listener's default
// action once ECS shifts its traffic (ECS shifts rules, not default
// actions): evaluated after every path or host rule (10, 20, ...).
const (
	catchAllPriority     = 50000
	catchAllTestPriority = 49999
)

// deploymentProps sets the L2 service properties of the plan's
// deployment: strategy, bake time, linear or canary steps, the alarms
// that roll back. A service without deployment keys gets nothing (its
// template is unchanged).
func deploymentProps(props *awsecs.FargateServiceProps, d *appspec.PlanDeployment) {
	if d == nil {
		return
	}
	if d.Strategy != contract.StrategyRolling {
		props.DeploymentStrategy = ecsStrategies[d.Strategy]
		if d.Bake > 0 {
			props.BakeTime = awscdk.Duration_Minutes(jsii.Number(d.Bake.Minutes()))
		}
	}
	switch d.Strategy {
	case contract.StrategyLinear:
		props.LinearConfiguration = &awsecs.TrafficShiftConfig{
			StepPercent: jsii.Number(d.StepPercent), StepBakeTime: awscdk.Duration_Minutes(jsii.Number(d.StepBake.Minutes())),
		}
	case contract.StrategyCanary:
		props.CanaryConfiguration = &awsecs.TrafficShiftConfig{
			StepPercent: jsii.Number(d.CanaryPercent), StepBakeTime: awscdk.Duration_Minutes(jsii.Number(d.CanaryBake.Minutes())),
		}
	}
	if len(d.Alarms) > 0 {
		props.DeploymentAlarms = &awsecs.DeploymentAlarmConfig{
			AlarmNames: jsii.Strings(d.Alarms...), Behavior: awsecs.AlarmBehavior_ROLLBACK_ON_ALARM,
		}
	}
}

// pauseHook adds the gate's PAUSE lifecycle hook through the escape hatch
// (the L2's LifecycleHooks takes Lambda targets only): at
// contract.GateStage (a gated service is behind the ALB), with a timeout
// that rolls back so an interrupted pipeline never lets an untested
// revision go live.
func pauseHook(service awsecs.FargateService, d *appspec.PlanDeployment) {
	if d == nil || !d.Gate {
		return
	}
	cfn := service.Node().DefaultChild().(awsecs.CfnService)
	cfn.AddPropertyOverride(jsii.String("DeploymentConfiguration.LifecycleHooks"), []map[string]any{{
		"TargetType":      "PAUSE",
		"LifecycleStages": []string{contract.GateStage},
		"TimeoutConfiguration": map[string]any{
			"Action": contract.GateTimeoutAction, "TimeoutInMinutes": contract.GateHookTimeoutMinutes,
		},
	}})
}

// shiftedRoute is what routeShifted created for a service whose traffic ECS shifts.
type shiftedRoute struct {
	production, test awselasticloadbalancingv2.ApplicationListenerRule
}

// routeShifted routes a service whose deployment shifts listener traffic
// (blue-green, linear, canary): the production rule forwarding to the
// service's (blue) group, with the gate the test rule on the same
// listener matching contract.GateHeader, the alternate (green) group and
// the infrastructure role ECS changes them with; then attaches the
// service with the L2's AlternateTarget. ECS owns both rules' forward
// weights from then on.
func (a *Alb) routeShifted(svc *Service, rolePath string, blue awselasticloadbalancingv2.ApplicationTargetGroup, tgProps *awselasticloadbalancingv2.ApplicationTargetGroupProps, conditions []awselasticloadbalancingv2.ListenerCondition, priority int) shiftedRoute {
	s := svc.Plan
	title := contract.Pascal(s.Name)
	testPriority := priority - 5
	if len(conditions) == 0 {
		// The default route: a catch-all rule ECS can shift.
		conditions = []awselasticloadbalancingv2.ListenerCondition{awselasticloadbalancingv2.ListenerCondition_PathPatterns(jsii.Strings("/*"))}
		priority, testPriority = catchAllPriority, catchAllTestPriority
	}
	green := awselasticloadbalancingv2.NewApplicationTargetGroup(a.scope, jsii.String(title+"AlternateTargetGroup"), tgProps)
	// Same id as Listener.AddTargetGroups gives its rule, so a rolling
	// service moving to another strategy keeps its rule.
	prod := awselasticloadbalancingv2.NewApplicationListenerRule(a.Listener, jsii.String(title+"RouteRule"), &awselasticloadbalancingv2.ApplicationListenerRuleProps{
		Listener: a.Listener, Priority: jsii.Number(float64(priority)), Conditions: &conditions,
		TargetGroups: &[]awselasticloadbalancingv2.IApplicationTargetGroup{blue},
	})
	route := shiftedRoute{production: prod}
	svc.AlternateTargetGroup = green
	alternate := &awsecs.AlternateTargetProps{
		AlternateTargetGroup: green,
		ProductionListener:   awsecs.ListenerRuleConfiguration_ApplicationListenerRule(prod),
		Role:                 infrastructureRole(svc, rolePath),
	}
	if s.Deployment.Gate {
		// The header's value in the template is a dynamic reference to a
		// secret the stack generates: unguessable, stable across synths,
		// never in the template. stevedore replaces it per release with
		// elasticloadbalancing:ModifyRule.
		value := awssecretsmanager.NewSecret(a.scope, jsii.String(title+"TestRouteValue"), &awssecretsmanager.SecretProps{
			Description: jsii.String(fmt.Sprintf("initial %s value of the test route of %s (stevedore sets its own per release)", contract.GateHeader, s.Name)),
			GenerateSecretString: &awssecretsmanager.SecretStringGenerator{
				PasswordLength: jsii.Number(40), ExcludePunctuation: jsii.Bool(true), IncludeSpace: jsii.Bool(false),
			},
			RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})
		suppress(value, reasonTestRouteRotation, "AwsSolutions-SMG4")
		testConditions := append(append([]awselasticloadbalancingv2.ListenerCondition{}, conditions...),
			awselasticloadbalancingv2.ListenerCondition_HttpHeader(jsii.String(contract.GateHeader), &[]*string{value.SecretValue().UnsafeUnwrap()}))
		test := awselasticloadbalancingv2.NewApplicationListenerRule(a.Listener, jsii.String(title+"TestRouteRule"), &awselasticloadbalancingv2.ApplicationListenerRuleProps{
			Listener: a.Listener, Priority: jsii.Number(float64(testPriority)), Conditions: &testConditions,
			TargetGroups: &[]awselasticloadbalancingv2.IApplicationTargetGroup{blue},
		})
		awscdk.Tags_Of(test).Add(jsii.String(testRuleTag), &s.Name, nil)
		alternate.TestListener = awsecs.ListenerRuleConfiguration_ApplicationListenerRule(test)
		route.test = test
	}
	svc.Service.LoadBalancerTarget(&awsecs.LoadBalancerTargetOptions{
		ContainerName:   &s.Container,
		ContainerPort:   jsii.Number(float64(s.Port)),
		AlternateTarget: awsecs.NewAlternateTarget(jsii.String("Alternate"), alternate),
	}).AttachToApplicationTargetGroup(blue)
	return route
}

// testRuleTag marks a test listener rule (value: its service); the deploy
// role may modify only rules of its app and environment carrying it.
const testRuleTag = "stevedore:test-route"

// infrastructureRole is the role ECS assumes to change the listener rules
// and target groups during a deployment, under the plan's role path like
// every role of the app.
func infrastructureRole(svc *Service, path string) awsiam.Role {
	role := awsiam.NewRole(svc.Service, jsii.String("InfrastructureRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("ecs.amazonaws.com"), nil),
		Path:      &path,
		ManagedPolicies: &[]awsiam.IManagedPolicy{
			awsiam.ManagedPolicy_FromAwsManagedPolicyName(jsii.String("AmazonECSInfrastructureRolePolicyForLoadBalancers")),
		},
		Description: jsii.String("ECS shifts the load balancer traffic of " + svc.Plan.Name + " with it"),
	})
	suppress(role, reasonInfraRolePolicy, "AwsSolutions-IAM4")
	return role
}

// deploymentOutputs exports what stevedore reads of a service's
// deployment: its strategy always; with the gate, the test route's base
// URL and the test rule's ARN.
func deploymentOutputs(stack awscdk.Stack, svc *Service, a *Alb, route shiftedRoute) {
	s := svc.Plan
	strategy := contract.StrategyRolling
	if s.Deployment != nil {
		strategy = s.Deployment.Strategy
	}
	output(stack, contract.StrategyOutput(s.Name), jsii.String(strategy), "deployment strategy of "+s.Name)
	if route.test == nil {
		return
	}
	host := *a.LoadBalancer.LoadBalancerDnsName()
	if s.Host != "" {
		host = s.Host
	}
	output(stack, contract.TestURLOutput(s.Name), jsii.String("http://"+host+svc.Path()),
		fmt.Sprintf("base URL of the test route of %s (requests carrying %s with the release's value)", s.Name, contract.GateHeader))
	output(stack, contract.TestRuleOutput(s.Name), route.test.ListenerRuleArn(), "test listener rule of "+s.Name)
}
