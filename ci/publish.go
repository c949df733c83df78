package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"dagger/stevedore/internal/dagger"

	"golang.org/x/sync/errgroup"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/ecr"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush"
)

// PublishedImage is one image publish pushed, or found already pushed.
type PublishedImage struct {
	// Service name from the app description.
	Service string
	// Repository the image went to, with its registry host.
	Repository string
	// Digest-pinned reference, repository@sha256:…, what deploys use.
	Ref string
	// Content digest of the image (or of its index, for several platforms).
	Digest string
	// Tags pointing at the digest.
	Tags []string
	// False when the registry already had the digest and nothing was uploaded.
	Pushed bool
	// Platforms in the image, e.g. linux/amd64.
	Platforms []string
}

// Show the image on one line: service, reference, pushed or not, tags, platforms.
//
// `dagger call publish line` prints one per service (a bare `dagger call
// publish` prints only the objects' IDs: Dagger prints no object fields).
// Never cached: the engine keys it by the publish call, not by the result.
// +cache="never"
func (p *PublishedImage) Line() string {
	state := "pushed"
	if !p.Pushed {
		state = "already present, nothing pushed"
	}
	return fmt.Sprintf("%s\t%s\t%s\ttags: %s\tplatforms: %s", p.Service, p.Ref, state, strings.Join(p.Tags, ", "), strings.Join(p.Platforms, ", "))
}

// Build the service images and push them to Amazon ECR or another registry.
//
// ECR (see with-aws) is the default; with-registry sends them elsewhere.
// The ECR repository is created when missing (scan on push, immutable tags
// except the mutable ones, a lifecycle policy keeping the last images).
// Images are tagged with --git-sha (default: a tag derived from the source
// content) and any extra tags; an image whose digest the registry already
// holds is not uploaded again. Returns one object per service (service,
// repository, ref, digest, tags, pushed, platforms): `dagger call publish
// ref` prints the digest-pinned references, `dagger call publish line` one
// readable line per service (also logged). Never cached.
// +cache="never"
func (m *Stevedore) Publish(
	ctx context.Context,
	// Services to publish (default: all).
	// +optional
	service []string,
	// Git commit SHA to tag the images with, e.g. $GITHUB_SHA or $(git rev-parse HEAD).
	// Default: a tag derived from the content of the source.
	// +optional
	gitSha string,
	// Extra tags, e.g. v1.2.3 or latest.
	// +optional
	tag []string,
	// Platforms to build, e.g. linux/amd64 and linux/arm64 (Go backends
	// cross-compile, no emulation). Default: the engine's platform.
	// +optional
	platform []dagger.Platform,
	// Fail when the ECR scan of a pushed image finds vulnerabilities at or
	// above this severity: NONE (no gate), LOW, MEDIUM, HIGH or CRITICAL.
	// +default="NONE"
	scanThreshold string,
	// ECR repositories created by stevedore: tags that may move (all other tags are immutable).
	// +default=["latest"]
	mutableTag []string,
	// ECR repositories created by stevedore: keep this many images (0: no lifecycle policy).
	// +default=30
	keepLast int,
) ([]*PublishedImage, error) {
	out, err := m.publish(ctx, service, gitSha, tag, platform, scanThreshold, mutableTag, keepLast)
	if err != nil {
		// A Dagger function returns no value with an error: say what did get pushed.
		var lines []string
		for _, p := range out {
			if p != nil {
				lines = append(lines, p.Line())
			}
		}
		if len(lines) > 0 {
			return nil, fmt.Errorf("%w\nalready pushed:\n%s", err, strings.Join(lines, "\n"))
		}
		return nil, err
	}
	for _, p := range out {
		log("%s", p.Line())
	}
	return out, nil
}

