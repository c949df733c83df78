// Package builtin renders the built-in infrastructure of a stevedore.yaml
// description (appspec.Plan) as CDK stacks, one concern per file: the
// network, the data resources, the services, the WebSocket API, the
// frontend, the monitoring and the GitHub deploy role. It knows no app by
// name: everything comes from the plan. Teams that outgrow the description
// import this package from their own Go CDK app.
package builtin

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// App is what Render built: the stacks by concern name, and the
// constructs later concerns (monitoring, the deploy role) look at.
type App struct {
	Plan *appspec.Plan
	// Stacks in deploy order.
	Stacks []awscdk.Stack
	stacks map[string]awscdk.Stack

	Network   *Network
	Data      map[string]*Resource
	Services  map[string]*Service
	Alb       *Alb
	Frontend  *FrontendSite
	WebSocket map[string]awscdk.Stack
}

// Images maps a service name to its digest-pinned image reference.
type Images map[string]contract.Image

// ParseImages reads image.<service> for every service of the plan through
// lookup (the CDK context) and reports every missing or unpinned one at once.
func ParseImages(plan *appspec.Plan, lookup func(key string) (string, bool)) (Images, error) {
	images := Images{}
	var problems []string
	for _, s := range plan.Services {
		key := contract.ImageContextKey(s.Name)
		ref, ok := lookup(key)
		if !ok || ref == "" {
			problems = append(problems, fmt.Sprintf("%s is missing: pass -c %s=<repository>@sha256:<64 hex> (the digest publish pushed)", key, key))
			continue
		}
		img, err := contract.ParseImage(ref)
		if err != nil {
			problems = append(problems, key+": "+err.Error())
			continue
		}
		// (The local target synthesizes against its embedded registry,
		// for templates nobody deploys.)
		if plan.Network.Endpoints && !ecrRef.MatchString(img.Repository) && !img.Local() {
			problems = append(problems, fmt.Sprintf("%s %q is not in ECR, but natGateways 0 leaves the tasks no route to other registries: push it to ECR (publish does) or give the network a NAT gateway", key, ref))
			continue
		}
		images[s.Name] = img
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("invalid CDK context: %s", strings.Join(problems, "; "))
	}
	return images, nil
}

// Render adds the plan's stacks to scope. env pins account and region
// (nil: environment-agnostic stacks).
func Render(scope constructs.Construct, plan *appspec.Plan, images Images, env *awscdk.Environment) *App {
	tags := awscdk.Tags_Of(scope)
	tags.Add(jsii.String("stevedore:app"), &plan.App, nil)
	tags.Add(jsii.String("stevedore:env"), &plan.Env.Name, nil)
	a := &App{Plan: plan, stacks: map[string]awscdk.Stack{}, Data: map[string]*Resource{}, Services: map[string]*Service{}, WebSocket: map[string]awscdk.Stack{}}
	for _, name := range plan.Stacks() {
		st := awscdk.NewStack(scope, jsii.String(name), &awscdk.StackProps{
			StackName:             jsii.String(name),
			Env:                   env,
			Description:           jsii.String(fmt.Sprintf("%s %s: %s (stevedore built-in infrastructure)", plan.App, plan.Env.Name, strings.TrimSuffix(strings.TrimPrefix(name, plan.StackPrefix), "Stack-"+plan.Env.Name))),
			TerminationProtection: jsii.Bool(plan.DeletionProtection),
		})
		a.stacks[name] = st
		a.Stacks = append(a.Stacks, st)
	}
	a.Network = newNetwork(a.stack(appspec.StackNetwork), plan)
	for _, typ := range []string{appspec.TypeCognito, appspec.TypePostgres, appspec.TypeRedis, appspec.TypeDynamoDB, appspec.TypeBucket} {
		for _, r := range plan.Resources {
			if r.Type == typ {
				a.Data[r.Name] = newResource(a.stack(r.Stack), plan, r, a.Network)
			}
		}
	}
	a.renderServices(images)
	if plan.Frontend != nil {
		a.Frontend = newFrontendSite(a.stack(appspec.StackFrontend), plan)
	}
	for _, r := range plan.Resources {
		if r.Type == appspec.TypeWebSocket {
			a.WebSocket[r.Name] = newWebSocket(a.stack(r.Stack), plan, r, a)
		}
	}
	if plan.Monitoring != nil {
		newMonitoring(a.stack(appspec.StackMonitoring), a)
	}
	return a
}

// stack returns the stack of a concern (created in Render from plan.Stacks).
func (a *App) stack(kind string) awscdk.Stack {
	st, ok := a.stacks[a.Plan.StackName(kind)]
	if !ok {
		panic(fmt.Sprintf("stack %s is not in the plan's stacks %v", kind, a.Plan.Stacks()))
	}
	return st
}

// output adds a stack output whose key is exactly id.
func output(stack awscdk.Stack, id string, value *string, description string) {
	awscdk.NewCfnOutput(stack, &id, &awscdk.CfnOutputProps{Value: value, Description: &description})
}

// removal maps a plan removal choice to CDK's.
func removal(r string) awscdk.RemovalPolicy {
	switch r {
	case appspec.RemovalRetain:
		return awscdk.RemovalPolicy_RETAIN
	case appspec.RemovalSnapshot:
		return awscdk.RemovalPolicy_SNAPSHOT
	}
	return awscdk.RemovalPolicy_DESTROY
}

// usersOf lists the services that use a resource or internal service, in plan order.
func usersOf(plan *appspec.Plan, name string) []appspec.PlanService {
	var out []appspec.PlanService
	for _, s := range plan.Services {
		if slices.Contains(s.Uses, name) {
			out = append(out, s)
		}
	}
	return out
}

// subnets selects a subnet group by name.
func subnets(group string) *awsec2.SubnetSelection {
	return &awsec2.SubnetSelection{SubnetGroupName: &group}
}
