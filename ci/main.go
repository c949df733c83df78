// stevedore ships a containerized backend and a static frontend to AWS (ECR,
// ECS Fargate, S3 + CloudFront, CDK) as cached, parallel Dagger steps: the
// same pipeline from a laptop, a CI job, or a local reproduction of CI.
//
// Start with `dagger call deploy` (local target, no AWS account needed) and
// read the README for every function.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// Stevedore is the pipeline for one repository and its app description.
type Stevedore struct {
	// Return the repository being shipped.
	Source *dagger.Directory
	// Bundled is true when no --source was given: Source is this module's
	// own repository and its example app, which never goes to AWS.
	// +private
	Bundled bool
	// The app description as JSON (stevedore.yaml plus With* changes).
	// +private
	Spec string
	// Toolchain images (configurable so teams can pin their own).
	// +private
	GoImage string
	// +private
	NodeImage string
	// +private
	RegistryImage string
	// stevedore's own build files (Dockerfiles, nginx.conf).
	// +private
	Kit *dagger.Directory
	// The AWS account of the AWS steps (see with-aws).
	// +private
	Aws *AwsAccount
	// Where images go instead of ECR (see with-registry).
	// +private
	Registry *Registry

	// dirs holds the content-addressed copies made by indexSources, for
	// this call only.
	dirs map[string]*dagger.Directory
	// cdkApp is how this call runs the CDK app (detectInfra).
	cdkApp *cdkRun
}

// Load the app description from the repository.
func New(
	ctx context.Context,
	// The repository to ship: the directory holding stevedore.yaml, e.g.
	// --source=. for yours. Without it, stevedore runs its own bundled
	// example app, which deploys locally but never to AWS.
	// +optional
	// +ignore=[".git", "**/node_modules", "**/dist", "**/cdk.out", "**/.dagger", "**/.venv", "bench/results"]
	source *dagger.Directory,
	// Path of the app description inside source. When the default file is
	// absent you can describe the app with with-service/with-frontend/with-infra.
	// +default="stevedore.yaml"
	config string,
	// Go toolchain image: it compiles the CDK app and runs the local checks.
	// +default="golang:1.26"
	goImage string,
	// Node.js image for the CDK CLI.
	// +default="node:20"
	nodeImage string,
	// Registry image used by the local target.
	// +default="registry:2"
	registryImage string,
	// stevedore's own build files (Dockerfiles, nginx.conf). Leave unset:
	// it defaults to the files shipped with this module.
	// +defaultPath="/docker"
	kit *dagger.Directory,
	// This module's own repository, the source when --source is not given.
	// Leave unset.
	// +defaultPath="/"
	// +ignore=[".git", "**/node_modules", "**/dist", "**/cdk.out", "**/.dagger", "**/.venv", "bench/results"]
	bundled *dagger.Directory,
) (*Stevedore, error) {
	m := &Stevedore{Source: source, GoImage: goImage, NodeImage: nodeImage, RegistryImage: registryImage, Kit: kit}
	if source == nil {
		m.Source, m.Bundled = bundled, true
	}
	app := &appspec.App{}
	data, err := m.Source.File(config).Contents(ctx)
	switch {
	case err == nil:
		if app, err = appspec.Parse(config, []byte(data)); err != nil {
			return nil, err
		}
	case config == appspec.DefaultFile:
		// No stevedore.yaml: the caller describes the app with With* calls.
	default:
		return nil, fmt.Errorf("cannot read the app description %q from the source directory: check --config and --source (%v)", config, err)
	}
	if err := m.save(app); err != nil {
		return nil, err
	}
	return m, nil
}

// app decodes the description carried by the object.
func (m *Stevedore) app() (*appspec.App, error) {
	var app appspec.App
	if err := json.Unmarshal([]byte(m.Spec), &app); err != nil {
		return nil, fmt.Errorf("internal: corrupt app description: %w", err)
	}
	return &app, nil
}

// save stores the description on the object.
func (m *Stevedore) save(app *appspec.App) error {
	b, err := json.Marshal(app)
	if err != nil {
		return err
	}
	m.Spec = string(b)
	return nil
}

// load returns the description after checking it is complete and that
// every path it names exists in the source directory, and indexes the
// directories the steps read (see indexSources). Every function starts here.
func (m *Stevedore) load(ctx context.Context) (*appspec.App, error) {
	app, err := m.app()
	if err != nil {
		return nil, err
	}
	if m.Bundled {
		// Called as a remote module, a missing --source is easy to miss.
		// Said here, not in the constructor, whose result the engine caches.
		log("stevedore: no --source given, so this runs stevedore's own example app (%s); pass --source=. to use your repository", app.Name)
	}
	invalid := app.Validate()
	if invalid != nil && len(app.Services) == 0 {
		return nil, errors.New("no app description: add stevedore.yaml to the source directory (see README) or call with-service first")
	}
	// Missing paths are reported with the other problems, in one round.
	err = app.CheckFiles(func(p string, dir bool) (bool, error) {
		t := dagger.ExistsTypeRegularType
		if dir {
			t = dagger.ExistsTypeDirectoryType
		}
		return m.Source.Exists(ctx, p, dagger.DirectoryExistsOpts{ExpectedType: t})
	}, builtinFiles...)
	if err = errors.Join(invalid, err); err != nil {
		return nil, err
	}
	err = app.CheckStages(func(p string) (string, error) {
		df, err := m.file(ctx, p)
		if err != nil {
			return "", err
		}
		return df.Contents(ctx)
	})
	if err != nil {
		return nil, err
	}
	if err := m.indexSources(ctx, app); err != nil {
		return nil, err
	}
	if app.Infra != nil {
		if err := m.detectInfra(ctx, app.Infra); err != nil {
			return nil, err
		}
	}
	return app, nil
}

