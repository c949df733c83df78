package awstarget

import (
	"context"
	"fmt"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecr"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush"
	releases "github.com/stevedore-ci/stevedore/pipelines/release"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// SiteImage is the built frontend as an OCI image whose filesystem is the
// site: what a release records, and what promote and rollback publish.
type SiteImage interface {
	// Image returns the digest-pinned reference of the site image,
	// pushing it to the app's site repository when the registry lacks it.
	Image(ctx context.Context) (string, error)
}

// Registry is where a release's images are, with credentials to read or
// write them.
type Registry struct {
	// Host is the registry host, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com.
	Host               string
	Username, Password string
	Insecure           bool
	// Dial overrides the address the host is dialled at.
	Dial string
}

// ECRRegistry logs in to the default ECR registry of the client's account
// and region.
func ECRRegistry(ctx context.Context, c *ecr.Client) (Registry, error) {
	reg, err := c.Login(ctx)
	if err != nil {
		return Registry{}, err
	}
	return Registry{Host: reg.Host, Username: reg.Username, Password: reg.Password}, nil
}

func (r Registry) pull() ocipush.PullOptions {
	return ocipush.PullOptions{Username: r.Username, Password: r.Password, Insecure: r.Insecure, Dial: r.Dial}
}

// Repositories creates the repositories a copy writes to (ECR needs them
// before a push).
type Repositories interface {
	EnsureRepository(ctx context.Context, name string, p ecr.RepositoryPolicy) (ecr.Repository, error)
}

var _ Repositories = (*ecr.Client)(nil)

// Carry makes a recorded release available to another environment's
// registry: nothing moves when both use the same registry; otherwise every
// image and the site image are copied by digest, tags added.
type Carry struct {
	From, To Registry
	// Repos creates the target repositories (nil: the registry needs none).
	Repos Repositories
	// Policy is what a created repository gets.
	Policy ecr.RepositoryPolicy
	// Tags are added to every copied image (default: the release's
	// commit, or release-<seq> without a commit that is a valid tag).
	Tags []string
	Log  func(string)
}

// Carried is a release as the target environment references it.
type Carried struct {
	Images []deploy.Image
	// Site is the site image's reference ("" without a frontend).
	Site string
	// Copied lists the references copied into the target registry, none
	// when the registries are the same.
	Copied []string
}

// Release carries rec's images (every service of app must have one) and
// site image.
func (c Carry) Release(ctx context.Context, app *appspec.App, rec releases.Record) (Carried, error) {
	type item struct{ service, repo, ref string }
	var items []item
	for _, s := range app.Services {
		ref := rec.Images[s.Name]
		if ref == "" {
			return Carried{}, fmt.Errorf("release #%d has no image for service %s (added since?): deploy it instead", rec.Seq, s.Name)
		}
		if _, err := contract.ParseImage(ref); err != nil {
			return Carried{}, fmt.Errorf("release #%d, service %s: %w", rec.Seq, s.Name, err)
		}
		items = append(items, item{s.Name, s.Repository, ref})
	}
	if app.Frontend != nil {
		if rec.Frontend == "" {
			return Carried{}, fmt.Errorf("release #%d has no site image (it was deployed before sites were recorded): deploy it instead", rec.Seq)
		}
		items = append(items, item{"", app.SiteRepository(), rec.Frontend})
	}
	same := c.From.Host == c.To.Host
	tags := c.Tags
	if len(tags) == 0 {
		tags = []string{fmt.Sprintf("release-%d", rec.Seq)}
		if rec.Commit != "" && ocipush.ValidateTag(rec.Commit) == nil {
			tags = []string{rec.Commit}
		}
	}
	var out Carried
	for _, it := range items {
		ref := it.ref
		if !same {
			if !strings.HasPrefix(ref, c.From.Host+"/") {
				return Carried{}, fmt.Errorf("release #%d's image %s is not in the source registry %s", rec.Seq, ref, c.From.Host)
			}
			if c.Repos != nil {
				if _, err := c.Repos.EnsureRepository(ctx, it.repo, c.Policy); err != nil {
					return Carried{}, err
				}
			}
			res, err := ocipush.Copy(ctx, ref, c.From.pull(), ocipush.PushOptions{
				Repository: c.To.Host + "/" + it.repo, Tags: tags,
				Username: c.To.Username, Password: c.To.Password, Insecure: c.To.Insecure, Dial: c.To.Dial, Log: c.Log,
			})
			if err != nil {
				return Carried{}, fmt.Errorf("copying %s to %s: %w", ref, c.To.Host, err)
			}
			ref = res.Ref
			if res.Pushed {
				out.Copied = append(out.Copied, ref)
			}
		}
		if it.service == "" {
			out.Site = ref
			continue
		}
		out.Images = append(out.Images, deploy.Image{Service: it.service, Ref: ref, Pushed: false})
	}
	return out, nil
}

// recordedSite is a site image already in a registry: Export extracts it,
// Image returns it without pushing anything.
type recordedSite struct {
	Ref      string
	Registry Registry
	Log      func(string)
}

var (
	_ Site      = recordedSite{}
	_ SiteImage = recordedSite{}
)

// Export writes the site image's filesystem into dir.
func (s recordedSite) Export(ctx context.Context, dir string) error {
	o := s.Registry.pull()
	o.Log = s.Log
	_, err := ocipush.Extract(ctx, s.Ref, dir, o)
	return err
}

// Image returns the recorded reference.
func (s recordedSite) Image(context.Context) (string, error) { return s.Ref, nil }

// Promotion releases recorded digests to the target's environment:
// promote (another environment's current release) and rollback (an older
// release of its own), through the same release path as a deploy: the
// lock, the graph without a build (pipelines/deploy Pipeline.Given) and a
// record naming where the release came from.
type Promotion struct {
	// Target is the environment released to; Run sets its Site and
	// SiteImage to the recorded site image.
	Target *Target
	// Store holds the target environment's records and lock.
	Store *releases.Store
	// Account, when set, is the account the target environment is
	// declared in: credentials of another account are refused before
	// anything is read or written.
	Account string
	// Carry moves the images to the target's registry (From and To the
	// same registry: nothing moves).
	Carry Carry
	// Synth synthesizes the CDK app on the given digests.
	Synth deploy.Synthesizer
	// Holder is the caller identity (lock holder, record's By).
	Holder string
	Log    func(string)
}

// Promote deploys the current release of the source environment from
// (its records in source) to the target: exactly its digests and site,
// no rebuild, copied by digest when the registries differ. It refuses as
// release.CheckPromote does unless force; the check against the target's
// current release runs under the target's lock.
func (p Promotion) Promote(ctx context.Context, from string, source *releases.Store, force bool, o steps.Options) (*steps.Report, releases.Record, error) {
	if from == p.Target.Env {
		return nil, releases.Record{}, fmt.Errorf("promote from %s to %s: name two different environments", from, p.Target.Env)
	}
	if err := p.checkAccount(ctx); err != nil {
		return nil, releases.Record{}, err
	}
	return p.Store.RunPrepared(ctx, o, p.release("promote"), func(ctx context.Context, r *releases.Release) (*deploy.Pipeline, error) {
		h, err := source.History(ctx, 0)
		if err != nil {
			return nil, err
		}
		var target *releases.Record
		if cur, ok, err := p.Store.Current(ctx); err != nil {
			return nil, err
		} else if ok {
			target = &cur
		}
		rec, err := releases.CheckPromote(from, p.Target.Env, h, target, force)
		if err != nil {
			return nil, err
		}
		carried, err := p.Carry.Release(ctx, p.Target.App, rec)
		if err != nil {
			return nil, err
		}
		for _, c := range carried.Copied {
			p.logf("copied %s", c)
		}
		r.Commit, r.From = rec.Commit, fmt.Sprintf("%s#%d", from, rec.Seq)
		return p.pipeline(carried, ""), nil
	})
}

// Rollback returns the target environment to its release named ref (a
// number or a commit prefix, see release.Store.Find) with its recorded
// digests and site. The migration is not run, and the ones run since are
// not reversed: it refuses when a later release ran one, unless
// allowMigrations.
func (p Promotion) Rollback(ctx context.Context, ref string, allowMigrations bool, o steps.Options) (*steps.Report, releases.Record, error) {
	if err := p.checkAccount(ctx); err != nil {
		return nil, releases.Record{}, err
	}
	return p.Store.RunPrepared(ctx, o, p.release("rollback"), func(ctx context.Context, r *releases.Release) (*deploy.Pipeline, error) {
		rec, err := p.Store.Find(ctx, ref)
		if err != nil {
			return nil, err
		}
		if rec.Status != releases.Succeeded {
			return nil, fmt.Errorf("release #%d of %s failed: roll back to a release that succeeded (history --env %s lists them)", rec.Seq, p.Target.Env, p.Target.Env)
		}
		h, err := p.Store.History(ctx, 0)
		if err != nil {
			return nil, err
		}
		if err := releases.CheckRollback(p.Target.Env, h, rec, allowMigrations); err != nil {
			return nil, err
		}
		carried, err := Carry{From: p.Carry.To, To: p.Carry.To}.Release(ctx, p.Target.App, rec)
		if err != nil {
			return nil, err
		}
		r.Commit, r.From = rec.Commit, fmt.Sprintf("%s#%d", p.Target.Env, rec.Seq)
		return p.pipeline(carried, fmt.Sprintf("a rollback runs no migration and reverses none: the database keeps the schema of the releases after #%d", rec.Seq)), nil
	})
}

func (p Promotion) release(op string) releases.Release {
	return releases.Release{Holder: p.Holder, Operation: op, Frontend: p.Target.Frontend, Log: p.Log}
}

// pipeline is the graph without a build on the carried images and site.
func (p Promotion) pipeline(c Carried, skipMigrate string) *deploy.Pipeline {
	t := p.Target
	if t.App.Frontend != nil {
		site := recordedSite{Ref: c.Site, Registry: p.Carry.To, Log: p.Log}
		t.Site, t.SiteImage = site, site
	}
	pl := &deploy.Pipeline{
		Services: t.App.ServiceNames(), Frontend: t.App.Frontend != nil, SkipMigrate: skipMigrate,
		Given: c.Images, Preflight: t, Synth: p.Synth, Infra: t, Follow: t, Release: t,
	}
	if t.App.Migrate != nil {
		pl.Migrate = t.App.Migrate.Service
	}
	return pl
}

// checkAccount refuses credentials of another account than the declared one.
func (p Promotion) checkAccount(ctx context.Context) error {
	if p.Account == "" {
		return nil
	}
	got, _, err := awsconf.CallerIdentity(ctx, p.Target.AWS)
	if err != nil {
		return err
	}
	return releases.CheckAccount(p.Target.Env, p.Account, got)
}

func (p Promotion) logf(format string, args ...any) {
	if p.Log != nil {
		p.Log(fmt.Sprintf(format, args...))
	}
}
