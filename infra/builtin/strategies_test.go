package builtin

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// strategiesDescription has one service per deployment strategy (see its header).
const strategiesDescription = "../../pipelines/appspec/testdata/strategies.yaml"

const strategiesStack = "StratServicesStack-prod"

var strategyServices = []string{"api", "steps", "web", "legacy", "worker"}

// strategiesContext is the strategies description in prod with its images.
func strategiesContext(extra ...string) map[string]string {
	return strategiesVariant(strategiesDescription, extra...)
}

// strategiesVariant is a copy of the strategies description (see variant) in prod with its images.
func strategiesVariant(description string, extra ...string) map[string]string {
	var kv []string
	for _, s := range strategyServices {
		kv = append(kv, "image."+s, testAccount+".dkr.ecr.us-east-1.amazonaws.com/strat-"+s+"@sha256:"+strings.Repeat("6", 64))
	}
	return ctx(description, "prod", append(kv, extra...)...)
}

// ecsServiceOf returns the logical ID and properties of a service's AWS::ECS::Service.
func ecsServiceOf(t *testing.T, s *synthesized, name string) (string, map[string]any) {
	t.Helper()
	for id, props := range s.resources(t, strategiesStack, "AWS::ECS::Service") {
		if strings.HasPrefix(id, contract.Pascal(name)+"Service") {
			return id, props
		}
	}
	t.Fatalf("no AWS::ECS::Service of %s", name)
	return "", nil
}

