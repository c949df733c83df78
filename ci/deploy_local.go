package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"dagger/stevedore/internal/dagger"

	"golang.org/x/sync/errgroup"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/gate"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// quietRegistry runs registry:2 without its noise: a push first asks for
// every blob and manifest, and the registry logs each "unknown" answer at
// error level (its lowest level that still shows real errors), which
// flooded stderr on every normal push. Everything else still shows.
const quietRegistry = `registry serve /etc/docker/registry/config.yml 2>&1 | grep -v -e 'err.code="blob unknown"' -e 'err.code="manifest unknown"'`

// localStandInImage is what the postgres and redis stand-ins are built
// from: Debian bookworm, whose PostgreSQL 15 contrib modules are the
// extensions appspec.LocalResources knows the stand-in has.
const localStandInImage = "debian:bookworm"

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

	standInOnce sync.Once
	standInErr  error

	mu       sync.Mutex
	services map[string]*dagger.Service
	frontend *dagger.Service
}

// startStandIns starts, once, the local stand-ins (postgres, redis) of
// the resources the app's services use, so the migration and every
// service reach the same running databases: a service binding of the same
// stand-in attaches to the instance started here.
func (l *localTarget) startStandIns(ctx context.Context) error {
	l.standInOnce.Do(func() {
		local, _ := l.app.LocalResources()
		eg, ctx := errgroup.WithContext(ctx)
		for _, r := range local {
			if !l.used(r.Name) {
				continue
			}
			eg.Go(func() error {
				if _, err := localStandIn(localStandInImage, r).Start(ctx); err != nil {
					return fmt.Errorf("starting the local %s stand-in of resource %s (from %s): %w", r.Type, r.Name, localStandInImage, err)
				}
				return nil
			})
		}
		l.standInErr = eg.Wait()
	})
	return l.standInErr
}

// used reports whether a service of the app uses the resource.
func (l *localTarget) used(resource string) bool {
	for _, s := range l.app.Services {
		if slices.Contains(l.app.LocalUses(s.Name), resource) {
			return true
		}
	}
	return false
}

// withResources binds the started stand-ins of the resources a service
// uses (of the built-in infrastructure or of local:), under the variables
// the built-in infrastructure sets on AWS, and for a rollout the local
// services of the other services it uses (for a migration they have not
// started yet), then the service's own environment (s as
// appspec.LocalService returns it). It returns the report's notes: each
// stand-in and service bound (and the extensions a stand-in lacks), and
// what the service uses that is not there locally.
func (l *localTarget) withResources(ctx context.Context, img *dagger.Container, s *appspec.Service, rollout bool) (*dagger.Container, []string, error) {
	if err := l.startStandIns(ctx); err != nil {
		return nil, nil, err
	}
	ctr, missing := withLocalResources(img, l.app, s.Name, localStandInImage)
	var notes, notStarted []string
	for _, ln := range l.app.LocalLinks(s.Name) {
		l.mu.Lock()
		dep := l.services[ln.Service]
		l.mu.Unlock()
		switch {
		case !rollout:
			notStarted = append(notStarted, ln.Host)
			continue
		case dep == nil:
			return nil, nil, fmt.Errorf("%s uses %s, whose local service %s is not running", s.Name, ln.Host, ln.Service)
		}
		ctr = ctr.WithServiceBinding(ln.Host, dep).WithEnvVariable(ln.Var, ln.URL)
		notes = append(notes, fmt.Sprintf("%s → local service %s (%s=%s)", ln.Host, ln.Service, ln.Var, ln.URL))
	}
	if len(notStarted) > 0 {
		notes = append(notes, "internal services start after the migration, so it cannot reach "+strings.Join(notStarted, ", "))
	}
	notes = append(notes, l.standInNotes(s.Name)...)
	if len(missing) > 0 {
		slices.Sort(missing)
		notes = append(notes, "not emulated locally: "+strings.Join(missing, ", "))
	}
	return withServiceEnv(ctr, s), notes, nil
}

