package main

import (
	"maps"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/cfn"
)

// cdkCLIVersion is the aws-cdk CLI that reads what aws-cdk-lib 2.270 writes.
const cdkCLIVersion = "2.1148.1"

var (
	envNames    = []string{"dev", "staging", "prod"}
	digestRef   = regexp.MustCompile(`^[^@\s]+@sha256:[0-9a-f]{64}$`)
	cdkAppsKey  = "stevedore:apps"
	cdkAssembly = "/cdk.out"
)

// infraInputs is what a synth needs, validated before any work starts.
type infraInputs struct {
	infra   *appspec.Infra
	app     string
	env     string
	context map[string]string // every -c key=value, sorted at use
}

// infraInputs checks env, app and image references and assembles the CDK
// context: a typo fails here, in a second, not after a two-minute synth.
func (m *Stevedore) infraInputs(ctx context.Context, spec *appspec.App, appName, env string, images, extra []string) (*infraInputs, error) {
	if spec.Infra == nil {
		return nil, errors.New("the app description has no infra section: add infra.dir (the CDK app) to stevedore.yaml or call with-infra")
	}
	in := &infraInputs{infra: spec.Infra, app: spec.Infra.App, env: env, context: map[string]string{}}
	if appName != "" {
		in.app = appName
	}
	if !slices.Contains(envNames, env) {
		return nil, fmt.Errorf("unknown env %q: use one of %s", env, strings.Join(envNames, ", "))
	}
	if apps, err := m.declaredApps(ctx, spec.Infra.Dir); err != nil {
		return nil, err
	} else if len(apps) > 0 && !slices.Contains(apps, in.app) {
		return nil, fmt.Errorf("unknown app %q: the CDK app in %s defines %s", in.app, spec.Infra.Dir, strings.Join(apps, ", "))
	}
	for k, v := range spec.Infra.Context {
		in.context[k] = v
	}
	kv, err := parsePairs("context", extra)
	if err != nil {
		return nil, err
	}
	for k, v := range kv {
		in.context[k] = v
	}
	given, err := parsePairs("image", images)
	if err != nil {
		return nil, err
	}
	for name, ref := range given {
		if !digestRef.MatchString(ref) {
			return nil, fmt.Errorf("image %s=%q is not digest-pinned (repository@sha256:<64 hex>): publish prints the reference to use", name, ref)
		}
		in.context["image."+name] = ref
	}
	for _, name := range m.imageServices(spec, in.app) {
		if _, ok := given[name]; !ok {
			return nil, fmt.Errorf("missing image reference for service %q: pass --image %s=<repository>@sha256:<digest> (publish prints it)", name, name)
		}
	}
	in.context["app"], in.context["env"] = in.app, env
	return in, nil
}

// imageServices are the services whose images the CDK app deploys: those
// of the app description when it describes this CDK app.
func (m *Stevedore) imageServices(spec *appspec.App, app string) []string {
	if app != spec.Infra.App {
		return nil // another app of the same CDK code (e.g. --app commander): its own checks apply
	}
	return spec.ServiceNames()
}

// declaredApps reads the apps a CDK app declares in its cdk.json context
// ("stevedore:apps"), if it does.
func (m *Stevedore) declaredApps(ctx context.Context, dir string) ([]string, error) {
	data, err := m.Source.Directory(dir).File("cdk.json").Contents(ctx)
	if err != nil {
		return nil, nil // no cdk.json: nothing declared
	}
	var cfg struct {
		Context map[string]json.RawMessage `json:"context"`
	}
	if err := json.Unmarshal([]byte(data), &cfg); err != nil {
		return nil, fmt.Errorf("%s/cdk.json is not valid JSON: %w", dir, err)
	}
	var apps []string
	if raw, ok := cfg.Context[cdkAppsKey]; ok {
		if err := json.Unmarshal(raw, &apps); err != nil {
			return nil, fmt.Errorf("%s/cdk.json: %q must be a list of app names", dir, cdkAppsKey)
		}
	}
	return apps, nil
}

func (in *infraInputs) args() []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(in.context)) {
		out = append(out, "-c", k+"="+in.context[k])
	}
	return out
}