// targetGroupsOf lists the logical IDs of a service's target groups (blue first).
func targetGroupsOf(t *testing.T, s *synthesized, name string) []string {
	t.Helper()
	var ids []string
	for id := range s.resources(t, strategiesStack, "AWS::ElasticLoadBalancingV2::TargetGroup") {
		if strings.Contains(id, contract.Pascal(name)+"TargetGroup") || strings.Contains(id, contract.Pascal(name)+"AlternateTargetGroup") {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int {
		return strings.Compare(fmt.Sprint(strings.Contains(a, "Alternate")), fmt.Sprint(strings.Contains(b, "Alternate")))
	})
	return ids
}

// ruleOf returns the listener rule whose logical ID contains Pascal(name)+kind.
func ruleOf(t *testing.T, s *synthesized, name, kind string) (string, map[string]any) {
	t.Helper()
	for id, props := range s.resources(t, strategiesStack, "AWS::ElasticLoadBalancingV2::ListenerRule") {
		if strings.Contains(id, contract.Pascal(name)+kind) {
			return id, props
		}
	}
	return "", nil
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }

func TestDeploymentStrategies(t *testing.T) {
	s := synth(t, strategiesContext())
	for _, tc := range []struct {
		service  string
		strategy string // ECS's name; "" for rolling (the L2 default, not written)
		bake     any
		linear   map[string]any
		canary   map[string]any
		alarms   []any
		stage    string // the PAUSE hook's stage, "" without the gate
		shifted  bool   // alternate target group and listener rules
		path     string // the production rule's path pattern
	}{
		{service: "api", strategy: "BLUE_GREEN", bake: 10.0, alarms: []any{"strat-api-5xx", "strat-api-latency"}, stage: contract.GateStage, shifted: true, path: "/api/*"},
		{service: "steps", strategy: "LINEAR", bake: 5.0, linear: map[string]any{"StepPercent": 25.0, "StepBakeTimeInMinutes": 2.0}, shifted: true, path: "/steps/*"},
		{service: "web", strategy: "CANARY", canary: map[string]any{"CanaryPercent": 10.0, "CanaryBakeTimeInMinutes": 5.0}, alarms: []any{"strat-web-5xx"}, stage: contract.GateStage, shifted: true, path: "/*"},
		{service: "legacy", alarms: []any{"strat-legacy-5xx"}},
		{service: "worker", strategy: "BLUE_GREEN"},
	} {
		t.Run(tc.service, func(t *testing.T) {
			_, svc := ecsServiceOf(t, s, tc.service)
			dc := svc["DeploymentConfiguration"].(map[string]any)
			if got := dc["Strategy"]; (tc.strategy == "" && got != nil) || (tc.strategy != "" && got != tc.strategy) {
				t.Errorf("Strategy = %v, want %q", got, tc.strategy)
			}
			if fmt.Sprint(dc["BakeTimeInMinutes"]) != fmt.Sprint(tc.bake) && !(tc.bake == nil && dc["BakeTimeInMinutes"] == nil) {
				t.Errorf("BakeTimeInMinutes = %v, want %v", dc["BakeTimeInMinutes"], tc.bake)
			}
			if js(dc["LinearConfiguration"]) != js(tc.linear) && !(tc.linear == nil && dc["LinearConfiguration"] == nil) {
				t.Errorf("LinearConfiguration = %s, want %s", js(dc["LinearConfiguration"]), js(tc.linear))
			}
			if js(dc["CanaryConfiguration"]) != js(tc.canary) && !(tc.canary == nil && dc["CanaryConfiguration"] == nil) {
				t.Errorf("CanaryConfiguration = %s, want %s", js(dc["CanaryConfiguration"]), js(tc.canary))
			}
			if js(dc["DeploymentCircuitBreaker"]) != `{"Enable":true,"Rollback":true}` {
				t.Errorf("circuit breaker = %s", js(dc["DeploymentCircuitBreaker"]))
			}
			alarms, _ := dc["Alarms"].(map[string]any)
			if tc.alarms != nil {
				if js(alarms) != js(map[string]any{"AlarmNames": tc.alarms, "Enable": true, "Rollback": true}) {
					t.Errorf("Alarms = %s, want %v with Enable and Rollback", js(alarms), tc.alarms)
				}
			} else if alarms != nil && alarms["Enable"] != false {
				t.Errorf("Alarms = %s, want none enabled", js(alarms))
			}
			hooks, _ := dc["LifecycleHooks"].([]any)
			if tc.stage == "" {
				if len(hooks) != 0 {
					t.Errorf("LifecycleHooks = %s, want none", js(hooks))
				}
			} else {
				want := map[string]any{
					"TargetType": "PAUSE", "LifecycleStages": []any{tc.stage},
					"TimeoutConfiguration": map[string]any{"Action": contract.GateTimeoutAction, "TimeoutInMinutes": float64(contract.GateHookTimeoutMinutes)},
				}
				if len(hooks) != 1 || js(hooks[0]) != js(want) {
					t.Errorf("LifecycleHooks = %s, want [%s]", js(hooks), js(want))
				}
			}

			lbs, _ := svc["LoadBalancers"].([]any)
			groups := targetGroupsOf(t, s, tc.service)
			prodID, prod := ruleOf(t, s, tc.service, "RouteRule")
			testID, test := ruleOf(t, s, tc.service, "TestRouteRule")
			switch {
			case tc.service == "worker":
				if len(lbs) != 0 || len(groups) != 0 {
					t.Errorf("worker without the ALB has load balancers %s, groups %v", js(lbs), groups)
				}
				return
			case !tc.shifted:
				if len(groups) != 1 || len(lbs) != 1 || lbs[0].(map[string]any)["AdvancedConfiguration"] != nil {
					t.Errorf("rolling: groups %v, load balancers %s; want one group, no advanced configuration", groups, js(lbs))
				}
				if testID != "" {
					t.Errorf("rolling service has a test rule %s", testID)
				}
				return
			}
			if len(groups) != 2 {
				t.Fatalf("target groups = %v, want the service's and the alternate", groups)
			}
			blue, green := groups[0], groups[1]
			tgs := s.resources(t, strategiesStack, "AWS::ElasticLoadBalancingV2::TargetGroup")
			for _, k := range []string{"Port", "Protocol", "TargetType", "HealthCheckPath", "HealthyThresholdCount", "UnhealthyThresholdCount", "VpcId", "TargetGroupAttributes"} {
				if js(tgs[blue][k]) != js(tgs[green][k]) {
					t.Errorf("alternate group %s = %s, the service's %s", k, js(tgs[green][k]), js(tgs[blue][k]))
				}
			}
			if prodID == "" {
				t.Fatal("no production listener rule")
			}
			forwardTo := func(rule map[string]any) string { return js(rule["Actions"]) }
			if want := js([]any{map[string]any{"Type": "forward", "TargetGroupArn": ref(blue)}}); forwardTo(prod) != want {
				t.Errorf("production rule actions = %s, want %s", forwardTo(prod), want)
			}
			if c := js(prod["Conditions"]); !strings.Contains(c, `"Values":["`+tc.path+`"]`) {
				t.Errorf("production rule conditions = %s, want path %s", c, tc.path)
			}
			adv, _ := lbs[0].(map[string]any)["AdvancedConfiguration"].(map[string]any)
			if js(lbs[0].(map[string]any)["TargetGroupArn"]) != js(ref(blue)) {
				t.Errorf("TargetGroupArn = %s, want the service's group %s", js(lbs[0].(map[string]any)["TargetGroupArn"]), blue)
			}
			if js(adv["AlternateTargetGroupArn"]) != js(ref(green)) || js(adv["ProductionListenerRule"]) != js(ref(prodID)) {
				t.Errorf("AdvancedConfiguration = %s, want alternate %s and production rule %s", js(adv), green, prodID)
			}
			roleArn, _ := adv["RoleArn"].(map[string]any)["Fn::GetAtt"].([]any)
			if len(roleArn) != 2 {
				t.Fatalf("RoleArn = %s", js(adv["RoleArn"]))
			}
			roles := s.resources(t, strategiesStack, "AWS::IAM::Role")
			r := roles[roleArn[0].(string)]
			if !strings.Contains(js(r["AssumeRolePolicyDocument"]), `"Service":"ecs.amazonaws.com"`) ||
				!strings.Contains(js(r["ManagedPolicyArns"]), ":iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers") {
				t.Errorf("infrastructure role = %s", js(r))
			}
			if r["Path"] != "/stevedore/strat/prod/" {
				t.Errorf("infrastructure role path = %v", r["Path"])
			}
			if tc.stage == "" {
				if adv["TestListenerRule"] != nil || testID != "" {
					t.Errorf("no gate, but test rule %s / %s", testID, js(adv["TestListenerRule"]))
				}
				return
			}
			if testID == "" || js(adv["TestListenerRule"]) != js(ref(testID)) {
				t.Fatalf("TestListenerRule = %s, test rule %q", js(adv["TestListenerRule"]), testID)
			}
			if forwardTo(test) != forwardTo(prod) {
				t.Errorf("test rule actions = %s, want the production rule's %s", forwardTo(test), forwardTo(prod))
			}
			if test["ListenerArn"] == nil || js(test["ListenerArn"]) != js(prod["ListenerArn"]) {
				t.Errorf("test rule on listener %s, production rule on %s: want the same", js(test["ListenerArn"]), js(prod["ListenerArn"]))
			}
			if test["Priority"].(float64) >= prod["Priority"].(float64) {
				t.Errorf("test rule priority %v is not before the production rule's %v", test["Priority"], prod["Priority"])
			}
			var header map[string]any
			for _, c := range test["Conditions"].([]any) {
				c := c.(map[string]any)
				switch c["Field"] {
				case "http-header":
					header = c["HttpHeaderConfig"].(map[string]any)
				case "path-pattern":
					if js(c["PathPatternConfig"]) != js(map[string]any{"Values": []any{tc.path}}) {
						t.Errorf("test rule path = %s, want %s", js(c), tc.path)
					}
				}
			}
			if header == nil || header["HttpHeaderName"] != contract.GateHeader {
				t.Fatalf("test rule conditions = %s, want an http-header condition on %s", js(test["Conditions"]), contract.GateHeader)
			}
			value := js(header["Values"])
			secrets := s.resources(t, strategiesStack, "AWS::SecretsManager::Secret")
			referenced := false
			for id := range secrets {
				referenced = referenced || strings.Contains(value, `{"Ref":"`+id+`"}`)
			}
			if !strings.Contains(value, "{{resolve:secretsmanager:") || !referenced {
				t.Errorf("header value = %s, want a dynamic reference to a stack secret", value)
			}
			tags := js(test["Tags"])
			for _, kv := range []string{`{"Key":"stevedore:app","Value":"strat"}`, `{"Key":"stevedore:env","Value":"prod"}`, `{"Key":"` + testRuleTag + `","Value":"` + tc.service + `"}`} {
				if !strings.Contains(tags, kv) {
					t.Errorf("test rule tags %s lack %s", tags, kv)
				}
			}
		})
	}
}

// TestDeploymentOutputs: the strategy of every service; with the gate
// behind the ALB the test route's base URL and the test rule's ARN.
func TestDeploymentOutputs(t *testing.T) {
	s := synth(t, strategiesContext())
	out := s.outputs(t, strategiesStack)
	_, lbID := func() (string, string) {
		id, _ := s.only(t, strategiesStack, "AWS::ElasticLoadBalancingV2::LoadBalancer")
		return "", id
	}()
	dns := js(getAtt(lbID, "DNSName"))
	for _, tc := range []struct {
		service, strategy, url string
	}{
		{"api", contract.StrategyBlueGreen, "/api"},
		{"steps", contract.StrategyLinear, ""},
		{"web", contract.StrategyCanary, "/"},
		{"legacy", contract.StrategyRolling, ""},
		{"worker", contract.StrategyBlueGreen, ""},
	} {
		t.Run(tc.service, func(t *testing.T) {
			if got := out[contract.StrategyOutput(tc.service)]; got != tc.strategy {
				t.Errorf("%s = %v, want %s", contract.StrategyOutput(tc.service), got, tc.strategy)
			}
			url, rule := out[contract.TestURLOutput(tc.service)], out[contract.TestRuleOutput(tc.service)]
			if tc.url == "" {
				if url != nil || rule != nil {
					t.Errorf("no test route expected, got %v and %v", url, rule)
				}
				return
			}
			suffix := strings.TrimSuffix(tc.url, "/")
			if js(url) != js(map[string]any{"Fn::Join": []any{"", []any{"http://", getAtt(lbID, "DNSName"), suffix}}}) &&
				!(suffix == "" && js(url) == js(map[string]any{"Fn::Join": []any{"", []any{"http://", getAtt(lbID, "DNSName")}}})) {
				t.Errorf("%s = %s, want http:// + %s + %q", contract.TestURLOutput(tc.service), js(url), dns, suffix)
			}
			testID, _ := ruleOf(t, s, tc.service, "TestRouteRule")
			if js(rule) != js(ref(testID)) {
				t.Errorf("%s = %s, want the test rule %s", contract.TestRuleOutput(tc.service), js(rule), testID)
			}
		})
	}
}

// TestDeploymentRoleForStrategies: the deploy role may answer and stop
// service deployments of its cluster and, with a gated service, modify
// only its app's tagged test rules.
func TestDeploymentRoleForStrategies(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     map[string]string
		stack string
		gate  bool
	}{
		{"gated", strategiesContext("githubRepo", githubRepo), "StevedoreGithubDeployStack-prod", true},
		{"no gate", caoContext("dev", "githubRepo", githubRepo), "StevedoreGithubDeployStack-dev", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synthWith(t, tc.c, true)
			bySid := map[string]map[string]any{}
			for _, st := range statements(t, s, tc.stack) {
				bySid[fmt.Sprint(st["Sid"])] = st
			}
			cluster := "strat-prod"
			if !tc.gate {
				cluster = "cao-dev"
			}
			control := bySid["EcsServiceDeploymentControl"]
			if got := strings.Join(list(control["Action"]), ","); got != "ecs:ContinueServiceDeployment,ecs:StopServiceDeployment" {
				t.Errorf("deployment control actions = %s", got)
			}
			if got, want := strings.Join(list(control["Resource"]), ","), fmt.Sprintf("arn:aws:ecs:%s:%s:service-deployment/%s/*", testRegion, testAccount, cluster); got != want {
				t.Errorf("deployment control on %s, want %s", got, want)
			}
			modify, describe := bySid["GateTestRoutes"], bySid["GateReadRules"]
			if !tc.gate {
				if modify != nil || describe != nil {
					t.Errorf("no gated service, but %s %s", js(modify), js(describe))
				}
				return
			}
			if list(modify["Action"])[0] != "elasticloadbalancing:ModifyRule" || len(list(modify["Action"])) != 1 {
				t.Errorf("GateTestRoutes actions = %v", list(modify["Action"]))
			}
			if got, want := strings.Join(list(modify["Resource"]), ","), fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:listener-rule/app/*", testRegion, testAccount); got != want {
				t.Errorf("ModifyRule on %s, want %s", got, want)
			}
			want := `{"Null":{"aws:ResourceTag/` + testRuleTag + `":"false"},"StringEquals":{"aws:ResourceTag/stevedore:app":"strat","aws:ResourceTag/stevedore:env":"prod"}}`
			if js(modify["Condition"]) != want {
				t.Errorf("ModifyRule condition = %s, want %s", js(modify["Condition"]), want)
			}
			if strings.Join(list(describe["Action"]), ",") != "elasticloadbalancing:DescribeRules,elasticloadbalancing:DescribeLoadBalancers" || list(describe["Resource"])[0] != "*" {
				t.Errorf("GateReadRules = %s", js(describe))
			}
		})
	}
}

// TestDeploymentMonitoring: a service whose deployment shifts traffic
// has its alarms on both target groups (ECS serves from either).
func TestDeploymentMonitoring(t *testing.T) {
	s := synth(t, strategiesContext())
	alarms := map[string]int{}
	for _, props := range s.resources(t, "StratMonitoringStack-prod", "AWS::CloudWatch::Alarm") {
		desc := fmt.Sprint(props["AlarmDescription"])
		if strings.HasSuffix(desc, "(alternate group)") {
			name, _, _ := strings.Cut(desc, " ")
			alarms[name]++
			dims := js(props["Dimensions"])
			if !strings.Contains(dims, `"Name":"TargetGroup"`) || !strings.Contains(dims, "AlternateTargetGroup") || !strings.Contains(dims, `"Name":"LoadBalancer"`) {
				t.Errorf("%s: dimensions %s", desc, dims)
			}
		}
	}
	want := map[string]int{"api": 2, "steps": 2, "web": 2}
	if js(alarms) != js(want) {
		t.Errorf("alternate group alarms per service = %v, want %v", alarms, want)
	}
}

// TestDeploymentTestURLOfHostRoute: a service routed by host name is
// tested on that host (the test rule matches it like the production rule).
func TestDeploymentTestURLOfHostRoute(t *testing.T) {
	s := synth(t, strategiesVariant(variant(strategiesDescription, "    path: /api/*\n", "    host: api.strat.example\n")))
	if got := s.outputs(t, strategiesStack)[contract.TestURLOutput("api")]; got != "http://api.strat.example" {
		t.Errorf("%s = %s, want http://api.strat.example", contract.TestURLOutput("api"), js(got))
	}
	_, test := ruleOf(t, s, "api", "TestRouteRule")
	if c := js(test["Conditions"]); !strings.Contains(c, `"HostHeaderConfig":{"Values":["api.strat.example"]}`) || !strings.Contains(c, contract.GateHeader) {
		t.Errorf("test rule conditions = %s, want the host and the header", c)
	}
}

// TestDeploymentSuppressions: the cdk-nag rules the deployment resources
// do not follow carry their reasons in the template.
func TestDeploymentSuppressions(t *testing.T) {
	s := synth(t, strategiesContext())
	raw := s.raw[strategiesStack]["Resources"].(map[string]any)
	for typ, want := range map[string][]string{
		"AWS::SecretsManager::Secret": {`"id":"AwsSolutions-SMG4"`, reasonTestRouteRotation},
		"AWS::IAM::Role":              {`"id":"AwsSolutions-IAM4"`, reasonInfraRolePolicy},
	} {
		found := 0
		for id, r := range raw {
			r := r.(map[string]any)
			if r["Type"] != typ || (typ == "AWS::IAM::Role" && !strings.Contains(id, "InfrastructureRole")) {
				continue
			}
			found++
			md := js(r["Metadata"])
			for _, w := range want {
				if !strings.Contains(md, w) {
					t.Errorf("%s metadata %s lacks %s", id, md, w)
				}
			}
		}
		if found != 3 && typ == "AWS::IAM::Role" || found != 2 && typ == "AWS::SecretsManager::Secret" {
			t.Errorf("%d resources of %s checked", found, typ)
		}
	}
}
