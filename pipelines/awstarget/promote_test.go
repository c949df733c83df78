package awstarget

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecr"
	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush/ocitest"
	releases "github.com/stevedore-ci/stevedore/pipelines/release"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// These tests run whole releases through the fake AWS: the lock and the
// record of pipelines/release around the deploy graph, promote between
// environments of one account and of two, rollback to an older release.

const commit = "c0ffee1234567890c0ffee1234567890c0ffee12"

// siteTar is a site image: one layer holding index.html with body.
func siteTar(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromFile(ocitest.TarDir(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		t.Fatal(err)
	}
	return ocitest.ImageTar(t, img)
}

// login is the fake account's ECR registry (plain HTTP).
func login(t *testing.T, a *fakeaws.AWS) Registry {
	t.Helper()
	reg, err := ECRRegistry(context.Background(), ecr.New(a.Config()))
	if err != nil {
		t.Fatal(err)
	}
	reg.Insecure = true
	return reg
}

// pushTo pushes an OCI tarball to a repository of the fake's registry, as
// the engine-side pusher does.
func pushTo(t *testing.T, a *fakeaws.AWS, tar, repo string) ocipush.PushResult {
	t.Helper()
	ctx := context.Background()
	if _, err := ecr.New(a.Config()).EnsureRepository(ctx, repo, ecr.RepositoryPolicy{}); err != nil {
		t.Fatal(err)
	}
	reg := login(t, a)
	res, err := ocipush.Push(ctx, tar, ocipush.PushOptions{Repository: reg.Host + "/" + repo, Tags: []string{"c0ffee1"}, Username: reg.Username, Password: reg.Password, Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// pushedSite is the SiteImage of a deploy: the built site pushed as an
// image to <app>-site.
type pushedSite struct {
	t   *testing.T
	a   *fakeaws.AWS
	tar string

	mu     sync.Mutex
	pushed int
}

func (s *pushedSite) Image(ctx context.Context) (string, error) {
	res := pushTo(s.t, s.a, s.tar, testApp().SiteRepository())
	s.mu.Lock()
	defer s.mu.Unlock()
	if res.Pushed {
		s.pushed++
	}
	return res.Ref, nil
}

func storeOf(a *fakeaws.AWS, env string) *releases.Store {
	return releases.NewStore(ssm.NewFromConfig(a.Config()), "shop", env)
}

// withSite gives the target the app's frontend.
func withSite(tg *Target, env string) *Target {
	tg.Env = env
	tg.App.Name = "shop"
	tg.App.Frontend = &appspec.Frontend{Dir: "web"}
	return tg
}

// buildPipeline is a deploy's graph on the target (build and push).
func (e *e2e) buildPipeline(tg *Target, pre deploy.Preflighter) *deploy.Pipeline {
	e.last = tg
	return &deploy.Pipeline{
		Services: tg.App.ServiceNames(), Migrate: tg.App.Migrate.Service, Frontend: tg.App.Frontend != nil,
		Build: fakeBuild{}, Preflight: pre, Push: tg, Synth: e2eSynth{stacks: []string{stack}}, Infra: tg, Follow: tg, Release: tg,
	}
}

// seedRelease puts images and a site in the registry of a and records
// them as a succeeded release of env, as a deploy there would have.
func seedRelease(t *testing.T, a *fakeaws.AWS, env, body string, tars map[string]string) releases.Record {
	t.Helper()
	rec := releases.Record{Status: releases.Succeeded, Commit: commit, Images: map[string]string{}, By: "arn:aws:iam::1:role/ci"}
	for svc, tar := range tars {
		rec.Images[svc] = pushTo(t, a, tar, "shop-"+svc).Ref
	}
	rec.Frontend = pushTo(t, a, siteTar(t, body), "shop-site").Ref
	saved, err := storeOf(a, env).Put(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

func registryWrites(a *fakeaws.AWS) []string {
	var out []string
	for _, op := range a.Mutating() {
		if strings.HasPrefix(op, "registry:") {
			out = append(out, op)
		}
	}
	return out
}

// onlyTheLock fails unless every write since the last reset was the
// environment's lock (taken and given back) and the lock is free.
func onlyTheLock(t *testing.T, a *fakeaws.AWS, env string) {
	t.Helper()
	lock := storeOf(a, env).Path() + "/lock"
	for _, c := range a.Calls() {
		if op := c.Service + ":" + c.Op; slices.Contains(a.Mutating(), op) && c.Body["Name"] != lock {
			t.Fatalf("wrote %s %v besides the lock", op, c.Body["Name"])
		}
	}
	if _, held, _ := storeOf(a, env).Lease(context.Background()); held {
		t.Fatal("the lock is still held")
	}
}

func digestPart(ref string) string { return ref[strings.LastIndex(ref, "@")+1:] }

// A deploy pushes the built site as an image to <app>-site and records its
// digest-pinned reference with the images, the stacks and the caller; the
// lock is gone afterwards.
func TestE2EDeployRecordsTheSiteImage(t *testing.T) {
	e := newE2E(t, false)
	tg := withSite(e.target(), "staging")
	site := &pushedSite{t: t, a: e.a, tar: siteTar(t, "<h1>shop</h1>")}
	tg.Site, tg.SiteImage = fakeSite{}, site
	store := storeOf(e.a, "staging")
	rep, rec, err := store.Run(context.Background(), e.buildPipeline(tg, tg), steps.Options{}, releases.Release{
		Holder: "arn:aws:iam::123456789012:role/ci", Operation: "deploy", Commit: commit, Frontend: tg.Frontend,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	if rec.Seq != 1 || rec.Status != releases.Succeeded || !maps.Equal(rec.Images, e.newRef) || !slices.Equal(rec.Stacks, []string{stack}) || rec.By != "arn:aws:iam::123456789012:role/ci" {
		t.Fatalf("record %+v, want images %v", rec, e.newRef)
	}
	if !strings.HasPrefix(rec.Frontend, e.a.RepositoryURI("shop-site")+"@sha256:") || site.pushed != 1 {
		t.Fatalf("frontend %q (pushed %d times)", rec.Frontend, site.pushed)
	}
	if h, _ := store.History(context.Background(), 0); len(h) != 1 || h[0].Frontend != rec.Frontend {
		t.Fatalf("history %+v", h)
	}
	if _, held, _ := store.Lease(context.Background()); held {
		t.Fatal("the lock is still held after the deploy")
	}
}

// promotion is a promote or rollback to env on e's account.
func (e *e2e) promotion(tg *Target, carry Carry) Promotion {
	e.last = tg
	return Promotion{Target: tg, Store: storeOf(e.a, tg.Env), Carry: carry, Synth: e2eSynth{stacks: []string{stack}}, Holder: "arn:aws:iam::123456789012:role/release"}
}

// Promote within one account deploys exactly the source's digests and site
// to the target, and pushes nothing: no build, no registry write.
func TestE2EPromoteSameRegistryPushesNothing(t *testing.T) {
	e := newE2E(t, false) // prod runs the old digests
	src := seedRelease(t, e.a, "staging", "<h1>shop v2</h1>", e.tars)
	e.a.ResetCalls()
	reg := login(t, e.a)
	p := e.promotion(withSite(e.target(), "prod"), Carry{From: reg, To: reg, Tags: []string{"c0ffee1"}})
	rep, rec, err := p.Promote(context.Background(), "staging", storeOf(e.a, "staging"), false, steps.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	if got := e.images(); !maps.Equal(got, src.Images) {
		t.Fatalf("prod runs %v, staging's release has %v", got, src.Images)
	}
	if w := registryWrites(e.a); len(w) > 0 || len(e.pushes) > 0 {
		t.Fatalf("a promote in one registry wrote %v, pushed %v", w, e.pushes)
	}
	for _, s := range rep.Steps {
		if strings.HasPrefix(s.Name, "push:") || strings.HasPrefix(s.Name, "build:") || s.Name == deploy.StepTest {
			t.Fatalf("promote ran %s", s.Name)
		}
	}
	if rec.From != "staging#1" || rec.Commit != commit || !maps.Equal(rec.Images, src.Images) || rec.Frontend != src.Frontend || rec.Status != releases.Succeeded {
		t.Fatalf("prod record %+v, staging's %+v", rec, src)
	}
	if b := e.a.Objects("shop-site")["index.html"]; !strings.Contains(b.Body, "shop v2") {
		t.Fatalf("the bucket's index.html is %q, want the site image's", b.Body)
	}
}

// A promote to another account copies every image and the site image by
// digest into the target's registry (tags added) and deploys those.
func TestE2EPromoteCrossAccountCopiesByDigest(t *testing.T) {
	staging := fakeaws.New(t, fakeaws.WithAccount("111111111111"))
	e := newE2E(t, false, fakeaws.WithAccount("222222222222"))
	src := seedRelease(t, staging, "staging", "<h1>shop v2</h1>", e.tars)
	e.a.ResetCalls()
	p := e.promotion(withSite(e.target(), "prod"), Carry{
		From: login(t, staging), To: login(t, e.a), Repos: ecr.New(e.a.Config()),
	})
	p.Account = "222222222222"
	rep, rec, err := p.Promote(context.Background(), "staging", storeOf(staging, "staging"), false, steps.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	for svc, ref := range src.Images {
		want := e.a.RepositoryURI("shop-"+svc) + "@" + digestPart(ref)
		if rec.Images[svc] != want || e.images()[svc] != want {
			t.Errorf("%s: recorded %s, running %s, want %s (the source digest in the target registry)", svc, rec.Images[svc], e.images()[svc], want)
		}
		imgs := e.a.Images("shop-" + svc)
		if !slices.ContainsFunc(imgs, func(im fakeaws.Image) bool { return im.Digest == digestPart(ref) && slices.Contains(im.Tags, commit) }) {
			t.Errorf("%s: the target registry holds %+v", svc, imgs)
		}
	}
	if want := e.a.RepositoryURI("shop-site") + "@" + digestPart(src.Frontend); rec.Frontend != want {
		t.Errorf("site %s, want %s", rec.Frontend, want)
	}
	if len(registryWrites(e.a)) == 0 || len(e.pushes) > 0 {
		t.Errorf("registry writes %v, builds pushed %v", registryWrites(e.a), e.pushes)
	}
	if b := e.a.Objects("shop-site")["index.html"]; !strings.Contains(b.Body, "shop v2") {
		t.Fatalf("the bucket's index.html is %q", b.Body)
	}
}

// Promote refuses a source whose last deploy failed, unless forced; the
// refusal (decided under the target's lock) writes nothing but the lock.
func TestE2EPromoteRefusesAFailedSource(t *testing.T) {
	e := newE2E(t, false)
	seedRelease(t, e.a, "staging", "<h1>v2</h1>", e.tars)
	if _, err := storeOf(e.a, "staging").Put(context.Background(), releases.Record{Status: releases.Failed, Commit: "deadbeef", Images: map[string]string{}}); err != nil {
		t.Fatal(err)
	}
	reg := login(t, e.a)
	e.a.ResetCalls()
	p := e.promotion(withSite(e.target(), "prod"), Carry{From: reg, To: reg, Tags: []string{"c0ffee1"}})
	_, _, err := p.Promote(context.Background(), "staging", storeOf(e.a, "staging"), false, steps.Options{})
	if err == nil || !strings.Contains(err.Error(), "failed") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("err %v", err)
	}
	onlyTheLock(t, e.a, "prod")
	if h, _ := storeOf(e.a, "prod").History(context.Background(), 0); len(h) != 0 {
		t.Fatalf("a refused promote recorded %+v", h)
	}
	rep, rec, err := p.Promote(context.Background(), "staging", storeOf(e.a, "staging"), true, steps.Options{})
	if err != nil || rec.From != "staging#1" {
		t.Fatalf("forced: %v %+v\n%s", err, rec, rep.Text())
	}
}

// Rollback --to restores an older release's digests and site, runs no
// migration, and refuses when a later release migrated unless allowed.
func TestE2ERollbackRestoresAnOlderRelease(t *testing.T) {
	ctx := context.Background()
	e := newE2E(t, false)
	old := map[string]string{}
	for svc := range e.tars {
		old[svc] = ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64"))
	}
	first := seedRelease(t, e.a, "prod", "<h1>v1</h1>", old)
	// Release #2: a real deploy of the new build, migration included.
	tg := withSite(e.target(), "prod")
	tg.Site, tg.SiteImage = fakeSite{}, &pushedSite{t: t, a: e.a, tar: siteTar(t, "<h1>v2</h1>")}
	store := storeOf(e.a, "prod")
	if rep, rec, err := store.Run(ctx, e.buildPipeline(tg, tg), steps.Options{}, releases.Release{Holder: "ci", Operation: "deploy", Commit: "2222222", Frontend: tg.Frontend}); err != nil || !rec.Migrated {
		t.Fatalf("deploy #2: %v, record %+v\n%s", err, rec, rep.Text())
	}
	reg := login(t, e.a)
	p := e.promotion(withSite(e.target(), "prod"), Carry{From: reg, To: reg})
	e.a.ResetCalls()
	_, _, err := p.Rollback(ctx, "1", false, steps.Options{})
	if err == nil || !strings.Contains(err.Error(), "ran migrations") {
		t.Fatalf("rollback over a migration: %v", err)
	}
	onlyTheLock(t, e.a, "prod")
	rep, rec, err := p.Rollback(ctx, commit[:7], true, steps.Options{})
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	if got := e.images(); !maps.Equal(got, first.Images) {
		t.Fatalf("prod runs %v after the rollback, release #1 had %v", got, first.Images)
	}
	if rec.Seq != 3 || rec.From != "prod#1" || rec.Migrated || rec.Frontend != first.Frontend {
		t.Fatalf("record %+v", rec)
	}
	if n := len(e.a.CallsTo("RunTask")); n > 0 {
		t.Fatalf("a rollback ran %d tasks (the migration)", n)
	}
	for _, name := range []string{deploy.StepMigrate, deploy.StepMigrateFirst} {
		if s, _ := rep.Step(name); s.Status != steps.StatusSkipped || !strings.Contains(s.Reason, "reverses none") {
			t.Errorf("%s: %+v", name, s)
		}
	}
	if b := e.a.Objects("shop-site")["index.html"]; !strings.Contains(b.Body, "v1") {
		t.Fatalf("the bucket's index.html is %q, want release #1's", b.Body)
	}
	if _, _, err := p.Rollback(ctx, "9", false, steps.Options{}); err == nil || !strings.Contains(err.Error(), "no release #9") {
		t.Fatalf("unknown release: %v", err)
	}
}

// gated holds the preflight of a deploy until released, so a second
// deploy can try the lock meanwhile.
type gated struct {
	deploy.Preflighter
	started, release chan struct{}
}

func (g gated) Preflight(ctx context.Context) (steps.Outcome, error) {
	close(g.started)
	<-g.release
	return g.Preflighter.Preflight(ctx)
}

// A second deploy while the lock is held fails at once naming the holder;
// the first goes on and is the one recorded.
func TestE2ESecondDeployWhileLockedFails(t *testing.T) {
	ctx := context.Background()
	e := newE2E(t, false)
	store := storeOf(e.a, "prod")
	tg := e.target()
	g := gated{Preflighter: tg, started: make(chan struct{}), release: make(chan struct{})}
	type result struct {
		rec releases.Record
		err error
	}
	done := make(chan result)
	go func() {
		_, rec, err := store.Run(ctx, e.buildPipeline(tg, g), steps.Options{}, releases.Release{Holder: "arn:aws:iam::1:role/first", Operation: "deploy", Commit: commit})
		done <- result{rec, err}
	}()
	<-g.started
	second := e.target()
	rep, _, err := store.Run(ctx, e.buildPipeline(second, second), steps.Options{}, releases.Release{Holder: "arn:aws:iam::1:role/second", Operation: "promote"})
	var locked *releases.LockedError
	if !errors.As(err, &locked) || !strings.Contains(err.Error(), "arn:aws:iam::1:role/first") || rep != nil {
		t.Fatalf("second deploy: %v (report %v)", err, rep)
	}
	close(g.release)
	r := <-done
	if r.err != nil || r.rec.Status != releases.Succeeded || r.rec.By != "arn:aws:iam::1:role/first" {
		t.Fatalf("first deploy: %v %+v", r.err, r.rec)
	}
	if h, _ := store.History(ctx, 0); len(h) != 1 {
		t.Fatalf("history %+v, want only the first deploy", h)
	}
	if !maps.Equal(e.images(), e.newRef) {
		t.Fatalf("services run %v", e.images())
	}
}

// A failed deploy is recorded as failed and releases the lock.
func TestE2ELockReleasedAfterFailedDeploy(t *testing.T) {
	ctx := context.Background()
	e := newE2E(t, false)
	e.a.ExitCode("alembic upgrade head", 3)
	store := storeOf(e.a, "prod")
	tg := e.target()
	_, rec, err := store.Run(ctx, e.buildPipeline(tg, tg), steps.Options{}, releases.Release{Holder: "ci", Operation: "deploy", Commit: commit})
	if err == nil || rec.Status != releases.Failed {
		t.Fatalf("err %v, record %+v", err, rec)
	}
	if _, held, err := store.Lease(ctx); held || err != nil {
		t.Fatalf("lock held %v (%v) after a failed deploy", held, err)
	}
	if cur, ok, _ := store.Current(ctx); ok {
		t.Fatalf("a failed deploy became the current release: %+v", cur)
	}
}

// Credentials of another account than the environment's are refused
// before any call that writes (and before the records are read).
func TestE2EWrongAccountRefusedBeforeAnyWrite(t *testing.T) {
	e := newE2E(t, false, fakeaws.WithAccount("111111111111"))
	seedRelease(t, e.a, "staging", "<h1>v2</h1>", e.tars)
	reg := login(t, e.a)
	e.a.ResetCalls()
	p := e.promotion(withSite(e.target(), "prod"), Carry{From: reg, To: reg, Tags: []string{"c0ffee1"}})
	p.Account = "999999999999"
	_, _, err := p.Promote(context.Background(), "staging", storeOf(e.a, "staging"), false, steps.Options{})
	if err == nil || !strings.Contains(err.Error(), "lives in account 999999999999") || !strings.Contains(err.Error(), "111111111111") {
		t.Fatalf("err %v", err)
	}
	_, _, err = p.Rollback(context.Background(), "1", false, steps.Options{})
	if err == nil || !strings.Contains(err.Error(), "lives in account 999999999999") {
		t.Fatalf("rollback: %v", err)
	}
	if m := e.a.Mutating(); len(m) > 0 {
		t.Fatalf("refused with writes %v", m)
	}
	if ops := e.a.Ops(); !slices.Equal(ops, []string{"sts:GetCallerIdentity", "sts:GetCallerIdentity"}) {
		t.Fatalf("calls %v, want only the identity checks", ops)
	}
}

// A promote to an environment another release holds fails at once naming
// the holder, before it reads or copies anything, and leaves the lock to
// its holder.
func TestE2EPromoteWhileLockedFails(t *testing.T) {
	ctx := context.Background()
	e := newE2E(t, false)
	seedRelease(t, e.a, "staging", "<h1>v2</h1>", e.tars)
	reg := login(t, e.a)
	held, err := storeOf(e.a, "prod").Acquire(ctx, "arn:aws:iam::1:role/laptop", "deploy", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release(ctx)
	e.a.ResetCalls()
	p := e.promotion(withSite(e.target(), "prod"), Carry{From: reg, To: reg})
	_, _, err = p.Promote(ctx, "staging", storeOf(e.a, "staging"), false, steps.Options{})
	var locked *releases.LockedError
	if !errors.As(err, &locked) || !strings.Contains(err.Error(), "arn:aws:iam::1:role/laptop (deploy)") {
		t.Fatalf("err %v", err)
	}
	if n := len(e.a.CallsTo("GetParametersByPath")); n > 0 || len(registryWrites(e.a)) > 0 {
		t.Fatalf("read the history %d times, wrote %v while locked out", n, registryWrites(e.a))
	}
	if l, ok, _ := storeOf(e.a, "prod").Lease(ctx); !ok || l.Holder != "arn:aws:iam::1:role/laptop" {
		t.Fatalf("lease %+v %v", l, ok)
	}
}
