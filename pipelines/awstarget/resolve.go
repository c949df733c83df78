package awstarget

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
	"github.com/stevedore-ci/stevedore/pipelines/cdkapp"
)

// outputExpr is a stack output's value as its template writes it.
type outputExpr struct {
	stack string
	value any
}

// recordOutputExprs remembers the template expressions of the needed
// outputs, by contract key.
func (t *Target) recordOutputExprs(templates []cdkapp.Template, needs []cdkapp.Need) {
	exprs := map[string]outputExpr{}
	for _, tpl := range templates {
		outs, err := tpl.Outputs()
		if err != nil {
			continue // templateStrategies has said so
		}
		for _, n := range needs {
			if v, ok := outs[n.Name]; ok {
				exprs[n.Key] = outputExpr{stack: tpl.Stack, value: v}
			}
		}
	}
	t.mu.Lock()
	t.exprs = exprs
	t.mu.Unlock()
}

// resolveOutput works an output out from its template expression and the
// stack's resources as they are now (mid-update included): literals, Ref
// of a resource (its physical id), Fn::Join, and Fn::GetAtt of a load
// balancer's DNSName.
func (t *Target) resolveOutput(ctx context.Context, key string) (string, error) {
	t.mu.Lock()
	e, ok := t.exprs[key]
	t.mu.Unlock()
	if !ok {
		return "", fmt.Errorf("no template exports it")
	}
	return t.resolve(ctx, e.stack, e.value)
}

func (t *Target) resolve(ctx context.Context, stack string, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case map[string]any:
		if len(x) != 1 {
			break
		}
		if ref, ok := x["Ref"].(string); ok {
			switch ref {
			case "AWS::Region":
				return t.AWS.Region, nil
			case "AWS::URLSuffix":
				return "amazonaws.com", nil
			}
			return t.physicalID(ctx, stack, ref)
		}
		if args, ok := x["Fn::Join"].([]any); ok && len(args) == 2 {
			sep, _ := args[0].(string)
			parts, _ := args[1].([]any)
			var out []string
			for _, p := range parts {
				s, err := t.resolve(ctx, stack, p)
				if err != nil {
					return "", err
				}
				out = append(out, s)
			}
			return strings.Join(out, sep), nil
		}
		if args, ok := x["Fn::GetAtt"].([]any); ok && len(args) == 2 && args[1] == "DNSName" {
			logical, _ := args[0].(string)
			arn, err := t.physicalID(ctx, stack, logical)
			if err != nil {
				return "", err
			}
			out, err := elb.NewFromConfig(t.AWS).DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
			if err != nil {
				return "", awsconf.Explain("elasticloadbalancing:DescribeLoadBalancers", err)
			}
			if len(out.LoadBalancers) == 0 {
				return "", fmt.Errorf("load balancer %s not found", arn)
			}
			return aws.ToString(out.LoadBalancers[0].DNSName), nil
		}
	}
	b, _ := json.Marshal(v)
	return "", fmt.Errorf("stevedore cannot evaluate %s: export a literal, a Ref, an Fn::Join or a load balancer's DNSName", b)
}

// physicalID is the physical id of a resource of the stack.
func (t *Target) physicalID(ctx context.Context, stack, logical string) (string, error) {
	out, err := cloudformation.NewFromConfig(t.AWS).DescribeStackResources(ctx, &cloudformation.DescribeStackResourcesInput{StackName: aws.String(stack), LogicalResourceId: aws.String(logical)})
	if err != nil {
		return "", awsconf.Explain("cloudformation:DescribeStackResources", fmt.Errorf("resource %s of stack %s: %w", logical, stack, err))
	}
	for _, r := range out.StackResources {
		if aws.ToString(r.LogicalResourceId) == logical && aws.ToString(r.PhysicalResourceId) != "" {
			return aws.ToString(r.PhysicalResourceId), nil
		}
	}
	return "", fmt.Errorf("stack %s has no resource %s yet", stack, logical)
}
