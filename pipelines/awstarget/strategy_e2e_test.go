package awstarget

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/cfn"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
	"github.com/stevedore-ci/stevedore/pipelines/gate"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// These tests run blue-green, linear and canary releases through the deploy
// graph on the fake AWS: the stacks declare the strategy and, for a gated
// service, the PAUSE hook, a test listener rule and the gate's outputs;
// the gate's requests reach the fake load balancer front.

// e2eStrategy is how the template deploys one service.
type e2eStrategy struct {
	strategy string // contract.Strategy*
	gate     bool   // a PAUSE hook, the test rule and the gate's outputs
	noRule   bool   // without the TestRuleOutput output
	noHook   bool   // gated outputs without the PAUSE hook
}

var ecsStrategies = map[string]string{contract.StrategyBlueGreen: "BLUE_GREEN", contract.StrategyLinear: "LINEAR", contract.StrategyCanary: "CANARY"}

// strategyTemplate is shopTemplate with the services of cfg deployed by
// their strategy behind one load balancer: blue and green target groups, a
// production rule and a test rule whose header value is a dynamic
// reference (as the CDK renders it), and the outputs stevedore reads.
func (e *e2e) strategyTemplate(images map[string]string, cfg map[string]e2eStrategy) string {
	var doc map[string]any
	if err := json.Unmarshal([]byte(shopTemplate(images, e.health.URL, e.dbName)), &doc); err != nil {
		e.t.Fatal(err)
	}
	res, outs := doc["Resources"].(map[string]any), doc["Outputs"].(map[string]any)
	ref := func(id string) map[string]any { return map[string]any{"Ref": id} }
	res["Lb"] = map[string]any{"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": map[string]any{}}
	res["Listener"] = map[string]any{"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": map[string]any{"LoadBalancerArn": ref("Lb"), "Port": 80}}
	res["GateToken"] = map[string]any{"Type": "AWS::SecretsManager::Secret", "Properties": map[string]any{"GenerateSecretString": map[string]any{}}}
	prio := 10
	for _, svc := range []string{"backend", "worker"} {
		c, ok := cfg[svc]
		if !ok {
			continue
		}
		container := map[string]string{"backend": "app", "worker": "worker"}[svc]
		props := res[svc+"Service"].(map[string]any)["Properties"].(map[string]any)
		dc := props["DeploymentConfiguration"].(map[string]any)
		dc["Strategy"], dc["BakeTimeInMinutes"] = ecsStrategies[c.strategy], 1
		switch c.strategy {
		case contract.StrategyLinear:
			dc["LinearConfiguration"] = map[string]any{"StepPercent": 25, "StepBakeTimeInMinutes": 1}
		case contract.StrategyCanary:
			dc["CanaryConfiguration"] = map[string]any{"CanaryPercent": 10, "CanaryBakeTimeInMinutes": 1}
		}
		if c.gate && !c.noHook {
			dc["LifecycleHooks"] = []any{map[string]any{"TargetType": "PAUSE", "LifecycleStages": []string{contract.GateStage},
				"TimeoutConfiguration": map[string]any{"Action": contract.GateTimeoutAction, "TimeoutInMinutes": contract.GateHookTimeoutMinutes}}}
		}
		forward := []any{map[string]any{"Type": "forward", "TargetGroupArn": ref(svc + "Blue")}}
		path := map[string]any{"Field": "path-pattern", "PathPatternConfig": map[string]any{"Values": []string{"/*"}}}
		for _, tg := range []string{"Blue", "Green"} {
			res[svc+tg] = map[string]any{"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": map[string]any{"Port": 8000}}
		}
		res[svc+"ProdRule"] = map[string]any{"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": map[string]any{
			"ListenerArn": ref("Listener"), "Priority": prio + 20, "Conditions": []any{path}, "Actions": forward}}
		res[svc+"TestRule"] = map[string]any{"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": map[string]any{
			"ListenerArn": ref("Listener"), "Priority": prio, "Actions": forward, "Conditions": []any{path,
				map[string]any{"Field": "http-header", "HttpHeaderConfig": map[string]any{"HttpHeaderName": contract.GateHeader,
					"Values": []any{map[string]any{"Fn::Join": []any{"", []any{"{{resolve:secretsmanager:", ref("GateToken"), ":SecretString:::}}"}}}}}}}}}
		prio++
		props["LoadBalancers"] = []any{map[string]any{"ContainerName": container, "ContainerPort": 8000, "TargetGroupArn": ref(svc + "Blue"),
			"AdvancedConfiguration": map[string]any{"AlternateTargetGroupArn": ref(svc + "Green"), "ProductionListenerRule": ref(svc + "ProdRule"),
				"TestListenerRule": ref(svc + "TestRule"), "RoleArn": "arn:aws:iam::123456789012:role/ecs-infra"}}}
		outs[contract.StrategyOutput(svc)] = map[string]any{"Value": c.strategy}
		if c.gate {
			outs[contract.TestURLOutput(svc)] = map[string]any{"Value": e.a.LoadBalancerURL()}
			if !c.noRule {
				outs[contract.TestRuleOutput(svc)] = map[string]any{"Value": ref(svc + "TestRule")}
			}
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// logSink keeps every line the target and its ECS client print.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

func (l *logSink) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// revision records what the new backend revision was asked, and answers
// /api/orders with orders (status 200 unless told otherwise).
type revision struct {
	mu     sync.Mutex
	orders int
	paths  []string
	tokens []string // the X-Stevedore-Test values it saw
}

func (r *revision) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	if v := req.Header.Get(contract.GateHeader); v != "" && !slices.Contains(r.tokens, v) {
		r.tokens = append(r.tokens, v)
	}
	status := r.orders
	r.mu.Unlock()
	if req.URL.Path == "/api/orders" && status != 0 {
		rw.WriteHeader(status)
		if status >= 500 {
			io.WriteString(rw, `{"detail":"relation \"orders\" does not exist"}`)
			return
		}
	}
	io.WriteString(rw, `["orders"]`)
}

func (r *revision) seen() (paths, tokens []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.paths), slices.Clone(r.tokens)
}

// strategyE2E is the fake account with ShopApp deployed on the old images
// by cfg, the new backend revision answering through rev.
type strategyE2E struct {
	*e2e
	cfg  map[string]e2eStrategy
	rev  *revision
	logs *logSink
}

func newStrategyE2E(t *testing.T, cfg map[string]e2eStrategy) *strategyE2E {
	// The fake on the machine's clock: the follower finds its deployment
	// by Since and judges the hook's ExpiresAt by the real clock.
	e := &strategyE2E{e2e: newE2E(t, true, fakeaws.WithWallClock()), cfg: cfg, rev: &revision{}, logs: &logSink{}}
	e.template = func(images map[string]string) string { return e.strategyTemplate(images, e.cfg) }
	e.a.SetRevisionHandler(e.newRef["backend"], e.rev)
	old := map[string]string{"backend": e.a.RepositoryURI("shop-backend") + "@" + oldDigest, "worker": e.a.RepositoryURI("shop-worker") + "@" + oldDigest}
	if err := e.a.ApplyTemplate(stack, e.template(old)); err != nil {
		t.Fatal(err)
	}
	e.a.ResetCalls()
	return e
}

// app is the shop with each service of cfg deployed as it says; a gated
// one checks /health and GET /api/orders.
func (e *strategyE2E) app() *appspec.App {
	app := testApp()
	for i, s := range app.Services {
		c, ok := e.cfg[s.Name]
		if !ok {
			continue
		}
		d := &appspec.Deployment{Strategy: c.strategy, Gate: c.gate}
		if c.gate {
			app.Services[i].Health = "/health"
			d.Smoke, d.GateTimeout = []gate.Smoke{{Path: "/api/orders", Body: "orders"}}, "1s"
		}
		app.Services[i].Deployment = d
	}
	return app
}

func (e *strategyE2E) target() *Target {
	tg := e.e2e.target()
	tg.App = e.app()
	tg.ECS = ecs.New(e.a.Config(), ecs.WithLog(e.logs.add))
	tg.Log, tg.ruleSettle = e.logs.add, time.Millisecond
	if err := tg.Check(); err != nil {
		e.t.Fatal(err)
	}
	return tg
}

// run is e2e.run within a time limit: a follower that never decides
// fails the test with the log instead of hanging it.
func (e *strategyE2E) run(t *Target) (*steps.Report, error) {
	e.last = t
	p := &deploy.Pipeline{
		Services: t.App.ServiceNames(), Migrate: t.App.Migrate.Service,
		Build: fakeBuild{}, Preflight: t, Push: t, Synth: e2eSynth{stacks: []string{stack}}, Infra: t, Follow: t, Release: t,
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := p.Run(ctx, steps.Options{})
	if ctx.Err() != nil {
		e.t.Fatalf("the deploy did not end within a minute:\n%s\n%s", rep.Text(), e.logs.text())
	}
	return rep, err
}

// assertNoToken: the release's token is in no log line, report or error.
func (e *strategyE2E) assertNoToken(rep *steps.Report, err error) {
	e.t.Helper()
	_, tokens := e.rev.seen()
	js, _ := json.Marshal(rep)
	for _, tok := range tokens {
		for what, text := range map[string]string{"the log": e.logs.text(), "the report": rep.Text(), "the JSON report": string(js), "the error": fmt.Sprint(err)} {
			if strings.Contains(text, tok) {
				e.t.Errorf("%s shows the gate's token", what)
			}
		}
	}
}

func (e *strategyE2E) ruleArn() string {
	out, err := cfn.NewReader(e.a.Config()).Outputs(context.Background(), stack)
	if err != nil {
		e.t.Fatal(err)
	}
	return out[contract.TestRuleOutput("backend")]
}

// A blue-green release with the gate: the deployment pauses at its hook,
// the gate's checks reach the new revision through the load balancer front
// with the release's header value, CONTINUE goes out, the deployment goes
// through every stage; the rolling worker completes beside it. The token
// is never shown, and the test route is closed afterwards. A re-run is
// unchanged at once for both, without a gate.
func TestE2EBlueGreenGatePasses(t *testing.T) {
	e := newStrategyE2E(t, map[string]e2eStrategy{"backend": {strategy: contract.StrategyBlueGreen, gate: true}})
	rep, err := e.run(e.target())
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, rep.Text(), e.logs.text())
	}
	got := summary(t, rep, deploy.RolloutStep("backend"))
	stages := "stages RECONCILE_SERVICE → PRE_SCALE_UP → SCALE_UP → POST_SCALE_UP → TEST_TRAFFIC_SHIFT → POST_TEST_TRAFFIC_SHIFT → PRODUCTION_TRAFFIC_SHIFT → POST_PRODUCTION_TRAFFIC_SHIFT → BAKE_TIME → CLEAN_UP;"
	for _, w := range []string{"blue-green: completed: service deployment ", stages, "gate passed at POST_TEST_TRAFFIC_SHIFT"} {
		if !strings.Contains(got, w) {
			t.Errorf("rollout:backend says %q, not %q", got, w)
		}
	}
	if w := summary(t, rep, deploy.RolloutStep("worker")); !strings.HasPrefix(w, "completed: ") {
		t.Errorf("the rolling worker says %q", w)
	}
	paths, tokens := e.rev.seen()
	if !slices.Contains(paths, "/health") || !slices.Contains(paths, "/api/orders") || len(tokens) != 1 {
		t.Fatalf("the new revision was asked %v with header values %d", paths, len(tokens))
	}
	if cont := e.a.CallsTo("ContinueServiceDeployment"); len(cont) != 1 || !strings.Contains(fmt.Sprint(cont[0].Body), "CONTINUE") {
		t.Errorf("ContinueServiceDeployment calls: %v", cont)
	}
	if mods := e.a.CallsTo("ModifyRule"); len(mods) != 2 {
		t.Errorf("ModifyRule calls = %d, want 2 (open, close)", len(mods))
	}
	if r, _ := e.a.Rule(e.ruleArn()); slices.Contains(r.HeaderValues, tokens[0]) || len(r.HeaderValues) == 0 {
		t.Errorf("the test route is left open: %v", r.HeaderValues)
	}
	if imgs := e.images(); imgs["backend"] != e.newRef["backend"] || imgs["worker"] != e.newRef["worker"] {
		t.Errorf("services run %v", imgs)
	}
	e.assertNoToken(rep, err)

	// The re-run: unchanged at once, no gate, nothing changed.
	e.a.ResetCalls()
	rep, err = e.run(e.target())
	if err != nil {
		t.Fatalf("re-run: %v\n%s", err, rep.Text())
	}
	if got := summary(t, rep, deploy.RolloutStep("backend")); got != "blue-green: unchanged: shop-backend already runs "+digestOf(e.newRef["backend"])+", nothing deployed, gate not run" {
		t.Errorf("re-run rollout:backend says %q", got)
	}
	if got := summary(t, rep, deploy.RolloutStep("worker")); !strings.HasPrefix(got, "unchanged: shop-worker already runs") {
		t.Errorf("re-run rollout:worker says %q", got)
	}
	for _, op := range []string{"ModifyRule", "ContinueServiceDeployment", "UpdateService", "ExecuteChangeSet"} {
		if n := len(e.a.CallsTo(op)); n > 0 {
			t.Errorf("the re-run called %s %d times", op, n)
		}
	}
	if again, _ := e.rev.seen(); len(again) != len(paths) {
		t.Errorf("the re-run checked the revision again: %v", again[len(paths):])
	}
}

