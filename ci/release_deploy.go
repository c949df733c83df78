package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"dagger/stevedore/internal/dagger"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/release"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

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
		// Secret names are unique per credential set, and derived from the
		// access key id only: nothing of a secret value is in a name.
		sum := sha256.Sum256([]byte(creds.AccessKeyID))
		secret := func(kind, value string) *dagger.Secret {
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
		got, arn, err := awsconf.CallerIdentity(ctx, cfg)
		if err != nil {
			return nil, err
		}
		if err := release.CheckAccount(e.Name, e.Account, got); err != nil {
			return nil, err
		}
		a.Account, a.caller = got, arn
	}
	return &c, nil
}

// releaseRun is one release of an environment (deploy, promote,
// rollback) by the caller: release.Store.Run takes the lock before the
// pipeline's first side effect, records the release, succeeded or failed,
// and releases the lock on every exit path.
type releaseRun struct {
	store  *release.Store
	caller string
	fn     string
}

// beginRelease opens the environment's records for fn as the caller the
// credentials name.
func (m *Stevedore) beginRelease(ctx context.Context, fn string, app *appspec.App, env string) (*releaseRun, error) {
	cfg, cleanup, err := m.awsConfig(ctx, fn)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	caller := m.Aws.caller // known when forEnvironment checked the account
	if caller == "" {
		if _, caller, err = awsconf.CallerIdentity(ctx, cfg); err != nil {
			return nil, err
		}
	}
	return &releaseRun{store: release.NewStore(ssm.NewFromConfig(cfg), app.Name, env), caller: caller, fn: fn}, nil
}

// run releases p under the lock and records it; a held lock fails at
// once, naming its holder.
func (r *releaseRun) run(ctx context.Context, p *deploy.Pipeline, o steps.Options, rel release.Release) (*steps.Report, release.Record, error) {
	rel.Holder, rel.Operation = r.caller, r.fn
	rel.Log = func(s string) { log("%s", s) }
	return r.store.Run(ctx, p, o, rel)
}