// registry starts the embedded registry once. Its storage is a cache
// volume, so an image pushed by an earlier run is found and not re-uploaded.
func (l *localTarget) registry(ctx context.Context) (*pushTarget, error) {
	l.regOnce.Do(func() {
		svc, err := dag.Container().From(l.m.RegistryImage).
			WithMountedCache("/var/lib/registry", dag.CacheVolume("stevedore-local-registry")).
			WithEnvVariable("REGISTRY_LOG_LEVEL", "warn").
			WithEnvVariable("REGISTRY_LOG_ACCESSLOG_DISABLED", "true").
			WithExposedPort(5000).
			AsService(dagger.ContainerAsServiceOpts{Args: []string{"sh", "-c", quietRegistry}}).
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
			l.reg.host, l.reg.insecure, l.reg.dial = contract.LocalRegistryHost, true, ep
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
func pushedImage(p *PublishedImage) (deploy.Image, steps.Outcome, error) {
	summary := "pushed, tags " + strings.Join(p.Tags, ", ")
	if !p.Pushed {
		summary = "digest already in the registry, nothing uploaded"
	}
	return deploy.Image{Service: p.Service, Ref: p.Ref, Pushed: p.Pushed},
		steps.Outcome{Summary: summary, Artifacts: []steps.Artifact{{Kind: steps.KindImage, Name: p.Service, Value: p.Ref}}}, nil
}

// after lists, by service, the other services it uses: their local
// services start first, so it can be bound to them.
func (l *localTarget) after() map[string][]string {
	out := map[string][]string{}
	for _, s := range l.app.Services {
		for _, ln := range l.app.LocalLinks(s.Name) {
			out[s.Name] = append(out[s.Name], ln.Service)
		}
	}
	return out
}

// standInNotes names the stand-ins a service is bound to, as the report
// rows say it: "db → local postgres stand-in res-db:5432".
func (l *localTarget) standInNotes(service string) []string {
	var notes []string
	local, _ := l.app.LocalResources()
	for _, r := range local {
		if !slices.Contains(l.app.LocalUses(service), r.Name) {
			continue
		}
		n := fmt.Sprintf("%s → local %s stand-in %s:%d", r.Name, r.Type, r.Host, r.Port)
		if len(r.Lacks) > 0 {
			n += " (lacks extension " + strings.Join(r.Lacks, ", ") + ")"
		}
		notes = append(notes, n)
	}
	return notes
}

// plans says what a plan shows the migration would run and the rollouts
// would do beyond starting the new container: the stand-ins and services
// they would be bound to, a gated service's checks.
func (l *localTarget) plans() map[string]string {
	out := map[string]string{}
	// with: the stand-ins and, for a rollout, the services it is bound to
	// (the migration runs before any service starts).
	with := func(service string, rollout bool) string {
		w := l.standInNotes(service)
		if rollout {
			for _, ln := range l.app.LocalLinks(service) {
				w = append(w, fmt.Sprintf("%s → local service %s", ln.Host, ln.Service))
			}
		}
		if len(w) == 0 {
			return ""
		}
		return ", bound to " + strings.Join(w, ", ")
	}
	if mg := l.app.Migrate; mg != nil {
		out[deploy.StepMigrate] = fmt.Sprintf("would run `%s` in the new %s image%s", strings.Join(mg.Command, " "), mg.Service, with(mg.Service, false))
	}
	for _, s := range l.app.Services {
		var what []string
		if w := with(s.Name, true); w != "" {
			what = append(what, "would start"+w)
		}
		if s.Gated() {
			what = append(what, "the gate would check "+s.GateChecks()+" on the new container before it replaces the old one")
		}
		if len(what) > 0 {
			out[deploy.RolloutStep(s.Name)] = strings.Join(what, "; ")
		}
	}
	return out
}

// noInfra is why the local target lists deploy-infra as skipped: no AWS
// account, so the CDK app is synthesized against the pushed digests and
// stops there. It also names the local stand-ins (of the built-in
// infrastructure or of local:) and the resources not emulated locally.
func (l *localTarget) noInfra() string {
	why := "the local target does not deploy the CDK app (it was synthesized against the pushed digests); deploy it with --target aws"
	local, notEmulated := l.app.LocalResources()
	var standIns []string
	for _, r := range local {
		if l.used(r.Name) {
			standIns = append(standIns, r.Name+" ("+r.Type+")")
		}
	}
	if len(standIns) > 0 {
		why += "; local stand-ins: " + strings.Join(standIns, ", ")
	}
	if len(notEmulated) > 0 {
		why += "; not emulated locally: " + strings.Join(notEmulated, ", ")
	}
	return why
}

// Migrate runs the migration command once in a one-off container from the
// new image, with the service's environment, before any service starts. A
// non-zero exit fails the step, and so stops every rollout.
func (l *localTarget) Migrate(ctx context.Context, image deploy.Image, _ deploy.Outputs) (steps.Outcome, error) {
	s, err := l.app.LocalService(image.Service)
	if err != nil {
		return steps.Outcome{}, err
	}
	img, err := l.pull(ctx, image)
	if err != nil {
		return steps.Outcome{}, err
	}
	ctr, notes, err := l.withResources(ctx, img, s, false)
	if err != nil {
		return steps.Outcome{}, err
	}
	cmd := l.app.Migrate.Command
	out, err := ctr.
		WithEnvVariable("STEVEDORE_RUN", time.Now().UTC().Format(time.RFC3339Nano)).
		WithExec(cmd, dagger.ContainerWithExecOpts{UseEntrypoint: false}).CombinedOutput(ctx)
	if err != nil {
		return steps.Outcome{}, failed("migration", s.Name, err) // the command and its output follow
	}
	summary := fmt.Sprintf("`%s` exited 0 in %s", strings.Join(cmd, " "), image.Ref)
	if last := tail(out, 1); last != "" {
		summary += ": " + last
	}
	return steps.Outcome{Summary: strings.Join(append([]string{summary}, notes...), "; ")}, nil
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
	s, err := l.app.LocalService(image.Service)
	if err != nil {
		return steps.Outcome{}, err
	}
	img, err := l.pull(ctx, image)
	if err != nil {
		return steps.Outcome{}, err
	}
	ctr, notes, err := l.withResources(ctx, img, s, true)
	if err != nil {
		return steps.Outcome{}, err
	}
	svc, err := asService(ctr, s, nil).Start(ctx)
	if err != nil {
		return steps.Outcome{}, fmt.Errorf("starting %s from %s: %w", s.Name, image.Ref, err)
	}
	var gated string
	if s.Gated() {
		if gated, err = l.gate(ctx, s, svc); err != nil {
			if _, serr := svc.Stop(ctx); serr != nil {
				err = fmt.Errorf("%w (stopping the new service failed too: %v)", err, serr)
			}
			return steps.Outcome{}, fmt.Errorf("local rollout of %s from %s failed its gate, so the new service was stopped and nothing was replaced (the previous local state is kept): %w", s.Name, image.Ref, err)
		}
	}
	l.mu.Lock()
	if l.services == nil {
		l.services = map[string]*dagger.Service{}
	}
	l.services[s.Name] = svc
	l.mu.Unlock()
	summary := fmt.Sprintf("running from the pushed digest on port %d", s.Port)
	if gated != "" {
		summary += "; " + gated
	}
	return steps.Outcome{Summary: strings.Join(append([]string{summary}, notes...), "; "),
		Artifacts: []steps.Artifact{{Kind: steps.KindImage, Name: s.Name, Value: image.Ref}}}, nil
}

// gate runs the service's gate checks (pipelines/gate, the same as on
// AWS) against the new local service, straight from the module through
// its endpoint, with the test header and a fresh token (locally there is
// no listener rule to set, so the header only shows the service what the
// test route would send). It returns the report's line, e.g. "gate
// passed: health /health: 200 after 1 attempt(s)", or the failing check's
// evidence.
func (l *localTarget) gate(ctx context.Context, s *appspec.Service, svc *dagger.Service) (string, error) {
	base, err := svc.Endpoint(ctx, dagger.ServiceEndpointOpts{Port: s.Port, Scheme: "http"})
	if err != nil {
		return "", fmt.Errorf("no endpoint for the new %s on port %d: %w", s.Name, s.Port, err)
	}
	token, err := gate.NewToken()
	if err != nil {
		return "", err
	}
	spec := gate.Spec{
		Service: s.Name,
		URL:     base,
		Health:  s.Health,
		Smoke:   s.Deployment.Smoke,
		Token:   token,
		Timeout: s.GateTimeoutOf(),
		Direct:  true, // no load balancer: a 404 is the service's own
		Log:     func(line string) { log("%s", line) },
	}
	if c := s.Deployment.SmokeCommand; c != nil {
		spec.Command = func(ctx context.Context) error {
			return smokeCommand(ctx, c, l.m.Source, httpURL(s.Name, s.Port, ""), contract.GateHeader, token, svc)
		}
	}
	passed, err := spec.Check(ctx)
	if err != nil {
		return "", err
	}
	return "gate passed: " + strings.Join(passed, "; "), nil
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
// bindings, from a separate container, as a user would. Every address is
// checked; a failure says which URL answered what (HTTP status and the start
// of the body, or the connection error).
func (l *localTarget) Verify(ctx context.Context, _ []deploy.Image, _ deploy.Outputs) (steps.Outcome, error) {
	ctr := dag.Container().From(l.m.GoImage).WithEnvVariable("STEVEDORE_RUN", time.Now().UTC().Format(time.RFC3339Nano))
	var checks []healthCheck
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
			checks = append(checks, healthCheck{url: u})
			artifacts = append(artifacts, steps.Artifact{Kind: steps.KindURL, Name: s.Name + " health", Value: u})
		}
	}
	if l.frontend != nil {
		ctr = ctr.WithServiceBinding("frontend", l.frontend)
		checks = append(checks, healthCheck{url: "http://frontend/", title: true})
		artifacts = append(artifacts, steps.Artifact{Kind: steps.KindURL, Name: "frontend", Value: "http://frontend/"})
	}
	l.mu.Unlock()
	var urls []string
	for _, c := range checks {
		urls = append(urls, c.url)
	}
	out, err := ctr.WithExec([]string{"sh", "-c", healthScript(checks)}).Stdout(ctx)
	if err != nil {
		return steps.Outcome{}, failed("health check", strings.Join(urls, ", "), err)
	}
	var seen []string
	for _, line := range strings.Split(out, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			seen = append(seen, line)
		}
	}
	return steps.Outcome{Summary: strings.Join(seen, "; ") + l.openHint(), Artifacts: artifacts}, nil
}

// openHint says how to open the local addresses, which resolve only
// inside Dagger, from the user's machine.
func (l *localTarget) openHint() string {
	var how []string
	if len(l.app.Services) > 0 {
		s := l.app.Services[0]
		how = append(how, fmt.Sprintf("dagger call serve --service %s up --ports %d:%d", s.Name, s.Port, s.Port))
	}
	if l.app.Frontend != nil {
		how = append(how, "dagger call serve-frontend up --ports 8080:80")
	}
	return " (these addresses resolve inside Dagger; from your machine: " + strings.Join(how, ", or ") + ", with your --source and --config)"
}

// healthCheck is one address Verify calls; title shows the page title
// instead of the body.
type healthCheck struct {
	url   string
	title bool
}

// healthScript checks every URL (retrying while the service starts) and
// prints "URL → answer" for each on stdout. A failure goes to stderr as
// "URL → HTTP 503: <first 200 bytes of the body>" or "URL → <curl's
// connection error>", and the script exits 1 after checking all of them.
func healthScript(checks []healthCheck) string {
	var b strings.Builder
	b.WriteString(`rc=0
check() {
  code=$(curl -sS -o /tmp/body -w '%{http_code}' --retry 10 --retry-connrefused --retry-delay 1 --max-time 10 "$1" 2>/tmp/err) || {
    echo "$1 → $(tr '\n' ' ' </tmp/err)" >&2; rc=1; return; }
  case $code in
    2*|3*) ;;
    *) echo "$1 → HTTP $code: $(head -c 200 /tmp/body | tr '\n' ' ')" >&2; rc=1; return ;;
  esac
  if [ "$2" = title ]; then
    echo "$1 → page \"$(sed -n 's:.*<title>\(.*\)</title>.*:\1:p' /tmp/body | head -n 1)\""
  else
    echo "$1 → $(head -c 200 /tmp/body | tr '\n' ' ')"
  fi
}
`)
	for _, c := range checks {
		mode := "body"
		if c.title {
			mode = "title"
		}
		fmt.Fprintf(&b, "check %s %s\n", shellQuote(c.url), mode)
	}
	b.WriteString("exit $rc\n")
	return b.String()
}

// shellQuote quotes s for sh.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