// A smoke request that keeps failing: the gate sends ROLLBACK, the
// follower sees ROLLBACK_SUCCESSFUL, the service is back on its old
// image, and the deploy fails with the check's evidence and the
// rollback's result.
func TestE2EGateFailsAndRollsBack(t *testing.T) {
	e := newStrategyE2E(t, map[string]e2eStrategy{"backend": {strategy: contract.StrategyBlueGreen, gate: true}})
	e.rev.orders = http.StatusInternalServerError
	before := e.images()["backend"]
	rep, err := e.run(e.target())
	if err == nil {
		t.Fatalf("the deploy succeeded:\n%s", rep.Text())
	}
	st, _ := rep.Step(deploy.RolloutStep("backend"))
	for _, w := range []string{"the gate at POST_TEST_TRAFFIC_SHIFT failed", "smoke GET /api/orders did not pass within 1s",
		"want 200, got 500", `relation \"orders\" does not exist`, "ROLLBACK_SUCCESSFUL"} {
		if !strings.Contains(st.Err, w) {
			t.Errorf("rollout:backend error lacks %q:\n%s", w, st.Err)
		}
	}
	if paths, tokens := e.rev.seen(); !slices.Contains(paths, "/api/orders") || len(tokens) != 1 {
		t.Errorf("the checks did not reach the new revision with the header: %v, %d values", paths, len(tokens))
	}
	if cont := e.a.CallsTo("ContinueServiceDeployment"); len(cont) != 1 || !strings.Contains(fmt.Sprint(cont[0].Body), "ROLLBACK") {
		t.Errorf("ContinueServiceDeployment calls: %v", cont)
	}
	if got := e.images()["backend"]; got != before {
		t.Errorf("backend runs %s after the rollback, want %s", got, before)
	}
	if vs, _ := rep.Step(deploy.StepVerify); vs.Status != steps.StatusSkipped {
		t.Errorf("verify = %s", vs.Status)
	}
	e.assertNoToken(rep, err)
}

