// Package elbrule is the Rule of a gate on an application load balancer:
// the test listener rule whose http-header condition stevedore sets per
// release (kept apart from package gate, which needs no AWS SDK, so that
// stevedore.yaml's packages do not pull it into the CDK app).
package elbrule

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
	"github.com/stevedore-ci/stevedore/pipelines/gate"
)

// rulesAPI is the part of the ELBv2 client a ListenerRule uses.
type rulesAPI interface {
	DescribeRules(ctx context.Context, in *elb.DescribeRulesInput, opts ...func(*elb.Options)) (*elb.DescribeRulesOutput, error)
	ModifyRule(ctx context.Context, in *elb.ModifyRuleInput, opts ...func(*elb.Options)) (*elb.ModifyRuleOutput, error)
}

// ListenerRule is an application load balancer's test listener rule, the
// gate.Rule of a gate: SetHeader replaces the values of its http-header
// condition on the header, keeping every other condition and its actions.
type ListenerRule struct {
	// ARN of the listener rule (the TestRuleOutput stack output).
	ARN string
	api rulesAPI
}

// New returns the listener rule arn, reached with cfg.
func New(cfg aws.Config, arn string) *ListenerRule {
	return &ListenerRule{ARN: arn, api: elb.NewFromConfig(cfg)}
}

// SetHeader reads the rule (DescribeRules) and sets its http-header
// condition on header to match value only (ModifyRule). The value never
// appears in an error.
func (r *ListenerRule) SetHeader(ctx context.Context, header string, value gate.Token) error {
	if r.ARN == "" {
		return errors.New("no listener rule ARN")
	}
	out, err := r.api.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{r.ARN}})
	if err != nil {
		return awsconf.Explain("elasticloadbalancing:DescribeRules", fmt.Errorf("reading listener rule %s: %w", r.ARN, err))
	}
	if len(out.Rules) == 0 {
		return fmt.Errorf("listener rule %s does not exist: check the test rule output of the stack", r.ARN)
	}
	conditions, found := withHeader(out.Rules[0].Conditions, header, string(value))
	if !found {
		return fmt.Errorf("listener rule %s has no http-header condition on %s: the test rule must match that header (the CDK app's ListenerCondition.httpHeader('%s', [...]))", r.ARN, header, header)
	}
	_, err = r.api.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(r.ARN), Conditions: conditions})
	if err != nil {
		err = awsconf.Explain("elasticloadbalancing:ModifyRule", fmt.Errorf("setting the %s condition of listener rule %s: %w", header, r.ARN, err))
		if value != "" && strings.Contains(err.Error(), string(value)) {
			return errors.New(value.Redact(err.Error()))
		}
		return err
	}
	return nil
}

// withHeader copies the conditions, the http-header one on header matching
// value only; found says whether there was one. A condition described with
// both its legacy Values and its config is sent with the config only, as
// ModifyRule takes one of the two.
func withHeader(in []types.RuleCondition, header, value string) (out []types.RuleCondition, found bool) {
	for _, c := range in {
		hasConfig := c.HostHeaderConfig != nil || c.HttpHeaderConfig != nil || c.HttpRequestMethodConfig != nil ||
			c.PathPatternConfig != nil || c.QueryStringConfig != nil || c.SourceIpConfig != nil
		if hasConfig {
			c.Values = nil
		}
		if aws.ToString(c.Field) == "http-header" && c.HttpHeaderConfig != nil && strings.EqualFold(aws.ToString(c.HttpHeaderConfig.HttpHeaderName), header) {
			c.HttpHeaderConfig = &types.HttpHeaderConditionConfig{HttpHeaderName: c.HttpHeaderConfig.HttpHeaderName, Values: []string{value}}
			found = true
		}
		out = append(out, c)
	}
	return out, found
}