// cdkToolchain is node with the CDK CLI and the Go toolchain, plus the CDK
// app compiled from the infra directory. Cached: only a change to the
// infra code recompiles, and the Go build cache makes that incremental.
func (m *Stevedore) cdkToolchain(infra *appspec.Infra) *dagger.Container {
	dir := m.infraSource(infra)
	goroot := dag.Container().From(m.GoImage).Directory("/usr/local/go")
	ctr := dag.Container().From(m.NodeImage).
		WithDirectory("/usr/local/go", goroot).
		WithEnvVariable("PATH", "/usr/local/go/bin:${PATH}", dagger.ContainerWithEnvVariableOpts{Expand: true}).
		WithEnvVariable("CGO_ENABLED", "0")
	ctr = withToolCaches(withToolCaches(ctr, "npm"), "go").
		WithExec([]string{"npm", "install", "--global", "--no-fund", "--no-audit", "aws-cdk@" + cdkCLIVersion}).
		// jsii unpacks the CDK library on every start; its package cache keeps that.
		WithMountedCache("/root/.cache/aws/jsii", dag.CacheVolume("stevedore-jsii")).
		WithEnvVariable("JSII_RUNTIME_PACKAGE_CACHE", "enabled").
		WithEnvVariable("JSII_RUNTIME_PACKAGE_CACHE_ROOT", "/root/.cache/aws/jsii/package-cache").
		WithEnvVariable("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1").
		WithEnvVariable("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20").
		WithEnvVariable("CDK_DISABLE_CLI_TELEMETRY", "true").
		WithWorkdir("/infra").
		WithDirectory("/infra", dir).
		// No debug info: the CDK bindings make a >100 MB binary, and DWARF
		// roughly doubles its link time.
		WithExec([]string{"go", "build", "-trimpath", "-ldflags=-s -w", "-o", "/usr/local/bin/cdk-app", "."})
	return ctr
}

// infraSource is what the CDK app is built from (see infraFiles).
func (m *Stevedore) infraSource(infra *appspec.Infra) *dagger.Directory {
	return m.dir(infra.Dir)
}

// synthesize runs `cdk synth` and returns the cloud assembly.
func (m *Stevedore) synthesize(in *infraInputs) *dagger.Directory {
	args := append([]string{"cdk", "synth", "--app", "/usr/local/bin/cdk-app", "--output", cdkAssembly, "--quiet", "--no-notices", "--no-version-reporting"}, in.args()...)
	return m.cdkToolchain(in.infra).WithExec(args).Directory(cdkAssembly)
}

// Synthesize the CDK app for one environment and return the cloud
// assembly (cdk.out). Images are digest-pinned references, so a deploy
// never reverts what a rollout shipped. Cached: unchanged inputs return at
// once.
func (m *Stevedore) Synth(
	ctx context.Context,
	// Environment: dev, staging or prod.
	// +default="dev"
	env string,
	// Image of each service as SERVICE=REPOSITORY@sha256:DIGEST (publish prints them).
	// +optional
	image []string,
	// CDK app to synthesize (default: infra.app of the description), e.g. cao or commander.
	// +optional
	app string,
	// Extra CDK context as KEY=VALUE, e.g. fargateSpot=true.
	// +optional
	context []string,
) (*dagger.Directory, error) {
	spec, err := m.load(ctx)
	if err != nil {
		return nil, err
	}
	in, err := m.infraInputs(ctx, spec, app, env, image, context)
	if err != nil {
		return nil, err
	}
	return m.synthesize(in), nil
}

// cdkCommand runs the CDK CLI against a synthesized assembly with the AWS
// credentials of with-aws. A timestamp keeps the engine from replaying an
// earlier run: these commands talk to AWS.
func (m *Stevedore) cdkCommand(ctx context.Context, in *infraInputs, step string, cmd ...string) (string, error) {
	acct, err := m.requireAws(step)
	if err != nil {
		return "", err
	}
	ctr := acct.withCredentials(m.cdkToolchain(in.infra)).
		WithDirectory(cdkAssembly, m.synthesize(in)).
		WithEnvVariable("STEVEDORE_RUN", time.Now().UTC().Format(time.RFC3339Nano))
	args := append(append([]string{"cdk"}, cmd...), "--app", cdkAssembly, "--no-notices", "--no-version-reporting")
	out, err := ctr.WithExec(args).CombinedOutput(ctx)
	if err != nil {
		return "", fmt.Errorf("cdk %s failed: %w", cmd[0], err)
	}
	return out, nil
}

