// Package fakeaws is one fake AWS for tests: a stateful simulator of the
// services stevedore calls (STS, ECR and its registry, ECS, CloudFormation,
// S3, CloudFront, SSM, Secrets Manager, CloudWatch Logs, DynamoDB) behind a
// single httptest endpoint, driven through the real AWS SDK v2 clients.
package fakeaws
