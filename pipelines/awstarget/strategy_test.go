package awstarget

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/cdkapp"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
	"github.com/stevedore-ci/stevedore/pipelines/gate"
)

// stubECS records how the follower was asked to follow.
type stubECS struct {
	mu      sync.Mutex
	follows []ecs.FollowSpec
	sds     []ecs.ServiceDeploymentSpec
	sdRes   ecs.ServiceDeploymentResult
}

func (s *stubECS) MigrationRevision(context.Context, string, string, map[string]string) (ecs.Revision, error) {
	return ecs.Revision{}, errors.New("not used")
}
func (s *stubECS) RunTask(context.Context, ecs.TaskSpec) (ecs.TaskResult, error) {
	return ecs.TaskResult{}, errors.New("not used")
}
func (s *stubECS) Follow(_ context.Context, spec ecs.FollowSpec) (ecs.FollowResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.follows = append(s.follows, spec)
	return ecs.FollowResult{Outcome: ecs.OutcomeCompleted, DeploymentID: "ecs-svc/1", TaskDefinition: "arn:aws:ecs:us-east-1:1:task-definition/shop-backend:2"}, nil
}
func (s *stubECS) FollowServiceDeployment(_ context.Context, spec ecs.ServiceDeploymentSpec) (ecs.ServiceDeploymentResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sds = append(s.sds, spec)
	return s.sdRes, nil
}

func gatedApp() *appspec.App {
	app := testApp()
	app.Services[0].Health = "/health"
	app.Services[0].Deployment = &appspec.Deployment{Strategy: contract.StrategyBlueGreen, Gate: true,
		Smoke: []gate.Smoke{{Path: "/api/orders"}, {Method: "POST", Path: "/api/echo", Status: 201}}}
	return app
}

func template(t *testing.T, outputs map[string]any) cdkapp.Template {
	t.Helper()
	out := map[string]any{}
	for k, v := range outputs {
		out[k] = map[string]any{"Value": v}
	}
	b, err := json.Marshal(map[string]any{"Resources": map[string]any{}, "Outputs": out})
	if err != nil {
		t.Fatal(err)
	}
	return cdkapp.Template{Stack: stack, Body: b}
}