// A gated service whose stacks lack the test rule's output: check-stacks
// fails, naming the output and the stack, before the migration and before
// any change set is executed.
func TestE2EGateOutputsMissing(t *testing.T) {
	e := newStrategyE2E(t, map[string]e2eStrategy{"backend": {strategy: contract.StrategyBlueGreen, gate: true}})
	e.cfg["backend"] = e2eStrategy{strategy: contract.StrategyBlueGreen, gate: true, noRule: true}
	rep, err := e.run(e.target())
	if err == nil {
		t.Fatalf("the deploy succeeded:\n%s", rep.Text())
	}
	st, _ := rep.Step(deploy.StepCheckStacks)
	for _, w := range []string{"the gate cannot run, nothing was changed", "the gate of rollout:backend needs the stack output BackendTestRuleArn", "add it to ShopApp"} {
		if !strings.Contains(st.Err, w) {
			t.Errorf("check-stacks error lacks %q:\n%s", w, st.Err)
		}
	}
	for _, op := range []string{"ecs:RunTask", "cloudformation:ExecuteChangeSet", "ecs:UpdateService", "elasticloadbalancing:ModifyRule"} {
		if e.op(op) >= 0 {
			t.Errorf("%s was called: %v", op, e.a.Mutating())
		}
	}
}

