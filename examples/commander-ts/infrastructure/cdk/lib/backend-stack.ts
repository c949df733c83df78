// lib/backend-stack.ts: the FastAPI-style backend behind a load balancer.
import * as cdk from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ecs_patterns from 'aws-cdk-lib/aws-ecs-patterns';
import { Construct } from 'constructs';

export interface BackendStackProps extends cdk.StackProps {
  cluster: ecs.ICluster;
  image: string; // image.backend: repository@sha256:digest
  qdrantUrl: string;
  desiredCount: number;
}

export class BackendStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props: BackendStackProps) {
    super(scope, id, props);
    const service = new ecs_patterns.ApplicationLoadBalancedFargateService(this, 'Backend', {
      cluster: props.cluster,
      cpu: 512,
      memoryLimitMiB: 1024,
      desiredCount: props.desiredCount,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      taskImageOptions: {
        containerName: 'backend',
        image: ecs.ContainerImage.fromRegistry(props.image),
        containerPort: 8000,
        environment: { QDRANT_URL: props.qdrantUrl },
      },
    });
    service.targetGroup.configureHealthCheck({ path: '/health' });
    // stevedore's contract: the service rollout:backend follows, the URL verify checks.
    new cdk.CfnOutput(this, 'BackendServiceName', { value: service.service.serviceName });
    new cdk.CfnOutput(this, 'HealthUrl', {
      value: `http://${service.loadBalancer.loadBalancerDnsName}/health`,
    });
  }
}
