package ecs

import "time"

// Default polling settings of a rollout.
const (
	DefaultPoll    = 5 * time.Second
	DefaultTimeout = 15 * time.Minute
	// DefaultMaxAttempts is the attempts per ECS API call (the first
	// included) that the SDK makes, with exponential backoff, on
	// throttling, 5xx and network errors.
	DefaultMaxAttempts = 5
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
	// rollback, and for a deployment already in flight to finish before
	// this one starts); 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxAttempts is the retry budget of each ECS API call; 0 means
	// DefaultMaxAttempts. While following a deployment, a poll that still
	// fails with throttling or a 5xx is tried again, with backoff, until
	// Timeout: a noisy API never fails a deployment by itself.
	MaxAttempts int
}

func (s Spec) poll() time.Duration { return orDuration(s.Poll, DefaultPoll) }

func (s Spec) timeout() time.Duration { return orDuration(s.Timeout, DefaultTimeout) }

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func attempts(n int) int {
	if n > 0 {
		return n
	}
	return DefaultMaxAttempts
}

// FollowSpec says which deployment Follow waits for: the one, started by
// someone else (CloudFormation during cdk deploy), whose task definition
// runs Images.
type FollowSpec struct {
	// Cluster name or ARN; empty means the "default" cluster.
	Cluster string
	// Service name or ARN. Required.
	Service string
	// Images maps container name to the digest-pinned image the release
	// runs. Required.
	Images map[string]string
	// Timeout bounds the wait for the deployment to appear and complete;
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// Poll is the DescribeServices interval; 0 means DefaultPoll.
	Poll time.Duration
	// MaxAttempts is the retry budget of each ECS API call, as in Spec.
	MaxAttempts int
	// Since is when the release began (e.g. just before cdk deploy, or
	// before the stack that creates the service): a finished deployment of
	// the images created after it is "completed", not "unchanged". Zero
	// means the time of the call.
	Since time.Time
}

// Outcome says how a followed release ended.
type Outcome string

// Outcomes of Follow.
const (
	// OutcomeCompleted: the deployment of the new images completed.
	OutcomeCompleted Outcome = "completed"
	// OutcomeUnchanged: the service already ran the images, steadily, with
	// nothing in flight; nothing was deployed.
	OutcomeUnchanged Outcome = "unchanged"
)

// FollowResult describes a followed release; on failure it holds what was
// known.
type FollowResult struct {
	// Service and Cluster are as given in the FollowSpec.
	Service string
	Cluster string // see Service
	// Outcome is set on success.
	Outcome Outcome
	// TaskDefinition is the revision running the images.
	TaskDefinition string
	// DeploymentID is the deployment that was followed.
	DeploymentID string
	// Elapsed from the call to the verdict.
	Elapsed time.Duration
	// Events are the service events seen while following, oldest first.
	Events []string
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
