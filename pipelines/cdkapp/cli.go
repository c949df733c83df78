package cdkapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// commonFlags go on every CDK CLI call: no notices, no version reporting.
var commonFlags = []string{"--no-notices", "--no-version-reporting"}

// OnAssembly is the CDK CLI command line running cmd against a synthesized
// cloud assembly directory (never re-synthesizing the app).
func OnAssembly(assembly string, cmd ...string) []string {
	return append(append(append([]string{"cdk"}, cmd...), "--app", assembly), commonFlags...)
}

// SynthArgs is the CDK CLI command line synthesizing into out; app
// overrides cdk.json's app command when not empty (a compiled Go app).
func SynthArgs(out, app string) []string {
	args := []string{"cdk", "synth", "--output", out, "--quiet"}
	if app != "" {
		args = append(args, "--app", app)
	}
	return append(args, commonFlags...)
}

// DeployArgs deploys every stack of the assembly (it holds one
// environment's stacks only), without an approval prompt.
func DeployArgs() []string {
	return []string{"deploy", "--all", "--require-approval", "never", "--progress", "events"}
}

// DestroyArgs deletes exactly the named stacks: never --all, never the
// stacks they depend on (--exclusively), no prompt (--force: the plan was
// printed and the environment checked before).
func DestroyArgs(stacks []string) ([]string, error) {
	if len(stacks) == 0 {
		return nil, errors.New("nothing to destroy: no stack of the assembly belongs to the environment")
	}
	return append([]string{"destroy", "--force", "--exclusively"}, stacks...), nil
}

// CLIEnv is the environment of a CDK CLI call for one environment: the
// region (and account) the stacks live in when stevedore.yaml declares them.
func CLIEnv(e appspec.Env, region string) map[string]string {
	if e.Region != "" {
		region = e.Region
	}
	env := map[string]string{"AWS_REGION": region, "AWS_DEFAULT_REGION": region, "CDK_DEFAULT_REGION": region}
	if e.Account != "" {
		env["CDK_DEFAULT_ACCOUNT"] = e.Account
	}
	return env
}

// DestroyPlan is what destroy deletes, and what it leaves alone.
type DestroyPlan struct {
	Env string
	// Delete are the environment's stacks, in deletion order (the reverse
	// of the deploy order); Selectors are their IDs for the CDK CLI.
	Delete, Selectors []string
	// Keep are stacks of the assembly not named after the environment
	// (shared ones, e.g. a registry or a deploy-role stack).
	Keep []string
}

// String renders the plan printed before destroy runs.
func (p DestroyPlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "destroy %s: %d stacks deleted, in this order:\n", p.Env, len(p.Delete))
	for _, s := range p.Delete {
		fmt.Fprintf(&b, "  - %s\n", s)
	}
	if len(p.Keep) > 0 {
		b.WriteString("kept (not named after the environment):\n")
		for _, s := range p.Keep {
			fmt.Fprintf(&b, "  - %s\n", s)
		}
	}
	b.WriteString("the ECR image repositories are shared by every environment and are not deleted\n")
	return b.String()
}

// BelongsTo reports whether a stack name carries the environment as a
// dash-separated part (Network-pr-7, pr-7-Network, App-pr-7-Db).
func BelongsTo(stack, env string) bool {
	s, e := strings.ToLower(stack), strings.ToLower(env)
	return strings.HasSuffix(s, "-"+e) || strings.HasPrefix(s, e+"-") || strings.Contains(s, "-"+e+"-")
}

// PlanDestroy decides what destroying env deletes, given the assembly's
// stacks in deploy order. It refuses when a stack to delete holds an ECR
// repository CloudFormation would delete with it: repositories are shared
// by every environment.
func PlanDestroy(env string, stacks []Template) (DestroyPlan, error) {
	p := DestroyPlan{Env: env}
	var templates []Template
	for _, t := range slices.Backward(stacks) {
		if BelongsTo(t.Stack, env) {
			p.Delete, p.Selectors = append(p.Delete, t.Stack), append(p.Selectors, t.selector())
			templates = append(templates, t)
		} else {
			p.Keep = append(p.Keep, t.Stack)
		}
	}
	slices.Sort(p.Keep)
	var problems []string
	for _, t := range templates {
		var doc struct {
			Resources map[string]struct {
				Type           string `json:"Type"`
				DeletionPolicy string `json:"DeletionPolicy"`
			} `json:"Resources"`
		}
		if err := json.Unmarshal(t.Body, &doc); err != nil {
			return DestroyPlan{}, fmt.Errorf("template of stack %s is not valid JSON: %v", t.Stack, err)
		}
		for _, id := range slices.Sorted(maps.Keys(doc.Resources)) {
			r := doc.Resources[id]
			if r.Type == "AWS::ECR::Repository" && r.DeletionPolicy != "Retain" {
				problems = append(problems, fmt.Sprintf("stack %s holds the ECR repository %s, which destroy would delete with every image: keep repositories in a stack shared by all environments (not named after one), or give it removalPolicy: RETAIN", t.Stack, id))
			}
		}
	}
	if len(problems) > 0 {
		return DestroyPlan{}, errors.New("destroy refused:\n  - " + strings.Join(problems, "\n  - "))
	}
	if len(p.Delete) == 0 {
		return DestroyPlan{}, fmt.Errorf("no stack of the %s assembly is named after the environment (e.g. Network-%s): destroy deletes only those, so nothing shared goes by mistake", env, env)
	}
	return p, nil
}
