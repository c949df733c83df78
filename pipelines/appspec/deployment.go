package appspec

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/gate"
)

// Deployment is how a service's new revision goes live: the ECS strategy
// (built-in infrastructure; a user's own CDK app sets it in its stacks and
// exports contract.StrategyOutput) and the pipeline gate (both).
type Deployment struct {
	// Strategy is one of contract.Strategies (default rolling).
	Strategy string `yaml:"strategy,omitempty" json:"strategy,omitempty"`
	// Bake is how long both revisions are kept after the last traffic
	// shift (blue-green, linear, canary), whole minutes.
	Bake string `yaml:"bake,omitempty" json:"bake,omitempty"`
	// StepPercent is the share of production traffic per linear step and
	// StepBake the wait between steps.
	StepPercent float64 `yaml:"stepPercent,omitempty" json:"stepPercent,omitempty"`
	StepBake    string  `yaml:"stepBake,omitempty" json:"stepBake,omitempty"`
	// CanaryPercent is the share of the canary's first shift and
	// CanaryBake the wait before the rest.
	CanaryPercent float64 `yaml:"canaryPercent,omitempty" json:"canaryPercent,omitempty"`
	CanaryBake    string  `yaml:"canaryBake,omitempty" json:"canaryBake,omitempty"`
	// Alarms are CloudWatch alarm names that roll the deployment back.
	Alarms []string `yaml:"alarms,omitempty" json:"alarms,omitempty"`
	// Gate pauses the deployment on test traffic while stevedore checks
	// the new revision, then sends CONTINUE or ROLLBACK.
	Gate bool `yaml:"gate,omitempty" json:"gate,omitempty"`
	// GateTimeout bounds the gate's checks (default 10m).
	GateTimeout string `yaml:"gateTimeout,omitempty" json:"gateTimeout,omitempty"`
	// Smoke requests the gate sends after the health path, in order.
	Smoke []gate.Smoke `yaml:"smoke,omitempty" json:"smoke,omitempty"`
	// SmokeCommand runs once after the requests.
	SmokeCommand *SmokeCommand `yaml:"smokeCommand,omitempty" json:"smokeCommand,omitempty"`
}

// SmokeCommand is a command the gate runs in a container, given
// STEVEDORE_TEST_URL, STEVEDORE_TEST_HEADER and the secret
// STEVEDORE_TEST_TOKEN; it must exit 0.
type SmokeCommand struct {
	Image   string   `yaml:"image" json:"image"`
	Command []string `yaml:"command" json:"command"`
}

// DefaultGateTimeout bounds a gate's checks when gateTimeout is not set.
const DefaultGateTimeout = 10 * time.Minute

// StrategyOf is the service's deployment strategy in stevedore.yaml
// (rolling when none is set); a user's own CDK app says its own through
// contract.StrategyOutput instead.
func (s Service) StrategyOf() string {
	if s.Deployment == nil || s.Deployment.Strategy == "" {
		return contract.StrategyRolling
	}
	return s.Deployment.Strategy
}

// Gated reports whether the service's deployments pass the pipeline gate.
func (s Service) Gated() bool { return s.Deployment != nil && s.Deployment.Gate }

// GateChecks lists what the service's gate checks, for messages: "health
// /health; smoke GET /orders, POST /orders; the smoke command"; empty when
// not gated.
func (s Service) GateChecks() string {
	if !s.Gated() {
		return ""
	}
	var parts, smoke []string
	if s.Health != "" {
		parts = append(parts, "health "+s.Health)
	}
	for _, c := range s.Deployment.Smoke {
		smoke = append(smoke, orString(c.Method, http.MethodGet)+" "+c.Path)
	}
	if len(smoke) > 0 {
		parts = append(parts, "smoke "+strings.Join(smoke, ", "))
	}
	if s.Deployment.SmokeCommand != nil {
		parts = append(parts, "the smoke command")
	}
	return strings.Join(parts, "; ")
}

// GateTimeoutOf is how long the service's gate may check (validated).
func (s Service) GateTimeoutOf() time.Duration {
	if s.Deployment == nil || s.Deployment.GateTimeout == "" {
		return DefaultGateTimeout
	}
	d, _ := time.ParseDuration(s.Deployment.GateTimeout)
	return d
}

// DeploymentWait is how long the service's deployment waits by design as
// stevedore.yaml gives it (bakes and linear steps, ECS's defaults where
// unset); a follower's time limit comes on top.
func (s Service) DeploymentWait() time.Duration { return planDeployment(s).Wait() }

