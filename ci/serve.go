package main

import (
	"maps"
	"slices"

	"context"
	"fmt"
	"strconv"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// Run a backend service from its image as a Dagger service.
//
// Its port is exposed and it gets the env of the app description, e.g.
// `dagger call serve up --ports 9889:9889`.
func (m *Stevedore) Serve(
	ctx context.Context,
	// Service name from the app description (optional when there is one).
	// +optional
	service string,
) (*dagger.Service, error) {
	s, img, err := m.service(ctx, service, "")
	if err != nil {
		return nil, err
	}
	return asService(img, s), nil
}

// asService starts a service image with its entrypoint, port and env.
func asService(img *dagger.Container, s *appspec.Service) *dagger.Service {
	return withServiceEnv(img, s).
		WithExposedPort(s.Port, dagger.ContainerWithExposedPortOpts{Description: s.Name}).
		AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true})
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
