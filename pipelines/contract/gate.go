package contract

import "strings"

// What stevedore and a CDK app agree on for ECS-native deployments
// (blue/green, linear, canary) with a pipeline gate: the deployment
// strategies, the PAUSE hook the gate answers, the header of the test
// route, and the outputs stevedore reads per service.
const (
	// StrategyRolling replaces tasks in place (ECS ROLLING, the default).
	StrategyRolling = "rolling"
	// StrategyBlueGreen starts the new revision beside the old one, shifts
	// test then all production traffic at once, bakes, cleans up.
	StrategyBlueGreen = "blue-green"
	// StrategyLinear shifts production traffic in equal steps.
	StrategyLinear = "linear"
	// StrategyCanary shifts a small share first, then the rest.
	StrategyCanary = "canary"

	// GateHeader is the request header the test listener rule matches; its
	// value is random per release, set by stevedore, and never logged.
	GateHeader = "X-Stevedore-Test"
	// GateStage is the lifecycle stage of the gate's PAUSE hook: the new
	// revision runs and gets only test traffic (PAUSE is not allowed at
	// TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT).
	GateStage = "POST_TEST_TRAFFIC_SHIFT"
	// GateTimeoutAction is the PAUSE hook's own timeout action: an
	// interrupted pipeline never lets an untested revision go live.
	GateTimeoutAction = "ROLLBACK"
	// GateHookTimeoutMinutes is the PAUSE hook's default timeout.
	GateHookTimeoutMinutes = 30

	testURLSuffix  = "TestUrl"
	testRuleSuffix = "TestRuleArn"
	strategySuffix = "DeploymentStrategy"
)

// Strategies are the deployment strategies a service may name.
var Strategies = []string{StrategyRolling, StrategyBlueGreen, StrategyLinear, StrategyCanary}

// TestURLOutput is the output holding the base URL of a service's test
// route (the production listener's URL; the test rule matches GateHeader),
// e.g. BackendTestUrl.
func TestURLOutput(service string) string { return servicePrefix(service) + testURLSuffix }

// TestRuleOutput is the output holding the ARN of a service's test
// listener rule, whose GateHeader value stevedore sets per release, e.g.
// BackendTestRuleArn.
func TestRuleOutput(service string) string { return servicePrefix(service) + testRuleSuffix }

// StrategyOutput is the output holding a service's deployment strategy
// (one of Strategies), e.g. BackendDeploymentStrategy.
func StrategyOutput(service string) string { return servicePrefix(service) + strategySuffix }

func servicePrefix(service string) string {
	return strings.TrimSuffix(ServiceOutput(service), serviceNameSuffix)
}
