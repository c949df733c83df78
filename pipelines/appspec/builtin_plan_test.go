package appspec

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// TestBuiltinPlanDeployment resolves each service's deployment keys into
// the plan infra renders: strategy, bake times, steps with ECS's defaults
// where unset, alarms, the gate and whether the service is on the ALB.
func TestBuiltinPlanDeployment(t *testing.T) {
	app, err := Parse("strategies.yaml", mustRead(t, "testdata/strategies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := app.BuiltinPlan("prod")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*PlanDeployment{}
	for _, s := range plan.Services {
		got[s.Name] = s.Deployment
	}
	for _, tc := range []struct {
		service string
		want    *PlanDeployment
		shifts  bool
	}{
		{"api", &PlanDeployment{Strategy: contract.StrategyBlueGreen, Bake: 10 * time.Minute, Alarms: []string{"strat-api-5xx", "strat-api-latency"}, Gate: true, LoadBalanced: true}, true},
		{"steps", &PlanDeployment{Strategy: contract.StrategyLinear, Bake: 5 * time.Minute, StepPercent: 25, StepBake: 2 * time.Minute, LoadBalanced: true}, true},
		{"web", &PlanDeployment{Strategy: contract.StrategyCanary, CanaryPercent: 10, CanaryBake: 5 * time.Minute, Alarms: []string{"strat-web-5xx"}, Gate: true, LoadBalanced: true}, true},
		{"legacy", &PlanDeployment{Strategy: contract.StrategyRolling, Alarms: []string{"strat-legacy-5xx"}, LoadBalanced: true}, false},
		{"worker", &PlanDeployment{Strategy: contract.StrategyBlueGreen}, false},
	} {
		t.Run(tc.service, func(t *testing.T) {
			if !reflect.DeepEqual(got[tc.service], tc.want) {
				t.Errorf("deployment = %+v, want %+v", got[tc.service], tc.want)
			}
			if s := got[tc.service].ShiftsTraffic(); s != tc.shifts {
				t.Errorf("ShiftsTraffic = %v, want %v", s, tc.shifts)
			}
		})
	}
}

// TestBuiltinPlanDeploymentDefaults: linear and canary without their
// step keys get ECS's documented defaults written into the plan.
func TestBuiltinPlanDeploymentDefaults(t *testing.T) {
	for _, tc := range []struct {
		strategy string
		want     PlanDeployment
	}{
		{contract.StrategyLinear, PlanDeployment{Strategy: contract.StrategyLinear, StepPercent: DefaultStepPercent, StepBake: DefaultStepBake, LoadBalanced: true}},
		{contract.StrategyCanary, PlanDeployment{Strategy: contract.StrategyCanary, CanaryPercent: DefaultCanaryPercent, CanaryBake: DefaultCanaryBake, LoadBalanced: true}},
		{contract.StrategyRolling, PlanDeployment{Strategy: contract.StrategyRolling, Alarms: []string{"a"}, LoadBalanced: true}},
	} {
		t.Run(tc.strategy, func(t *testing.T) {
			keys := "{strategy: " + tc.strategy + "}"
			if tc.strategy == contract.StrategyRolling {
				keys = "{alarms: [a]}"
			}
			app, err := Parse("x", []byte(strings.Replace(base, "    uses: [db]\n", "    uses: [db]\n    deployment: "+keys+"\n", 1)))
			if err != nil {
				t.Fatal(err)
			}
			plan, err := app.BuiltinPlan("dev")
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range plan.Services {
				if s.Name == "api" && (s.Deployment == nil || !reflect.DeepEqual(*s.Deployment, tc.want)) {
					t.Errorf("deployment = %+v, want %+v", s.Deployment, tc.want)
				}
			}
		})
	}
}

// TestBuiltinPlanJSONWithoutDeployment: a service without deployment keys
// renders the plan as before (no Deployment key at all).
func TestBuiltinPlanJSONWithoutDeployment(t *testing.T) {
	app, err := Parse("shop.yaml", mustRead(t, "testdata/shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := app.BuiltinPlan("prod")
	b, err := json.Marshal(plan.Services)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "Deployment") {
		t.Errorf("plan of services without deployment keys mentions Deployment: %s", b)
	}
}
