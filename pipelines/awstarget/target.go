// Package awstarget ships an app to an AWS account through the deploy graph
// (pipelines/deploy): images to ECR, the CDK assembly through CloudFormation,
// the frontend to S3 and CloudFront, then a health check.
//
// The release model is "migrate first, CloudFormation moves the services,
// stevedore follows": preflight checks the account read-only before the
// first push; check-stacks reads the stacks that exist, checks the
// secrets their templates reference and prepares one change set per stack,
// refusing a replacement of a stateful resource nobody acknowledged; the
// migration runs as a one-off ECS task from the service's current task
// definition with only the new image swapped in (skipped when the service
// already runs it); then deploy-infra executes the change sets, moving the
// services, while one follower per service judges the ECS deployment
// CloudFormation started. On a first deploy the migration runs right after
// deploy-infra.
//
// Everything that needs the Dagger engine (building and pushing images,
// running the CDK CLI, exporting the built site) comes in through the small
// interfaces CDK, Images and Site; ECS rollout logic through ECS. AWS API
// calls go through the SDK config, so tests aim it at a fake endpoint.
package awstarget

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// CDK runs the CDK CLI against a synthesized assembly.
type CDK interface {
	// Deploy runs cdk deploy of the stacks (no approval prompt) and
	// returns its output.
	Deploy(ctx context.Context, asm deploy.Assembly, stacks []string) (string, error)
	// Diff runs cdk diff of the stacks and returns its whole output.
	Diff(ctx context.Context, asm deploy.Assembly, stacks []string) (string, error)
	// Template returns the CloudFormation template of one stack of the
	// assembly.
	Template(ctx context.Context, asm deploy.Assembly, stack string) (string, error)
}

// Images pushes the built image of a service, or computes its digest
// without pushing it.
type Images interface {
	// Push creates the repository if needed, pushes the image and returns
	// its digest-pinned reference.
	Push(ctx context.Context, service string) (deploy.Image, steps.Outcome, error)
	// Digest returns the sha256 digest the image would have in a registry.
	Digest(ctx context.Context, service string) (string, error)
}

// Site exports the built frontend.
type Site interface {
	// Export writes the built static site into dir.
	Export(ctx context.Context, dir string) error
}

// ECS registers and runs the migration and follows deployments (see
// pipelines/ecs): rolling ones by the service's deployments (Follow),
// blue-green, linear and canary ones by their service deployment
// (FollowServiceDeployment). Their errors are *ecs.RolloutError with the
// service events and stopped tasks' reasons.
type ECS interface {
	MigrationRevision(ctx context.Context, cluster, service string, images map[string]string) (ecs.Revision, error)
	RunTask(ctx context.Context, spec ecs.TaskSpec) (ecs.TaskResult, error)
	Follow(ctx context.Context, spec ecs.FollowSpec) (ecs.FollowResult, error)
	FollowServiceDeployment(ctx context.Context, spec ecs.ServiceDeploymentSpec) (ecs.ServiceDeploymentResult, error)
}

var _ ECS = (*ecs.Deployer)(nil)

// Defaults of the time limits.
const (
	DefaultDeployTimeout = 60 * time.Minute
	DefaultProgress      = 30 * time.Second
	DefaultVerifyTimeout = 2 * time.Minute
	DefaultPoll          = 5 * time.Second
	DefaultFollowTimeout = 30 * time.Minute
)

