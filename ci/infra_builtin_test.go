package main

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// The commander example's alembic migration runs against the local
// postgres stand-in, bound under the variables the built-in
// infrastructure sets on AWS; the table exists afterwards, and the
// stand-in says it lacks pgvector instead of failing silently.
func TestLocalPostgresStandInRunsTheMigration(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile("../examples/commander/stevedore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := appspec.Parse("commander", data)
	if err != nil {
		t.Fatal(err)
	}
	backend := hostDir(t, "../examples/commander/backend").DockerBuild(dagger.DirectoryDockerBuildOpts{
		BuildArgs: []dagger.BuildArg{{Name: "BASE_IMAGE", Value: "debian:bookworm-slim"}, {Name: "INSTALL", Value: "apt"}},
	})
	ctr, missing := withLocalResources(backend, spec, "backend", "debian:bookworm")
	if len(missing) != 0 {
		t.Errorf("backend uses resources without stand-in: %v", missing)
	}
	out, err := ctr.
		WithExec([]string{"sh", "-c", "python3 -m alembic upgrade head 2>&1 && python3 -c \"from sqlalchemy import inspect; from app.db import engine; print('dialect', engine.dialect.name, 'table', inspect(engine).has_table('conversations'))\""}).
		CombinedOutput(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"extension vector is not available on this server: skipped", "dialect postgresql table True"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// hostDir copies a directory of the checkout into the engine, file by file.
func hostDir(t *testing.T, root string) *dagger.Directory {
	t.Helper()
	dir := dag.Directory()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, "__pycache__") {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		dir = dir.WithNewFile(filepath.ToSlash(rel), string(body))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// The stevedore packages copied into the built-in app's source
// (builtinPackages) are exactly those it compiles with: go list says which
// it imports.
func TestBuiltinPackagesCoverInfraDeps(t *testing.T) {
	const module = "github.com/stevedore-ci/stevedore/"
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".")
	cmd.Dir = "../infra"
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps in infra/: %v", err)
	}
	var deps []string
	for _, p := range strings.Fields(string(out)) {
		if rel, ok := strings.CutPrefix(p, module); ok && !strings.HasPrefix(rel, "infra") {
			deps = append(deps, rel)
			if !slices.Contains(builtinPackages, rel) {
				t.Errorf("infra/ imports %s, which builtinPackages does not copy", p)
			}
		}
	}
	for _, p := range builtinPackages {
		if !slices.Contains(deps, p) {
			t.Errorf("builtinPackages copies %s, which infra/ does not import", p)
		}
	}
}
