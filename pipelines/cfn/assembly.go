package cfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Stack is one CloudFormation stack of a synthesized CDK app.
type Stack struct {
	// ID is the artifact ID in the assembly (the construct path, e.g.
	// "BackendStack" or "Prod-BackendStack").
	ID string
	// StackName is the name deployed to CloudFormation: what DescribeStacks
	// takes.
	StackName string
	// Environment is "aws://ACCOUNT/REGION"; env-agnostic stacks say
	// unknown-account / unknown-region.
	Environment string
	// DisplayName is what the CDK CLI prints, e.g. "Prod/BackendStack".
	DisplayName string
	// Dependencies are IDs of stacks that must be deployed first (asset and
	// other non-stack artifacts are left out).
	Dependencies []string
}

// Region returns the region part of Environment, or "" when the stack is
// environment-agnostic (it deploys to the CLI's region).
func (s Stack) Region() string {
	return envPart(s.Environment, 1, "unknown-region")
}

// Account returns the account part of Environment, or "" when unknown.
func (s Stack) Account() string {
	return envPart(s.Environment, 0, "unknown-account")
}

func envPart(env string, i int, unknown string) string {
	parts := strings.Split(strings.TrimPrefix(env, "aws://"), "/")
	if len(parts) != 2 || parts[i] == unknown {
		return ""
	}
	return parts[i]
}

const (
	stackArtifact    = "aws:cloudformation:stack"
	assemblyArtifact = "cdk:cloud-assembly"
)

// manifest is the part of cdk.out/manifest.json that StacksFromAssembly reads.
type manifest struct {
	Version   string              `json:"version"`
	Artifacts map[string]artifact `json:"artifacts"`
}

type artifact struct {
	Type         string   `json:"type"`
	Environment  string   `json:"environment"`
	DisplayName  string   `json:"displayName"`
	Dependencies []string `json:"dependencies"`
	Properties   struct {
		StackName     string `json:"stackName"`
		DirectoryName string `json:"directoryName"`
	} `json:"properties"`
}

// StacksFromAssembly lists the stacks of a cloud assembly manifest
// (cdk.out/manifest.json), sorted by ID; Order sorts them for deploying.
// Stacks of a CDK Stage live in a nested assembly (cdk.out/assembly-NAME/
// manifest.json): read that file too, the error names it when there are no
// top-level stacks.
func StacksFromAssembly(manifestJSON []byte) ([]Stack, error) {
	var m manifest
	if err := json.Unmarshal(manifestJSON, &m); err != nil {
		return nil, fmt.Errorf("cdk.out/manifest.json is not valid JSON: %v (did cdk synth finish?)", err)
	}
	if m.Version == "" {
		return nil, errors.New("not a CDK cloud assembly manifest (no \"version\"): pass cdk.out/manifest.json")
	}
	var stacks []Stack
	var nested []string
	for id, a := range m.Artifacts {
		switch a.Type {
		case stackArtifact:
			name := a.Properties.StackName
			if name == "" { // older CDK versions: the stack name is the ID
				name = id
			}
			stacks = append(stacks, Stack{ID: id, StackName: name, Environment: a.Environment,
				DisplayName: a.DisplayName, Dependencies: a.Dependencies})
		case assemblyArtifact:
			nested = append(nested, "cdk.out/"+a.Properties.DirectoryName+"/manifest.json")
		}
	}
	if len(stacks) == 0 {
		if len(nested) > 0 {
			sort.Strings(nested)
			return nil, fmt.Errorf("no stacks at the top of the cloud assembly; the stacks are in nested assemblies: read %s", strings.Join(nested, ", "))
		}
		return nil, errors.New("no stacks in the cloud assembly: check that cdk synth ran on the right app")
	}
	isStack := make(map[string]bool, len(stacks))
	for _, s := range stacks {
		isStack[s.ID] = true
	}
	for i := range stacks {
		var deps []string
		for _, d := range stacks[i].Dependencies {
			if isStack[d] {
				deps = append(deps, d)
			}
		}
		sort.Strings(deps)
		stacks[i].Dependencies = deps
	}
	sort.Slice(stacks, func(i, j int) bool { return stacks[i].ID < stacks[j].ID })
	return stacks, nil
}
