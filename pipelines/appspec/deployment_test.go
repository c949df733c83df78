package appspec

import (
	"strings"
	"testing"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/gate"
)

// withDeployment is base with a deployment block under the api service
// (and under search when searchDeployment is set).
func withDeployment(api, searchDeployment string) string {
	doc := strings.Replace(base, "    uses: [db]\n", "    uses: [db]\n    deployment:\n"+indent(api, "      "), 1)
	if searchDeployment != "" {
		doc = strings.Replace(doc, "    internal: search\n", "    internal: search\n    deployment:\n"+indent(searchDeployment, "      "), 1)
	}
	return doc
}

func indent(block, prefix string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimRight(block, "\n"), "\n") {
		b.WriteString(prefix + line + "\n")
	}
	return b.String()
}

func TestDeploymentParses(t *testing.T) {
	app, err := Parse("stevedore.yaml", []byte(withDeployment(`strategy: canary
canaryPercent: 10
canaryBake: 5m
bake: 10m
alarms: [api-5xx]
gate: true
gateTimeout: 8m
smoke:
  - {path: /api/orders, body: orders}
  - {method: POST, path: /api/echo, status: 201}
smokeCommand: {image: python:3.11-slim, command: [pytest, -q, smoke/]}
`, "strategy: blue-green\n")))
	if err != nil {
		t.Fatal(err)
	}
	api, _ := app.Service("api")
	if api.StrategyOf() != "canary" || !api.Gated() || api.GateTimeoutOf() != 8*time.Minute {
		t.Errorf("api: strategy %s gated %v gate timeout %s", api.StrategyOf(), api.Gated(), api.GateTimeoutOf())
	}
	if d := api.Deployment; len(d.Smoke) != 2 || d.Smoke[1].Status != 201 || d.SmokeCommand.Command[0] != "pytest" {
		t.Errorf("api deployment = %+v", d)
	}
	search, _ := app.Service("search")
	if search.StrategyOf() != "blue-green" || search.Gated() || search.GateTimeoutOf() != DefaultGateTimeout {
		t.Errorf("search: strategy %s gated %v gate timeout %s", search.StrategyOf(), search.Gated(), search.GateTimeoutOf())
	}
	plain, _ := Parse("stevedore.yaml", []byte(base))
	if s, _ := plain.Service("api"); s.StrategyOf() != "rolling" || s.Gated() {
		t.Errorf("a service without deployment: strategy %s gated %v", s.StrategyOf(), s.Gated())
	}
}

func TestDeploymentErrors(t *testing.T) {
	tests := []struct {
		name, api, search string
		dir               bool // infra.dir: the user's own CDK app
		want              string
	}{
		{"unknown strategy", "strategy: red-black", "", false, `services[api].deployment.strategy: "red-black" is not one of rolling, blue-green, linear, canary`},
		{"step on canary", "strategy: canary\nstepPercent: 20", "", false, "services[api].deployment.stepPercent: applies to strategy linear only (this service's is canary)"},
		{"canary bake on linear", "strategy: linear\ncanaryBake: 5m", "", false, "services[api].deployment.canaryBake: applies to strategy canary only (this service's is linear)"},
		{"step percent range", "strategy: linear\nstepPercent: 150", "", false, "services[api].deployment.stepPercent: 150 must be between 3 and 100, in steps of 0.1"},
		{"step percent below ECS's minimum", "strategy: linear\nstepPercent: 2", "", false, "services[api].deployment.stepPercent: 2 must be between 3 and 100, in steps of 0.1"},
		{"canary percent range", "strategy: canary\ncanaryPercent: 0.01", "", false, "services[api].deployment.canaryPercent: 0.01 must be between 0.1 and 100, in steps of 0.1"},
		{"canary percent not in tenths", "strategy: canary\ncanaryPercent: 2.55", "", false, "services[api].deployment.canaryPercent: 2.55 must be between 0.1 and 100, in steps of 0.1"},
		{"bake in seconds", "strategy: blue-green\nbake: 90s", "", false, "services[api].deployment.bake: 90s must be whole minutes"},
		{"bake not a duration", "strategy: blue-green\nbake: long", "", false, `services[api].deployment.bake: "long" is not a duration`},
		{"bake on rolling", "bake: 5m", "", false, "services[api].deployment.bake: applies to blue-green, linear and canary"},
		{"gate on rolling", "gate: true", "", false, "services[api].deployment.gate: needs strategy blue-green, linear or canary"},
		{"smoke without gate", "strategy: blue-green\nsmoke: [{path: /x}]", "", false, "services[api].deployment.smoke: set, but gate is off"},
		{"gate timeout without gate", "strategy: blue-green\ngateTimeout: 5m", "", false, "services[api].deployment.gateTimeout: set, but gate is off"},
		{"mistyped gate, not also gate off", "strategy: blue-green\ngate: ture\ngateTimeout: 5m\nsmoke: [{path: /x}]", "", false, "services[api].deployment.gate: `ture` must be true or false"},
		{"gate timeout above the hook's", "strategy: blue-green\ngate: true\ngateTimeout: 45m", "", false, "services[api].deployment.gateTimeout: 45m must be between 1m and 29m"},
		{"bad smoke path", "strategy: blue-green\ngate: true\nsmoke: [{path: api}]", "", false, `services[api].deployment.smoke[0]: path "api" does not start with /`},
		{"bad smoke status", "strategy: blue-green\ngate: true\nsmoke: [{path: /a, status: 99}]", "", false, "services[api].deployment.smoke[0]: status 99 is not an HTTP status"},
		{"smoke command without image", "strategy: blue-green\ngate: true\nsmokeCommand: {command: [true]}", "", false, "services[api].deployment.smokeCommand.image: required"},
		{"gate with nothing to check", "", "gate: true", true, "services[search].deployment.gate: has nothing to check"},
		{"gated rolling worker", "", "gate: true", false, "services[search].deployment.gate: needs strategy blue-green, linear or canary"},
		{"gate off the ALB", "", "strategy: blue-green\ngate: true\nsmokeCommand: {image: python:3.11-slim, command: [true]}", false, "services[search].deployment.gate: checks the new revision through the load balancer's test route, which a service off the ALB does not have"},
		{"canary off the ALB", "", "strategy: canary", false, "services[search].deployment.strategy: canary shifts load balancer traffic: the service must be public"},
		{"strategy with own CDK app", "strategy: blue-green", "", true, "services[api].deployment: strategy, bake, stepPercent, stepBake, canaryPercent, canaryBake and alarms configure the built-in infrastructure; with infra.dir set them in your CDK app's stacks and export ApiDeploymentStrategy"},
		{"blue-green one at a time", "", "strategy: blue-green", false, "services[search].deployment.strategy: blue-green runs both revisions at once, which oneAtATime forbids"},
		{"canary with request scaling", "strategy: canary", "", false, "services[api].deployment.strategy: canary moves the tasks between two target groups, and autoscaling.requestsPerTarget tracks only the first"},
		{"unknown deployment key", "strategy: blue-green\nbakeTime: 5m", "", false, "services[api].deployment.bakeTime: unknown key (known keys: strategy, bake, stepPercent, stepBake, canaryPercent, canaryBake, alarms, gate, gateTimeout, smoke, smokeCommand)"},
		{"unknown smoke key", "strategy: blue-green\ngate: true\nsmoke: [{path: /a, methd: POST}]", "", false, "unknown key (did you mean method?) (known keys: method, path, status, body)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := withDeployment(orString(tt.api, "{}"), tt.search)
			switch tt.name {
			case "blue-green one at a time":
				doc = strings.Replace(doc, "    internal: search\n", "    internal: search\n    oneAtATime: true\n", 1)
			case "canary with request scaling":
				doc = strings.Replace(doc, "    public: true\n", "    public: true\n    autoscaling: {min: 1, max: 4, requestsPerTarget: 500}\n", 1)
			}
			if tt.dir {
				doc = ownCDKApp(doc)
			}
			wantOneProblem(t, doc, tt.want)
		})
	}
}