// Linear and canary services are followed by their service deployment to
// success, traffic shifted in steps, beside a rolling one.
func TestE2ELinearAndCanary(t *testing.T) {
	for _, strategy := range []string{contract.StrategyLinear, contract.StrategyCanary} {
		t.Run(strategy, func(t *testing.T) {
			e := newStrategyE2E(t, map[string]e2eStrategy{"worker": {strategy: strategy}})
			rep, err := e.run(e.target())
			if err != nil {
				t.Fatalf("%v\n%s\n%s", err, rep.Text(), e.logs.text())
			}
			got := summary(t, rep, deploy.RolloutStep("worker"))
			if !strings.HasPrefix(got, strategy+": completed: service deployment ") || !strings.Contains(got, "PRODUCTION_TRAFFIC_SHIFT → POST_PRODUCTION_TRAFFIC_SHIFT → BAKE_TIME → CLEAN_UP") || strings.Contains(got, "gate") {
				t.Errorf("rollout:worker says %q", got)
			}
			want := "production traffic 25%"
			if strategy == contract.StrategyCanary {
				want = "production traffic 10%"
			}
			if !strings.Contains(e.logs.text(), want) {
				t.Errorf("the log never says %q:\n%s", want, e.logs.text())
			}
			if w := summary(t, rep, deploy.RolloutStep("backend")); !strings.HasPrefix(w, "completed: ") {
				t.Errorf("the rolling backend says %q", w)
			}
			if imgs := e.images(); imgs["worker"] != e.newRef["worker"] {
				t.Errorf("worker runs %s", imgs["worker"])
			}
		})
	}
}

