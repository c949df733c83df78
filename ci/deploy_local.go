package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// localRegistryHost is the name images carry in the embedded registry.
const localRegistryHost = "stevedore-registry:5000"

// localTarget is the AWS pipeline reproduced inside the engine: an embedded
// registry stands in for ECR, Dagger services for ECS and CloudFront.
type localTarget struct {
	m    *Stevedore
	app  *appspec.App
	tags []string
	work string // module workdir folder for pulled images

	regOnce sync.Once
	reg     *pushTarget
	regErr  error

	mu       sync.Mutex
	services map[string]*dagger.Service
	frontend *dagger.Service
}

// registry starts the embedded registry once. Its storage is a cache
// volume, so an image pushed by an earlier run is found and not re-uploaded.
func (l *localTarget) registry(ctx context.Context) (*pushTarget, error) {
	l.regOnce.Do(func() {
		svc, err := dag.Container().From(l.m.RegistryImage).
			WithMountedCache("/var/lib/registry", dag.CacheVolume("stevedore-local-registry")).
			WithExposedPort(5000).
			AsService(dagger.ContainerAsServiceOpts{UseEntrypoint: true}).
			Start(ctx)
		if err != nil {
			l.regErr = fmt.Errorf("starting the embedded registry (%s): %w", l.m.RegistryImage, err)
			return
		}
		ep, err := svc.Endpoint(ctx)
		if err != nil {
			l.regErr = err
			return
		}
		if l.reg, l.regErr = newPushTarget(l.app); l.regErr == nil {
			l.reg.host, l.reg.insecure, l.reg.dial = localRegistryHost, true, ep
		}
	})
	return l.reg, l.regErr
}

func (l *localTarget) close() {
	if l.reg != nil {
		l.reg.close()
	}
}

func (l *localTarget) Push(ctx context.Context, service string) (deploy.Image, steps.Outcome, error) {
	return l.m.pushService(ctx, l.app, service, l.tags, l.registry)
}

// pushService builds one service and pushes it to the registry reg resolves.
func (m *Stevedore) pushService(ctx context.Context, app *appspec.App, service string, tags []string, reg func(context.Context) (*pushTarget, error)) (deploy.Image, steps.Outcome, error) {
	s, err := app.Service(service)
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	img, err := m.serviceImage(ctx, s, "")
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	t, err := reg(ctx)
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	p, err := t.push(ctx, service, []*dagger.Container{img}, tags)
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	return pushedImage(p)
}

// pushedImage turns a push result into the pipeline image and its report line.
func pushedImage(p *published) (deploy.Image, steps.Outcome, error) {
	summary := "pushed, tags " + strings.Join(p.Tags, ", ")
	if !p.Pushed {
		summary = "digest already in the registry, nothing uploaded"
	}
	return deploy.Image{Service: p.Service, Ref: p.Ref, Pushed: p.Pushed},
		steps.Outcome{Summary: summary, Artifacts: []steps.Artifact{{Kind: steps.KindImage, Name: p.Service, Value: p.Ref}}}, nil
}

