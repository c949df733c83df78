package awstarget

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/cdkapp"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/gate"
	"github.com/stevedore-ci/stevedore/pipelines/gate/elbrule"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// SmokeRunner runs a service's smokeCommand (stevedore.yaml) against the
// test route of its new revision.
type SmokeRunner interface {
	// RunSmoke runs the command once in its image with
	// STEVEDORE_TEST_URL, STEVEDORE_TEST_HEADER and the secret
	// STEVEDORE_TEST_TOKEN; an error carries the tail of its output.
	RunSmoke(ctx context.Context, service string, cmd appspec.SmokeCommand, url, header string, token gate.Token) error
}

// templateStrategies reads, from the assembly's templates, the deployment
// strategy each service's stack declares as a literal StrategyOutput (the
// strategy of this release, which the deployed stacks may not have yet).
func (t *Target) templateStrategies(templates []cdkapp.Template) (map[string]string, error) {
	out := map[string]string{}
	var problems []string
	for _, tpl := range templates {
		outs, err := tpl.Outputs()
		if err != nil {
			return nil, err
		}
		for _, s := range t.App.Services {
			name := t.App.Infra.OutputName(contract.StrategyOutput(s.Name))
			value, ok := outs[name]
			if !ok {
				continue
			}
			v, literal := value.(string)
			if !literal {
				continue // a token: the deployed stack's output says
			}
			if !slices.Contains(contract.Strategies, v) {
				problems = append(problems, fmt.Sprintf("stack %s exports %s = %q, which is not a deployment strategy: use one of %s", tpl.Stack, name, v, strings.Join(contract.Strategies, ", ")))
				continue
			}
			out[s.Name] = v
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}

// checkStrategies checks, before anything changes, that every gated
// service deploys with a strategy that pauses (not rolling) and that its
// stacks export the gate's outputs (the test URL and the test rule).
// images are the assembly's image context (contract.ImageContextKey): the
// stack deploying a gated service's image is where its outputs belong.
func (t *Target) checkStrategies(templates []cdkapp.Template, current deploy.Outputs, images map[string]string) error {
	var problems []string
	planned, err := t.templateStrategies(templates)
	if err != nil {
		problems = append(problems, err.Error())
	}
	t.mu.Lock()
	t.strategies = planned
	t.mu.Unlock()
	for _, s := range t.App.Services {
		if !s.Gated() {
			continue
		}
		if st, err := t.strategyOf(s.Name, current); err == nil && st == contract.StrategyRolling {
			problems = append(problems, fmt.Sprintf("service %s has gate: true but deploys with the rolling strategy (stack output %s missing or rolling), which has no PAUSE hook: deploy it blue-green, linear or canary and export %s, or remove the gate",
				s.Name, t.App.Infra.OutputName(contract.StrategyOutput(s.Name)), t.App.Infra.OutputName(contract.StrategyOutput(s.Name))))
		}
	}
	var needs []cdkapp.Need
	gated := map[string]string{}
	for _, n := range cdkapp.Needs(t.App) {
		if n.Gate {
			needs = append(needs, n)
			if ref := images[contract.ImageContextKey(n.Service)]; ref != "" {
				gated[n.Service] = ref
			}
		}
	}
	if len(needs) > 0 {
		if err := cdkapp.Check(needs, gated, templates); err != nil {
			problems = append(problems, err.Error())
		}
		t.recordOutputExprs(templates, needs)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the gate cannot run, nothing was changed: %s", strings.Join(problems, "; "))
	}
	return nil
}

// strategyOf is the service's deployment strategy in this release: the
// literal its template exports, else the deployed stacks' output, else
// rolling.
func (t *Target) strategyOf(service string, out deploy.Outputs) (string, error) {
	t.mu.Lock()
	v, ok := t.strategies[service]
	t.mu.Unlock()
	if ok {
		return v, nil
	}
	key := contract.StrategyOutput(service)
	switch v = out[key]; {
	case v == "":
		return contract.StrategyRolling, nil
	case !slices.Contains(contract.Strategies, v):
		return "", fmt.Errorf("the stack output %s of service %s is %q, which is not a deployment strategy: export one of %s", t.App.Infra.OutputName(key), service, v, strings.Join(contract.Strategies, ", "))
	}
	return v, nil
}

// followServiceDeployment judges a blue-green, linear or canary release of
// the service by its ECS service deployment, running the gate when it
// pauses (gated services that existed before this deploy).
func (t *Target) followServiceDeployment(ctx context.Context, s *appspec.Service, image deploy.Image, out deploy.Outputs, strategy, cluster, svc string, since time.Time, first bool) (steps.Outcome, error) {
	if since.IsZero() {
		since = time.Now()
	}
	spec := ecs.ServiceDeploymentSpec{
		Cluster: cluster, Service: svc, Since: since, Images: map[string]string{s.Container: image.Ref},
		Timeout: orDefault(t.FollowTimeout, DefaultFollowTimeout) + s.DeploymentWait(), Poll: orDefault(t.Poll, DefaultPoll),
	}
	gateNote := ""
	switch {
	case s.Gated() && first:
		gateNote = "gate not run: first deploy of the service, no earlier revision to roll back to"
		t.logf("%s: %s", deploy.RolloutStep(s.Name), gateNote)
	case s.Gated():
		spec.Gate, spec.GateTimeout = t.gate(s, out), s.GateTimeoutOf()+gateMargin(t.ruleSettle)
	}
	res, err := t.ECS.FollowServiceDeployment(ctx, spec)
	if err != nil {
		return steps.Outcome{}, err
	}
	o := steps.Outcome{Artifacts: []steps.Artifact{{Kind: steps.KindImage, Name: s.Name, Value: image.Ref}}}
	if res.Unchanged {
		o.Summary = fmt.Sprintf("%s: unchanged: %s already runs %s, nothing deployed", strategy, svc, digestOf(image.Ref))
		if s.Gated() {
			o.Summary += ", gate not run"
		}
		return o, nil
	}
	o.Summary = fmt.Sprintf("%s: completed: service deployment %s in %s; stages %s", strategy, shortArn(res.ARN), res.Elapsed.Round(time.Second), strings.Join(res.Stages, " → "))
	switch {
	case gateNote != "":
		o.Summary += "; " + gateNote
	case len(res.Gated) > 0:
		o.Summary += "; gate passed at " + strings.Join(res.Gated, ", ")
	}
	return o, nil
}

// gateMargin is what the gate needs on top of its checks' timeout: the
// load balancer's time to apply the test rule, and closing the route.
func gateMargin(settle time.Duration) time.Duration {
	if settle <= 0 {
		settle = gate.DefaultRuleSettle
	}
	return settle + 30*time.Second
}

// gate returns the service's gate: its checks through the test route of
// the new revision, with a token made for this release.
func (t *Target) gate(s *appspec.Service, out deploy.Outputs) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		url, rule, err := t.gateRoute(ctx, s.Name, out)
		if err != nil {
			return err
		}
		token, err := gate.NewToken()
		if err != nil {
			return err
		}
		spec := gate.Spec{
			Service: s.Name, URL: url, Health: s.Health, Smoke: s.Deployment.Smoke, Token: token,
			Timeout: s.GateTimeoutOf(), Interval: orDefault(t.Poll, DefaultPoll),
			Rule: elbrule.New(t.AWS, rule), RuleSettle: t.ruleSettle, Client: t.HTTP, Log: t.Log,
		}
		if sc := s.Deployment.SmokeCommand; sc != nil {
			spec.Command = func(ctx context.Context) error {
				return t.Smoke.RunSmoke(ctx, s.Name, *sc, url, contract.GateHeader, token)
			}
		}
		_, err = spec.Check(ctx)
		return err
	}
}

