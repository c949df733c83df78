package cdkapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// Need is one stack output a configured step reads after the deploy.
type Need struct {
	// Key is the contract name (e.g. BackendServiceName).
	Key string
	// Name is what the app must export: Key, or its infra.outputs mapping.
	Name string
	// Step is the step that reads it, e.g. rollout:backend.
	Step string
	// Service is the service whose stack should export it ("" for one
	// shared by every service, such as the cluster).
	Service string
	// Gate: the output is read by the service's gate (its test URL or
	// test rule), not by the rollout.
	Gate bool
}

// Needs lists the outputs the AWS deploy of app reads: the cluster and
// each service's ECS service for the rollouts (with gate: true, its test
// URL and test rule too), the bucket for the frontend publish. HealthUrl, FrontendUrl and DistributionId are read when present.
func Needs(app *appspec.App) []Need {
	var out []Need
	add := func(key, step, service string) {
		out = append(out, Need{Key: key, Name: app.Infra.OutputName(key), Step: step, Service: service})
	}
	if len(app.Services) > 0 {
		add(contract.OutputCluster, "rollout", "")
	}
	for _, s := range app.Services {
		add(contract.ServiceOutput(s.Name), "rollout:"+s.Name, s.Name)
		if s.Gated() {
			for _, key := range []string{contract.TestURLOutput(s.Name), contract.TestRuleOutput(s.Name)} {
				out = append(out, Need{Key: key, Name: app.Infra.OutputName(key), Step: "the gate of rollout:" + s.Name, Service: s.Name, Gate: true})
			}
		}
	}
	if app.Frontend != nil {
		add(contract.OutputFrontendBucket, "publish:frontend", "")
	}
	return out
}

// Template is one stack template of a cloud assembly.
type Template struct {
	// Stack is the CloudFormation stack name.
	Stack string
	// ID is the artifact ID the CDK CLI selects the stack by (default: Stack).
	ID   string
	Body []byte
}

// Outputs returns the template's outputs by name, each its Value: a
// literal string, or a CloudFormation expression such as {"Ref": "X"}.
func (t Template) Outputs() (map[string]any, error) {
	var doc struct {
		Outputs map[string]struct {
			Value any `json:"Value"`
		} `json:"Outputs"`
	}
	if err := json.Unmarshal(t.Body, &doc); err != nil {
		return nil, fmt.Errorf("template of stack %s is not valid JSON: %v", t.Stack, err)
	}
	out := make(map[string]any, len(doc.Outputs))
	for name, o := range doc.Outputs {
		out[name] = o.Value
	}
	return out, nil
}

func (t Template) selector() string {
	if t.ID != "" {
		return t.ID
	}
	return t.Stack
}

// Check reports, all at once, what the assembly lacks: a service image no
// stack deploys, an output a step needs that no stack exports (naming the
// stack that holds the service, where the output belongs). images maps
// each service to its digest-pinned reference (the image.<service> context).
func Check(needs []Need, images map[string]string, templates []Template) error {
	if len(templates) == 0 {
		return ErrNoTemplates
	}
	outputs := map[string][]string{} // output name -> stacks exporting it
	for _, t := range templates {
		outs, err := t.Outputs()
		if err != nil {
			return err
		}
		for name := range outs {
			outputs[name] = append(outputs[name], t.Stack)
		}
	}
	users := imageUsers(images, templates)
	var problems []string
	for _, svc := range slices.Sorted(maps.Keys(images)) {
		if len(users[svc]) == 0 {
			key := contract.ImageContextKey(svc)
			problems = append(problems, fmt.Sprintf("no stack deploys image %s (context %s): read it in the CDK app with this.node.tryGetContext('%s') and use it as the container image, e.g. ecs.ContainerImage.fromRegistry(...)", images[svc], key, key))
		}
	}
	for _, n := range needs {
		if len(outputs[n.Name]) > 0 {
			continue
		}
		where := "the stack that holds the service"
		if stacks := stacksOf(n.Service, users); len(stacks) > 0 {
			where = strings.Join(stacks, " or ")
			if n.Service != "" {
				where += fmt.Sprintf(" (the stack using %s)", contract.ImageContextKey(n.Service))
			}
		}
		name := n.Name
		mapped := ""
		if n.Name != n.Key {
			mapped = fmt.Sprintf(" (infra.outputs maps %s to it)", n.Key)
		}
		problems = append(problems, fmt.Sprintf("%s needs the stack output %s%s, which no stack exports: add it to %s, e.g. new cdk.CfnOutput(this, '%s', { value: %s }), or map your own output name in stevedore.yaml (infra.outputs: {%s: YourOutputName})",
			n.Step, name, mapped, where, name, exampleValue(n.Key), n.Key))
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("the CDK app does not provide what stevedore reads after the deploy (README: \"The contract between stevedore and your CDK app\"):\n  - " + strings.Join(problems, "\n  - "))
}

// imageUsers maps each service to the stacks deploying its image: by
// repository path and digest together (CDK may join the registry host
// from tokens); by the digest alone only when no stack names the
// repository, since two services built from the same content share a
// digest.
func imageUsers(images map[string]string, templates []Template) map[string][]string {
	users := map[string][]string{}    // service -> stacks holding its image
	byDigest := map[string][]string{} // service -> stacks holding its digest only
	for _, t := range templates {
		for svc, ref := range images {
			img, err := contract.ParseImage(ref)
			if err != nil || !bytes.Contains(t.Body, []byte(img.Digest)) {
				continue
			}
			_, path, _ := strings.Cut(img.Repository, "/")
			if bytes.Contains(t.Body, []byte(path+"@"+img.Digest)) {
				users[svc] = append(users[svc], t.Stack)
			} else {
				byDigest[svc] = append(byDigest[svc], t.Stack)
			}
		}
	}
	for svc, stacks := range byDigest {
		if len(users[svc]) == 0 {
			users[svc] = stacks
		}
	}
	return users
}

// stacksOf is where a service's output belongs: the stacks deploying its
// image, or for a shared output every stack deploying any image.
func stacksOf(service string, users map[string][]string) []string {
	if service != "" {
		return users[service]
	}
	var all []string
	for _, s := range slices.Sorted(maps.Keys(users)) {
		all = append(all, users[s]...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

func exampleValue(key string) string {
	switch key {
	case contract.OutputCluster:
		return "cluster.clusterName"
	case contract.OutputFrontendBucket:
		return "bucket.bucketName"
	}
	switch {
	case strings.HasSuffix(key, contract.TestURLOutput("")):
		return "`https://${domain}` (the production listener's URL; the test rule matches the " + contract.GateHeader + " header)"
	case strings.HasSuffix(key, contract.TestRuleOutput("")):
		return "testRule.listenerRuleArn"
	}
	return "service.serviceName"
}