// Migrate runs the migration command in the new image, locally.
func (l *localTarget) Migrate(ctx context.Context, image deploy.Image, _ deploy.Outputs) (steps.Outcome, error) {
	img, err := l.pull(ctx, image)
	if err != nil {
		return steps.Outcome{}, err
	}
	out, err := img.WithEnvVariable("STEVEDORE_RUN", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(l.app.Migrate.Command, dagger.ContainerWithExecOpts{UseEntrypoint: false}).CombinedOutput(ctx)
	if err != nil {
		return steps.Outcome{}, fmt.Errorf("migration `%s` failed: %w", strings.Join(l.app.Migrate.Command, " "), err)
	}
	return steps.Outcome{Summary: tail(out, 3)}, nil
}

// pull fetches an image back from the embedded registry by digest, so what
// runs is exactly what was pushed.
func (l *localTarget) pull(ctx context.Context, image deploy.Image) (*dagger.Container, error) {
	reg, err := l.registry(ctx)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(l.work, image.Service+".tar")
	if _, err := ocipush.Pull(ctx, image.Ref, file, ocipush.PullOptions{Insecure: true, Dial: reg.dial}); err != nil {
		return nil, fmt.Errorf("pulling %s back from the embedded registry: %w", image.Ref, err)
	}
	return dag.Container().Import(dag.CurrentModule().WorkdirFile(file)), nil
}

// Rollout starts the service from the pushed digest.
func (l *localTarget) Rollout(ctx context.Context, image deploy.Image, _ deploy.Outputs) (steps.Outcome, error) {
	s, err := l.app.Service(image.Service)
	if err != nil {
		return steps.Outcome{}, err
	}
	img, err := l.pull(ctx, image)
	if err != nil {
		return steps.Outcome{}, err
	}
	svc, err := asService(img, s).Start(ctx)
	if err != nil {
		return steps.Outcome{}, fmt.Errorf("starting %s from %s: %w", s.Name, image.Ref, err)
	}
	l.mu.Lock()
	if l.services == nil {
		l.services = map[string]*dagger.Service{}
	}
	l.services[s.Name] = svc
	l.mu.Unlock()
	return steps.Outcome{Summary: fmt.Sprintf("running from the pushed digest on port %d", s.Port),
		Artifacts: []steps.Artifact{{Kind: steps.KindImage, Name: s.Name, Value: image.Ref}}}, nil
}

// PublishFrontend starts the frontend image.
func (l *localTarget) PublishFrontend(ctx context.Context, _ deploy.Outputs) (steps.Outcome, error) {
	img, err := l.m.frontendImage(ctx, l.app.Frontend)
	if err != nil {
		return steps.Outcome{}, err
	}
	svc, err := frontendService(img).Start(ctx)
	if err != nil {
		return steps.Outcome{}, fmt.Errorf("starting the frontend: %w", err)
	}
	l.mu.Lock()
	l.frontend = svc
	l.mu.Unlock()
	return steps.Outcome{Summary: "nginx serving the built site on port 80"}, nil
}

// Verify calls every health path and the index page through service
// bindings, from a separate container, as a user would.
func (l *localTarget) Verify(ctx context.Context, _ []deploy.Image, _ deploy.Outputs) (steps.Outcome, error) {
	ctr := dag.Container().From(l.m.GoImage).WithEnvVariable("STEVEDORE_RUN", time.Now().UTC().Format(time.RFC3339Nano))
	var script []string
	var artifacts []steps.Artifact
	l.mu.Lock()
	for _, s := range l.app.Services {
		svc := l.services[s.Name]
		if svc == nil {
			continue
		}
		ctr = ctr.WithServiceBinding(s.Name, svc)
		if s.Health != "" {
			u := httpURL(s.Name, s.Port, s.Health)
			script = append(script, fmt.Sprintf(`printf '%%s → ' %q; curl -fsS --retry 10 --retry-connrefused --retry-delay 1 %q; echo`, u, u))
			artifacts = append(artifacts, steps.Artifact{Kind: steps.KindURL, Name: s.Name + " health", Value: u})
		}
	}
	if l.frontend != nil {
		ctr = ctr.WithServiceBinding("frontend", l.frontend)
		script = append(script, `printf 'http://frontend/ → '; curl -fsS --retry 10 --retry-connrefused --retry-delay 1 http://frontend/ | sed -n 's:.*<title>\(.*\)</title>.*:page "\1":p'`)
		artifacts = append(artifacts, steps.Artifact{Kind: steps.KindURL, Name: "frontend", Value: "http://frontend/"})
	}
	l.mu.Unlock()
	out, err := ctr.WithExec([]string{"sh", "-ec", strings.Join(script, "\n")}).CombinedOutput(ctx)
	if err != nil {
		return steps.Outcome{}, fmt.Errorf("health check failed: %w", err)
	}
	var checks []string
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			checks = append(checks, line)
		}
	}
	return steps.Outcome{Summary: strings.Join(checks, "; "), Artifacts: artifacts}, nil
}