// validateDeployment checks one service's deployment keys: the strategy
// keys belong to the built-in infrastructure, the gate keys to any.
func (a *App) validateDeployment(add func(field, format string, args ...any), f string, s Service) {
	d := s.Deployment
	if d == nil {
		return
	}
	f += ".deployment"
	strategy := s.StrategyOf()
	if !slices.Contains(contract.Strategies, strategy) {
		add(f+".strategy", "%q is not one of %s", d.Strategy, strings.Join(contract.Strategies, ", "))
		return
	}
	builtinKeys := d.Strategy != "" || d.Bake != "" || d.StepPercent != 0 || d.StepBake != "" || d.CanaryPercent != 0 || d.CanaryBake != "" || len(d.Alarms) > 0
	if builtinKeys && !a.Builtin() {
		add(f, "strategy, bake, stepPercent, stepBake, canaryPercent, canaryBake and alarms configure the built-in infrastructure; with infra.dir set them in your CDK app's stacks and export %s (gate, gateTimeout, smoke and smokeCommand work with any infrastructure)", contract.StrategyOutput(s.Name))
	}
	only := func(key string, set bool, want string) {
		if set && strategy != want {
			add(f+"."+key, "applies to strategy %s only (this service's is %s)", want, strategy)
		}
	}
	only("stepPercent", d.StepPercent != 0, contract.StrategyLinear)
	only("stepBake", d.StepBake != "", contract.StrategyLinear)
	only("canaryPercent", d.CanaryPercent != 0, contract.StrategyCanary)
	only("canaryBake", d.CanaryBake != "", contract.StrategyCanary)
	// ECS's ranges, in steps of 0.1 (the CDK rejects anything else at synth).
	tenths := func(v float64) bool { return math.Abs(v*10-math.Round(v*10)) < 1e-9 }
	if d.StepPercent != 0 && (d.StepPercent < 3 || d.StepPercent > 100 || !tenths(d.StepPercent)) {
		add(f+".stepPercent", "%g must be between 3 and 100, in steps of 0.1", d.StepPercent)
	}
	if d.CanaryPercent != 0 && (d.CanaryPercent < 0.1 || d.CanaryPercent > 100 || !tenths(d.CanaryPercent)) {
		add(f+".canaryPercent", "%g must be between 0.1 and 100, in steps of 0.1", d.CanaryPercent)
	}
	for key, v := range map[string]string{"bake": d.Bake, "stepBake": d.StepBake, "canaryBake": d.CanaryBake} {
		validMinutes(add, f+"."+key, v)
	}
	validDuration(add, f+".gateTimeout", d.GateTimeout, time.Minute, time.Duration(contract.GateHookTimeoutMinutes-1)*time.Minute)
	rolling := strategy == contract.StrategyRolling
	if rolling && d.Bake != "" {
		add(f+".bake", "applies to blue-green, linear and canary (rolling keeps no second revision to bake)")
	}
	if (strategy == contract.StrategyLinear || strategy == contract.StrategyCanary) && a.Builtin() && !s.Public {
		add(f+".strategy", "%s shifts load balancer traffic: the service must be public (on the ALB), or use blue-green", strategy)
	}
	if !rolling && a.Builtin() {
		if s.OneAtATime {
			add(f+".strategy", "%s runs both revisions at once, which oneAtATime forbids: use rolling, or drop oneAtATime", strategy)
		}
		if as := s.Autoscaling; as != nil && as.RequestsPerTarget > 0 {
			add(f+".strategy", "%s moves the tasks between two target groups, and autoscaling.requestsPerTarget tracks only the first: use cpu scaling, or rolling", strategy)
		}
	}
	for i, alarm := range d.Alarms {
		if !alarmPattern.MatchString(alarm) {
			add(fmt.Sprintf("%s.alarms[%d]", f, i), "%q is not a CloudWatch alarm name", alarm)
		}
	}
	gateKeys := map[string]bool{"gateTimeout": d.GateTimeout != "", "smoke": len(d.Smoke) > 0, "smokeCommand": d.SmokeCommand != nil}
	for _, key := range []string{"gateTimeout", "smoke", "smokeCommand"} {
		if gateKeys[key] && !d.Gate {
			add(f+"."+key, "set, but gate is off: add gate: true, or remove it")
		}
	}
	switch {
	case !d.Gate:
	case rolling && a.Builtin():
		add(f+".gate", "needs strategy blue-green, linear or canary (a rolling deployment has no test traffic to pause on)")
	default:
		if a.Builtin() && !s.Public {
			add(f+".gate", "checks the new revision through the load balancer's test route, which a service off the ALB does not have: make the service public, or drop the gate")
		} else if s.Health == "" && len(d.Smoke) == 0 && d.SmokeCommand == nil {
			add(f+".gate", "has nothing to check: give the service a health path, smoke requests or a smokeCommand")
		}
	}
	for i, c := range d.Smoke {
		if err := c.Validate(); err != nil {
			add(fmt.Sprintf("%s.smoke[%d]", f, i), "%v", err)
		}
	}
	if c := d.SmokeCommand; c != nil {
		if c.Image == "" {
			add(f+".smokeCommand.image", "required: the image the command runs in (e.g. python:3.11-slim)")
		}
		if len(c.Command) == 0 {
			add(f+".smokeCommand.command", "required, as a list (e.g. [pytest, -q, smoke/])")
		}
	}
}

// alarmPattern: CloudWatch alarm names are 1-255 printable characters.
var alarmPattern = regexp.MustCompile(`^[^\x00-\x1f]{1,255}$`)

// validMinutes checks a duration ECS takes in whole minutes (0 to 24h).
func validMinutes(add func(field, format string, args ...any), f, v string) {
	if v == "" {
		return
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		add(f, "%q is not a duration (e.g. 5m, 1h)", v)
	case d%time.Minute != 0 || d < 0 || d > 24*time.Hour:
		add(f, "%s must be whole minutes between 0m and 24h (ECS counts bake times in minutes)", v)
	}
}