// A dry run says which strategy each service deploys with and whether its
// gate would run, and changes nothing.
func TestE2EDryRunSaysStrategyAndGate(t *testing.T) {
	e := newStrategyE2E(t, map[string]e2eStrategy{"backend": {strategy: contract.StrategyBlueGreen, gate: true}})
	tg := e.target()
	tg.DryRun = true
	rep, err := e.run(tg)
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	if got := summary(t, rep, deploy.RolloutStep("backend")); !strings.HasPrefix(got, "blue-green: would follow") || !strings.Contains(got, "the gate would run at its PAUSE hook (health /health; smoke GET /api/orders)") {
		t.Errorf("dry run rollout:backend says %q", got)
	}
	if got := summary(t, rep, deploy.RolloutStep("worker")); !strings.HasPrefix(got, "would follow") {
		t.Errorf("dry run rollout:worker says %q", got)
	}
	if m := e.a.Mutating(); len(m) > 0 {
		t.Errorf("the dry run changed %v", m)
	}
}

// The first deploy of a gated blue-green service: the service is created
// by deploy-infra (no earlier revision to test against or roll back to),
// so its first deployment is followed to success without the gate, and
// the report says so.
func TestE2EBlueGreenFirstDeploy(t *testing.T) {
	e := &strategyE2E{e2e: newE2E(t, true, fakeaws.WithWallClock()), cfg: map[string]e2eStrategy{"backend": {strategy: contract.StrategyBlueGreen, gate: true}}, rev: &revision{}, logs: &logSink{}}
	e.template = func(images map[string]string) string { return e.strategyTemplate(images, e.cfg) }
	rep, err := e.run(e.target())
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, rep.Text(), e.logs.text())
	}
	if got := summary(t, rep, deploy.RolloutStep("backend")); !strings.HasPrefix(got, "blue-green: completed: service deployment ") || !strings.HasSuffix(got, "gate not run: first deploy of the service, no earlier revision to roll back to") {
		t.Errorf("rollout:backend says %q", got)
	}
	if n := len(e.a.CallsTo("ModifyRule")); n > 0 {
		t.Errorf("the gate ran: %d ModifyRule calls", n)
	}
	if imgs := e.images(); imgs["backend"] != e.newRef["backend"] {
		t.Errorf("backend runs %s", imgs["backend"])
	}
}

// A gated service whose stack lacks the PAUSE hook: its deployment goes
// live without pausing, and the deploy fails saying the gate never ran.
func TestE2EGateNeverRan(t *testing.T) {
	e := newStrategyE2E(t, map[string]e2eStrategy{"backend": {strategy: contract.StrategyBlueGreen, gate: true, noHook: true}})
	rep, err := e.run(e.target())
	if err == nil {
		t.Fatalf("the deploy succeeded:\n%s", rep.Text())
	}
	st, _ := rep.Step(deploy.RolloutStep("backend"))
	if !strings.Contains(st.Err, "succeeded without pausing at a PAUSE lifecycle hook, so the gate never ran") {
		t.Errorf("rollout:backend error: %s", st.Err)
	}
	if paths, _ := e.rev.seen(); len(paths) > 0 {
		t.Errorf("the revision was checked without a pause: %v", paths)
	}
}
