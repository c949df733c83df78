package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"dagger/stevedore/internal/dagger"

	"golang.org/x/sync/errgroup"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// Build the container image of one backend service with its Dockerfile.
//
// Builds are cached: an unchanged context is not rebuilt. A failed
// Dockerfile step fails here, naming the service and the Dockerfile and
// quoting the end of the step's output.
func (m *Stevedore) Image(
	ctx context.Context,
	// Service name from the app description (optional when there is one).
	// +optional
	service string,
	// Target platform, e.g. linux/arm64 (default: the engine's).
	// +optional
	platform dagger.Platform,
) (*dagger.Container, error) {
	if err := checkPlatforms(platform); err != nil {
		return nil, err
	}
	s, img, err := m.service(ctx, service, platform)
	if err != nil {
		return nil, err
	}
	if img, err = img.Sync(ctx); err != nil {
		return nil, imageBuildFailed(s, err)
	}
	return img, nil
}

// imageBuildFailed names the service and Dockerfile of a failed build.
func imageBuildFailed(s *appspec.Service, err error) error {
	return failed("image build", s.Name+", "+s.Dockerfile, err)
}

// platformPattern is the os/arch[/variant] form BuildKit accepts.
var platformPattern = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$`)

// checkPlatforms rejects a malformed --platform before anything is built.
func checkPlatforms(platforms ...dagger.Platform) error {
	for _, p := range platforms {
		if p != "" && !platformPattern.MatchString(string(p)) {
			return fmt.Errorf("--platform %q is not a platform: use os/arch such as linux/amd64 or linux/arm64 (optionally /variant, e.g. linux/arm/v7)", p)
		}
	}
	return nil
}

// BuiltImage is one service image built by images.
type BuiltImage struct {
	// Service name from the app description.
	Service string
	// Dockerfile the image was built from.
	Dockerfile string
	// Built image, e.g. for `dagger call images container`.
	Container *dagger.Container
}

// service finds a service of the description and its image build.
func (m *Stevedore) service(ctx context.Context, name string, platform dagger.Platform) (*appspec.Service, *dagger.Container, error) {
	app, err := m.load(ctx)
	if err != nil {
		return nil, nil, err
	}
	s, err := app.Service(name)
	if err != nil {
		return nil, nil, err
	}
	img, err := m.serviceImage(ctx, s, platform)
	return s, img, err
}

// Build every backend service image, in parallel, each named by its service.
func (m *Stevedore) Images(ctx context.Context) ([]*BuiltImage, error) {
	app, err := m.load(ctx)
	if err != nil {
		return nil, err
	}
	ctrs, err := m.buildAll(ctx, app, "")
	if err != nil {
		return nil, err
	}
	out := make([]*BuiltImage, len(ctrs))
	for i, c := range ctrs {
		out[i] = &BuiltImage{Service: app.Services[i].Name, Dockerfile: app.Services[i].Dockerfile, Container: c}
	}
	return out, nil
}

// buildAll builds (and syncs) every service image in parallel, so a broken
// Dockerfile fails here with the service named.
func (m *Stevedore) buildAll(ctx context.Context, app *appspec.App, platform dagger.Platform) ([]*dagger.Container, error) {
	out := make([]*dagger.Container, len(app.Services))
	eg, ctx := errgroup.WithContext(ctx)
	for i := range app.Services {
		s := &app.Services[i]
		eg.Go(func() error {
			ctr, err := m.serviceImage(ctx, s, platform)
			if err == nil {
				ctr, err = ctr.Sync(ctx)
			}
			if err != nil {
				return imageBuildFailed(s, err)
			}
			out[i] = ctr
			return nil
		})
	}
	return out, eg.Wait()
}

// serviceImage is the Dockerfile build of one service.
func (m *Stevedore) serviceImage(ctx context.Context, s *appspec.Service, platform dagger.Platform) (*dagger.Container, error) {
	return m.dockerBuild(ctx, s, s.Target, platform)
}

// dockerBuild builds the Dockerfile of a service up to one stage (the last
// one when target is empty) with the service's build args. A Dockerfile
// outside the context (such as stevedore's docker/backend.Dockerfile) is
// copied into it under a hidden name, since BuildKit reads it from the
// context.
func (m *Stevedore) dockerBuild(ctx context.Context, s *appspec.Service, target string, platform dagger.Platform) (*dagger.Container, error) {
	buildCtx := m.Source.Directory(s.Context)
	dockerfile, inside := relativeTo(s.Context, s.Dockerfile)
	if !inside {
		df, err := m.file(ctx, s.Dockerfile)
		if err != nil {
			return nil, err
		}
		buildCtx = buildCtx.WithFile(".stevedore.Dockerfile", df)
		dockerfile = ".stevedore.Dockerfile"
	}
	return buildCtx.DockerBuild(dagger.DirectoryDockerBuildOpts{
		Dockerfile: dockerfile,
		Target:     target,
		Platform:   platform,
		BuildArgs:  buildArgs(s.BuildArgs),
	}), nil
}

// buildInputs identify a dockerBuild for the report's cached column: the
// context and the Dockerfile by content, the stage and the build args.
func (m *Stevedore) buildInputs(ctx context.Context, s *appspec.Service, target string) []any {
	inputs := []any{m.Source.Directory(s.Context), s.Dockerfile, target, fmt.Sprint(buildArgs(s.BuildArgs))}
	if df, err := m.file(ctx, s.Dockerfile); err == nil {
		inputs = append(inputs, df)
	}
	return inputs
}

// relativeTo returns p relative to dir when p lies inside dir.
func relativeTo(dir, p string) (string, bool) {
	if dir == "." || dir == "" {
		return p, true
	}
	if rel, ok := strings.CutPrefix(p, dir+"/"); ok {
		return rel, true
	}
	return "", false
}

// file reads a file from the repository; stevedore's built-in Dockerfiles
// come from its kit when the repository has no file of that name.
func (m *Stevedore) file(ctx context.Context, p string) (*dagger.File, error) {
	ok, err := m.Source.Exists(ctx, p, dagger.DirectoryExistsOpts{ExpectedType: dagger.ExistsTypeRegularType})
	if err != nil {
		return nil, err
	}
	if ok {
		return m.Source.File(p), nil
	}
	for _, b := range builtinFiles {
		if p == b {
			return m.Kit.File(path.Base(p)), nil
		}
	}
	return nil, fmt.Errorf("file %q not found in the source directory", p)
}

func buildArgs(m map[string]string) []dagger.BuildArg {
	args := make([]dagger.BuildArg, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		args = append(args, dagger.BuildArg{Name: k, Value: m[k]})
	}
	return args
}

// Build the frontend and return the static site directory.
//
// It runs the install command (npm ci, with a cached npm store), then the
// build command; a failure names the command and quotes its output.
func (m *Stevedore) FrontendDist(ctx context.Context) (*dagger.Directory, error) {
	app, err := m.load(ctx)
	if err != nil {
		return nil, err
	}
	if app.Frontend == nil {
		return nil, fmt.Errorf("the app description has no frontend: add a frontend section to stevedore.yaml or call with-frontend")
	}
	dist, err := m.frontendDist(app.Frontend).Sync(ctx)
	if err != nil {
		return nil, frontendFailed(app.Frontend, err)
	}
	return dist, nil
}

// frontendFailed says which frontend command failed: the install, the
// build, or the serving image's Dockerfile.
func frontendFailed(fe *appspec.Frontend, err error) error {
	var ex *dagger.ExecError
	if errors.As(err, &ex) && len(ex.Cmd) > 0 {
		switch ex.Cmd[len(ex.Cmd)-1] {
		case fe.Install:
			return failed("frontend install", fe.Dir, err)
		case fe.Build:
			return failed("frontend build", fe.Dir, err)
		}
	}
	return failed("frontend image build", fe.Dir+", "+fe.Dockerfile, err)
}

// frontendDeps is the frontend directory with dependencies installed. Only
// the manifest and lockfile are copied before `npm ci`, so a source change
// reuses the installed node_modules layer.
func (m *Stevedore) frontendDeps(fe *appspec.Frontend) *dagger.Container {
	dir := m.dir(fe.Dir)
	manifests := dir.Filter(dagger.DirectoryFilterOpts{Include: []string{"package.json", "package-lock.json", "npm-shrinkwrap.json", ".npmrc"}})
	ctr := withToolCaches(dag.Container().From(fe.Image), "npm").
		WithWorkdir("/app").
		WithDirectory("/app", manifests).
		WithExec([]string{"sh", "-c", fe.Install}).
		WithDirectory("/app", dir, dagger.ContainerWithDirectoryOpts{Exclude: []string{"node_modules", fe.Output}})
	for _, k := range slices.Sorted(maps.Keys(fe.Env)) {
		ctr = ctr.WithEnvVariable(k, fe.Env[k])
	}
	return ctr
}

func (m *Stevedore) frontendDist(fe *appspec.Frontend) *dagger.Directory {
	return m.frontendDeps(fe).
		WithExec([]string{"sh", "-c", fe.Build}).
		Directory(path.Join("/app", fe.Output))
}

// Build the image serving the frontend: nginx with the built site.
//
// The Dockerfile is docker/frontend.Dockerfile unless the description
// names another (frontend.dockerfile, with-frontend-dockerfile).
func (m *Stevedore) FrontendImage(ctx context.Context) (*dagger.Container, error) {
	app, err := m.load(ctx)
	if err != nil {
		return nil, err
	}
	if app.Frontend == nil {
		return nil, fmt.Errorf("the app description has no frontend: add a frontend section to stevedore.yaml or call with-frontend")
	}
	img, err := m.frontendImage(ctx, app.Frontend)
	if err != nil {
		return nil, err
	}
	if img, err = img.Sync(ctx); err != nil {
		return nil, frontendFailed(app.Frontend, err)
	}
	return img, nil
}

// frontendImage builds the serving image from a context holding only what
// the Dockerfile copies: dist/ and nginx.conf.
func (m *Stevedore) frontendImage(ctx context.Context, fe *appspec.Frontend) (*dagger.Container, error) {
	df, err := m.file(ctx, fe.Dockerfile)
	if err != nil {
		return nil, err
	}
	// Built on its own first: an npm failure inside the Docker build's
	// context would come back without npm's output.
	dist, err := m.frontendDist(fe).Sync(ctx)
	if err != nil {
		return nil, frontendFailed(fe, err)
	}
	buildCtx := dag.Directory().
		WithDirectory("dist", dist).
		WithFile("nginx.conf", m.Kit.File("nginx.conf")).
		WithFile("Dockerfile", df)
	return buildCtx.DockerBuild(), nil
}
