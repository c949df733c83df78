package main

import (
	"fmt"
	"maps"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// Set environment variables of a backend service (KEY=VALUE, merged).
//
// They are what the service sees when stevedore runs it (serve, the local
// target's rollout and migration). Not for secrets: values are plain text.
func (m *Stevedore) WithServiceEnv(
	// Service name from the app description.
	service string,
	// Variables as KEY=VALUE, e.g. LOG_LEVEL=debug.
	env []string,
) (*Stevedore, error) {
	app, err := m.app()
	if err != nil {
		return nil, err
	}
	kv, err := parsePairs("env", env)
	if err != nil {
		return nil, err
	}
	s, err := app.Service(service)
	if err != nil {
		return nil, err
	}
	if s.Env == nil {
		s.Env = map[string]string{}
	}
	maps.Copy(s.Env, kv)
	return m.withApp(app)
}

// Set build-time environment variables of the frontend (KEY=VALUE, merged).
//
// E.g. NEXT_PUBLIC_API_URL=https://api.example.com, read by the build.
func (m *Stevedore) WithFrontendEnv(
	// Variables as KEY=VALUE.
	env []string,
) (*Stevedore, error) {
	app, err := m.app()
	if err != nil {
		return nil, err
	}
	if app.Frontend == nil {
		return nil, fmt.Errorf("the app description has no frontend: call with-frontend first")
	}
	kv, err := parsePairs("env", env)
	if err != nil {
		return nil, err
	}
	if app.Frontend.Env == nil {
		app.Frontend.Env = map[string]string{}
	}
	maps.Copy(app.Frontend.Env, kv)
	return m.withApp(app)
}

// Set the Dockerfile of the image serving the built frontend.
//
// Its build context holds dist/ (the built site) and stevedore's
// nginx.conf; the default is docker/frontend.Dockerfile.
func (m *Stevedore) WithFrontendDockerfile(
	// Dockerfile path relative to the source directory.
	dockerfile string,
) (*Stevedore, error) {
	app, err := m.app()
	if err != nil {
		return nil, err
	}
	if app.Frontend == nil {
		return nil, fmt.Errorf("the app description has no frontend: call with-frontend first")
	}
	app.Frontend.Dockerfile = dockerfile
	return m.withApp(app)
}

// Set the one-off migration run with the new image before the rollout.
//
// It runs on both targets: a one-off container locally, an ECS task on AWS.
func (m *Stevedore) WithMigrate(
	// Service whose new image (and, locally, environment) the migration uses.
	service string,
	// Command, e.g. ["alembic", "upgrade", "head"].
	command []string,
) (*Stevedore, error) {
	app, err := m.app()
	if err != nil {
		return nil, err
	}
	if len(command) == 0 {
		return nil, fmt.Errorf("with-migrate needs a --command, e.g. --command alembic,upgrade,head")
	}
	if _, err := app.Service(service); err != nil {
		return nil, err
	}
	app.Migrate = &appspec.Migrate{Service: service, Command: command}
	return m.withApp(app)
}
