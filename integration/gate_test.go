//go:build integration

package integration

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// commanderConfig is the commander example's description, relative to a
// source that holds the repository's layout.
const commanderConfig = "examples/commander/stevedore.yaml"

// commanderSmoke is the smoke list of the commander example's backend, as
// a test replaces it in a copy.
const commanderSmoke = `      smoke:
        - {path: /conversations, status: 200}          # the table the migration made is readable
        - {path: /openapi.json, body: '"commander.ai"'}  # the app's own API, not another service
        - {method: POST, path: /conversations, status: 422}  # request validation is on
        - {path: /vectors, body: '"collections"'}  # qdrant answers through QDRANT_URL
`

// localSteps is each step's "status: summary reason error" in a JSON
// deploy report.
func localSteps(t *testing.T, report string) (string, map[string]string) {
	t.Helper()
	var rep struct {
		Status string `json:"status"`
		Steps  []struct {
			Name, Status, Summary, Reason, Error string
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(report), &rep); err != nil {
		t.Fatalf("json report does not parse: %v\n%s", err, tailLines(report, 40))
	}
	got := map[string]string{}
	for _, s := range rep.Steps {
		got[s.Name] = s.Status + ": " + s.Summary + s.Reason + s.Error
	}
	return rep.Status, got
}

// The commander example's backend is blue-green with the gate: on the
// local target its new container passes /health and the four smoke
// requests (a read of the migrated table, the app's own OpenAPI title, a
// POST the app rejects with 422, the internal qdrant service reached
// through QDRANT_URL) before it serves, and the report's rollout row says
// so, check by check; qdrant started first.
func TestLocalGateCommanderPasses(t *testing.T) {
	r := mustDagger(t, nil, "call", "--config", commanderConfig, "deploy", "--format", "json")
	status, got := localSteps(t, r.stdout)
	if status != "succeeded" {
		t.Fatalf("deploy status %q:\n%s", status, r.stdout)
	}
	assertContains(t, "rollout:backend", got["rollout:backend"],
		"ok: running from the pushed digest on port 8000; gate passed: health /health: 200 after ",
		"smoke GET /conversations: 200 after ", "smoke GET /openapi.json: 200 after ", "smoke POST /conversations: 422 after ",
		"smoke GET /vectors: 200 after ", "qdrant → local service qdrant (QDRANT_URL=http://qdrant:6333)")
	assertContains(t, "migrate", got["migrate"], "internal services start after the migration, so it cannot reach qdrant")
	// Without --source, stevedore says that it runs its own example.
	assertContains(t, "stderr", r.stderr, "no --source given, so this runs stevedore's own example app (commander); pass --source=. to use your repository")
	// qdrant has no gate: it only starts.
	assertNotContains(t, "rollout:qdrant", got["rollout:qdrant"], "gate")
	assertContains(t, "verify", got["verify"], `ok: http://backend:8000/health → {"status":"healthy"`,
		"these addresses resolve inside Dagger; from your machine: dagger call serve --service backend up --ports 8000:8000, or dagger call serve-frontend up --ports 8080:80")
}

// A smoke request the new local backend does not answer as described (a
// POST the app rejects with 422 where 201 is expected) fails its rollout
// with the check's evidence: the new container is stopped, nothing is
// replaced, and nothing after the rollout runs.
func TestLocalGateCommanderSmokeFails(t *testing.T) {
	src := copyTree(t, "examples/commander", "docker")
	edit(t, src, commanderConfig, commanderSmoke, "      smoke:\n        - {path: /conversations}\n        - {method: POST, path: /conversations, status: 201}\n")
	r := dagger(t, nil, "call", "--source", src, "--config", commanderConfig, "deploy", "--format", "json")
	if r.err == nil {
		t.Fatalf("deploy succeeded with a failing smoke request:\n%s", tailLines(r.stdout, 40))
	}
	assertNotContains(t, "stderr", r.stderr, "no --source given")
	report := errorText(r)
	report = report[strings.Index(report, "{"):]
	report = report[:strings.LastIndex(report, "}")+1]
	status, got := localSteps(t, report)
	if status != "failed" {
		t.Fatalf("deploy status %q", status)
	}
	assertContains(t, "rollout:backend", got["rollout:backend"],
		"failed: ", "local rollout of backend from stevedore-registry:5000/commander-ai-backend@sha256:",
		"failed its gate, so the new service was stopped and nothing was replaced (the previous local state is kept)",
		"gate of backend: smoke POST /conversations failed after 1 attempt(s)", "want 201, got 422: ", `"detail"`)
	assertContains(t, "verify", got["verify"], "skipped: ", "rollout:backend")
}

// A smokeCommand runs once in its own image after the requests, reaching
// the new local backend under its service name with the test header and
// the token as a secret; its failure is the gate's evidence (the
// command's own output and exit code), with the token scrubbed.
func TestLocalGateCommanderSmokeCommand(t *testing.T) {
	src := copyTree(t, "examples/commander", "docker")
	script := `import os, urllib.request as u; h, tok = os.environ["STEVEDORE_TEST_HEADER"], os.environ["STEVEDORE_TEST_TOKEN"]; ` +
		`r = u.urlopen(u.Request(os.environ["STEVEDORE_TEST_URL"] + "/conversations", headers={h: tok})); ` +
		`print("smoke:", r.status, "from", os.environ["STEVEDORE_TEST_URL"], "header", h, "token", tok, "of", len(tok), "chars"); raise SystemExit(3)`
	cmd, _ := json.Marshal([]string{"python3", "-c", script})
	edit(t, src, commanderConfig, commanderSmoke, commanderSmoke+"      smokeCommand:\n        image: python:3.11-slim\n        command: "+string(cmd)+"\n")
	r := dagger(t, nil, "call", "--source", src, "--config", commanderConfig, "deploy")
	if r.err == nil {
		t.Fatalf("deploy succeeded with a smoke command exiting 3:\n%s", tailLines(r.stdout, 40))
	}
	assertContains(t, "progress log", r.stderr, "backend: smoke GET /conversations: 200 after ") // the requests ran first
	assertContains(t, "error", errorText(r),
		"gate of backend: smoke command failed: the run in python:3.11-slim failed (`python3 -c import os", "exited 3): ",
		"smoke: 200 from http://backend:8000 header X-Stevedore-Test token ", "of 48 chars",
		"the new service was stopped and nothing was replaced")
	if tok := regexp.MustCompile(`\b[0-9a-f]{48}\b`).FindString(r.output()); tok != "" {
		t.Errorf("the test token %s… appears in the output", tok[:6])
	}
}

// The TypeScript CDK app of commander-ts deploys its backend blue/green
// with the gate as readme-gate's CDK spec says: the ECS service's strategy,
// bake time and PAUSE hook at POST_TEST_TRAFFIC_SHIFT (rolling back on
// timeout), its load balancer entry's alternate target group, production
// and test rules and infrastructure role; the test rule on the same
// listener, ahead of the production rule, matching X-Stevedore-Test with a
// value from a stack-created secret (a dynamic reference, never the
// value); the role with ECS's managed policy; and the outputs stevedore
// reads. Its stevedore.yaml turns the gate on.
func TestCDKAppTypeScriptBlueGreenGate(t *testing.T) {
	out := t.TempDir()
	mustDagger(t, nil, append(append([]string{"call", "--source", commanderTS, "synth", "--env", "pr-7"}, tsImages...), "export", "--path", out)...)
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties json.RawMessage
		}
		Outputs map[string]struct{ Value any }
	}
	if err := json.Unmarshal([]byte(readTemplates(t, out)["CommanderBackendStack-pr-7"]), &tpl); err != nil {
		t.Fatalf("backend template: %v", err)
	}
	type ref struct {
		Ref string
	}
	var (
		service struct {
			DeploymentConfiguration struct {
				Strategy          string
				BakeTimeInMinutes int
				LifecycleHooks    []struct {
					TargetType           string
					LifecycleStages      []string
					TimeoutConfiguration struct {
						Action           string
						TimeoutInMinutes int
					}
				}
				DeploymentCircuitBreaker struct{ Enable, Rollback bool }
			}
			LoadBalancers []struct {
				TargetGroupArn        ref
				AdvancedConfiguration struct {
					AlternateTargetGroupArn, ProductionListenerRule, TestListenerRule ref
					RoleArn                                                           struct {
						GetAtt []string `json:"Fn::GetAtt"`
					}
				}
			}
		}
		rules       = map[string]json.RawMessage{}
		targetGroup []string
		roles       = map[string]string{}
		secrets     []string
	)
	for id, r := range tpl.Resources {
		switch r.Type {
		case "AWS::ECS::Service":
			if err := json.Unmarshal(r.Properties, &service); err != nil {
				t.Fatal(err)
			}
		case "AWS::ElasticLoadBalancingV2::ListenerRule":
			rules[id] = r.Properties
		case "AWS::ElasticLoadBalancingV2::TargetGroup":
			targetGroup = append(targetGroup, id)
		case "AWS::IAM::Role":
			roles[id] = string(r.Properties)
		case "AWS::SecretsManager::Secret":
			secrets = append(secrets, id)
		}
	}
	dc := service.DeploymentConfiguration
	if dc.Strategy != "BLUE_GREEN" || dc.BakeTimeInMinutes <= 0 || !dc.DeploymentCircuitBreaker.Rollback {
		t.Errorf("service deployment configuration: %+v", dc)
	}
	if len(dc.LifecycleHooks) != 1 {
		t.Fatalf("lifecycle hooks: %+v", dc.LifecycleHooks)
	}
	h := dc.LifecycleHooks[0]
	if h.TargetType != "PAUSE" || len(h.LifecycleStages) != 1 || h.LifecycleStages[0] != contract.GateStage ||
		h.TimeoutConfiguration.Action != contract.GateTimeoutAction || h.TimeoutConfiguration.TimeoutInMinutes != contract.GateHookTimeoutMinutes {
		t.Errorf("PAUSE hook: %+v", h)
	}
	if len(service.LoadBalancers) != 1 || len(targetGroup) != 2 {
		t.Fatalf("load balancers %+v, target groups %v", service.LoadBalancers, targetGroup)
	}
	lb := service.LoadBalancers[0]
	ac := lb.AdvancedConfiguration
	if ac.AlternateTargetGroupArn.Ref == "" || ac.AlternateTargetGroupArn.Ref == lb.TargetGroupArn.Ref {
		t.Errorf("alternate target group %q beside blue %q", ac.AlternateTargetGroupArn.Ref, lb.TargetGroupArn.Ref)
	}
	assertContains(t, "infrastructure role", roles[firstOf(ac.RoleArn.GetAtt)], "ecs.amazonaws.com", "AmazonECSInfrastructureRolePolicyForLoadBalancers")
	var prod, test struct {
		ListenerArn ref
		Priority    int
		Actions     []struct{ TargetGroupArn ref }
		Conditions  []struct {
			Field            string
			HttpHeaderConfig struct {
				HttpHeaderName string
				Values         []any
			}
		}
	}
	for id, into := range map[string]any{ac.ProductionListenerRule.Ref: &prod, ac.TestListenerRule.Ref: &test} {
		if err := json.Unmarshal(rules[id], into); err != nil {
			t.Fatalf("listener rule %q: %v (rules %v)", id, err, rules)
		}
	}
	if prod.ListenerArn != test.ListenerArn || test.Priority >= prod.Priority {
		t.Errorf("the test rule (priority %d, listener %s) must come before the production rule (%d, %s) on the same listener", test.Priority, test.ListenerArn.Ref, prod.Priority, prod.ListenerArn.Ref)
	}
	for name, r := range map[string][]struct{ TargetGroupArn ref }{"production": prod.Actions, "test": test.Actions} {
		if len(r) != 1 || r[0].TargetGroupArn != lb.TargetGroupArn {
			t.Errorf("the %s rule must forward to the blue group %s only: %+v", name, lb.TargetGroupArn.Ref, r)
		}
	}
	var header string
	for _, c := range test.Conditions {
		if c.Field == "http-header" && c.HttpHeaderConfig.HttpHeaderName == contract.GateHeader && len(c.HttpHeaderConfig.Values) == 1 {
			b, _ := json.Marshal(c.HttpHeaderConfig.Values[0])
			header = string(b)
		}
	}
	if len(secrets) != 1 || !strings.Contains(header, "{{resolve:secretsmanager:") || !strings.Contains(header, `"Ref":"`+secrets[0]+`"`) {
		t.Errorf("the test rule's %s value must be a dynamic reference to the stack's secret %v: %s", contract.GateHeader, secrets, header)
	}
	for key, want := range map[string]string{
		contract.StrategyOutput("backend"): `"blue-green"`,
		contract.TestURLOutput("backend"):  `"http://",{"Fn::GetAtt":["LoadBalancer`,
		contract.TestRuleOutput("backend"): `{"Ref":"` + ac.TestListenerRule.Ref + `"}`,
	} {
		o, ok := tpl.Outputs[key]
		if !ok {
			t.Errorf("no output %s: %v", key, tpl.Outputs)
			continue
		}
		b, _ := json.Marshal(o.Value)
		assertContains(t, "output "+key, string(b), want)
	}
	// stevedore reads the gate from the description: the config it prints
	// shows the backend gated with its smoke requests.
	r := mustDagger(t, nil, "call", "--source", commanderTS, "config")
	assertContains(t, "config", r.stdout, "gate: true", "path: /no-such-page")
	// A local plan says the rollout would run the gate, and what it checks.
	r = mustDagger(t, nil, "call", "--source", commanderTS, "plan", "--env", "pr-7")
	assertContains(t, "plan", r.stdout, "rollout:backend", "the gate would check health /health; smoke GET /health, GET /no-such-page on the new container before it replaces the old one")
	// Locally the same smoke requests pass against the sample backend
	// before it serves.
	r = mustDagger(t, nil, "call", "--source", commanderTS, "deploy", "--env", "pr-7", "--format", "json")
	status, got := localSteps(t, r.stdout)
	if status != "succeeded" {
		t.Fatalf("deploy status %q:\n%s", status, r.stdout)
	}
	assertContains(t, "rollout:backend", got["rollout:backend"], "gate passed: health /health: 200 after ", "smoke GET /health: 200 after ", "smoke GET /no-such-page: 404 after ")
}

func firstOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
