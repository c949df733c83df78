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
// It also registers task-definition revisions that change only container
// images (digest-pinned by default), rolls out several services in parallel
// and runs one-off tasks such as database migrations before a rollout.
package ecs
