package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"dagger/stevedore/internal/dagger"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/release"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// lockLease is how long a deploy's lock lives without renewal: a holder
// that died frees the environment after this, through unlock --force.
const lockLease = 15 * time.Minute

// forEnvironment returns a copy of m acting in the environment's account
// and region (stevedore.yaml environments.<env>): its role assumed from
// with-aws's credentials, the temporary credentials handed on as secrets
// to every AWS step and the CDK CLI. With an account declared, the
// credentials' account is checked against it before anything writes.
func (m *Stevedore) forEnvironment(ctx context.Context, fn string, e appspec.Env) (*Stevedore, error) {
	if e.Role == "" && e.Region == "" && e.Account == "" {
		return m, nil
	}
	acct, err := m.requireAws(fn)
	if err != nil {
		return nil, err
	}
	c, a := *m, *acct
	c.Aws = &a
	if e.Region != "" {
		a.Region = e.Region
	}
	if e.Role != "" {
		cfg, cleanup, err := m.awsConfig(ctx, fn)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		creds, err := awsconf.ForEnvironment(cfg, a.Region, e.Role, "stevedore-"+e.Name).Credentials.Retrieve(ctx)
		if err != nil {
			return nil, awsconf.Explain("sts:AssumeRole", fmt.Errorf("assuming %s for environment %s (environments.%s.role): %w", e.Role, e.Name, e.Name, err))
		}
		secret := func(kind, value string) *dagger.Secret {
			sum := sha256.Sum256([]byte(value))
			return dag.SetSecret("stevedore-"+e.Name+"-"+kind+"-"+hex.EncodeToString(sum[:8]), value)
		}
		a.AccessKeyID, a.SecretAccessKey, a.SessionToken = secret("key", creds.AccessKeyID), secret("secret", creds.SecretAccessKey), secret("token", creds.SessionToken)
		a.Config, a.Credentials, a.Profile = nil, nil, ""
	}
	if e.Account != "" {
		cfg, cleanup, err := c.awsConfig(ctx, fn)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		got, _, err := awsconf.CallerIdentity(ctx, cfg)
		if err != nil {
			return nil, err
		}
		if err := release.CheckAccount(e.Name, e.Account, got); err != nil {
			return nil, err
		}
		a.Account = got
	}
	return &c, nil
}

// releaseRun is one deploy's hold on its environment: the lock, taken
// before the first side effect and released on every exit path, and the
// record written at the end, succeeded or failed.
type releaseRun struct {
	store  *release.Store
	held   *release.Held
	caller string
	fn     string
}

// beginRelease takes the environment's lock for fn (deploy, promote,
// rollback, destroy); a held lock fails at once, naming its holder.
func (m *Stevedore) beginRelease(ctx context.Context, fn string, app *appspec.App, env string) (*releaseRun, error) {
	cfg, cleanup, err := m.awsConfig(ctx, fn)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	_, caller, err := awsconf.CallerIdentity(ctx, cfg)
	if err != nil {
		return nil, err
	}
	store := release.NewStore(ssm.NewFromConfig(cfg), app.Name, env)
	held, err := store.Acquire(ctx, caller, fn, lockLease)
	if err != nil {
		return nil, err
	}
	log("%s: took the deploy lock %s/lock", env, store.Path())
	return &releaseRun{store: store, held: held, caller: caller, fn: fn}, nil
}

// finish records the release (what the pipeline shipped) and releases the
// lock. A failure to record is reported, never silently dropped; the lock
// is released even then.
func (r *releaseRun) finish(ctx context.Context, p *deploy.Pipeline, report *steps.Report, runErr error, commit, from string) error {
	ctx = context.WithoutCancel(ctx)
	defer func() {
		if err := r.held.Release(ctx); err != nil {
			log("%v", err)
		}
	}()
	rec := release.Record{Status: release.Succeeded, Commit: commit, Images: map[string]string{}, Stacks: p.Stacks(), By: r.caller, From: from}
	if runErr != nil {
		rec.Status = release.Failed
	}
	for _, img := range p.Images() {
		rec.Images[img.Service] = img.Ref
	}
	if report != nil {
		for _, s := range report.Steps {
			if (s.Name == deploy.StepMigrate || s.Name == deploy.StepMigrateFirst) && s.Status == steps.StatusOK && !s.Deliberate {
				rec.Migrated = true
			}
		}
	}
	saved, err := r.store.Put(ctx, rec)
	if err != nil {
		return fmt.Errorf("the %s %s, but recording it failed: %w", r.fn, map[bool]string{true: "succeeded", false: "failed"}[runErr == nil], err)
	}
	log("recorded release #%d of %s (%s)", saved.Seq, r.store.Path(), saved.Status)
	return nil
}
