package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/awstarget"
	"github.com/stevedore-ci/stevedore/pipelines/ecr"
	"github.com/stevedore-ci/stevedore/pipelines/release"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// Deploy the images and site another environment runs, without a rebuild.
//
// Reads the current release of --from (with that environment's account,
// region and role from stevedore.yaml) and deploys exactly its image
// digests and site image to --to through the same release path as deploy
// --target aws: the target's lock, check-stacks, the migration, deploy-infra
// with the followers, publish:frontend, verify, and a release record naming
// its source (e.g. from staging#12). Nothing is built or tested again.
// When both environments use the same registry nothing is pushed; when
// the target's registry differs (another account or region), the images
// and the site image are copied there by digest, tagged with the release's
// commit. Refused when the source's last deploy failed or the target runs
// a newer commit the source never ran, unless --force. Never cached.
// +cache="never"
func (m *Stevedore) Promote(
	ctx context.Context,
	// Environment whose current release is promoted.
	// +default="staging"
	from string,
	// Environment to deploy it to.
	// +default="prod"
	to string,
	// Promote even though the source's last deploy failed (its last good
	// release goes) or the target runs a newer commit.
	// +optional
	force bool,
	// Report format: text, markdown or json.
	// +default="text"
	format string,
) (string, error) {
	if err := checkPromoteArgs(from, to, format); err != nil {
		return "", err
	}
	if err := m.requireCallerSource("promote"); err != nil {
		return "", err
	}
	app, src, dst, err := m.releaseEnvs(ctx, "promote", from, to)
	if err != nil {
		return "", err
	}
	srcM, err := m.forEnvironment(ctx, "promote", src)
	if err != nil {
		return "", err
	}
	srcCfg, srcCleanup, err := srcM.awsConfig(ctx, "promote")
	if err != nil {
		return "", err
	}
	defer srcCleanup()
	srcReg, err := srcM.releaseRegistry(ctx, srcCfg)
	if err != nil {
		return "", err
	}
	r, err := m.newReleaseTarget(ctx, "promote", app, dst)
	if err != nil {
		return "", err
	}
	defer r.close()
	r.promotion.Carry.From = srcReg
	report, rec, runErr := r.promotion.Promote(ctx, from, release.NewStore(ssm.NewFromConfig(srcCfg), app.Name, from), force, r.options(fmt.Sprintf("promote %s → %s", from, to)))
	return releaseReport(report, rec, runErr, format, "")
}

// Return an environment to one of its earlier releases, without a rebuild.
//
// --to names the release as history lists it: its number (12 or #12) or
// at least 7 characters of its commit. Its recorded image digests and
// site image are deployed through the same release path as deploy
// --target aws (lock, check-stacks, deploy-infra with the followers,
// publish:frontend, verify) and recorded as a new release (from
// <env>#<n>). Migrations are not run and not reversed: the database keeps
// the schema of the later releases, so the rollback is refused when one
// of them ran a migration, unless --allow-migrations. Never cached.
// +cache="never"
func (m *Stevedore) Rollback(
	ctx context.Context,
	// Release to return to: its number (e.g. 12) or at least 7 characters of its commit.
	to string,
	// Environment to roll back, e.g. prod.
	// +default="dev"
	env string,
	// Roll back even though a later release ran a migration (the old code
	// must work with the new schema).
	// +optional
	allowMigrations bool,
	// Report format: text, markdown or json.
	// +default="text"
	format string,
) (string, error) {
	if err := checkRollbackArgs(to, env, format); err != nil {
		return "", err
	}
	if err := m.requireCallerSource("rollback"); err != nil {
		return "", err
	}
	app, _, e, err := m.releaseEnvs(ctx, "rollback", env, env)
	if err != nil {
		return "", err
	}
	r, err := m.newReleaseTarget(ctx, "rollback", app, e)
	if err != nil {
		return "", err
	}
	defer r.close()
	report, rec, runErr := r.promotion.Rollback(ctx, to, allowMigrations, r.options(fmt.Sprintf("rollback %s to %s", env, to)))
	return releaseReport(report, rec, runErr, format, "Migrations are not reversed by a rollback: the database keeps the schema the later releases migrated it to.")
}

// checkPromoteArgs validates promote's arguments before any work.
func checkPromoteArgs(from, to, format string) error {
	if err := steps.CheckFormat(format); err != nil {
		return err
	}
	if strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" {
		return errors.New("promote needs --from and --to, e.g. --from staging --to prod")
	}
	if from == to {
		return fmt.Errorf("promote --from %s --to %s: name two different environments (to return an environment to an earlier release, use rollback --env %s --to <release>)", from, to, to)
	}
	return nil
}

// checkRollbackArgs validates rollback's arguments before any work.
func checkRollbackArgs(to, env, format string) error {
	if err := steps.CheckFormat(format); err != nil {
		return err
	}
	if strings.TrimSpace(env) == "" {
		return errors.New("rollback needs --env, e.g. --env prod")
	}
	ref := strings.TrimPrefix(strings.TrimSpace(to), "#")
	if ref == "" {
		return fmt.Errorf("rollback needs --to: the release number (e.g. 12) or a commit prefix, as history --env %s lists them", env)
	}
	if !isNumber(ref) && len(ref) < 7 {
		return fmt.Errorf("rollback --to %q: name a release number (e.g. 12) or at least 7 characters of its commit", to)
	}
	return nil
}

