// Package cfn reads what a CDK deploy left behind: stack outputs through the
// CloudFormation API, and the list and order of stacks from a synthesized
// cloud assembly (cdk.out/manifest.json).
package cfn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// describeStacksAPI is the part of the CloudFormation client Reader uses.
type describeStacksAPI interface {
	DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// Reader reads stack outputs in one region (cloudformation:DescribeStacks).
type Reader struct {
	api    describeStacksAPI
	region string
}

// NewReader makes a Reader from the configuration awsconf.Load returns.
func NewReader(cfg aws.Config) *Reader {
	return &Reader{api: cloudformation.NewFromConfig(cfg), region: cfg.Region}
}

// StackOutputs returns the outputs of one stack as OutputKey -> OutputValue
// (empty, not nil, for a stack without outputs). A stack that does not
// exist, failed or rolled back is an error naming what to do.
func (r *Reader) StackOutputs(ctx context.Context, name string) (map[string]string, error) {
	if name == "" {
		return nil, errors.New("no stack name: pass the CloudFormation stack name (see StacksFromAssembly)")
	}
	out, err := r.api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if err != nil {
		if isMissingStack(err) {
			return nil, r.notFound(name, err)
		}
		return nil, awsconf.Explain("cloudformation:DescribeStacks", fmt.Errorf("reading stack %s: %w", name, err))
	}
	if len(out.Stacks) == 0 {
		return nil, r.notFound(name, nil)
	}
	stack := out.Stacks[0]
	if err := checkStatus(name, stack); err != nil {
		if errors.Is(err, errNotDeployed) {
			return nil, r.notFound(name, err)
		}
		return nil, err
	}
	outputs := make(map[string]string, len(stack.Outputs))
	for _, o := range stack.Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return outputs, nil
}

// Outputs reads several stacks and merges their outputs into one map. When
// two stacks have an output with the same key, the stack named later wins,
// so list them in deploy order; use StackOutputs to keep them apart.
func (r *Reader) Outputs(ctx context.Context, stacks ...string) (map[string]string, error) {
	if len(stacks) == 0 {
		return nil, errors.New("no stack names: pass at least one CloudFormation stack name")
	}
	merged := map[string]string{}
	for _, name := range stacks {
		outs, err := r.StackOutputs(ctx, name)
		if err != nil {
			return nil, err
		}
		for k, v := range outs {
			merged[k] = v
		}
	}
	return merged, nil
}

// isMissingStack recognizes DescribeStacks' answer for an unknown name:
// a ValidationError "Stack with id X does not exist".
func isMissingStack(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "ValidationError" && strings.Contains(api.ErrorMessage(), "does not exist")
}

func (r *Reader) notFound(name string, cause error) error {
	msg := fmt.Sprintf("stack %s not found in region %s: run the deploy first, or check the stack name, environment (stage) and region", name, r.region)
	if cause == nil {
		return errors.New(msg)
	}
	return fmt.Errorf("%s: %w", msg, cause)
}