// Target is the AWS target of one deploy. Build it with its fields and
// call Check before using it.
type Target struct {
	App *appspec.App
	// Env is the environment deployed, e.g. prod.
	Env string
	// DryRun makes every step read-only: digests compared with ECR, the
	// stacks diffed, the bucket listed.
	DryRun bool
	// AWS is the SDK configuration (awsconf.Load), endpoint included.
	AWS aws.Config

	CDK    CDK
	Images Images
	Site   Site
	// SiteImage, when set, is the site as an OCI image: publish:frontend
	// gets its reference (pushing it when needed) before the upload, and
	// Frontend returns it for the release record.
	SiteImage SiteImage
	ECS       ECS

	// RegistryHost overrides the registry address of image references
	// (ECR-compatible gateways whose repository URIs do not resolve).
	RegistryHost string
	// HealthURL overrides the stacks' health URL for verify.
	HealthURL string
	// TestURL overrides the stacks' test URL (contract.TestURLOutput) of
	// every gated service, e.g. the load balancer through a tunnel; the
	// gate's requests still carry the test header.
	TestURL string
	// Smoke runs the smokeCommand of gated services that have one.
	Smoke SmokeRunner
	// Secrets are Secrets Manager secret names that must exist before any
	// push (those the app description declares).
	Secrets []string
	// Qualifier is the CDK bootstrap qualifier (default hnb659fds).
	Qualifier string
	// AllowReplace names (logical or physical ids) the stateful resources
	// a deploy may replace or delete; any other such change is refused
	// before it is executed (when the CDK runner prepares change sets).
	AllowReplace []string
	// LeavePlan, in a dry run, leaves one change set per stack (not
	// executed) for a later deploy with Plan: the plan's id is in the
	// deploy-infra outcome.
	LeavePlan bool
	// Plan is the id of a plan whose change sets deploy-infra executes,
	// exactly those, refusing when the stacks changed since or the build
	// differs.
	Plan string

	// DeployTimeout bounds cdk deploy (default DefaultDeployTimeout).
	DeployTimeout time.Duration
	// Progress is how often deploy-infra prints CloudFormation's progress
	// (default DefaultProgress).
	Progress time.Duration
	// VerifyTimeout bounds each URL check (default DefaultVerifyTimeout).
	VerifyTimeout time.Duration
	// Poll is the interval of every poll (default DefaultPoll).
	Poll time.Duration
	// FollowTimeout bounds a follower (default DefaultFollowTimeout).
	FollowTimeout time.Duration

	// HTTP is the client of verify and of the gates' requests (default:
	// 10 s timeout for verify, no redirects for the gates).
	HTTP *http.Client
	// Log receives progress lines.
	Log func(string)

	hostOnce sync.Once
	host     string
	hostErr  error

	mu       sync.Mutex
	frontend string            // the site image publish:frontend published
	before   map[string]string // service -> image it ran before deploy-infra
	release  *release          // what check-stacks prepared for deploy-infra
	// strategies are the deployment strategies the templates declare, by
	// service (check-stacks).
	strategies map[string]string
	// exprs are the template expressions of the gates' outputs, by
	// contract key (check-stacks).
	exprs map[string]outputExpr

	// ruleSettle is the gates' wait for the load balancer to apply the
	// test rule (0: gate.DefaultRuleSettle).
	ruleSettle time.Duration
	// checked is when check-stacks began: every deployment of this
	// release starts after it.
	checked time.Time
}

var (
	_ deploy.Pusher        = (*Target)(nil)
	_ deploy.Preflighter   = (*Target)(nil)
	_ deploy.InfraDeployer = (*Target)(nil)
	_ deploy.Follower      = (*Target)(nil)
	_ deploy.Releaser      = (*Target)(nil)
)

// Check validates the target's configuration before any work starts.
func (t *Target) Check() error {
	var errs []error
	if t.App == nil {
		errs = append(errs, errors.New("no app description"))
	}
	if t.Env == "" {
		errs = append(errs, errors.New("no environment"))
	}
	if t.CDK == nil || t.Images == nil || t.ECS == nil {
		errs = append(errs, errors.New("the CDK runner, the image pusher and the ECS client are required"))
	}
	if t.App != nil && t.App.Frontend != nil && t.Site == nil {
		errs = append(errs, errors.New("the app has a frontend but no site exporter was given"))
	}
	if t.HealthURL != "" {
		if u, err := url.Parse(t.HealthURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("health URL %q is not an http(s) URL, e.g. http://localhost:8080/health", t.HealthURL))
		}
	}
	if t.TestURL != "" {
		if u, err := url.Parse(t.TestURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("test URL %q is not an http(s) URL, e.g. http://localhost:8080", t.TestURL))
		}
	}
	if t.App != nil && t.Smoke == nil {
		for _, s := range t.App.Services {
			if s.Gated() && s.Deployment.SmokeCommand != nil {
				errs = append(errs, fmt.Errorf("service %s has a smokeCommand but no runner for it was given", s.Name))
			}
		}
	}
	if t.LeavePlan && !t.DryRun {
		errs = append(errs, errors.New("a plan that leaves change sets is a dry run"))
	}
	if t.Plan != "" && (t.DryRun || !planIDPattern.MatchString(t.Plan)) {
		errs = append(errs, fmt.Errorf("--plan %q: give the 12-character id plan printed, without --dry-run", t.Plan))
	}
	for _, d := range []time.Duration{t.DeployTimeout, t.Progress, t.VerifyTimeout, t.Poll, t.FollowTimeout} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("negative time limit %s", d))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("aws target: %w", errors.Join(errs...))
	}
	return nil
}

var planIDPattern = regexp.MustCompile(`^[0-9a-f]{12}$`)

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (t *Target) logf(format string, args ...any) {
	if t.Log != nil {
		t.Log(fmt.Sprintf(format, args...))
	}
}

func (t *Target) service(name string) (*appspec.Service, error) {
	return t.App.Service(name)
}
