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
	// Data are the stateful resources (IsStateful) of the stacks deleted,
	// in deletion order, each with what becomes of its data.
	Data []DataResource
}

// DataResource is a stateful resource of a stack destroy deletes.
type DataResource struct {
	Stack, ID, Type string
	// Fate is what its DeletionPolicy does with the data: DataDeleted,
	// DataSnapshot or DataKept.
	Fate string
}

// What becomes of a stateful resource's data when its stack is deleted.
const (
	DataDeleted  = "deleted"
	DataSnapshot = "snapshot"
	DataKept     = "kept"
)

// statefulTypes hold data that a replacement or a removal destroys.
var statefulTypes = []string{
	"AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable",
	"AWS::Cognito::UserPool", "AWS::S3::Bucket", "AWS::ElastiCache::CacheCluster",
	"AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::ServerlessCache", "AWS::SecretsManager::Secret",
	"AWS::EFS::FileSystem", "AWS::OpenSearchService::Domain",
}

// IsStateful reports whether a CloudFormation resource type holds data
// that a replacement or a removal destroys (a database, a cache, a table,
// a bucket, a user pool, a secret, a file system, a search domain).
func IsStateful(typ string) bool { return slices.Contains(statefulTypes, typ) }

// dataFate is what deleting its stack does with a stateful resource's
// data, by its DeletionPolicy. The built-in infrastructure writes that
// policy from the environment's removal choice (appspec's presets and
// overrides); a CDK app from its removalPolicy. Without one,
// CloudFormation deletes, except an RDS cluster or stand-alone instance,
// which it snapshots.
func dataFate(typ, policy string, inCluster bool) string {
	switch policy {
	case "Retain", "RetainExceptOnCreate":
		return DataKept
	case "Snapshot":
		return DataSnapshot
	case "":
		if typ == "AWS::RDS::DBCluster" || (typ == "AWS::RDS::DBInstance" && !inCluster) {
			return DataSnapshot
		}
	}
	return DataDeleted
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
	for _, fate := range []struct{ fate, heading string }{
		{DataDeleted, "data deleted with the stacks, for good (removal policy destroy):"},
		{DataSnapshot, "deleted after a final snapshot, which is kept (removal policy snapshot):"},
		{DataKept, "kept, not deleted (removal policy retain): they stay in the account after destroy:"},
	} {
		heading := false
		for _, d := range p.Data {
			if d.Fate != fate.fate {
				continue
			}
			if !heading {
				b.WriteString(fate.heading + "\n")
				heading = true
			}
			fmt.Fprintf(&b, "  - %s (%s) in %s\n", d.ID, d.Type, d.Stack)
		}
	}
	if len(p.Data) == 0 {
		b.WriteString("no stateful resource (database, cache, table, bucket, user pool, secret) in these stacks: no data goes with them\n")
	}
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
				Properties     struct {
					DBClusterIdentifier any `json:"DBClusterIdentifier"`
				} `json:"Properties"`
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
			if IsStateful(r.Type) {
				p.Data = append(p.Data, DataResource{Stack: t.Stack, ID: id, Type: r.Type, Fate: dataFate(r.Type, r.DeletionPolicy, r.Properties.DBClusterIdentifier != nil)})
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