func (m *Stevedore) publish(ctx context.Context, service []string, gitSha string, tag []string, platform []dagger.Platform, scanThreshold string, mutableTag []string, keepLast int) ([]*PublishedImage, error) {
	// Everything checkable without work first.
	if err := checkPlatforms(platform...); err != nil {
		return nil, err
	}
	threshold, err := ecr.ParseSeverity(scanThreshold)
	if err != nil {
		return nil, err
	}
	if keepLast < 0 {
		return nil, fmt.Errorf("--keep-last %d: must be 0 (no lifecycle policy) or more", keepLast)
	}
	app, err := m.load(ctx)
	if err != nil {
		return nil, err
	}
	services, err := selectServices(app, service)
	if err != nil {
		return nil, err
	}
	tags, err := m.imageTags(ctx, gitSha, tag)
	if err != nil {
		return nil, err
	}
	target, err := m.pushTarget(ctx, app, services, ecr.RepositoryPolicy{ScanOnPush: true, ImmutableTags: true, KeepLast: keepLast, MutableTags: mutableTag})
	if err != nil {
		return nil, err
	}
	defer target.close()
	images := map[string][]*dagger.Container{}
	for _, s := range services {
		if images[s.Name], err = m.platformImages(ctx, s, platform); err != nil {
			return nil, err
		}
	}
	out, err := target.pushAll(ctx, services, images, tags)
	if err != nil {
		return nil, err
	}
	if target.ecr != nil && threshold != ecr.SeverityNone {
		if err := target.scanGate(ctx, out, threshold); err != nil {
			return out, err
		}
	}
	return out, nil
}

