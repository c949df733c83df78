package release

import (
	"context"
	"fmt"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// Release describes one release of an environment for Store.Run.
type Release struct {
	// Holder is the caller identity (the ARN STS returned): the lock's
	// holder and the record's By.
	Holder string
	// Operation is what takes the lock: deploy, promote or rollback.
	Operation string
	// Commit, PlanID and From go into the record as they are.
	Commit, PlanID, From string
	// Frontend, called once the pipeline ran, is the site image the
	// release published ("" for none).
	Frontend func() string
	// Lease is the lock's lease (default 15 minutes), renewed while held.
	Lease time.Duration
	// Log receives progress lines.
	Log func(string)
}

// defaultLease is how long a lock lives without renewal: a holder that
// died frees the environment after this, through an explicit Break.
const defaultLease = 15 * time.Minute

// Run releases p to the store's environment: it takes the lock (failing
// at once, naming the holder, when another release holds it), runs the
// pipeline, records what it shipped, succeeded or failed, and releases
// the lock on every exit path. A failure to record is returned, never
// dropped; the record returned is the one stored.
func (s *Store) Run(ctx context.Context, p *deploy.Pipeline, o steps.Options, r Release) (*steps.Report, Record, error) {
	return s.RunPrepared(ctx, o, r, func(context.Context, *Release) (*deploy.Pipeline, error) { return p, nil })
}

// RunPrepared is Run with the pipeline decided under the lock: prepare
// runs once the lock is held (the checks that must not race with another
// release of the environment, the copies they lead to) and may fill in
// r's Commit, PlanID, From and Frontend. When prepare fails nothing is
// recorded and the lock is released.
func (s *Store) RunPrepared(ctx context.Context, o steps.Options, r Release, prepare func(context.Context, *Release) (*deploy.Pipeline, error)) (*steps.Report, Record, error) {
	held, err := s.Acquire(ctx, r.Holder, r.Operation, cmpDuration(r.Lease, defaultLease))
	if err != nil {
		return nil, Record{}, err
	}
	logf(r.Log, "%s: took the deploy lock %s", s.env, s.lockName())
	wctx := context.WithoutCancel(ctx)
	defer func() {
		if err := held.Release(wctx); err != nil {
			logf(r.Log, "%v", err)
		}
	}()
	p, err := prepare(ctx, &r)
	if err != nil {
		return nil, Record{}, err
	}
	report, runErr := p.Run(ctx, o)
	rec := recordOf(p, report, runErr)
	rec.Commit, rec.PlanID, rec.From, rec.By = r.Commit, r.PlanID, r.From, r.Holder
	if r.Frontend != nil {
		rec.Frontend = r.Frontend()
	}
	saved, err := s.Put(wctx, rec)
	if err != nil {
		err = fmt.Errorf("the %s %s, but recording it failed: %w", r.Operation, map[bool]string{true: "succeeded", false: "failed"}[runErr == nil], err)
		if runErr != nil {
			err = fmt.Errorf("%w; recording it failed too: %v", runErr, err)
		}
		return report, Record{}, err
	}
	logf(r.Log, "recorded release #%d of %s (%s)", saved.Seq, s.Path(), saved.Status)
	return report, saved, runErr
}

// recordOf is what a pipeline run shipped: the images, the stacks, whether
// a migration ran, succeeded or failed.
func recordOf(p *deploy.Pipeline, report *steps.Report, runErr error) Record {
	rec := Record{Status: Succeeded, Images: map[string]string{}, Stacks: p.Stacks()}
	if runErr != nil || (report != nil && !report.Succeeded()) {
		rec.Status = Failed
	}
	for _, img := range p.Images() {
		rec.Images[img.Service] = img.Ref
	}
	if report != nil {
		for _, st := range report.Steps {
			if (st.Name == deploy.StepMigrate || st.Name == deploy.StepMigrateFirst) && st.Status == steps.StatusOK && !st.Deliberate {
				rec.Migrated = true
			}
		}
	}
	return rec
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func logf(log func(string), format string, args ...any) {
	if log != nil {
		log(fmt.Sprintf(format, args...))
	}
}
