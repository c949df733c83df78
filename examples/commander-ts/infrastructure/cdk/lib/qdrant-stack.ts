// lib/qdrant-stack.ts: the vector database, reachable inside the VPC only.
import * as cdk from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

export interface QdrantStackProps extends cdk.StackProps {
  cluster: ecs.ICluster;
  image: string; // image.qdrant: repository@sha256:digest
}

export class QdrantStack extends cdk.Stack {
  public readonly url: string;

  constructor(scope: Construct, id: string, props: QdrantStackProps) {
    super(scope, id, props);
    const task = new ecs.FargateTaskDefinition(this, 'Task', { cpu: 512, memoryLimitMiB: 1024 });
    task.addContainer('qdrant', {
      image: ecs.ContainerImage.fromRegistry(props.image),
      portMappings: [{ containerPort: 6333 }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'qdrant' }),
    });
    const service = new ecs.FargateService(this, 'Qdrant', {
      cluster: props.cluster,
      taskDefinition: task,
      desiredCount: 1,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      cloudMapOptions: { name: 'qdrant' },
    });
    this.url = 'http://qdrant.commander.internal:6333';
    // stevedore's contract: the service rollout:qdrant follows.
    new cdk.CfnOutput(this, 'QdrantServiceName', { value: service.serviceName });
  }
}
