package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// ledger remembers, per app and step, the digest of the inputs of the last
// successful run on this engine. A step whose inputs match was served from
// the engine's cache; that is what the report's "cached" column says. The
// file lives in a cache volume, so it is shared like the caches it
// describes; entries are scoped by the app's name and description, so two
// apps (or two different descriptions of one) on one engine do not
// overwrite each other's build:backend.
type ledger struct {
	mu    sync.Mutex
	scope string // "<app name>@<digest of the app description>"
	prev  map[string]string
	next  map[string]string
}

// ledgerScope names the app an entry belongs to.
func ledgerScope(name, spec string) string {
	sum := sha256.Sum256([]byte(spec))
	return name + "@" + hex.EncodeToString(sum[:6])
}

// entry is the ledger key of one step of this app.
func (l *ledger) entry(step string) string { return l.scope + " " + step }

const ledgerPath = "/ledger/steps.json"

// ledgerContainer mounts the ledger volume; the timestamp makes every
// read and write really run.
func (m *Stevedore) ledgerContainer() *dagger.Container {
	return dag.Container().From(m.GoImage).
		WithMountedCache("/ledger", dag.CacheVolume("stevedore-ledger")).
		WithEnvVariable("STEVEDORE_RUN", time.Now().UTC().Format(time.RFC3339Nano))
}

func (m *Stevedore) loadLedger(ctx context.Context) *ledger {
	name := ""
	if app, err := m.app(); err == nil {
		name = app.Name
	}
	l := &ledger{scope: ledgerScope(name, m.Spec), prev: map[string]string{}, next: map[string]string{}}
	// Read through a file, not stdout: the progress output would print the
	// whole ledger (every app's step keys on this engine).
	out, err := m.ledgerContainer().
		WithExec([]string{"sh", "-c", "cp " + ledgerPath + " /tmp/steps.json 2>/dev/null || echo '{}' > /tmp/steps.json"}).
		File("/tmp/steps.json").Contents(ctx)
	if err == nil {
		_ = json.Unmarshal([]byte(out), &l.prev) // a corrupt ledger only costs the cached column
	}
	return l
}

// save writes the keys of this run's successful steps over the old ones.
func (m *Stevedore) saveLedger(ctx context.Context, l *ledger) error {
	l.mu.Lock()
	merged := map[string]string{}
	for k, v := range l.prev {
		merged[k] = v
	}
	for k, v := range l.next {
		merged[k] = v
	}
	l.mu.Unlock()
	data, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	// Handed over as a file of the module's workdir, not WithNewFile: the
	// progress output prints a new file's contents (every app's step keys).
	f, err := os.CreateTemp(".", "ledger-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	_, err = m.ledgerContainer().
		WithFile("/tmp/steps.json", dag.CurrentModule().WorkdirFile(filepath.Base(f.Name()))).
		WithExec([]string{"cp", "/tmp/steps.json", ledgerPath}).
		Sync(ctx)
	return err
}

// hit reports whether the last successful run of step had the same inputs.
func (l *ledger) hit(step, key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.prev[l.entry(step)] == key
}

// remember records the inputs of a step that succeeded.
func (l *ledger) remember(step, key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.next[l.entry(step)] = key
}

// track runs a pure step: it reports cached when the inputs match the last
// successful run, and remembers them when this one succeeds.
func (l *ledger) track(ctx context.Context, step string, inputs []any, run func() (steps.Outcome, error)) (steps.Outcome, error) {
	key, err := inputKey(ctx, inputs...)
	if err != nil {
		return steps.Outcome{}, err
	}
	out, err := run()
	if err != nil {
		return out, err
	}
	out.Cached = l.hit(step, key)
	l.remember(step, key)
	return out, nil
}

// inputKey digests the inputs of a step: directories and files by content,
// everything else by its text.
func inputKey(ctx context.Context, parts ...any) (string, error) {
	h := sha256.New()
	for _, p := range parts {
		var s string
		switch v := p.(type) {
		case *dagger.Directory:
			d, err := v.Digest(ctx)
			if err != nil {
				return "", err
			}
			s = d
		case *dagger.File:
			d, err := v.Digest(ctx)
			if err != nil {
				return "", err
			}
			s = d
		default:
			s = fmt.Sprintf("%v", v)
		}
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
