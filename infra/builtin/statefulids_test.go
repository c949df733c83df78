package builtin

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// updateStateful rewrites testdata/stateful-ids.json from today's synth
// (go test ./stacks -run TestStatefulLogicalIDs -update-stateful). Only do
// that when replacing a stateful resource is intended.
var updateStateful = flag.Bool("update-stateful", false, "rewrite testdata/stateful-ids.json")

// statefulSnapshot is the committed record of every stateful resource.
const statefulSnapshot = "testdata/stateful-ids.json"

// statefulTypes are the resource types whose replacement loses data.
var statefulTypes = []string{
	"AWS::RDS::DBInstance",
	"AWS::DynamoDB::Table",
	"AWS::Cognito::UserPool",
	"AWS::S3::Bucket",
	"AWS::ElastiCache::ReplicationGroup",
	"AWS::SecretsManager::Secret",
}

// replacingProps are properties of those types whose change makes
// CloudFormation replace the resource: physical names, keys, engine and
// database identity, encryption at rest.
var replacingProps = []string{
	"BucketName", "TableName", "KeySchema", "DBName", "DBInstanceIdentifier", "Engine",
	"StorageEncrypted", "ReplicationGroupId", "AtRestEncryptionEnabled", "UserPoolName",
	"UsernameAttributes", "AliasAttributes", "Name",
}

// statefulResource is one entry of the snapshot.
type statefulResource struct {
	Type  string         `json:"type"`
	Props map[string]any `json:"props,omitempty"`
}

// statefulOf returns stack -> logical ID -> resource for every stateful resource of s.
func statefulOf(raw map[string]map[string]any) map[string]map[string]statefulResource {
	out := map[string]map[string]statefulResource{}
	for stack, tmpl := range raw {
		for id, r := range tmpl["Resources"].(map[string]any) {
			res := r.(map[string]any)
			typ, _ := res["Type"].(string)
			if !slices.Contains(statefulTypes, typ) {
				continue
			}
			props, _ := res["Properties"].(map[string]any)
			keep := map[string]any{}
			for _, p := range replacingProps {
				if v, ok := props[p]; ok {
					keep[p] = v
				}
			}
			if out[stack] == nil {
				out[stack] = map[string]statefulResource{}
			}
			out[stack][id] = statefulResource{Type: typ, Props: keep}
		}
	}
	return out
}

// referenceContexts are the deployments whose stateful resources are
// recorded: the CAO description (root stevedore.yaml) and commander's.
func referenceContexts() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, env := range []string{"dev", "staging", "prod"} {
		out["cao/"+env] = ctx(caoDescription, env)
		out["commander/"+env] = ctx(commanderDescription, env)
	}
	return out
}

// TestStatefulLogicalIDs checks that the descriptions render every stateful
// resource (database, table, user pool, bucket, cache, secret) with the
// logical ID, type and replacing properties today's app-by-name stacks
// gave them (testdata/stateful-ids.json, recorded from that synth before
// the rewrite): deploying the description over a live stack replaces
// nothing.
func TestStatefulLogicalIDs(t *testing.T) {
	got := map[string]map[string]statefulResource{}
	for _, c := range referenceContexts() {
		for stack, ids := range statefulOf(synth(t, c).raw) {
			got[stack] = ids
		}
	}
	if *updateStateful {
		body, _ := json.MarshalIndent(got, "", "  ")
		if err := os.WriteFile(statefulSnapshot, append(body, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	compareStateful(t, got, loadStateful(t))
}

func loadStateful(t *testing.T) map[string]map[string]statefulResource {
	t.Helper()
	body, err := os.ReadFile(filepath.FromSlash(statefulSnapshot))
	if err != nil {
		t.Fatalf("%v (create it with -update-stateful)", err)
	}
	var want map[string]map[string]statefulResource
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatal(err)
	}
	return want
}

// compareStateful fails once per problem statefulDiff finds.
func compareStateful(t *testing.T, got, want map[string]map[string]statefulResource) {
	t.Helper()
	for _, p := range statefulDiff(got, want) {
		t.Error(p)
	}
}

// statefulDiff lists every stateful resource of want that got lacks or
// changed, and every new one got has, sorted.
func statefulDiff(got, want map[string]map[string]statefulResource) []string {
	var problems []string
	for stack, ids := range want {
		for id, w := range ids {
			g, ok := got[stack][id]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: stateful %s %s is gone (CloudFormation would delete or replace it)", stack, w.Type, id))
				continue
			}
			if g.Type != w.Type || propsJSON(g.Props) != propsJSON(w.Props) {
				problems = append(problems, fmt.Sprintf("%s: %s changed: %s %s, was %s %s", stack, id, g.Type, propsJSON(g.Props), w.Type, propsJSON(w.Props)))
			}
		}
	}
	for stack, ids := range got {
		for id, g := range ids {
			if _, ok := want[stack][id]; !ok {
				problems = append(problems, fmt.Sprintf("%s: new stateful %s %s not in %s (run with -update-stateful if intended)", stack, g.Type, id, statefulSnapshot))
			}
		}
	}
	slices.Sort(problems)
	return problems
}

func TestStatefulDiff(t *testing.T) {
	want := map[string]map[string]statefulResource{
		"S": {"Table1": {Type: "AWS::DynamoDB::Table", Props: map[string]any{"TableName": "t"}}, "Bucket1": {Type: "AWS::S3::Bucket"}},
	}
	got := map[string]map[string]statefulResource{
		"S": {"Table1": {Type: "AWS::DynamoDB::Table", Props: map[string]any{"TableName": "u"}}, "Bucket2": {Type: "AWS::S3::Bucket", Props: map[string]any{}}},
	}
	p := statefulDiff(got, want)
	wantFrags := []string{"S: Table1 changed", "S: new stateful AWS::S3::Bucket Bucket2", "S: stateful AWS::S3::Bucket Bucket1 is gone"}
	if len(p) != len(wantFrags) {
		t.Fatalf("problems = %q", p)
	}
	for i, frag := range wantFrags {
		if !strings.Contains(p[i], frag) {
			t.Errorf("problem %d = %q, want %q", i, p[i], frag)
		}
	}
	if d := statefulDiff(want, want); len(d) != 0 {
		t.Errorf("identical snapshots differ: %q", d)
	}
}

// propsJSON renders recorded properties; none and an empty set are the same.
func propsJSON(p map[string]any) string {
	if len(p) == 0 {
		return "{}"
	}
	return js(p)
}