// check-stacks refuses, before anything changes, a gated service whose
// stacks lack the gate's outputs or deploy it rolling, naming the output
// and the stack.
func TestCheckStrategies(t *testing.T) {
	full := map[string]any{
		contract.ServiceOutput("backend"):  "shop-backend",
		contract.StrategyOutput("backend"): contract.StrategyBlueGreen,
		contract.TestURLOutput("backend"):  "https://api.example.com",
		contract.TestRuleOutput("backend"): map[string]any{"Ref": "TestRule"},
	}
	without := func(keys ...string) map[string]any {
		m := map[string]any{}
		for k, v := range full {
			m[k] = v
		}
		for _, k := range keys {
			delete(m, k)
		}
		return m
	}
	with := func(k string, v any) map[string]any {
		m := without()
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name    string
		outputs map[string]any
		current deploy.Outputs
		want    []string // empty: no error
		planned string
	}{
		{"all there", full, nil, nil, contract.StrategyBlueGreen},
		{"no test rule", without(contract.TestRuleOutput("backend")), nil, []string{"BackendTestRuleArn", "which no stack exports", "testRule.listenerRuleArn", "gate of rollout:backend"}, ""},
		{"no test URL", without(contract.TestURLOutput("backend")), nil, []string{"BackendTestUrl", "which no stack exports"}, ""},
		{"no strategy", without(contract.StrategyOutput("backend")), nil, []string{"gate: true but deploys with the rolling strategy", "BackendDeploymentStrategy"}, ""},
		{"strategy from the deployed stacks", without(contract.StrategyOutput("backend")), deploy.Outputs{contract.StrategyOutput("backend"): contract.StrategyCanary}, nil, ""},
		{"rolling", with(contract.StrategyOutput("backend"), contract.StrategyRolling), nil, []string{"rolling strategy"}, ""},
		{"unknown strategy", with(contract.StrategyOutput("backend"), "BLUE_GREEN"), nil, []string{`BackendDeploymentStrategy = "BLUE_GREEN"`, "ShopApp", "blue-green"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tg := &Target{App: gatedApp()}
			err := tg.checkStrategies([]cdkapp.Template{template(t, tc.outputs)}, tc.current, nil)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if got, _ := tg.strategyOf("backend", tc.current); tc.planned != "" && got != tc.planned {
					t.Errorf("strategy = %q, want %q", got, tc.planned)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range append(tc.want, "nothing was changed") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// The template's literal strategy is this release's; without one the
// deployed stacks' output says; without either, rolling.
func TestStrategyOf(t *testing.T) {
	tg := &Target{App: testApp(), strategies: map[string]string{"backend": contract.StrategyLinear}}
	out := deploy.Outputs{contract.StrategyOutput("backend"): contract.StrategyCanary, contract.StrategyOutput("worker"): contract.StrategyCanary}
	for svc, want := range map[string]string{"backend": contract.StrategyLinear, "worker": contract.StrategyCanary} {
		if got, err := tg.strategyOf(svc, out); err != nil || got != want {
			t.Errorf("%s: %q, %v; want %q", svc, got, err, want)
		}
	}
	if got, err := tg.strategyOf("worker", nil); err != nil || got != contract.StrategyRolling {
		t.Errorf("no output: %q, %v", got, err)
	}
	if _, err := tg.strategyOf("worker", deploy.Outputs{contract.StrategyOutput("worker"): "bluegreen"}); err == nil || !strings.Contains(err.Error(), "WorkerDeploymentStrategy") {
		t.Errorf("a bad output: %v", err)
	}
}

// The follower picks FollowServiceDeployment for blue-green, linear and
// canary (with the release's image, since its start, and the gate only
// for a gated service that existed before), Follow for rolling.
func TestFollowChoosesByStrategy(t *testing.T) {
	out := deploy.Outputs{
		contract.OutputCluster: "shop", contract.ServiceOutput("backend"): "shop-backend", contract.ServiceOutput("worker"): "shop-worker",
		contract.StrategyOutput("backend"): contract.StrategyBlueGreen,
		contract.TestURLOutput("backend"):  "https://api.example.com", contract.TestRuleOutput("backend"): "arn:rule",
	}
	stub := &stubECS{sdRes: ecs.ServiceDeploymentResult{ARN: "arn:aws:ecs:us-east-1:1:service-deployment/shop/shop-backend/abc", Status: "SUCCESSFUL",
		Stages: []string{"SCALE_UP", "POST_TEST_TRAFFIC_SHIFT", "CLEAN_UP"}, Gated: []string{contract.GateStage}, Elapsed: 3 * time.Second}}
	tg := &Target{App: gatedApp(), ECS: stub}
	img := deploy.Image{Service: "backend", Ref: "repo/shop-backend@" + newDigest}
	start := time.Now()
	o, err := tg.follow(context.Background(), &tg.App.Services[0], img, out, start, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(stub.sds) != 1 || len(stub.follows) != 0 {
		t.Fatalf("service deployments followed %d, deployments %d", len(stub.sds), len(stub.follows))
	}
	sd := stub.sds[0]
	if sd.Cluster != "shop" || sd.Service != "shop-backend" || !sd.Since.Equal(start) || sd.Images["app"] != img.Ref || sd.Gate == nil || sd.GateTimeout < appspec.DefaultGateTimeout {
		t.Errorf("spec = %+v", sd)
	}
	for _, w := range []string{"blue-green: completed", "abc", "SCALE_UP → POST_TEST_TRAFFIC_SHIFT → CLEAN_UP", "gate passed at POST_TEST_TRAFFIC_SHIFT"} {
		if !strings.Contains(o.Summary, w) {
			t.Errorf("summary %q does not say %q", o.Summary, w)
		}
	}

	// First deploy: no gate, and the summary says why.
	o, err = tg.follow(context.Background(), &tg.App.Services[0], img, out, start, true)
	if err != nil || stub.sds[1].Gate != nil || !strings.Contains(o.Summary, "gate not run: first deploy") {
		t.Errorf("first deploy: gate %v, %q, %v", stub.sds[1].Gate != nil, o.Summary, err)
	}
	// Unchanged.
	stub.sdRes = ecs.ServiceDeploymentResult{Unchanged: true}
	o, err = tg.follow(context.Background(), &tg.App.Services[0], img, out, time.Time{}, false)
	if err != nil || o.Summary != "blue-green: unchanged: shop-backend already runs "+digestOf(img.Ref)+", nothing deployed, gate not run" {
		t.Errorf("unchanged: %q, %v", o.Summary, err)
	}
	if stub.sds[2].Since.IsZero() {
		t.Error("Rollout's follower has no start time")
	}
	// Rolling: Follow.
	if _, err := tg.follow(context.Background(), &tg.App.Services[1], deploy.Image{Service: "worker", Ref: "repo/shop-worker@" + newDigest}, out, start, false); err != nil || len(stub.follows) != 1 {
		t.Errorf("rolling: follows %d, %v", len(stub.follows), err)
	}

	// A dry run says the strategy and whether the gate would run.
	tg.DryRun = true
	o, _ = tg.follow(context.Background(), &tg.App.Services[0], img, out, start, false)
	for _, w := range []string{"blue-green: would follow", "the gate would run at its PAUSE hook (health /health; smoke GET /api/orders, POST /api/echo)"} {
		if !strings.Contains(o.Summary, w) {
			t.Errorf("dry run %q does not say %q", o.Summary, w)
		}
	}
	o, _ = tg.follow(context.Background(), &tg.App.Services[1], img, out, start, false)
	if strings.Contains(o.Summary, "gate") || !strings.HasPrefix(o.Summary, "would follow") {
		t.Errorf("rolling dry run %q", o.Summary)
	}
}

// A release that adds the gate pauses before its stack outputs exist: the
// gate works them out from the template and the stack's resources.
func TestGateRouteFromTheTemplate(t *testing.T) {
	a := fakeaws.New(t)
	tpl := `{"Resources": {"TestRule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {"Priority": 9}}}, "Outputs": {}}`
	if err := a.ApplyTemplate(stack, tpl); err != nil {
		t.Fatal(err)
	}
	tg := &Target{App: gatedApp(), AWS: a.Config()}
	needs := []cdkapp.Need{{Key: contract.TestURLOutput("backend"), Name: contract.TestURLOutput("backend")}, {Key: contract.TestRuleOutput("backend"), Name: contract.TestRuleOutput("backend")}}
	tg.recordOutputExprs([]cdkapp.Template{template(t, map[string]any{
		contract.TestURLOutput("backend"):  map[string]any{"Fn::Join": []any{"", []any{"https://api.", map[string]any{"Ref": "AWS::Region"}, ".example.com"}}},
		contract.TestRuleOutput("backend"): map[string]any{"Ref": "TestRule"},
	})}, needs)
	url, rule, err := tg.gateRoute(context.Background(), "backend", deploy.Outputs{})
	if err != nil {
		t.Fatal(err)
	}
	if url != "https://api.us-east-1.example.com" || rule == "" || rule == "TestRule" {
		t.Errorf("url %q, rule %q", url, rule)
	}
	// The outputs win when they exist; the override wins over both.
	tg.TestURL = "http://localhost:9"
	url, rule, err = tg.gateRoute(context.Background(), "backend", deploy.Outputs{contract.TestRuleOutput("backend"): "arn:rule"})
	if err != nil || url != "http://localhost:9" || rule != "arn:rule" {
		t.Errorf("url %q, rule %q, %v", url, rule, err)
	}
	// What cannot be evaluated says what to export.
	tg.TestURL = ""
	tg.recordOutputExprs([]cdkapp.Template{template(t, map[string]any{contract.TestURLOutput("backend"): map[string]any{"Fn::Sub": "https://${Domain}"}})}, needs)
	if _, _, err := tg.gateRoute(context.Background(), "backend", deploy.Outputs{}); err == nil || !strings.Contains(err.Error(), "BackendTestUrl") || !strings.Contains(err.Error(), "Fn::Sub") {
		t.Errorf("error = %v", err)
	}
}

// The bake times stevedore.yaml gives come on top of the follower's limit.
