// Package ecs rolls out Amazon ECS services and tells the truth about the
// outcome.
//
// `aws ecs update-service --force-new-deployment` returns as soon as ECS has
// accepted the request, and the SDK's ServicesStableWaiter reports success as
// soon as a service has one deployment whose tasks all run, which is also what
// a service looks like after the deployment circuit breaker has rolled it
// back. This package instead follows the one deployment its own UpdateService
// call created, by id, and only reports success when that deployment is
// PRIMARY, COMPLETED, fully running and alone. Rollbacks, FAILED rollouts,
// concurrent deployments, deleted services and timeouts fail at once with
// the service events and the stop reasons of failed tasks.
//
// Follow judges, by the same rules, the deployment someone else starts
// (CloudFormation during cdk deploy), recognised by the images its task
// definition runs; FollowServiceDeployment follows one service deployment
// (blue/green, linear, canary or rolling) by its status. While following,
// throttling and 5xx answers are retried until the timeout, and a failure
// shows the failed containers' last CloudWatch Logs lines.
//
// It also registers task-definition revisions that change only container
// images (digest-pinned by default; MigrationRevision reuses one that
// already has exactly them), rolls out several services in parallel, runs
// one-off tasks such as database migrations before a rollout, and reads
// what each service runs now (Status).
package ecs
