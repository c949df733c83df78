package main

import (
	"context"
	"fmt"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// The built-in CDK app is stevedore's own infra/ directory. It imports
// pipelines/appspec and pipelines/contract through `replace => ../` in its
// go.mod; the directory builtinInfra returns carries a copy of those
// packages under .stevedore/module and a go.work whose replace points
// there, so it builds on its own wherever it is mounted (go.work replaces
// override go.mod ones).
const (
	builtinDescription = ".stevedore/description.yaml"
	builtinModule      = ".stevedore/module"
	builtinWorkspace   = "go 1.26.0\n\nuse .\n\nreplace github.com/stevedore-ci/stevedore => ./" + builtinModule + "\n"
)

// builtinInfra returns the built-in CDK app ready to build (`go build .`
// at its root, like a user's infra.dir) with the description written into
// it, and the CDK context that points the app at that file. The
// description is the one stevedore loaded (defaults filled), so the app
// renders exactly what stevedore validated.
func (m *Stevedore) builtinInfra(spec *appspec.App) (dir *dagger.Directory, context map[string]string) {
	// The module's source is ci/; its parent is the repository root as
	// dagger.json's include list loads it (go.mod, go.sum, pipelines/, infra/).
	src := dag.CurrentModule().Source().Directory("..")
	module := dag.Directory().
		WithFile("go.mod", src.File("go.mod")).
		WithFile("go.sum", src.File("go.sum")).
		WithDirectory("pipelines/appspec", src.Directory("pipelines/appspec")).
		WithDirectory("pipelines/contract", src.Directory("pipelines/contract"))
	dir = src.Directory("infra").
		WithDirectory(builtinModule, module).
		WithNewFile("go.work", builtinWorkspace).
		WithNewFile(builtinDescription, spec.Marshal())
	return dir, map[string]string{appspec.ContextDescription: builtinDescription}
}

// assemblySummary says what a synthesized assembly holds: its stacks in
// deploy order and their resources per type (appspec.SummarizeTemplates),
// for synth and plan to print.
func assemblySummary(ctx context.Context, asm *dagger.Directory, stacks []string) (string, error) {
	templates := map[string][]byte{}
	for _, name := range stacks {
		body, err := asm.File(name + ".template.json").Contents(ctx)
		if err != nil {
			return "", fmt.Errorf("reading the template of %s from the assembly: %w", name, err)
		}
		templates[name] = []byte(body)
	}
	summary, err := appspec.SummarizeTemplates(stacks, templates)
	if err != nil {
		return "", err
	}
	return summary.String(), nil
}
