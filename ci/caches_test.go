package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// engineGC runs scripts/engine-state config with the given settings and
// returns the description patterns of the cache volumes it drops.
func engineGC(t *testing.T, env ...string) []*regexp.Regexp {
	t.Helper()
	cmd := exec.Command("bash", "../scripts/engine-state", "config")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("engine-state config: %v", err)
	}
	var conf struct {
		GC struct {
			Policies []struct {
				Filters []string `json:"filters"`
			} `json:"policies"`
		} `json:"gc"`
	}
	if err := json.Unmarshal(out, &conf); err != nil {
		t.Fatalf("engine-state config printed %q: %v", out, err)
	}
	desc := regexp.MustCompile(`description~="((?:[^"\\]|\\.)*)"`)
	var pats []*regexp.Regexp
	for _, p := range conf.GC.Policies {
		for _, f := range p.Filters {
			if !strings.Contains(f, "type==exec.cachemount") {
				t.Errorf("filter %q would drop more than cache volumes", f)
			}
			m := desc.FindStringSubmatch(f)
			if m == nil {
				t.Fatalf("filter %q has no description pattern", f)
			}
			pats = append(pats, regexp.MustCompile(m[1]))
		}
	}
	return pats
}

// The saved engine state leaves out exactly the caches that only building
// stevedore itself uses, by the descriptions the engine gives their mounts.
func TestEngineStateDropsOnlySelfCaches(t *testing.T) {
	pats := engineGC(t, "ENGINE_STATE_LIMIT=6G")
	mount := func(path, cmd string) string {
		return "cached mount " + path + " from exec " + cmd + ` with id "x"`
	}
	for _, c := range []struct {
		desc string
		drop bool
	}{
		{mount(selfCacheRoot+"/go-mod", "go build -trimpath -o /usr/local/bin/cdk-app ."), true},
		{mount(selfCacheRoot+"/go-build", "go build -trimpath -o /usr/local/bin/cdk-app ."), true},
		{mount("/root/.cache/go-build", "codegen generate-typedefs --module-source-path /src/ci"), true},
		{mount("/go/pkg/mod", "codegen generate-typedefs --module-source-path /src/ci"), true},
		// The user's code: its tests, its own Go CDK app, its Dockerfile.
		{mount("/go/pkg/mod", "sh -c go test ./..."), false},
		{mount("/root/.cache/go-build", "go build -trimpath -o /usr/local/bin/cdk-app ."), false},
		{mount("/root/.cache/go-build", "/bin/sh -c CGO_ENABLED=0 go build -o /server ."), false},
		{mount("/root/.cache/aws/jsii", "npm install --global aws-cdk@2.1148.1"), false},
		{mount("/root/.npm", "npm ci"), false},
	} {
		dropped := false
		for _, p := range pats {
			dropped = dropped || p.MatchString(c.desc)
		}
		if dropped != c.drop {
			t.Errorf("%s: dropped %v, want %v", c.desc, dropped, c.drop)
		}
	}
	if kept := engineGC(t, "ENGINE_STATE_LIMIT=6G", "ENGINE_STATE_SELF_CACHES=keep"); len(kept) != 0 {
		t.Errorf("ENGINE_STATE_SELF_CACHES=keep still drops %v", kept)
	}
}
