#!/usr/bin/env node
// notes-js: a CDK app in plain JavaScript. stevedore sets the context keys
// env, app and image.notes; this file reads them and nothing else of stevedore.
const cdk = require('aws-cdk-lib');
const { NotesStack } = require('../lib/notes-stack');

const app = new cdk.App();
const envName = app.node.tryGetContext('env');
const image = app.node.tryGetContext('image.notes');
if (!envName || !image) {
  throw new Error('missing CDK context env or image.notes: stevedore sets them');
}
new NotesStack(app, `NotesStack-${envName}`, { image });
