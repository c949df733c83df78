package contract

import "testing"

func TestGateOutputs(t *testing.T) {
	cases := []struct{ service, url, rule, strategy string }{
		{"backend", "BackendTestUrl", "BackendTestRuleArn", "BackendDeploymentStrategy"},
		{"api-gateway", "ApiGatewayTestUrl", "ApiGatewayTestRuleArn", "ApiGatewayDeploymentStrategy"},
	}
	for _, c := range cases {
		if got := TestURLOutput(c.service); got != c.url {
			t.Errorf("TestURLOutput(%q) = %q, want %q", c.service, got, c.url)
		}
		if got := TestRuleOutput(c.service); got != c.rule {
			t.Errorf("TestRuleOutput(%q) = %q, want %q", c.service, got, c.rule)
		}
		if got := StrategyOutput(c.service); got != c.strategy {
			t.Errorf("StrategyOutput(%q) = %q, want %q", c.service, got, c.strategy)
		}
	}
}
