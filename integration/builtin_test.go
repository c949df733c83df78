//go:build integration

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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
// guide through stevedore's built-in CDK app (no infra.dir): the network,
// RDS PostgreSQL 16 with pgvector, Multi-AZ and its secret, Redis 7.1 with
// TLS, the FastAPI backend behind the ALB with its Secrets Manager keys
// and autoscaling, Qdrant on Cloud Map, S3 + CloudFront, the WebSocket API,
// and the alarms with their SNS topic. The log says what it synthesized.
func TestBuiltinSynthCommanderProd(t *testing.T) {
	out := t.TempDir()
	args := append([]string{"call", "--config", "examples/commander/stevedore.yaml", "synth", "--env", "prod"}, commanderImages()...)
	r := mustDagger(t, nil, append(args, "export", "--path", out)...)
	tpl := readTemplates(t, out)
	for _, stack := range []string{"Network", "Database", "Cache", "Qdrant", "Backend", "Frontend", "WebSocket", "Monitoring"} {
		if _, ok := tpl["Commander"+stack+"Stack-prod"]; !ok {
			t.Errorf("no template for Commander%sStack-prod", stack)
		}
	}
	for stack, wants := range map[string][]string{
		"Network":    {`"AWS::EC2::VPC"`, `"AWS::EC2::NatGateway"`, `"AWS::EC2::FlowLog"`},
		"Database":   {`"shared_preload_libraries": "vector"`, `"MultiAZ": true`, `"DBInstanceClass": "db.t4g.medium"`, `"EngineVersion": "16"`, `"AWS::SecretsManager::Secret"`},
		"Cache":      {`"AWS::ElastiCache::ReplicationGroup"`, `"EngineVersion": "7.1"`, `"TransitEncryptionEnabled": true`},
		"Backend":    {"commander-ai-backend@sha256:" + strings.Repeat("0", 63) + "2", `"AWS::ElasticLoadBalancingV2::LoadBalancer"`, `"Name": "OPENAI_API_KEY"`, `"AWS::ApplicationAutoScaling::ScalingPolicy"`, `"HealthUrl"`},
		"Qdrant":     {"commander-ai-qdrant@sha256:" + strings.Repeat("0", 63) + "3", `"AWS::ServiceDiscovery::Service"`, `"QdrantServiceName"`},
		"Frontend":   {`"AWS::CloudFront::Distribution"`, `"AWS::CloudFront::OriginAccessControl"`, `"FrontendBucketName"`},
		"WebSocket":  {`"ProtocolType": "WEBSOCKET"`, `"WebsocketUrl"`},
		"Monitoring": {`"AWS::CloudWatch::Alarm"`, `"AWS::SNS::Topic"`, `"AWS::CloudWatch::Dashboard"`},
	} {
		assertContains(t, stack+" template", tpl["Commander"+stack+"Stack-prod"], wants...)
	}
	assertContains(t, "synth log", r.stderr, "synthesized the built-in CDK app (stevedore's infra/) (Go, aws-cdk 2.1148.1) for commander/prod, ",
		" resources in 8 stacks:", "CommanderDatabaseStack-prod: ")
}