// A user's own CDK app keeps the gate keys: its stacks provide the hook
// and the test route.
func TestDeploymentGateWithOwnCDKApp(t *testing.T) {
	doc := ownCDKApp(withDeployment("gate: true\nsmoke: [{path: /api/orders}]", ""))
	app, err := Parse("stevedore.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	if api, _ := app.Service("api"); !api.Gated() || len(api.Deployment.Smoke) != 1 {
		t.Errorf("api deployment = %+v", api.Deployment)
	}
}

// ownCDKApp turns base into a description of a repository with its own
// CDK app: no built-in keys.
func ownCDKApp(doc string) string {
	for _, key := range []string{"    public: true\n", "    uses: [db]\n", "    internal: search\n"} {
		doc = strings.Replace(doc, key, "", 1)
	}
	return strings.Replace(doc, "infra:\n  resources:\n    db: {type: postgres}\n", "infra:\n  dir: cdk\n", 1)
}

// The wait a follower adds to its limit: bakes, linear steps, with ECS's
// defaults where stevedore.yaml gives none.
func TestDeploymentWait(t *testing.T) {
	for _, tc := range []struct {
		d    *Deployment
		want time.Duration
	}{
		{nil, 0},
		{&Deployment{Strategy: "blue-green", Bake: "10m"}, 10 * time.Minute},
		{&Deployment{Strategy: "linear", Bake: "5m", StepPercent: 30, StepBake: "2m"}, 13 * time.Minute},
		{&Deployment{Strategy: "linear"}, 10 * DefaultStepBake},
		{&Deployment{Strategy: "canary", CanaryPercent: 10, CanaryBake: "5m"}, 5 * time.Minute},
		{&Deployment{Strategy: "canary"}, DefaultCanaryBake},
	} {
		if got := (Service{Deployment: tc.d}).DeploymentWait(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.d, got, tc.want)
		}
	}
}

func TestGateChecks(t *testing.T) {
	smoke := []gate.Smoke{{Path: "/api/orders"}, {Method: "POST", Path: "/api/orders", Status: 201}}
	for _, tc := range []struct {
		s    Service
		want string
	}{
		{Service{Health: "/health"}, ""},
		{Service{Health: "/health", Deployment: &Deployment{Strategy: "blue-green"}}, ""},
		{Service{Health: "/health", Deployment: &Deployment{Gate: true}}, "health /health"},
		{Service{Health: "/health", Deployment: &Deployment{Gate: true, Smoke: smoke[:1]}}, "health /health; smoke GET /api/orders"},
		{Service{Deployment: &Deployment{Gate: true, Smoke: smoke, SmokeCommand: &SmokeCommand{Image: "python:3.11-slim", Command: []string{"true"}}}},
			"smoke GET /api/orders, POST /api/orders; the smoke command"},
	} {
		if got := tc.s.GateChecks(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.s.Deployment, got, tc.want)
		}
	}
}
