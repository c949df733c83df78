// lib/backend-stack.ts: the FastAPI-style backend behind a load balancer,
// deployed by ECS blue/green with stevedore's pipeline gate: each new
// revision starts beside the old one (the green target group), receives
// only test traffic (requests carrying X-Stevedore-Test with the value
// stevedore sets per release) and waits at a PAUSE hook until stevedore
// has checked it and says CONTINUE or ROLLBACK.
import * as cdk from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

// stevedore's gate contract (pipelines/contract/gate.go).
const GATE_HEADER = 'X-Stevedore-Test';
const GATE_STAGE = 'POST_TEST_TRAFFIC_SHIFT';
const GATE_HOOK_TIMEOUT_MINUTES = 30;

export interface BackendStackProps extends cdk.StackProps {
  cluster: ecs.ICluster;
  image: string; // image.backend: repository@sha256:digest
  qdrantUrl: string;
  desiredCount: number;
}

export class BackendStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: BackendStackProps) {
    super(scope, id, props);
    const vpc = props.cluster.vpc;
    const port = 8000;
    const healthCheck: elbv2.HealthCheck = { path: '/health', healthyThresholdCount: 2, interval: cdk.Duration.seconds(15) };

    const alb = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', { vpc, internetFacing: true });
    // ECS shifts listener rules, not default actions: the default answers
    // 404 with a body of its own (the backend's 404 says "Not Found").
    const listener = alb.addListener('Http', {
      port: 80,
      open: true,
      defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'application/json', messageBody: '{"detail": "no listener rule matched"}' }),
    });

    // Blue serves production; green receives each new revision.
    const targetGroup = (name: string) =>
      new elbv2.ApplicationTargetGroup(this, name, {
        vpc,
        port,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        healthCheck,
        deregistrationDelay: cdk.Duration.seconds(10),
      });
    const blue = targetGroup('Blue');
    const green = targetGroup('Green');

    // The production rule and the test rule (same listener, higher
    // priority, plus the header). ECS owns both rules' forward weights.
    const production = new elbv2.ApplicationListenerRule(this, 'ProductionRule', {
      listener,
      priority: 20,
      conditions: [elbv2.ListenerCondition.pathPatterns(['/*'])],
      action: elbv2.ListenerAction.forward([blue]),
    });
    // An unguessable, stable value until stevedore's first gate replaces it
    // (ModifyRule): the template holds a dynamic reference, not the value.
    const headerValue = new secretsmanager.Secret(this, 'TestHeaderValue', {
      description: `initial ${GATE_HEADER} value of the backend's test listener rule`,
      generateSecretString: { excludePunctuation: true, passwordLength: 48 },
    });
    const test = new elbv2.ApplicationListenerRule(this, 'TestRule', {
      listener,
      priority: 10,
      conditions: [
        elbv2.ListenerCondition.pathPatterns(['/*']),
        elbv2.ListenerCondition.httpHeader(GATE_HEADER, [headerValue.secretValue.unsafeUnwrap()]),
      ],
      action: elbv2.ListenerAction.forward([blue]),
    });

    // The role ECS uses to change the rules and target groups.
    const infrastructureRole = new iam.Role(this, 'EcsInfrastructureRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonECSInfrastructureRolePolicyForLoadBalancers')],
    });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', { cpu: 512, memoryLimitMiB: 1024 });
    taskDefinition.addContainer('backend', {
      containerName: 'backend',
      image: ecs.ContainerImage.fromRegistry(props.image),
      portMappings: [{ containerPort: port }],
      environment: { QDRANT_URL: props.qdrantUrl },
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'backend', logRetention: logs.RetentionDays.ONE_MONTH }),
    });
    const service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      taskDefinition,
      desiredCount: props.desiredCount,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      deploymentStrategy: ecs.DeploymentStrategy.BLUE_GREEN,
      bakeTime: cdk.Duration.minutes(5),
    });
    service
      .loadBalancerTarget({
        containerName: 'backend',
        containerPort: port,
        alternateTarget: new ecs.AlternateTarget('Alternate', {
          alternateTargetGroup: green,
          productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(production),
          testListener: ecs.ListenerRuleConfiguration.applicationListenerRule(test),
          role: infrastructureRole,
        }),
      })
      .attachToApplicationTargetGroup(blue);
    service.connections.allowFrom(alb, ec2.Port.tcp(port), 'the load balancer reaches both revisions');

    // The gate: pause on test traffic; if stevedore never answers, roll back.
    (service.node.defaultChild as ecs.CfnService).addPropertyOverride('DeploymentConfiguration.LifecycleHooks', [
      {
        TargetType: 'PAUSE',
        LifecycleStages: [GATE_STAGE],
        TimeoutConfiguration: { Action: 'ROLLBACK', TimeoutInMinutes: GATE_HOOK_TIMEOUT_MINUTES },
      },
    ]);

    // stevedore's contract: the service rollout:backend follows, the URL
    // verify checks, the strategy it follows with, and the gate's test route.
    const url = `http://${alb.loadBalancerDnsName}`;
    new cdk.CfnOutput(this, 'BackendServiceName', { value: service.serviceName });
    new cdk.CfnOutput(this, 'HealthUrl', { value: `${url}/health` });
    new cdk.CfnOutput(this, 'BackendDeploymentStrategy', { value: 'blue-green' });
    new cdk.CfnOutput(this, 'BackendTestUrl', { value: url });
    new cdk.CfnOutput(this, 'BackendTestRuleArn', { value: test.listenerRuleArn });
  }
}
