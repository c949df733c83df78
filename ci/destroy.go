package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/cdkapp"
	"github.com/stevedore-ci/stevedore/pipelines/cfn"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/release"
)

// Delete one environment's stacks with cdk destroy, after printing what goes.
//
// Only stacks of that environment's assembly named after it
// are deleted; the shared ECR repositories stay. Protected environments
// (prod by default) are refused unless --force. Never cached.
// +cache="never"
func (m *Stevedore) Destroy(
	ctx context.Context,
	// Environment to delete, e.g. pr-123.
	env string,
	// Delete a protected environment too (prod, or protected: true in stevedore.yaml).
	// +optional
	force bool,
	// Only print the plan: nothing is deleted and no AWS account is needed.
	// +optional
	dryRun bool,
	// Extra CDK context as KEY=VALUE, as given to deploy.
	// +optional
	context []string,
) (string, error) {
	spec, err := m.load(ctx)
	if err != nil {
		return "", err
	}
	in, err := m.infraInputs(ctx, spec, "", env, placeholderImages(spec), context)
	if err != nil {
		return "", err
	}
	if in.envSpec.Protected && !force && !dryRun {
		return "", fmt.Errorf("environment %q is protected (base %s): destroy refuses it; pass --force only if you mean to delete its stacks and their data", env, in.envSpec.Base)
	}
	if !dryRun {
		if err := m.requireCallerSource("destroy"); err != nil {
			return "", err
		}
		if _, err := m.requireAws("destroy"); err != nil {
			return "", err
		}
	}
	asm, err := m.synthesized(ctx, in)
	if err != nil {
		return "", err
	}
	plan, err := m.destroyPlan(ctx, env, asm)
	if err != nil {
		return "", err
	}
	text := plan.String()
	if in.envSpec.Protected {
		text += fmt.Sprintf("%s is protected: destroy deletes it only with --force\n", env)
	}
	if dryRun {
		return text + "dry run: nothing deleted\n", nil
	}
	log("%s", text)
	args, err := cdkapp.DestroyArgs(plan.Selectors)
	if err != nil {
		return "", err
	}
	// The environment's deploy lock: no deploy, promote or rollback of it
	// runs while its stacks go.
	rel, err := m.beginRelease(ctx, "destroy", spec, env)
	if err != nil {
		return "", err
	}
	held, err := rel.store.Acquire(ctx, rel.caller, "destroy", destroyLease)
	if err != nil {
		return "", err
	}
	defer giveBack(ctx, held)
	out, err := m.cdkOnAssembly(ctx, in, asm, "destroy", args...)
	if err != nil {
		return "", fmt.Errorf("%s\n%w", text, err)
	}
	return text + "\n" + tail(out, 40), nil
}

// giveBack releases a lock on every exit path, even a cancelled one.
func giveBack(ctx context.Context, held *release.Held) {
	if err := held.Release(context.WithoutCancel(ctx)); err != nil {
		log("%v", err)
	}
}

// destroyLease is the lock's lease while cdk destroy runs (renewed while
// held).
const destroyLease = 15 * time.Minute

// destroyPlan reads the stacks (deploy order) and templates of an
// environment's assembly.
func (m *Stevedore) destroyPlan(ctx context.Context, env string, asm *dagger.Directory) (cdkapp.DestroyPlan, error) {
	manifest, err := asm.File("manifest.json").Contents(ctx)
	if err != nil {
		return cdkapp.DestroyPlan{}, failed("cdk synth", "", err)
	}
	stacks, err := cfn.StacksFromAssembly([]byte(manifest))
	if err != nil {
		return cdkapp.DestroyPlan{}, err
	}
	if stacks, err = cfn.Order(stacks); err != nil {
		return cdkapp.DestroyPlan{}, err
	}
	var templates []cdkapp.Template
	for _, s := range stacks {
		body, err := asm.File(s.ID + ".template.json").Contents(ctx)
		if err != nil {
			return cdkapp.DestroyPlan{}, fmt.Errorf("the assembly has no template for stack %s: %w", s.StackName, err)
		}
		templates = append(templates, cdkapp.Template{Stack: s.StackName, ID: s.ID, Body: []byte(body)})
	}
	return cdkapp.PlanDestroy(env, templates)
}

// placeholderImages stand in for the images when only the stack list of an
// environment matters (destroy): any digest synthesizes the same stacks.
func placeholderImages(spec *appspec.App) []string {
	var out []string
	for _, s := range spec.Services {
		out = append(out, s.Name+"="+contract.Image{Repository: "stevedore.invalid/" + strings.ToLower(s.Name), Digest: "sha256:" + strings.Repeat("0", 64)}.String())
	}
	return out
}
