package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/ecs"
)

// Deploy to ECS services and follow each deployment until it is really done.
//
// Done means our deployment PRIMARY, COMPLETED, all tasks running, older
// deployments drained. It fails at once on a failed rollout, a circuit
// breaker rollback or a concurrent deployment, printing the service events
// and why tasks stopped, and (by default) rolls back to the task definition
// that ran before. Services roll out in parallel. Returns one object per
// service (service, task definition, outcome): `dagger call … rollout …
// line` prints one readable line per service (also logged). Never cached.
// +cache="never"
func (m *Stevedore) Rollout(
	ctx context.Context,
	// ECS cluster name or ARN.
	cluster string,
	// Services to roll out: SERVICE forces a new deployment of the current
	// task definition; SERVICE:CONTAINER=IMAGE[,CONTAINER=IMAGE] registers a
	// revision changing only those images (digest-pinned) and deploys it.
	service []string,
	// Force a new deployment even when the images are unchanged.
	// +optional
	force bool,
	// Roll back to the previous task definition when the rollout fails.
	// +default=true
	rollback bool,
	// Give up after this long, e.g. 15m.
	// +default="15m"
	timeout string,
	// Poll interval, e.g. 5s.
	// +default="5s"
	poll string,
	// Attempts per AWS call before a throttled or 5xx answer fails the
	// rollout (the SDK's backoff between attempts).
	// +default=10
	maxAttempts int,
) ([]*RolloutResult, error) {
	specs, err := rolloutSpecs(cluster, service, force, rollback, timeout, poll)
	if err != nil {
		return nil, err
	}
	if maxAttempts < 1 {
		return nil, fmt.Errorf("--max-attempts %d: must be at least 1 (1 means no retry)", maxAttempts)
	}
	for i := range specs {
		specs[i].MaxAttempts = maxAttempts
	}
	cfg, cleanup, err := m.awsConfig(ctx, "rollout")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	results, err := ecs.New(cfg, ecs.WithLog(func(s string) { log("%s", s) })).RolloutAll(ctx, specs)
	if err != nil {
		if sum := summarizeRollouts(results); sum != "" {
			return nil, fmt.Errorf("%w\n%s", err, sum)
		}
		return nil, err
	}
	out := rolloutResults(results)
	for _, r := range out {
		log("%s", r.Line())
	}
	return out, nil
}

// RolloutResult is what rollout did to one ECS service.
type RolloutResult struct {
	// ECS service name.
	Service string
	// Task definition ARN the service runs now.
	TaskDefinition string
	// Task definition ARN it ran before.
	Previous string
	// Outcome: deployed, unchanged or rolled back.
	Outcome string
	// Seconds from the call to the verdict.
	Seconds float64
}

// Show the rollout on one line: service, outcome, task definition, duration.
//
// Never cached: the engine keys it by the rollout call, not by the result.
// +cache="never"
func (r *RolloutResult) Line() string {
	return fmt.Sprintf("%s\t%s\t%s -> %s\t%s", r.Service, r.Outcome, shortArn(r.Previous), shortArn(r.TaskDefinition), time.Duration(r.Seconds*float64(time.Second)))
}

// rolloutResults turns the ECS results into the function's objects.
func rolloutResults(results []ecs.Result) []*RolloutResult {
	var out []*RolloutResult
	for _, r := range results {
		if r.Service == "" {
			continue
		}
		outcome := "deployed"
		switch {
		case r.RolledBack:
			outcome = "rolled back"
		case r.Mode == ecs.ModeUnchanged:
			outcome = "unchanged"
		}
		out = append(out, &RolloutResult{Service: r.Service, TaskDefinition: r.TaskDefinition, Previous: r.Previous, Outcome: outcome, Seconds: r.Duration.Round(time.Second).Seconds()})
	}
	return out
}

// rolloutSpecs parses the --service arguments.
func rolloutSpecs(cluster string, services []string, force, rollback bool, timeout, poll string) ([]ecs.Spec, error) {
	if len(services) == 0 {
		return nil, fmt.Errorf("name at least one ECS service with --service")
	}
	to, err := parseDuration("timeout", timeout)
	if err != nil {
		return nil, err
	}
	pi, err := parseDuration("poll", poll)
	if err != nil {
		return nil, err
	}
	var specs []ecs.Spec
	for _, s := range services {
		name, images, hasImages := strings.Cut(s, ":")
		spec := ecs.Spec{Cluster: cluster, Service: name, Force: force || !hasImages, Rollback: rollback, Timeout: to, Poll: pi}
		if hasImages {
			spec.Images = map[string]string{}
			for _, pair := range strings.Split(images, ",") {
				c, ref, ok := strings.Cut(pair, "=")
				if !ok || c == "" || ref == "" {
					return nil, fmt.Errorf("--service %q: images must be CONTAINER=IMAGE (e.g. api:backend=123.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:…)", s)
				}
				spec.Images[c] = ref
			}
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

func parseDuration(name, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--%s %q is not a positive duration (e.g. 5s, 15m)", name, v)
	}
	return d, nil
}

// summarizeRollouts prints one line per service.
func summarizeRollouts(results []ecs.Result) string {
	var b strings.Builder
	for _, r := range results {
		if r.Service == "" {
			continue
		}
		fmt.Fprintf(&b, "%s\t%s\t%s -> %s\t%s", r.Service, r.Mode, shortArn(r.Previous), shortArn(r.TaskDefinition), r.Duration.Round(time.Second))
		if r.RolledBack {
			b.WriteString("\trolled back")
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n")
}

func shortArn(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// Run a one-off task on ECS, such as a database migration, and wait for it.
//
// E.g. `alembic upgrade head` before a rollout: with the network settings
// of SERVICE, its task definition (or a revision with a new image), a
// command override, waiting for it to stop. Fails unless the container
// exits 0. Never cached.
// +cache="never"
func (m *Stevedore) RunTask(
	ctx context.Context,
	// ECS cluster name or ARN.
	cluster string,
	// Service whose task definition and network configuration the task uses.
	service string,
	// Container whose command is replaced and whose exit code decides.
	container string,
	// Command to run, e.g. ["alembic", "upgrade", "head"].
	command []string,
	// Run a new image instead of the service's current one (digest-pinned reference).
	// +optional
	image string,
	// Give up after this long.
	// +default="30m"
	timeout string,
) (string, error) {
	to, err := parseDuration("timeout", timeout)
	if err != nil {
		return "", err
	}
	cfg, cleanup, err := m.awsConfig(ctx, "run-task")
	if err != nil {
		return "", err
	}
	defer cleanup()
	d := ecs.New(cfg, ecs.WithLog(func(s string) { log("%s", s) }))
	spec := ecs.TaskSpec{Cluster: cluster, Service: service, Container: container, Command: command, Timeout: to}
	if image != "" {
		rev, err := d.RegisterRevision(ctx, cluster, service, map[string]string{container: image}, false)
		if err != nil {
			return "", err
		}
		spec.TaskDefinition = rev.ARN
	}
	res, err := d.RunTask(ctx, spec)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s\texit %d\t%s\t%s", shortArn(res.TaskARN), res.ExitCode, shortArn(res.TaskDefinition), res.Duration.Round(time.Second)), nil
}
