//go:build integration

package integration

import (
	"testing"
)

// commanderImages are digest-pinned images of the commander example.
func commanderImages() []string {
	return []string{
		"--image", "backend=" + digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/commander-ai-backend", 2),
		"--image", "qdrant=" + digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/commander-ai-qdrant", 3),
	}
}

// The commander description alone synthesizes every concern of the second
// guide through stevedore's built-in CDK app (no infra.dir).
func TestBuiltinSynthCommanderProd(t *testing.T) {
	args := append([]string{"call", "--config", "examples/commander/stevedore.yaml", "synth", "--env", "prod"}, commanderImages()...)
	r := mustDagger(t, nil, append(args, "entries")...)
	for _, stack := range []string{"Network", "Database", "Cache", "Qdrant", "Backend", "Frontend", "WebSocket", "Monitoring"} {
		assertContains(t, "cdk.out", r.stdout, "Commander"+stack+"Stack-prod.template.json")
	}
	tmpl := mustDagger(t, nil, append(args, "file", "--path", "CommanderDatabaseStack-prod.template.json", "contents")...)
	assertContains(t, "database template", tmpl.stdout, `"shared_preload_libraries": "vector"`, `"MultiAZ": true`, `"DBInstanceClass": "db.t4g.medium"`)
}

// The repository's own description is the CAO guide's four stacks.
func TestBuiltinSynthCAO(t *testing.T) {
	r := mustDagger(t, nil, "call", "synth", "--env", "staging", "--image", "backend="+digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server", 1), "entries")
	for _, stack := range []string{"CAONetworkStack", "CAOAuthStack", "CAOInfrastructureStack", "CAOFrontendStack"} {
		assertContains(t, "cdk.out", r.stdout, stack+"-staging.template.json")
	}
}

// A broken cross-reference in the description fails at once, naming the field.
func TestBuiltinBadDescription(t *testing.T) {
	src := exampleApp(t)
	edit(t, src, "stevedore.yaml", "uses: [user-pool, session-table, redis]", "uses: [user-pool, sessions, redis]")
	r := dagger(t, nil, "call", "--source", src, "config")
	if r.err == nil {
		t.Fatalf("a description using a resource that does not exist was accepted:\n%s", r.stdout)
	}
	assertContains(t, "error", r.stderr, `services[backend].uses: "sessions" is neither a resource under infra.resources (redis, session-table, user-pool)`)
}