func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// releaseEnvs loads the app and the two environments a promote or
// rollback names, refusing an app without a name or infrastructure.
func (m *Stevedore) releaseEnvs(ctx context.Context, fn, from, to string) (*appspec.App, appspec.Env, appspec.Env, error) {
	if _, err := m.requireAws(fn); err != nil {
		return nil, appspec.Env{}, appspec.Env{}, err
	}
	app, err := m.load(ctx)
	if err != nil {
		return nil, appspec.Env{}, appspec.Env{}, err
	}
	if app.Name == "" {
		return nil, appspec.Env{}, appspec.Env{}, fmt.Errorf("%s needs the app name (its releases are kept under /stevedore/<name>/): add name: to stevedore.yaml or call with-name", fn)
	}
	if app.Infra == nil {
		return nil, appspec.Env{}, appspec.Env{}, fmt.Errorf("%s deploys infrastructure: add infra.dir (your CDK app) or the built-in infra description to stevedore.yaml", fn)
	}
	src, err := app.Env(from)
	if err != nil {
		return nil, appspec.Env{}, appspec.Env{}, err
	}
	dst, err := app.Env(to)
	if err != nil {
		return nil, appspec.Env{}, appspec.Env{}, err
	}
	return app, src, dst, nil
}

// releaseTarget is the AWS target of a promote or rollback with its
// release path.
type releaseTarget struct {
	promotion awstarget.Promotion
	close     func()
}

func (r *releaseTarget) options(title string) steps.Options {
	return steps.Options{Title: "stevedore " + title, Log: func(s string) { log("%s", s) }}
}

// newReleaseTarget acts in env's account (its role assumed, its account
// checked before anything writes) with the AWS target, the target's
// registry and its release records.
func (m *Stevedore) newReleaseTarget(ctx context.Context, fn string, app *appspec.App, env appspec.Env) (*releaseTarget, error) {
	em, err := m.forEnvironment(ctx, fn, env)
	if err != nil {
		return nil, err
	}
	cfg, cleanup, err := em.awsConfig(ctx, fn)
	if err != nil {
		return nil, err
	}
	reg, err := em.releaseRegistry(ctx, cfg)
	if err != nil {
		cleanup()
		return nil, err
	}
	led := em.loadLedger(ctx)
	synth := &synthStep{m: em, app: app, env: env.Name, ledger: led}
	tgt, err := em.newAWSTarget(ctx, fn, app, env.Name, nil, false, synth, em.Aws.deployTimeout(), awsPlan{})
	if err != nil {
		cleanup()
		return nil, err
	}
	rel, err := em.beginRelease(ctx, fn, app, env.Name)
	if err != nil {
		tgt.close()
		cleanup()
		return nil, err
	}
	carry := awstarget.Carry{To: reg, Policy: releasePolicy, Log: func(s string) { log("%s", s) }}
	if em.Registry == nil {
		carry.Repos = ecr.New(cfg)
	}
	return &releaseTarget{
		promotion: awstarget.Promotion{
			Target: tgt.Target, Store: rel.store, Carry: carry, Synth: synth, Holder: rel.caller,
			Log: func(s string) { log("%s", s) },
		},
		close: func() {
			if err := em.saveLedger(ctx, led); err != nil {
				log("could not update the cache ledger: %v", err)
			}
			tgt.close()
			cleanup()
		},
	}, nil
}

// releaseRegistry is the registry the images of m's account are in:
// with-registry's, or the account's ECR (the registry address override
// of with-aws as the host).
func (m *Stevedore) releaseRegistry(ctx context.Context, cfg aws.Config) (awstarget.Registry, error) {
	if r := m.Registry; r != nil {
		reg := awstarget.Registry{Host: r.Address, Username: r.Username, Insecure: r.Insecure}
		if r.Password != nil {
			p, err := r.Password.Plaintext(ctx)
			if err != nil {
				return awstarget.Registry{}, err
			}
			reg.Password = p
		}
		d, err := r.dialAddress(ctx)
		reg.Dial = d
		return reg, err
	}
	reg, err := awstarget.ECRRegistry(ctx, ecr.New(cfg))
	if err != nil {
		return awstarget.Registry{}, err
	}
	if a := m.Aws; a != nil && a.RegistryAddress != "" {
		reg.Host = a.RegistryAddress
		if reg.Dial, err = a.registryDial(ctx, a.RegistryAddress); err != nil {
			return awstarget.Registry{}, err
		}
	}
	return reg, nil
}

// releaseReport renders the report with the release it recorded; note,
// when set, is said first (what a rollback does not undo).
func releaseReport(report *steps.Report, rec release.Record, runErr error, format, note string) (string, error) {
	if report == nil {
		return "", runErr
	}
	out, err := renderDeploy(report, runErr, format)
	if err != nil {
		if note != "" {
			return "", fmt.Errorf("%w\n\n%s", err, note)
		}
		return "", err
	}
	if format != "text" {
		return out, nil
	}
	if rec.Seq > 0 {
		out += fmt.Sprintf("\n\nrecorded as release #%d (from %s, commit %s)", rec.Seq, rec.From, rec.Commit)
	}
	if note != "" {
		out = note + "\n\n" + out
	}
	return out, nil
}
