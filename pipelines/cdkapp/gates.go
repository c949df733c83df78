package cdkapp

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// CheckGates reports, all at once and before anything is deployed, every
// gated service (deployment.gate) whose stacks could not pause it for the
// gate: no AWS::ECS::Service in the stacks deploying its image has a PAUSE
// lifecycle hook at contract.GateStage, the hook would time out with
// another action than contract.GateTimeoutAction, or the stack exports
// the service's strategy as rolling. Without this, a deployment would go
// live untested and only then be reported.
func CheckGates(app *appspec.App, images map[string]string, templates []Template) error {
	var gated []string
	for _, s := range app.Services {
		if s.Gated() && images[s.Name] != "" {
			gated = append(gated, s.Name)
		}
	}
	if len(gated) == 0 {
		return nil
	}
	docs := map[string]gateTemplate{}
	outputs := map[string]map[string]any{} // stack -> its outputs
	for _, t := range templates {
		var doc gateTemplate
		if err := json.Unmarshal(t.Body, &doc); err != nil {
			return fmt.Errorf("template of stack %s is not valid JSON: %v", t.Stack, err)
		}
		outs, err := t.Outputs()
		if err != nil {
			return err
		}
		docs[t.Stack], outputs[t.Stack] = doc, outs
	}
	users := imageUsers(images, templates)
	var problems []string
	for _, svc := range gated {
		stacks := users[svc]
		if len(stacks) == 0 {
			continue // Check reports the image no stack deploys
		}
		strategyName := app.Infra.OutputName(contract.StrategyOutput(svc))
		paused, actions := false, []string{}
		for _, stack := range stacks {
			if v, ok := outputs[stack][strategyName].(string); ok && v == contract.StrategyRolling {
				problems = append(problems, fmt.Sprintf("service %s has gate: true, but %s exports %s = %q: a rolling deployment has no test traffic to pause on; deploy it blue-green, linear or canary, or remove the gate", svc, stack, strategyName, v))
			}
			for _, hook := range docs[stack].pauseHooks() {
				switch action := hook.TimeoutConfiguration.Action; {
				case !slices.Contains(hook.LifecycleStages, contract.GateStage):
				case action == contract.GateTimeoutAction:
					paused = true
				default:
					actions = append(actions, cmp.Or(action, "none"))
				}
			}
		}
		where := strings.Join(stacks, " or ")
		switch {
		case paused:
		case len(actions) > 0:
			problems = append(problems, fmt.Sprintf("service %s has gate: true, but the PAUSE hook at %s in %s times out with %s: set TimeoutConfiguration.Action to %s, so that a pipeline that stops while the deployment is paused never lets it go live untested", svc, contract.GateStage, where, strings.Join(actions, ", "), contract.GateTimeoutAction))
		default:
			problems = append(problems, fmt.Sprintf("service %s has gate: true, but no AWS::ECS::Service in %s (the stack using %s) has a PAUSE lifecycle hook at %s, so its deployment would go live untested: add it, e.g. (service.node.defaultChild as ecs.CfnService).addPropertyOverride('DeploymentConfiguration.LifecycleHooks', [{TargetType: 'PAUSE', LifecycleStages: ['%s'], TimeoutConfiguration: {Action: '%s', TimeoutInMinutes: %d}}]), or remove the gate",
				svc, where, contract.ImageContextKey(svc), contract.GateStage, contract.GateStage, contract.GateTimeoutAction, contract.GateHookTimeoutMinutes))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("the gate cannot run as configured (README: \"Deployment strategies in your own CDK app\"):\n  - " + strings.Join(problems, "\n  - "))
}

// gateTemplate is what CheckGates reads of a stack template.
type gateTemplate struct {
	Resources map[string]struct {
		Type       string `json:"Type"`
		Properties struct {
			DeploymentConfiguration struct {
				LifecycleHooks []lifecycleHook `json:"LifecycleHooks"`
			} `json:"DeploymentConfiguration"`
		} `json:"Properties"`
	} `json:"Resources"`
}

type lifecycleHook struct {
	TargetType           string   `json:"TargetType"`
	LifecycleStages      []string `json:"LifecycleStages"`
	TimeoutConfiguration struct {
		Action string `json:"Action"`
	} `json:"TimeoutConfiguration"`
}

// pauseHooks are the PAUSE hooks of the template's ECS services.
func (d gateTemplate) pauseHooks() []lifecycleHook {
	var out []lifecycleHook
	for _, r := range d.Resources {
		if r.Type != "AWS::ECS::Service" {
			continue
		}
		for _, h := range r.Properties.DeploymentConfiguration.LifecycleHooks {
			if h.TargetType == "PAUSE" {
				out = append(out, h)
			}
		}
	}
	return out
}
