package main

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	"dagger/stevedore/internal/dagger"

	"golang.org/x/sync/errgroup"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// A directory taken from the module's context (the +defaultPath source) is
// cached by the digest of the whole repository: one edited README would
// re-run every test and build. A directory rebuilt from its files is cached
// by its own content, because Dagger identifies each file by its content.
// indexSources rebuilds, once per call, the directories whose steps run in
// Dagger containers: test contexts, the frontend and the CDK app. Docker
// builds need nothing: BuildKit already caches them by content.

// infraFiles are the files the CDK app is built from: editing its README or
// its tests neither recompiles nor resynthesizes it.
var infraFiles = []string{"**/*.go", "go.mod", "go.sum", "cdk.json"}

func (m *Stevedore) indexSources(ctx context.Context, app *appspec.App) error {
	type job struct {
		path     string
		patterns []string
		skip     func(string) bool
	}
	everything, none := []string{"**"}, func(string) bool { return false }
	var jobs []job
	for _, s := range app.Services {
		if s.Test != nil && (s.Test.Image != "" || s.Test.Mount) { // a built image has its own files
			jobs = append(jobs, job{s.Context, everything, none})
		}
	}
	if app.Frontend != nil {
		jobs = append(jobs, job{app.Frontend.Dir, everything, none})
	}
	if app.Infra != nil && !app.Builtin() { // the built-in app comes from this module
		jobs = append(jobs, job{app.Infra.Dir, infraFiles, isGoTest})
	}
	dirs := make([]*dagger.Directory, len(jobs))
	eg, ctx := errgroup.WithContext(ctx)
	for i, j := range jobs {
		eg.Go(func() (err error) {
			dirs[i], err = byContent(ctx, m.Source.Directory(j.path), j.patterns, j.skip)
			if err != nil {
				return described(fmt.Sprintf("reading %s: %v", j.path, err), err)
			}
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return err
	}
	m.dirs = map[string]*dagger.Directory{}
	for i, j := range jobs {
		m.dirs[j.path] = dirs[i]
	}
	return nil
}

// dir returns the content-addressed copy of a source directory when
// indexSources made one, the directory itself otherwise.
func (m *Stevedore) dir(p string) *dagger.Directory {
	if d, ok := m.dirs[p]; ok {
		return d
	}
	return m.Source.Directory(p)
}

func isGoTest(p string) bool { return strings.HasSuffix(path.Base(p), "_test.go") }

// byContent rebuilds dir from the files matching patterns, except those
// skip rejects, one WithFile per file.
func byContent(ctx context.Context, dir *dagger.Directory, patterns []string, skip func(string) bool) (*dagger.Directory, error) {
	var files []string
	for _, pat := range patterns {
		matches, err := dir.Glob(ctx, pat)
		if err != nil {
			return nil, err
		}
		files = append(files, matches...)
	}
	slices.Sort(files)
	files = slices.Compact(files)
	out := dag.Directory()
	for _, f := range files {
		if strings.HasSuffix(f, "/") || skip(f) {
			continue // directories come with their files
		}
		out = out.WithFile(f, dir.File(f))
	}
	return out, nil
}
