#!/usr/bin/env node
// The CDK app of commander-ts, laid out like the commander.ai deployment
// guide. stevedore passes the environment and the digest-pinned images as
// CDK context (env, app, image.<service>); everything else is this app's own.
import * as cdk from 'aws-cdk-lib';
import { NetworkStack } from '../lib/network-stack';
import { BackendStack } from '../lib/backend-stack';
import { QdrantStack } from '../lib/qdrant-stack';

const app = new cdk.App();

function required(key: string): string {
  const value = app.node.tryGetContext(key);
  if (typeof value !== 'string' || value === '') {
    throw new Error(`missing CDK context ${key}: stevedore sets it (dagger call synth --image ...)`);
  }
  return value;
}

const envName = required('env');
const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };

const network = new NetworkStack(app, `CommanderNetworkStack-${envName}`, { env });
const qdrant = new QdrantStack(app, `CommanderQdrantStack-${envName}`, {
  env,
  cluster: network.cluster,
  image: required('image.qdrant'),
});
new BackendStack(app, `CommanderBackendStack-${envName}`, {
  env,
  cluster: network.cluster,
  image: required('image.backend'),
  qdrantUrl: qdrant.url,
  desiredCount: envName === 'prod' ? 2 : 1,
});