// requireCallerSource refuses a step with side effects in AWS when the
// source is this module's own bundled example: used as a remote module
// without --source, stevedore must not ship its example to the caller's
// account.
func (m *Stevedore) requireCallerSource(step string) error {
	if m.Bundled {
		return fmt.Errorf("%s changes your AWS account, and no --source was given: stevedore would ship its own bundled example app. Pass --source=. (the repository holding your stevedore.yaml), e.g. dagger call --source=. %s", step, step)
	}
	return nil
}

// Print the app description stevedore will use, defaults filled in.
func (m *Stevedore) Config(ctx context.Context) (string, error) {
	app, err := m.load(ctx)
	if err != nil {
		return "", err
	}
	return app.Marshal(), nil
}

// Add a backend service to the app description, or replace its namesake.
func (m *Stevedore) WithService(
	// Service name (lowercase, e.g. backend).
	name string,
	// Docker build context, relative to the source directory.
	context string,
	// Port the container listens on.
	port int,
	// Dockerfile path relative to the source directory (default: Dockerfile in the context).
	// +optional
	dockerfile string,
	// HTTP health path, e.g. /health.
	// +optional
	health string,
	// Image repository name (default <app>-<name>).
	// +optional
	repository string,
	// Image the tests run in, e.g. golang:1.26.
	// +optional
	testImage string,
	// Test command run in the context directory, e.g. "go test ./...".
	// +optional
	testCommand string,
	// Docker build args as KEY=VALUE.
	// +optional
	buildArgs []string,
) (*Stevedore, error) {
	app, err := m.app()
	if err != nil {
		return nil, err
	}
	s := appspec.Service{Name: name, Context: context, Dockerfile: dockerfile, Port: port, Health: health, Repository: repository}
	if testImage != "" || testCommand != "" {
		s.Test = &appspec.Test{Image: testImage, Command: testCommand}
	}
	if s.BuildArgs, err = parsePairs("build arg", buildArgs); err != nil {
		return nil, err
	}
	replaced := false
	for i := range app.Services {
		if app.Services[i].Name == name {
			app.Services[i], replaced = s, true
		}
	}
	if !replaced {
		app.Services = append(app.Services, s)
	}
	return m.withApp(app)
}

// Set the static frontend of the app description.
func (m *Stevedore) WithFrontend(
	// Directory holding package.json, relative to the source directory.
	dir string,
	// Build command.
	// +default="npm run build"
	build string,
	// Directory the build writes, relative to dir (the output key of
	// stevedore.yaml).
	// +default="dist"
	outputDir string,
	// Test command (empty: no frontend tests).
	// +optional
	test string,
	// Install command.
	// +default="npm ci"
	install string,
	// Node.js image the build runs in.
	// +default="node:20"
	image string,
) (*Stevedore, error) {
	app, err := m.app()
	if err != nil {
		return nil, err
	}
	app.Frontend = &appspec.Frontend{Dir: dir, Build: build, Output: outputDir, Test: test, Install: install, Image: image}
	return m.withApp(app)
}

// Set the CDK app of the app description.
func (m *Stevedore) WithInfra(
	// CDK app directory (any CDK language: the directory holding cdk.json),
	// relative to the source directory.
	dir string,
	// Value of the CDK `app` context (default: the app name).
	// +optional
	app string,
	// Extra CDK context as KEY=VALUE.
	// +optional
	context []string,
	// aws-cdk CLI version when the app has no aws-cdk dependency of its own
	// (default: the pinned 2.1148.1).
	// +optional
	cdkVersion string,
) (*Stevedore, error) {
	spec, err := m.app()
	if err != nil {
		return nil, err
	}
	kv, err := parsePairs("context", context)
	if err != nil {
		return nil, err
	}
	spec.Infra = &appspec.Infra{Dir: dir, App: app, Context: kv, CDKVersion: cdkVersion}
	return m.withApp(spec)
}

// Set the app name (image repository prefix and report title).
func (m *Stevedore) WithName(name string) (*Stevedore, error) {
	app, err := m.app()
	if err != nil {
		return nil, err
	}
	app.Name = name
	return m.withApp(app)
}

// withApp fills defaults and validates the new description before keeping
// it; a partial description (no services yet) is accepted so calls can chain.
func (m *Stevedore) withApp(app *appspec.App) (*Stevedore, error) {
	app.Defaults()
	if len(app.Services) > 0 {
		if err := app.Validate(); err != nil {
			return nil, err
		}
	}
	c := *m
	if err := c.save(app); err != nil {
		return nil, err
	}
	return &c, nil
}

func parsePairs(what string, pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s %q must be KEY=VALUE", what, p)
		}
		out[k] = v
	}
	return out, nil
}

// builtinFiles are stevedore's own docker/ files, used when the source lacks them.
var builtinFiles = []string{appspec.DefaultFrontendDF, path.Join("docker", "backend.Dockerfile")}
