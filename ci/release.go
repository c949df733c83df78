package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/stevedore-ci/stevedore/pipelines/release"
)

// releaseStore opens the release records and lock of one environment,
// after checking the name against stevedore.yaml.
func (m *Stevedore) releaseStore(ctx context.Context, step, env string) (*release.Store, func(), error) {
	app, err := m.app()
	if err != nil {
		return nil, nil, err
	}
	if app.Name == "" {
		return nil, nil, fmt.Errorf("%s needs the app name: add name: to stevedore.yaml or call with-name", step)
	}
	if _, err := app.Env(env); err != nil {
		return nil, nil, err
	}
	cfg, cleanup, err := m.awsConfig(ctx, step)
	if err != nil {
		return nil, nil, err
	}
	return release.NewStore(ssm.NewFromConfig(cfg), app.Name, env), cleanup, nil
}

// List an environment's last releases, newest first: commit, digests, when and by whom.
// Never cached: it reads the records in SSM Parameter Store.
// +cache="never"
func (m *Stevedore) History(
	ctx context.Context,
	// Environment, e.g. prod.
	// +default="dev"
	env string,
	// How many releases to list.
	// +default=10
	limit int,
) (string, error) {
	if limit < 1 {
		return "", fmt.Errorf("--limit must be at least 1 (got %d)", limit)
	}
	store, cleanup, err := m.releaseStore(ctx, "history", env)
	if err != nil {
		return "", err
	}
	defer cleanup()
	h, err := store.History(ctx, limit)
	if err != nil {
		return "", err
	}
	if len(h) == 0 {
		return fmt.Sprintf("%s has no recorded release yet (records are kept under %s)", env, store.Path()), nil
	}
	return formatHistory(h), nil
}

// formatHistory renders records as an aligned table, one line per image.
func formatHistory(h []release.Record) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 2, 2, ' ', 0)
	fmt.Fprintln(w, "#\tSTATUS\tCOMMIT\tWHEN\tBY\tIMAGES")
	for _, r := range h {
		var imgs []string
		for _, s := range slices.Sorted(maps.Keys(r.Images)) {
			imgs = append(imgs, s+"="+r.Images[s])
		}
		commit := r.Commit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.Status, commit, r.At.UTC().Format(time.RFC3339), r.By, strings.Join(imgs, " "))
	}
	_ = w.Flush()
	return strings.TrimRight(b.String(), "\n")
}

// Show who holds an environment's deploy lock, or break a stale one with --force.
// Never cached.
// +cache="never"
func (m *Stevedore) Unlock(
	ctx context.Context,
	// Environment, e.g. prod.
	// +default="dev"
	env string,
	// Remove the lock whoever holds it (only when its holder is gone).
	// +optional
	force bool,
) (string, error) {
	store, cleanup, err := m.releaseStore(ctx, "unlock", env)
	if err != nil {
		return "", err
	}
	defer cleanup()
	if !force {
		l, ok, err := store.Lease(ctx)
		if err != nil {
			return "", err
		}
		if !ok {
			return env + " is not locked", nil
		}
		return fmt.Sprintf("%s is locked by %s (%s) since %s, lease until %s: pass --force to break it if that holder is gone",
			env, l.Holder, l.Operation, l.Since.UTC().Format(time.RFC3339), l.Expires.UTC().Format(time.RFC3339)), nil
	}
	l, ok, err := store.Break(ctx)
	if err != nil {
		return "", err
	}
	if !ok {
		return env + " was not locked", nil
	}
	return fmt.Sprintf("broke the lock of %s held by %s (%s) since %s", env, l.Holder, l.Operation, l.Since.UTC().Format(time.RFC3339)), nil
}
