package main

import (
	"maps"
	"slices"

	"context"
	"fmt"
	"strconv"
	"strings"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// Run a backend service from its image as a Dagger service, with what it uses.
//
// Its port is exposed and it gets the env of the app description. As on
// the local target, it is bound to the postgres and redis stand-ins and to
// the other services it uses (the built-in infrastructure's uses, or
// local:), and when it is the migration's service the migration runs in it
// against them before it starts (each serve has new, empty stand-ins), e.g.
// `dagger call serve --service backend up --ports 9889:9889`.
func (m *Stevedore) Serve(
	ctx context.Context,
	// Service name from the app description (optional when there is one).
	// +optional
	service string,
) (*dagger.Service, error) {
	app, err := m.load(ctx)
	if err != nil {
		return nil, err
	}
	s, err := app.Service(service)
	if err != nil {
		return nil, err
	}
	return m.serveWithUses(ctx, app, s, nil)
}

// serveWithUses is Serve's service: s built, bound to its stand-ins and,
// recursively, to the services it uses; via is the chain of services that
// led here, to refuse a cycle.
func (m *Stevedore) serveWithUses(ctx context.Context, app *appspec.App, s *appspec.Service, via []string) (*dagger.Service, error) {
	img, err := m.serviceImage(ctx, s, "")
	if err != nil {
		return nil, err
	}
	ctr, _ := withLocalResources(img, app, s.Name, localStandInImage)
	for _, ln := range app.LocalLinks(s.Name) {
		if slices.Contains(via, ln.Service) || ln.Service == s.Name {
			return nil, fmt.Errorf("serve: %s reach each other through uses, so neither can start first: remove one of those uses", strings.Join(append(via, s.Name, ln.Service), " → "))
		}
		dep, err := app.Service(ln.Service)
		if err != nil {
			return nil, err
		}
		svc, err := m.serveWithUses(ctx, app, dep, append(via, s.Name))
		if err != nil {
			return nil, err
		}
		ctr = ctr.WithServiceBinding(ln.Host, svc).WithEnvVariable(ln.Var, ln.URL)
	}
	local, err := app.LocalService(s.Name)
	if err != nil {
		return nil, err
	}
	var run []string // the image's own start
	if mg := app.Migrate; mg != nil && mg.Service == s.Name {
		// The migration, then the image's own command, in one process
		// tree: the stand-ins it migrates are the ones the service uses.
		entry, err := img.Entrypoint(ctx)
		if err != nil {
			return nil, err
		}
		args, err := img.DefaultArgs(ctx)
		if err != nil {
			return nil, err
		}
		cmd := slices.Concat(entry, args)
		if len(cmd) == 0 {
			return nil, fmt.Errorf("serve: the %s image has no ENTRYPOINT or CMD to start after the migration", s.Name)
		}
		quoted := make([]string, len(mg.Command))
		for i, a := range mg.Command {
			quoted[i] = shellQuote(a)
		}
		run = slices.Concat([]string{"sh", "-c", strings.Join(quoted, " ") + ` && exec "$@"`, "sh"}, cmd)
	}
	return asService(ctr, local, run), nil
}

// asService starts a service image with its port and env, running args,
// or its entrypoint when args is empty.
func asService(img *dagger.Container, s *appspec.Service, args []string) *dagger.Service {
	opts := dagger.ContainerAsServiceOpts{UseEntrypoint: true}
	if len(args) > 0 {
		opts = dagger.ContainerAsServiceOpts{Args: args}
	}
	return withServiceEnv(img, s).
		WithExposedPort(s.Port, dagger.ContainerWithExposedPortOpts{Description: s.Name}).
		AsService(opts)
}

// Run the frontend image (nginx on port 80) as a Dagger service.
//
// E.g. `dagger call serve-frontend up --ports 8080:80`.
func (m *Stevedore) ServeFrontend(ctx context.Context) (*dagger.Service, error) {
	img, err := m.FrontendImage(ctx)
	if err != nil {
		return nil, err
	}
	return frontendService(img), nil
}

func frontendService(img *dagger.Container) *dagger.Service {
	return img.WithExposedPort(80).AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true})
}

// httpURL is the address of a service port as seen from a bound container.
func httpURL(host string, port int, p string) string {
	return fmt.Sprintf("http://%s:%d%s", host, port, p)
}

// withServiceEnv sets what a service process sees: PORT and the env of the
// app description (the migration gets the same).
func withServiceEnv(img *dagger.Container, s *appspec.Service) *dagger.Container {
	ctr := img.WithEnvVariable("PORT", strconv.Itoa(s.Port))
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		ctr = ctr.WithEnvVariable(k, s.Env[k])
	}
	return ctr
}