// Show what `deploy-infra` would change in the account (cdk diff).
// Never cached: it reads the live stacks.
// +cache="never"
func (m *Stevedore) Diff(
	ctx context.Context,
	// Environment: dev, staging or prod.
	// +default="dev"
	env string,
	// Image of each service as SERVICE=REPOSITORY@sha256:DIGEST.
	// +optional
	image []string,
	// Stacks to diff (default: all).
	// +optional
	stack []string,
	// CDK app (default: infra.app of the description).
	// +optional
	app string,
	// Extra CDK context as KEY=VALUE.
	// +optional
	context []string,
) (string, error) {
	return m.cdk(ctx, "diff", env, image, app, context, append([]string{"diff"}, stacksOrAll(stack)...))
}

// Deploy the CDK stacks of one environment (cdk deploy, no approval
// prompt) and print the CDK output; read the stack outputs with outputs.
// Never cached.
// +cache="never"
func (m *Stevedore) DeployInfra(
	ctx context.Context,
	// Environment: dev, staging or prod.
	// +default="dev"
	env string,
	// Image of each service as SERVICE=REPOSITORY@sha256:DIGEST.
	// +optional
	image []string,
	// Stacks to deploy (default: all).
	// +optional
	stack []string,
	// CDK app (default: infra.app of the description).
	// +optional
	app string,
	// Extra CDK context as KEY=VALUE.
	// +optional
	context []string,
) (string, error) {
	return m.cdk(ctx, "deploy-infra", env, image, app, context, append([]string{"deploy", "--require-approval", "never", "--progress", "events"}, stacksOrAll(stack)...))
}

// cdk validates the inputs of a CDK command, then runs it.
func (m *Stevedore) cdk(ctx context.Context, step, env string, image []string, app string, context []string, cmd []string) (string, error) {
	spec, err := m.load(ctx)
	if err != nil {
		return "", err
	}
	in, err := m.infraInputs(ctx, spec, app, env, image, context)
	if err != nil {
		return "", err
	}
	return m.cdkCommand(ctx, in, step, cmd...)
}

func stacksOrAll(stacks []string) []string {
	if len(stacks) == 0 {
		return []string{"--all"}
	}
	return stacks
}

// Read the outputs of deployed stacks through the CloudFormation
// API, as KEY=VALUE lines (e.g. LoadBalancerDNS). Never cached.
// +cache="never"
func (m *Stevedore) Outputs(
	ctx context.Context,
	// Stack names, e.g. CAOInfrastructureStack-dev.
	stack []string,
) (string, error) {
	if len(stack) == 0 {
		return "", errors.New("name at least one stack with --stack (e.g. CAOInfrastructureStack-dev)")
	}
	cfg, cleanup, err := m.awsConfig(ctx, "outputs")
	if err != nil {
		return "", err
	}
	defer cleanup()
	out, err := cfn.NewReader(cfg).Outputs(ctx, stack...)
	if err != nil {
		return "", err
	}
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(out)) {
		lines = append(lines, k+"="+out[k])
	}
	return strings.Join(lines, "\n"), nil
}

// assemblyStacks lists the stacks of a cloud assembly in deploy order.
func (m *Stevedore) assemblyStacks(ctx context.Context, assembly *dagger.Directory) ([]string, error) {
	manifest, err := assembly.File("manifest.json").Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("cdk synth: %w", err)
	}
	stacks, err := cfn.StacksFromAssembly([]byte(manifest))
	if err != nil {
		return nil, err
	}
	if stacks, err = cfn.Order(stacks); err != nil {
		return nil, err
	}
	names := make([]string, len(stacks))
	for i, s := range stacks {
		names[i] = s.StackName
	}
	return names, nil
}
