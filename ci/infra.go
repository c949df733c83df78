package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/cdkapp"
	"github.com/stevedore-ci/stevedore/pipelines/cfn"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// cdkCLIVersion is the aws-cdk CLI that reads what aws-cdk-lib 2.270 writes.
const cdkCLIVersion = cdkapp.DefaultCLIVersion

const (
	cdkAppsKey  = "stevedore:apps"
	cdkAssembly = "/cdk.out"
	cdkAppDir   = "/infra"
	// assemblyInputs is the file synthesize adds to the cloud assembly: the
	// env, app and images it was synthesized for (the CDK CLI ignores it).
	assemblyInputs = "stevedore.json"
)

// infraInputs is what a synth needs, validated before any work starts.
type infraInputs struct {
	infra   *appspec.Infra
	app     string
	env     string
	envSpec appspec.Env
	images  map[string]string // service -> digest-pinned reference
	context map[string]string // every -c key=value, sorted at use
	// description is the app description the built-in app renders (see
	// builtinInfra), written into it before synth; empty for a user's app.
	description string
}

// assemblyMeta is the content of assemblyInputs.
type assemblyMeta struct {
	App    string            `json:"app"`
	Env    string            `json:"env"`
	Images map[string]string `json:"images"`
}

// defaultApp is the `app` context of a description: infra.app, or its name.
func defaultApp(spec *appspec.App) string {
	if spec.Infra != nil && spec.Infra.App != "" {
		return spec.Infra.App
	}
	return spec.Name
}

// checkInfraArgs validates what a user types for any CDK step (env, app,
// --context) before the first step runs, and resolves the environment.
func (m *Stevedore) checkInfraArgs(ctx context.Context, spec *appspec.App, appName, env string, extra []string) (appspec.Env, map[string]string, error) {
	e, err := spec.Env(env)
	if err != nil {
		return appspec.Env{}, nil, err
	}
	kv, err := parsePairs("context", extra)
	if err != nil {
		return appspec.Env{}, nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		if contract.Owned(k) {
			return appspec.Env{}, nil, fmt.Errorf("--context %s=%s: stevedore sets %q itself (the environment and its base come from --env and stevedore.yaml, the app from stevedore.yaml, images from the published digests): remove it", k, kv[k], k)
		}
	}
	if spec.Infra == nil {
		return e, kv, nil
	}
	if appName == "" {
		appName = defaultApp(spec)
	}
	if spec.Builtin() {
		if appName != defaultApp(spec) {
			return appspec.Env{}, nil, fmt.Errorf("unknown app %q: the built-in infrastructure (infra: without dir) renders only the app of its description, %q; to synthesize another app, pass its description with --config", appName, defaultApp(spec))
		}
		return e, kv, nil
	}
	if apps, err := m.declaredApps(ctx, spec.Infra.Dir); err != nil {
		return appspec.Env{}, nil, err
	} else if len(apps) > 0 && !slices.Contains(apps, appName) {
		return appspec.Env{}, nil, fmt.Errorf("unknown app %q: the CDK app in %s defines %s", appName, spec.Infra.Dir, strings.Join(apps, ", "))
	}
	return e, kv, nil
}