// gateRoute is the test URL (the override, else the stack output) and the
// test rule's ARN of a service. A release that adds the gate pauses
// before its stack update completes, so before the outputs exist: then
// each is worked out from its template expression and the stack's
// resources.
func (t *Target) gateRoute(ctx context.Context, service string, out deploy.Outputs) (url, rule string, err error) {
	value := func(key string) (string, error) {
		if v := out[key]; v != "" {
			return v, nil
		}
		v, err := t.resolveOutput(ctx, key)
		if err != nil {
			return "", fmt.Errorf("gate of %s: the stack output %s is not there yet and cannot be worked out from the template: %w", service, t.App.Infra.OutputName(key), err)
		}
		return v, nil
	}
	if url = t.TestURL; url == "" {
		if url, err = value(contract.TestURLOutput(service)); err != nil {
			return "", "", err
		}
	}
	if rule, err = value(contract.TestRuleOutput(service)); err != nil {
		return "", "", err
	}
	return url, rule, nil
}

// dryRunFollow says how the service would be followed, with which
// strategy (a rolling one as before strategies existed), and whether its
// gate would run.
func dryRunFollow(s *appspec.Service, strategy, what string) string {
	if strategy == contract.StrategyRolling && !s.Gated() {
		return "would follow " + what
	}
	line := fmt.Sprintf("%s: would follow %s", strategy, what)
	switch {
	case s.Gated() && strategy != contract.StrategyRolling:
		line += fmt.Sprintf("; the gate would run at its PAUSE hook (%s)", s.GateChecks())
	case s.Gated():
		line += "; the gate cannot run with the rolling strategy"
	}
	return line
}
