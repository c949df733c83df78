package ecs

import "time"

// Default polling settings of a rollout.
const (
	DefaultPoll    = 5 * time.Second
	DefaultTimeout = 15 * time.Minute
)

// Spec says what to roll out to one service.
//
// With neither Images nor TaskDefinition set, the service's current task
// definition is redeployed (ForceNewDeployment). With Images, a new revision
// of the current task definition is registered that differs only in those
// container images. With TaskDefinition, that already registered revision is
// deployed (e.g. the one a migration task just ran with).
type Spec struct {
	// Cluster name or ARN; empty means the "default" cluster.
	Cluster string
	// Service name or ARN. Required.
	Service string
	// Images maps container name to the image reference to run. References
	// must be pinned by digest (repo@sha256:<64 hex>) unless AllowTags.
	Images map[string]string
	// AllowTags accepts image references that are not pinned by digest.
	AllowTags bool
	// TaskDefinition (ARN or family:revision) to deploy; excludes Images.
	TaskDefinition string
	// Force starts a new deployment even when the requested images or task
	// definition are already the service's.
	Force bool
	// Rollback, on failure, redeploys the task definition the service ran
	// before this rollout and waits for it.
	Rollback bool
	// Poll is the DescribeServices interval; 0 means DefaultPoll.
	Poll time.Duration
	// Timeout bounds the wait for the deployment (and, separately, for a
	// rollback); 0 means DefaultTimeout.
	Timeout time.Duration
}

func (s Spec) poll() time.Duration {
	if s.Poll > 0 {
		return s.Poll
	}
	return DefaultPoll
}

func (s Spec) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

// Mode says what a rollout did.
type Mode string

// Rollout modes.
const (
	// ModeForce redeployed the current task definition.
	ModeForce Mode = "force"
	// ModeImage registered a new revision with new images and deployed it.
	ModeImage Mode = "image"
	// ModeTaskDefinition deployed a given, already registered revision.
	ModeTaskDefinition Mode = "taskdef"
	// ModeUnchanged did nothing: the service already ran what was asked.
	ModeUnchanged Mode = "unchanged"
)

// Result describes one rollout; on failure it holds what was known.
type Result struct {
	// Service and Cluster are as given in the Spec.
	Service string
	Cluster string // see Service
	// Mode says what the rollout did.
	Mode Mode
	// TaskDefinition is the ARN this rollout deployed.
	TaskDefinition string
	// Previous is the ARN the service ran before this rollout.
	Previous string
	// DeploymentID is the id of the deployment this rollout created.
	DeploymentID string
	// Duration from the call to the verdict, rollback included.
	Duration time.Duration
	// RolledBack is true when the service was brought back to Previous,
	// by us or by the deployment circuit breaker.
	RolledBack bool
	// Events are the service events seen since the rollout started,
	// oldest first.
	Events []string
}