// selectServices picks the named services (all when none are named).
func selectServices(app *appspec.App, names []string) ([]*appspec.Service, error) {
	if len(names) == 0 {
		out := make([]*appspec.Service, len(app.Services))
		for i := range app.Services {
			out[i] = &app.Services[i]
		}
		return out, nil
	}
	var out []*appspec.Service
	for _, n := range names {
		s, err := app.Service(n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

var gitShaPattern = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// imageTags returns the tags to push: the commit SHA first, then extras.
func (m *Stevedore) imageTags(ctx context.Context, gitSha string, extra []string) ([]string, error) {
	first := gitSha
	if gitSha == "" {
		d, err := m.Source.Digest(ctx)
		if err != nil {
			return nil, err
		}
		first = "src-" + strings.TrimPrefix(d, "sha256:")[:12]
	} else if !gitShaPattern.MatchString(gitSha) {
		return nil, fmt.Errorf("--git-sha %q is not a commit SHA (7 to 40 lowercase hex digits)", gitSha)
	}
	tags := []string{first}
	for _, t := range extra {
		if err := ocipush.ValidateTag(t); err != nil {
			return nil, err
		}
		if t != first {
			tags = append(tags, t)
		}
	}
	return tags, nil
}

// platformImages builds a service for each requested platform.
func (m *Stevedore) platformImages(ctx context.Context, s *appspec.Service, platforms []dagger.Platform) ([]*dagger.Container, error) {
	if len(platforms) == 0 {
		platforms = []dagger.Platform{""}
	}
	var out []*dagger.Container
	for _, p := range platforms {
		img, err := m.serviceImage(ctx, s, p)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// pushTarget is a registry resolved for one publish: ECR (repositories
// ensured, logged in) or the with-registry override.
type pushTarget struct {
	host               string
	username, password string
	insecure           bool
	dial               string
	ecr                *ecr.Client
	repos              map[string]string // service -> repository name
	tmp                string
	cleanup            func()
}

// pushTarget resolves where the services' images go and logs in.
func (m *Stevedore) pushTarget(ctx context.Context, app *appspec.App, services []*appspec.Service, policy ecr.RepositoryPolicy) (_ *pushTarget, err error) {
	t, err := newPushTarget(app)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			t.close() // no temporary AWS files left behind
		}
	}()
	if r := m.Registry; r != nil {
		t.host, t.username, t.insecure = r.Address, r.Username, r.Insecure
		if r.Password != nil {
			if t.password, err = r.Password.Plaintext(ctx); err != nil {
				return nil, err
			}
		}
		if t.dial, err = r.dialAddress(ctx); err != nil {
			return nil, err
		}
		return t, nil
	}
	if err := m.requireCallerSource("publish"); err != nil {
		return nil, err
	}
	cfg, cleanup, err := m.awsConfig(ctx, "publish")
	if err != nil {
		return nil, fmt.Errorf("%w (or use with-registry to push elsewhere)", err)
	}
	t.cleanup = cleanup
	t.ecr = ecr.New(cfg)
	for _, s := range services {
		repo, err := t.ecr.EnsureRepository(ctx, s.Repository, policy)
		if err != nil {
			return nil, err
		}
		if repo.Created {
			log("created ECR repository %s", repo.URI)
		}
	}
	reg, err := t.ecr.Login(ctx)
	if err != nil {
		return nil, err
	}
	t.host, t.username, t.password = reg.Host, reg.Username, reg.Password
	return t, nil
}

// siteKey names the site image among a push target's repositories (no
// service can be called so).
const siteKey = ":site"

// addSite makes the push target take the site image: its repository
// (appspec's SiteRepository) created when missing on ECR.
func (t *pushTarget) addSite(ctx context.Context, app *appspec.App) error {
	if t.ecr != nil {
		repo, err := t.ecr.EnsureRepository(ctx, app.SiteRepository(), releasePolicy)
		if err != nil {
			return err
		}
		if repo.Created {
			log("created ECR repository %s", repo.URI)
		}
	}
	t.repos[siteKey] = app.SiteRepository()
	return nil
}

// newPushTarget prepares the scratch space and repository names of a push.
func newPushTarget(app *appspec.App) (*pushTarget, error) {
	tmp, err := os.MkdirTemp("", "stevedore-push-")
	if err != nil {
		return nil, err
	}
	t := &pushTarget{repos: map[string]string{}, tmp: tmp, cleanup: func() {}}
	for _, s := range app.Services {
		t.repos[s.Name] = s.Repository
	}
	return t, nil
}

func (t *pushTarget) close() {
	t.cleanup()
	os.RemoveAll(t.tmp)
}

// pushAll pushes every service in parallel.
func (t *pushTarget) pushAll(ctx context.Context, services []*appspec.Service, images map[string][]*dagger.Container, tags []string) ([]*PublishedImage, error) {
	out := make([]*PublishedImage, len(services))
	eg, ctx := errgroup.WithContext(ctx)
	for i, s := range services {
		eg.Go(func() error {
			p, err := t.push(ctx, s.Name, images[s.Name], tags)
			out[i] = p
			return err
		})
	}
	return out, eg.Wait()
}

// push exports one image (all its platforms) as an OCI tarball and pushes it.
func (t *pushTarget) push(ctx context.Context, service string, variants []*dagger.Container, tags []string) (*PublishedImage, error) {
	tarball := variants[0].AsTarball(dagger.ContainerAsTarballOpts{PlatformVariants: variants[1:]})
	file := filepath.Join(t.tmp, service+".tar")
	if _, err := tarball.Export(ctx, file); err != nil {
		return nil, failed("image build", service, err)
	}
	defer os.Remove(file)
	repo := t.host + "/" + t.repos[service]
	res, err := ocipush.Push(ctx, file, ocipush.PushOptions{
		Repository: repo, Tags: tags, Username: t.username, Password: t.password,
		Insecure: t.insecure, Dial: t.dial, Log: func(s string) { log("%s: %s", service, s) },
	})
	if err != nil {
		if t.ecr != nil && strings.Contains(err.Error(), "TAG_INVALID") {
			return nil, fmt.Errorf("pushing %s: a tag already points to another image and the ECR repository has immutable tags: use a new tag, or list the tag with --mutable-tag when the repository is created: %w", service, err)
		}
		return nil, fmt.Errorf("pushing %s: %w", service, err)
	}
	return &PublishedImage{Service: service, Repository: repo, Ref: res.Ref, Digest: res.Digest, Tags: res.Tags, Pushed: res.Pushed, Platforms: res.Platforms}, nil
}

// scanGate waits for the ECR scans of the pushed digests.
func (t *pushTarget) scanGate(ctx context.Context, published []*PublishedImage, threshold ecr.Severity) error {
	var eg errgroup.Group
	for _, p := range published {
		eg.Go(func() error {
			_, err := t.ecr.WaitForScan(ctx, t.repos[p.Service], p.Digest, ecr.ScanOptions{
				Threshold: threshold, Log: func(s string) { log("%s scan: %s", p.Service, s) },
			})
			return err
		})
	}
	return eg.Wait()
}

var logMu sync.Mutex

// log prints a progress line; Dagger shows it under the running function.
func log(format string, args ...any) {
	logMu.Lock()
	defer logMu.Unlock()
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}
