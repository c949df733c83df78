package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRolloutSpecs(t *testing.T) {
	specs, err := rolloutSpecs("prod", []string{
		"api",
		"worker:app=123.dkr.ecr.eu-west-1.amazonaws.com/w@sha256:aa,sidecar=123.dkr.ecr.eu-west-1.amazonaws.com/s@sha256:bb",
	}, false, true, "10m", "3s")
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 {
		t.Fatalf("%d specs", len(specs))
	}
	api, worker := specs[0], specs[1]
	if api.Service != "api" || !api.Force || len(api.Images) != 0 {
		t.Errorf("a bare service forces a new deployment: %+v", api)
	}
	if worker.Service != "worker" || worker.Force || worker.Images["app"] != "123.dkr.ecr.eu-west-1.amazonaws.com/w@sha256:aa" || worker.Images["sidecar"] == "" {
		t.Errorf("images not parsed: %+v", worker)
	}
	if worker.Cluster != "prod" || !worker.Rollback || worker.Timeout != 10*time.Minute || worker.Poll != 3*time.Second {
		t.Errorf("settings not applied: %+v", worker)
	}
	for _, tc := range []struct {
		services      []string
		timeout, poll string
		want          string
	}{
		{nil, "1m", "1s", "name at least one ECS service"},
		{[]string{"api:app"}, "1m", "1s", "images must be CONTAINER=IMAGE"},
		{[]string{"api:=x"}, "1m", "1s", "images must be CONTAINER=IMAGE"},
		{[]string{"api"}, "soon", "1s", `--timeout "soon" is not a positive duration`},
		{[]string{"api"}, "1m", "-1s", `--poll "-1s" is not a positive duration`},
	} {
		if _, err := rolloutSpecs("c", tc.services, false, true, tc.timeout, tc.poll); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("rolloutSpecs(%v, %s, %s) = %v, want %q", tc.services, tc.timeout, tc.poll, err, tc.want)
		}
	}
}

func TestParsePairs(t *testing.T) {
	kv, err := parsePairs("context", []string{"a=1", "b=x=y", "c="})
	if err != nil || kv["a"] != "1" || kv["b"] != "x=y" || kv["c"] != "" {
		t.Fatalf("got %v, %v", kv, err)
	}
	if _, err := parsePairs("context", []string{"=1"}); err == nil || !strings.Contains(err.Error(), `context "=1" must be KEY=VALUE`) {
		t.Fatalf("err = %v", err)
	}
}

func TestValidateRegistryAddress(t *testing.T) {
	for _, ok := range []string{"localhost:5000", "ghcr.io/acme", "123.dkr.ecr.eu-west-1.amazonaws.com"} {
		if err := validateRegistryAddress(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "https://ghcr.io", "user@host", "a b"} {
		if err := validateRegistryAddress(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestImageTagValidation(t *testing.T) {
	m := &Stevedore{}
	tags, err := m.imageTags(context.Background(), "0123abc", []string{"v1.2.3", "0123abc"})
	if err != nil || strings.Join(tags, ",") != "0123abc,v1.2.3" {
		t.Fatalf("tags = %v, %v", tags, err)
	}
	if _, err := m.imageTags(context.Background(), "HEAD", nil); err == nil || !strings.Contains(err.Error(), "is not a commit SHA") {
		t.Fatalf("err = %v", err)
	}
	if _, err := m.imageTags(context.Background(), "0123abc", []string{"bad tag"}); err == nil {
		t.Fatal("an invalid tag was accepted")
	}
}

func TestTail(t *testing.T) {
	out := tail("a\n\nb\nc\nd\n", 2)
	if out != "… (2 lines above)\nc\nd" {
		t.Fatalf("tail = %q", out)
	}
}

// status --stack narrows the environment's stacks, in deploy order, and
// refuses a stack of another environment.
func TestNarrowStacks(t *testing.T) {
	env := []string{"ShopNetworkStack-prod", "ShopServicesStack-prod", "ShopFrontendStack-prod"}
	for _, tc := range []struct {
		only []string
		want string // the stacks read, or the error
	}{
		{nil, "ShopNetworkStack-prod ShopServicesStack-prod ShopFrontendStack-prod"},
		{[]string{"ShopFrontendStack-prod", "ShopServicesStack-prod"}, "ShopServicesStack-prod ShopFrontendStack-prod"},
		{[]string{"ShopServicesStack-dev", "ShopServicesStack-prod"}, "--stack ShopServicesStack-dev: not a stack of environment prod (its stacks: ShopNetworkStack-prod, ShopServicesStack-prod, ShopFrontendStack-prod): name some of those, or pass the --env the stack belongs to"},
	} {
		got, err := narrowStacks("prod", env, tc.only)
		if err != nil {
			if err.Error() != tc.want {
				t.Errorf("%v: error %q, want %q", tc.only, err, tc.want)
			}
			continue
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%v: read %v, want %s", tc.only, got, tc.want)
		}
	}
}
