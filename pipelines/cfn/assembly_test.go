package cfn

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestStacksFromAssembly(t *testing.T) {
	data, err := os.ReadFile("testdata/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	stacks, err := StacksFromAssembly(data)
	if err != nil {
		t.Fatal(err)
	}
	env := "aws://123456789012/us-east-1"
	want := []Stack{
		{ID: "BackendStack", StackName: "commander-backend", Environment: env, DisplayName: "BackendStack", Dependencies: []string{"CacheStack", "DatabaseStack"}},
		{ID: "CacheStack", StackName: "commander-cache", Environment: env, DisplayName: "CacheStack", Dependencies: []string{"NetworkStack"}},
		{ID: "DatabaseStack", StackName: "commander-database", Environment: env, DisplayName: "DatabaseStack", Dependencies: []string{"NetworkStack"}},
		{ID: "FrontendStack", StackName: "FrontendStack", Environment: "aws://unknown-account/unknown-region", DisplayName: "FrontendStack"},
		{ID: "NetworkStack", StackName: "commander-network", Environment: env, DisplayName: "NetworkStack"},
	}
	if !reflect.DeepEqual(stacks, want) {
		t.Fatalf("got  %+v\nwant %+v", stacks, want)
	}
	if stacks[0].Region() != "us-east-1" || stacks[0].Account() != "123456789012" || stacks[3].Region() != "" || stacks[3].Account() != "" {
		t.Errorf("environment parts wrong: %q %q %q", stacks[0].Region(), stacks[0].Account(), stacks[3].Region())
	}

	ordered, err := Order(stacks)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range ordered {
		ids = append(ids, s.ID)
	}
	// Backend waits for Cache and Database, which wait for Network.
	if want := []string{"FrontendStack", "NetworkStack", "CacheStack", "DatabaseStack", "BackendStack"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
}

func TestStacksFromAssemblyErrors(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"not json", `{"version":`, "not valid JSON"},
		{"no version", `{"artifacts":{}}`, "not a CDK cloud assembly manifest"},
		{"only tree", `{"version":"38.0.1","artifacts":{"Tree":{"type":"cdk:tree","properties":{"file":"tree.json"}}}}`, "no stacks in the cloud assembly"},
		{"stage", `{"version":"38.0.1","artifacts":{"assembly-Prod":{"type":"cdk:cloud-assembly","properties":{"directoryName":"assembly-Prod","displayName":"Prod"}}}}`,
			"read cdk.out/assembly-Prod/manifest.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := StacksFromAssembly([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestOrder(t *testing.T) {
	s := func(id string, deps ...string) Stack { return Stack{ID: id, Dependencies: deps} }
	for _, tc := range []struct {
		name    string
		in      []Stack
		want    []string
		wantErr string
	}{
		{"keeps given order", []Stack{s("A"), s("B"), s("C")}, []string{"A", "B", "C"}, ""},
		{"chain reversed", []Stack{s("C", "B"), s("B", "A"), s("A")}, []string{"A", "B", "C"}, ""},
		{"outside deps ignored", []Stack{s("App", "Bootstrap")}, []string{"App"}, ""},
		{"cycle", []Stack{s("Net"), s("A", "B"), s("B", "C"), s("C", "A")}, nil, "dependency cycle between stacks: A -> B -> C -> A"},
		{"self", []Stack{s("A", "A")}, nil, "A -> A"},
		{"duplicate", []Stack{s("A"), s("A")}, nil, "stack A is listed twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Order(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, st := range got {
				ids = append(ids, st.ID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("got %v, want %v", ids, tc.want)
			}
		})
	}
}