// The repository's own description is the CAO guide's four stacks.
func TestBuiltinSynthCAO(t *testing.T) {
	r := mustDagger(t, nil, "call", "synth", "--env", "staging", "--image", "backend="+digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server", 1), "entries")
	for _, stack := range []string{"CAONetworkStack", "CAOAuthStack", "CAOInfrastructureStack", "CAOFrontendStack"} {
		assertContains(t, "cdk.out", r.stdout, stack+"-staging.template.json")
	}
}

// The built-in app comes from the stevedore module, not from the caller's
// repository: a source with no infra/ directory (as when stevedore is
// called as a remote module) synthesizes, for any environment the
// description declares (qa on staging, pr-7 by the pattern pr-*), each
// sized by its base; destroy plans from the same app.
func TestBuiltinAnyEnvironmentFromACallersSource(t *testing.T) {
	src := copyTree(t, "stevedore.yaml", "examples/backend", "examples/frontend", "docker")
	if _, err := os.Stat(filepath.Join(src, "infra")); !os.IsNotExist(err) {
		t.Fatalf("the caller's source must have no infra/ (%v)", err)
	}
	// The root description declares pr-* (previews); qa is declared here.
	edit(t, src, "stevedore.yaml", "\nenvironments:\n", "\nenvironments:\n  qa: {base: staging}\n")
	img := "backend=" + digestRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/cao-server", 5)
	for env, scaling := range map[string]string{"qa": `"MaxCapacity": 10,`, "pr-7": `"MaxCapacity": 2,`} {
		t.Run(env, func(t *testing.T) {
			out := t.TempDir()
			mustDagger(t, nil, "call", "--source", src, "synth", "--env", env, "--image", img, "export", "--path", out)
			tpl := readTemplates(t, out)
			for _, stack := range []string{"CAONetworkStack", "CAOAuthStack", "CAOInfrastructureStack", "CAOFrontendStack"} {
				if _, ok := tpl[stack+"-"+env]; !ok {
					t.Errorf("no template for %s-%s", stack, env)
				}
			}
			assertContains(t, "infrastructure template", tpl["CAOInfrastructureStack-"+env], scaling, "cao-server@sha256:"+strings.Repeat("0", 63)+"5")
			var meta struct{ Env string }
			if b, err := os.ReadFile(filepath.Join(out, "stevedore.json")); err != nil || json.Unmarshal(b, &meta) != nil || meta.Env != env {
				t.Errorf("stevedore.json does not record env %s: %s (%v)", env, b, err)
			}
		})
	}
	// destroy plans from the same built-in assembly: the environment's four
	// stacks, the network last.
	r := mustDagger(t, nil, "call", "--source", src, "destroy", "--env", "pr-7", "--dry-run")
	assertContains(t, "destroy plan", r.stdout, "destroy pr-7: 4 stacks deleted, in this order:\n", "  - CAONetworkStack-pr-7\n", "dry run: nothing deleted",
		// pr-7 is sized by dev: its data goes with its stacks, each named.
		"data deleted with the stacks, for good (removal policy destroy):\n", "  - SessionTable", " (AWS::DynamoDB::Table) in CAOInfrastructureStack-pr-7\n",
		" (AWS::ElastiCache::ReplicationGroup) in CAOInfrastructureStack-pr-7\n", " (AWS::Cognito::UserPool) in CAOAuthStack-pr-7\n")
	if strings.Index(r.stdout, "CAONetworkStack-pr-7") < strings.Index(r.stdout, "CAOInfrastructureStack-pr-7") {
		t.Errorf("the network stack must be deleted after the stacks using it:\n%s", r.stdout)
	}
}

// The local target reads the same description: the commander example's
// postgres and redis run as local stand-ins bound to the backend under the
// variables the built-in infrastructure sets on AWS, the alembic migration
// creates its table in that postgres before the backend starts, and the
// backend answers healthy from the database (its /health fails until the
// table exists). The report names the stand-ins, what the postgres one
// lacks, and the resource with no local stand-in.
func TestBuiltinDeployLocalCommander(t *testing.T) {
	r := mustDagger(t, nil, "call", "--config", "examples/commander/stevedore.yaml", "deploy", "--format", "json")
	var rep struct {
		Status string `json:"status"`
		Steps  []struct {
			Name    string `json:"name"`
			Status  string `json:"status"`
			Summary string `json:"summary"`
			Reason  string `json:"reason"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("json report does not parse: %v\n%s", err, r.stdout)
	}
	if rep.Status != "succeeded" {
		t.Fatalf("deploy status %q:\n%s", rep.Status, r.stdout)
	}
	got := map[string]string{}
	for _, s := range rep.Steps {
		got[s.Name] = s.Status + ": " + s.Summary + s.Reason
	}
	standIns := "postgres → local postgres stand-in res-postgres:5432 (lacks extension vector); redis → local redis stand-in res-redis:6379"
	for step, wants := range map[string][]string{
		"migrate":         {"ok: `alembic upgrade head` exited 0", standIns},
		"rollout:backend": {"ok: running from the pushed digest on port 8000", standIns},
		"verify":          {`http://backend:8000/health → {"status":"healthy","database":"postgresql"`},
		"synth":           {"ok: ", " resources in 8 stacks for commander/dev:\n", "CommanderDatabaseStack-dev: "},
		"deploy-infra":    {"skipped: ", "local stand-ins: postgres (postgres), redis (redis); not emulated locally: websocket (websocket)"},
	} {
		assertContains(t, step, got[step], wants...)
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