// infraInputs checks env, app and image references and assembles the CDK
// context: a typo fails here, in a second, not after a two-minute synth.
func (m *Stevedore) infraInputs(ctx context.Context, spec *appspec.App, appName, env string, images, extra []string) (*infraInputs, error) {
	if spec.Infra == nil {
		return nil, errors.New("the app description has no infra section: add infra.dir (the CDK app) to stevedore.yaml or call with-infra")
	}
	e, kv, err := m.checkInfraArgs(ctx, spec, appName, env, extra)
	if err != nil {
		return nil, err
	}
	in := &infraInputs{infra: spec.Infra, app: defaultApp(spec), env: env, envSpec: e, images: map[string]string{}, context: map[string]string{}}
	if appName != "" {
		in.app = appName
	}
	maps.Copy(in.context, spec.Infra.Context)
	if spec.Builtin() {
		var c map[string]string
		in.description, c = builtinInfra(spec)
		maps.Copy(in.context, c)
	}
	maps.Copy(in.context, kv)
	given, err := parsePairs("image", images)
	if err != nil {
		return nil, err
	}
	services := m.imageServices(spec, in.app)
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(given)) {
		ref := given[name]
		if len(services) > 0 && !slices.Contains(services, name) {
			problems = append(problems, fmt.Sprintf("--image %s=…: %q is not a service of the app (%s)", name, name, strings.Join(services, ", ")))
			continue
		}
		if _, err := contract.ParseImage(ref); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		in.images[name] = ref
		in.context[contract.ImageContextKey(name)] = ref
	}
	for _, name := range services {
		if _, ok := given[name]; !ok {
			problems = append(problems, fmt.Sprintf("missing image reference for service %q: pass --image %s=<repository>@sha256:<digest> (publish prints it, and so does the push row of a deploy report)", name, name))
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	in.context[contract.ContextApp], in.context[contract.ContextEnv], in.context[contract.ContextEnvBase] = in.app, env, e.Base
	return in, nil
}

// imageServices are the services whose images the CDK app deploys: those
// of the app description when it describes this CDK app.
func (m *Stevedore) imageServices(spec *appspec.App, app string) []string {
	if app != defaultApp(spec) {
		return nil // another app of the same CDK code (e.g. --app commander): its own checks apply
	}
	return spec.ServiceNames()
}

// declaredApps reads the apps a CDK app declares in its cdk.json context
// ("stevedore:apps"), if it does.
func (m *Stevedore) declaredApps(ctx context.Context, dir string) ([]string, error) {
	data, err := m.Source.Directory(dir).File("cdk.json").Contents(ctx)
	if err != nil {
		return nil, nil // no cdk.json: detectInfra says so
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

// cdkRun is how this call runs the CDK app (see detectInfra).
type cdkRun struct {
	plan    *cdkapp.Plan
	src     *dagger.Directory // the app's sources, by content
	install *dagger.Directory // only the files the install step reads
	builtin bool              // the built-in app (detectBuiltin)
}

// detectInfra reads cdk.json, package.json and the marker files of the CDK
// app and decides how to run it (pipelines/cdkapp). It runs in load, so a
// directory stevedore cannot run fails before any step. With no infra.dir
// it is the built-in app, read from this module (detectBuiltin).
func (m *Stevedore) detectInfra(ctx context.Context, infra *appspec.Infra) error {
	if isBuiltin(infra) {
		return m.detectBuiltin(ctx)
	}
	dir := m.Source.Directory(infra.Dir)
	read := func(name string) []byte {
		s, err := dir.File(name).Contents(ctx)
		if err != nil {
			return nil
		}
		return []byte(s)
	}
	in := cdkapp.Input{Dir: infra.Dir, CDKJSON: read("cdk.json"), PackageJSON: read("package.json"), Present: map[string]bool{}, CLIVersion: infra.CDKVersion}
	app, err := cdkapp.ParseApp(infra.Dir, in.CDKJSON)
	if err != nil {
		return err
	}
	entries, err := dir.Entries(ctx)
	if err != nil {
		return fmt.Errorf("reading %s: %w", infra.Dir, err)
	}
	for _, p := range cdkapp.Probes(app) {
		if strings.Contains(p, "/") {
			ok, err := dir.Exists(ctx, p)
			if err != nil {
				return err
			}
			in.Present[p] = ok
		} else {
			in.Present[p] = slices.Contains(entries, p)
		}
	}
	plan, err := cdkapp.Detect(in)
	if err != nil {
		return err
	}
	run := &cdkRun{plan: plan}
	if plan.Kind == cdkapp.Go {
		run.src = m.dir(infra.Dir) // indexSources: the Go files only
	} else if run.src, err = byContent(ctx, dir, []string{"**"}, generated); err != nil {
		return fmt.Errorf("reading %s: %w", infra.Dir, err)
	}
	run.install = dag.Directory()
	for _, f := range plan.InstallFiles {
		run.install = run.install.WithFile(f, run.src.File(f))
	}
	m.cdkApp = run
	return nil
}

// generated are files a CDK app directory holds that are not its sources.
func generated(p string) bool {
	for _, d := range []string{"node_modules/", "cdk.out/", ".venv/", "__pycache__/"} {
		if strings.HasPrefix(p, d) || strings.Contains(p, "/"+d) {
			return true
		}
	}
	return false
}

// cdkToolchain is the container the CDK CLI runs the app in: Node and the
// CLI for every app, plus what the app's language needs, installed from its
// lockfile alone (a source edit does not reinstall) and, for Go, the app
// compiled once. Every step is cached by its inputs.
func (m *Stevedore) cdkToolchain(infra *appspec.Infra) *dagger.Container {
	run := m.cdkApp
	if run == nil {
		// load always detects the app first; this only guards a misuse.
		return dag.Container().From(m.NodeImage).WithExec([]string{"sh", "-c", "echo 'internal: " + infraLabel(infra) + " was not detected (load first)' >&2; exit 1"})
	}
	p := run.plan
	ctr := withToolCaches(dag.Container().From(m.NodeImage), "npm").
		// jsii unpacks the CDK library on every start; its package cache keeps that.
		WithMountedCache("/root/.cache/aws/jsii", dag.CacheVolume("stevedore-jsii")).
		WithEnvVariable("JSII_RUNTIME_PACKAGE_CACHE", "enabled").
		WithEnvVariable("JSII_RUNTIME_PACKAGE_CACHE_ROOT", "/root/.cache/aws/jsii/package-cache").
		WithEnvVariable("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1").
		WithEnvVariable("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20").
		WithEnvVariable("CDK_DISABLE_CLI_TELEMETRY", "true").
		WithEnvVariable("CI", "true")
	if !p.LocalCLI {
		ctr = ctr.WithExec([]string{"npm", "install", "--global", "--no-fund", "--no-audit", "aws-cdk@" + p.CLIVersion})
	}
	switch p.Kind {
	case cdkapp.Go:
		if run.builtin {
			ctr = withSelfGoCaches(ctr)
		} else {
			ctr = withToolCaches(ctr, "go")
		}
		ctr = ctr.
			// Mounted, not copied: the app's build only reads the toolchain.
			WithMountedDirectory("/usr/local/go", dag.Container().From(m.GoImage).Directory("/usr/local/go")).
			WithEnvVariable("PATH", "/usr/local/go/bin:${PATH}", dagger.ContainerWithEnvVariableOpts{Expand: true}).
			WithEnvVariable("CGO_ENABLED", "0")
	case cdkapp.Python:
		ctr = withToolCaches(ctr, "pip").
			WithExec([]string{"sh", "-c", "apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-venv python3-pip >/dev/null"}).
			WithExec([]string{"python3", "-m", "venv", "/venv"}).
			WithEnvVariable("VIRTUAL_ENV", "/venv").
			WithEnvVariable("PATH", "/venv/bin:${PATH}", dagger.ContainerWithEnvVariableOpts{Expand: true})
	case cdkapp.Node:
		ctr = ctr.WithEnvVariable("PATH", cdkAppDir+"/node_modules/.bin:${PATH}", dagger.ContainerWithEnvVariableOpts{Expand: true})
	}
	ctr = ctr.WithWorkdir(cdkAppDir)
	if len(p.InstallFiles) > 0 {
		ctr = ctr.WithDirectory(cdkAppDir, run.install)
		for _, cmd := range p.Install {
			ctr = ctr.WithExec(cmd)
		}
	}
	ctr = ctr.WithDirectory(cdkAppDir, run.src)
	if p.Kind == cdkapp.Python && len(p.InstallFiles) == 0 {
		for _, cmd := range p.Install { // pyproject.toml: installs the sources themselves
			ctr = ctr.WithExec(cmd)
		}
	}
	if p.Kind == cdkapp.Go {
		// No debug info: the CDK bindings make a >100 MB binary, and DWARF
		// roughly doubles its link time. No optimisation either: the app only
		// marshals calls to the jsii kernel (node), so optimising the bindings'
		// thousands of generated functions costs compile time and buys
		// nothing; the synthesized templates are byte-identical.
		ctr = ctr.WithExec([]string{"go", "build", "-trimpath", "-ldflags=-s -w", "-gcflags=all=-N -l", "-o", "/usr/local/bin/cdk-app", p.GoPackage})
	}
	return ctr
}

// infraSource is what the CDK app is built from: its sources by content
// (for Go, the Go files and cdk.json only; see infraFiles).
func (m *Stevedore) infraSource(infra *appspec.Infra) *dagger.Directory {
	if m.cdkApp != nil {
		return m.cdkApp.src
	}
	return m.dir(infra.Dir)
}

// synthesize runs `cdk synth` and returns the cloud assembly, with
// stevedore.json recording the env, app and images it was made for.
func (m *Stevedore) synthesize(in *infraInputs) *dagger.Directory {
	meta, _ := json.Marshal(assemblyMeta{App: in.app, Env: in.env, Images: in.images})
	if m.cdkApp != nil && m.cdkApp.plan.Kind == cdkapp.Assembly {
		return m.cdkApp.src.Directory(m.cdkApp.plan.AssemblyDir).WithNewFile(assemblyInputs, string(meta))
	}
	binary := ""
	if m.cdkApp == nil || m.cdkApp.plan.Kind == cdkapp.Go {
		binary = "/usr/local/bin/cdk-app"
	}
	args := append(cdkapp.SynthArgs(cdkAssembly, binary), in.args()...)
	ctr := m.cdkToolchain(in.infra)
	if in.description != "" {
		ctr = ctr.WithNewFile(cdkAppDir+"/"+builtinDescription, in.description)
	}
	return ctr.WithExec(args).Directory(cdkAssembly).WithNewFile(assemblyInputs, string(meta))
}

// synthesized is synthesize, evaluated: a failed install, compile or synth
// returns its own error output.
func (m *Stevedore) synthesized(ctx context.Context, in *infraInputs) (*dagger.Directory, error) {
	asm, err := m.synthesize(in).Sync(ctx)
	if err != nil {
		return nil, failed(fmt.Sprintf("synthesizing %s (%s)", infraLabel(in.infra), m.describeInfra()), "", err)
	}
	return asm, nil
}

// describeInfra says how the CDK app runs, for messages and summaries.
func (m *Stevedore) describeInfra() string {
	if m.cdkApp == nil {
		return "CDK app"
	}
	p := m.cdkApp.plan
	cli := "aws-cdk " + p.CLIVersion
	if p.LocalCLI {
		cli = "its own aws-cdk " + p.CLIVersion
	}
	if m.cdkApp.builtin {
		return "Go, " + cli
	}
	return fmt.Sprintf("%s CDK app (%s), %s", p.Language, p.App, cli)
}

// isBuiltin is appspec's rule (App.Builtin) for a lone infra section.
func isBuiltin(infra *appspec.Infra) bool { return (&appspec.App{Infra: infra}).Builtin() }

// infraLabel names the CDK app of a description in messages: the one in
// its directory, or the built-in app.
func infraLabel(infra *appspec.Infra) string {
	if isBuiltin(infra) {
		return builtinLabel
	}
	return "the CDK app in " + infra.Dir
}

// checkContract checks, before any deploy, that the synthesized assembly
// gives what the configured steps read: every service image deployed by a
// stack, and each output of pipelines/contract (or its infra.outputs
// mapping) exported. An assembly of another app than the description's
// (--app) is not checked against it.
func (m *Stevedore) checkContract(ctx context.Context, spec *appspec.App, asm *dagger.Directory) error {
	var meta assemblyMeta
	if raw, err := asm.File(assemblyInputs).Contents(ctx); err != nil {
		return fmt.Errorf("the cloud assembly has no %s: it was not made by synth: %w", assemblyInputs, err)
	} else if err := json.Unmarshal([]byte(raw), &meta); err != nil {
		return fmt.Errorf("the cloud assembly's %s is corrupt: %w", assemblyInputs, err)
	}
	if meta.App != defaultApp(spec) {
		log("contract check skipped: the assembly is of app %q, the description of %q", meta.App, defaultApp(spec))
		return nil
	}
	names, err := asm.Glob(ctx, "*.template.json")
	if err != nil {
		return err
	}
	templates := make([]cdkapp.Template, len(names))
	for i, n := range names {
		body, err := asm.File(n).Contents(ctx)
		if err != nil {
			return err
		}
		templates[i] = cdkapp.Template{Stack: strings.TrimSuffix(n, ".template.json"), Body: []byte(body)}
	}
	return errors.Join(cdkapp.Check(cdkapp.Needs(spec), meta.Images, templates), cdkapp.CheckGates(spec, meta.Images, templates))
}

// Synthesize the CDK app for one environment and return its cloud assembly.
//
// The assembly (cdk.out) is checked against stevedore's contract. Images are
// digest-pinned references, so a deploy never reverts what a rollout
// shipped. Cached: unchanged inputs return at once.
func (m *Stevedore) Synth(
	ctx context.Context,
	// Environment: dev, staging, prod or one declared in stevedore.yaml (e.g. qa, pr-123).
	// +default="dev"
	env string,
	// Image of each service as SERVICE=REPOSITORY@sha256:DIGEST (publish prints them).
	// +optional
	image []string,
	// CDK app to synthesize (default: infra.app of the description, or its name).
	// +optional
	app string,
	// Extra CDK context as KEY=VALUE, read by your CDK app (env, envBase, app and image.* are stevedore's).
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
	asm, err := m.synthesized(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := m.checkContract(ctx, spec, asm); err != nil {
		return nil, err
	}
	summary, err := assemblySummary(ctx, asm)
	if err != nil {
		return nil, err
	}
	log("synthesized %s (%s) for %s/%s, %s:\n%s", infraLabel(in.infra), m.describeInfra(), in.app, in.env, summary.Heading(), strings.TrimRight(summary.String(), "\n"))
	return asm, nil
}

// cdkOnAssembly runs the CDK CLI against an already synthesized assembly
// with the AWS credentials of with-aws, in the app's own toolchain (its
// own aws-cdk when it has one). A timestamp keeps the engine from
// replaying an earlier run: these commands talk to AWS.
func (m *Stevedore) cdkOnAssembly(ctx context.Context, in *infraInputs, asm *dagger.Directory, step string, cmd ...string) (string, error) {
	acct, err := m.requireAws(step)
	if err != nil {
		return "", err
	}
	ctr := acct.withCredentials(m.cdkToolchain(in.infra))
	for k, v := range cdkapp.CLIEnv(in.envSpec, acct.Region) {
		ctr = ctr.WithEnvVariable(k, v)
	}
	ctr = ctr.WithDirectory(cdkAssembly, asm).
		WithEnvVariable("STEVEDORE_RUN", time.Now().UTC().Format(time.RFC3339Nano))
	out, err := ctr.WithExec(cdkapp.OnAssembly(cdkAssembly, cmd...)).CombinedOutput(ctx)
	if err != nil {
		return "", failed("cdk "+cmd[0], "", err)
	}
	return out, nil
}

// Show what `deploy-infra` would change in the account (cdk diff).
// Never cached: it reads the live stacks.
// +cache="never"
func (m *Stevedore) Diff(
	ctx context.Context,
	// Environment: dev, staging, prod or one declared in stevedore.yaml.
	// +default="dev"
	env string,
	// Image of each service as SERVICE=REPOSITORY@sha256:DIGEST.
	// +optional
	image []string,
	// Stacks to diff (default: all of the environment).
	// +optional
	stack []string,
	// CDK app (default: infra.app of the description, or its name).
	// +optional
	app string,
	// Extra CDK context as KEY=VALUE.
	// +optional
	context []string,
) (string, error) {
	return m.cdk(ctx, "diff", env, image, app, context, append([]string{"diff"}, stacksOrAll(stack)...))
}

// Deploy the CDK stacks of one environment with cdk deploy, without prompts.
//
// It prints the CDK output; read the stack outputs with outputs. Never
// cached.
// +cache="never"
func (m *Stevedore) DeployInfra(
	ctx context.Context,
	// Environment: dev, staging, prod or one declared in stevedore.yaml.
	// +default="dev"
	env string,
	// Image of each service as SERVICE=REPOSITORY@sha256:DIGEST.
	// +optional
	image []string,
	// Stacks to deploy (default: all of the environment).
	// +optional
	stack []string,
	// CDK app (default: infra.app of the description, or its name).
	// +optional
	app string,
	// Extra CDK context as KEY=VALUE.
	// +optional
	context []string,
) (string, error) {
	if err := m.requireCallerSource("deploy-infra"); err != nil {
		return "", err
	}
	cmd := cdkapp.DeployArgs()
	if len(stack) > 0 {
		cmd = append([]string{"deploy", "--require-approval", "never", "--progress", "events"}, stack...)
	}
	return m.cdk(ctx, "deploy-infra", env, image, app, context, cmd)
}

// cdk validates the inputs of a CDK command, synthesizes and checks the
// assembly, then runs the command on it.
func (m *Stevedore) cdk(ctx context.Context, step, env string, image []string, app string, context []string, cmd []string) (string, error) {
	spec, err := m.load(ctx)
	if err != nil {
		return "", err
	}
	in, err := m.infraInputs(ctx, spec, app, env, image, context)
	if err != nil {
		return "", err
	}
	if _, err := m.requireAws(step); err != nil {
		return "", err
	}
	asm, err := m.synthesized(ctx, in)
	if err != nil {
		return "", err
	}
	if err := m.checkContract(ctx, spec, asm); err != nil {
		return "", err
	}
	return m.cdkOnAssembly(ctx, in, asm, step, cmd...)
}

func stacksOrAll(stacks []string) []string {
	if len(stacks) == 0 {
		return []string{"--all"}
	}
	return stacks
}

// Read the outputs of deployed stacks as KEY=VALUE lines.
//
// They come from the CloudFormation API (e.g. LoadBalancerDNS). Never
// cached.
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
		return nil, failed("cdk synth", "", err)
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

// checkDeployArgs validates every argument of deploy and plan before the
// first step runs: the environment, the --context keys, the app the CDK
// code declares, and for an AWS deploy a source of the caller's own.
func (m *Stevedore) checkDeployArgs(ctx context.Context, spec *appspec.App, target, env string, dryRun bool, extra []string) error {
	if _, _, err := m.checkInfraArgs(ctx, spec, "", env, extra); err != nil {
		return err
	}
	if target == "aws" && !dryRun && m.Aws != nil {
		return m.requireCallerSource("deploy --target aws")
	}
	return nil
}
