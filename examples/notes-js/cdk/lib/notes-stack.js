// lib/notes-stack.js: one Fargate service behind a load balancer.
const cdk = require('aws-cdk-lib');
const ec2 = require('aws-cdk-lib/aws-ec2');
const ecs = require('aws-cdk-lib/aws-ecs');
const ecsPatterns = require('aws-cdk-lib/aws-ecs-patterns');

class NotesStack extends cdk.Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const vpc = new ec2.Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc });
    const svc = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Notes', {
      cluster,
      assignPublicIp: true,
      taskSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      taskImageOptions: {
        containerName: 'notes',
        image: ecs.ContainerImage.fromRegistry(props.image),
        containerPort: 8080,
      },
    });
    new cdk.CfnOutput(this, 'ClusterName', { value: cluster.clusterName });
    new cdk.CfnOutput(this, 'NotesServiceName', { value: svc.service.serviceName });
    new cdk.CfnOutput(this, 'HealthUrl', { value: `http://${svc.loadBalancer.loadBalancerDnsName}/health` });
  }
}

module.exports = { NotesStack };
