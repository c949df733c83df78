package awstarget

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/internal/wait"
)

// ChangeSetPreparer is a CDK runner that can stop short of executing:
// cdk deploy --method=prepare-change-set publishes the assets and leaves a
// change set. When the CDK runner has it, deploy-infra reviews every
// change set before executing it (see Target.AllowReplace).
type ChangeSetPreparer interface {
	// Prepare leaves the change set name for stack, not executed.
	Prepare(ctx context.Context, asm deploy.Assembly, stack, name string) (string, error)
}

// statefulTypes hold data that a replacement or a removal destroys.
var statefulTypes = []string{
	"AWS::RDS::DBInstance", "AWS::RDS::DBCluster", "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable",
	"AWS::Cognito::UserPool", "AWS::S3::Bucket", "AWS::ElastiCache::CacheCluster",
	"AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::ServerlessCache", "AWS::SecretsManager::Secret",
	"AWS::EFS::FileSystem", "AWS::OpenSearchService::Domain",
}

// deployChangeSets applies each stack in order through a reviewed change
// set: prepared by the CDK CLI, refused when it replaces or removes a
// stateful resource that AllowReplace does not name, else executed and
// followed until the stack settles.
func (t *Target) deployChangeSets(ctx context.Context, p ChangeSetPreparer, asm deploy.Assembly) (changed int, err error) {
	api := cloudformation.NewFromConfig(t.AWS)
	name := fmt.Sprintf("stevedore-%d", time.Now().UnixNano())
	for _, st := range asm.Stacks {
		if _, err := p.Prepare(ctx, asm, st, name); err != nil {
			return changed, err
		}
		cs, err := t.describeChangeSet(ctx, api, st, name)
		if err != nil {
			return changed, err
		}
		if cs == nil {
			t.logf("%s: no changes", st)
			continue
		}
		if err := t.reviewChanges(st, cs); err != nil {
			_, _ = api.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{StackName: aws.String(st), ChangeSetName: aws.String(name)})
			return changed, err
		}
		if _, err := api.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{StackName: aws.String(st), ChangeSetName: aws.String(name)}); err != nil {
			return changed, awsconf.Explain("cloudformation:ExecuteChangeSet", fmt.Errorf("stack %s: %w", st, err))
		}
		changed++
		if err := t.waitStack(ctx, api, st); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

// changes is what a change set would do, read in full.
type changes []types.ResourceChange

// describeChangeSet waits until the change set is ready and returns its
// changes; nil when it has none.
func (t *Target) describeChangeSet(ctx context.Context, api *cloudformation.Client, stack, name string) (changes, error) {
	var out changes
	var next *string
	for {
		cs, err := api.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{StackName: aws.String(stack), ChangeSetName: aws.String(name), NextToken: next})
		if hasCode(err, "ChangeSetNotFound", "ChangeSetNotFoundException") {
			return nil, nil // the CLI found no changes and removed it
		}
		if err != nil {
			return nil, awsconf.Explain("cloudformation:DescribeChangeSet", fmt.Errorf("stack %s: %w", stack, err))
		}
		switch cs.Status {
		case types.ChangeSetStatusCreatePending, types.ChangeSetStatusCreateInProgress:
			if err := wait.Sleep(ctx, orDefault(t.Poll, DefaultPoll)); err != nil {
				return nil, err
			}
			continue
		case types.ChangeSetStatusFailed:
			reason := aws.ToString(cs.StatusReason)
			if strings.Contains(reason, "didn't contain changes") || strings.Contains(reason, "No updates are to be performed") {
				_, _ = api.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{StackName: aws.String(stack), ChangeSetName: aws.String(name)})
				return nil, nil
			}
			return nil, fmt.Errorf("change set of stack %s failed: %s", stack, reason)
		}
		for _, c := range cs.Changes {
			if c.ResourceChange != nil {
				out = append(out, *c.ResourceChange)
			}
		}
		if next = cs.NextToken; next == nil {
			return out, nil
		}
	}
}

// reviewChanges refuses a replacement or removal of a stateful resource
// that AllowReplace does not acknowledge by logical or physical name.
func (t *Target) reviewChanges(stack string, cs changes) error {
	var refused []string
	for _, c := range cs {
		typ, logical, physical := aws.ToString(c.ResourceType), aws.ToString(c.LogicalResourceId), aws.ToString(c.PhysicalResourceId)
		if !slices.Contains(statefulTypes, typ) {
			continue
		}
		what := ""
		switch {
		case c.Action == types.ChangeActionRemove:
			what = "would be deleted"
		case c.Replacement == types.ReplacementTrue:
			what = "would be replaced (its data lost)"
		case c.Replacement == types.ReplacementConditional:
			what = "may be replaced (its data lost)"
		default:
			continue
		}
		if slices.Contains(t.AllowReplace, logical) || (physical != "" && slices.Contains(t.AllowReplace, physical)) {
			t.logf("%s: %s %s %s: acknowledged by --allow-replace", stack, typ, logical, what)
			continue
		}
		refused = append(refused, fmt.Sprintf("%s %s (%s) %s", typ, logical, cmpOr(physical, "new"), what))
	}
	if len(refused) > 0 {
		return fmt.Errorf("stack %s: refusing to deploy, nothing was changed:\n  - %s\nif that is intended, acknowledge each by name with --allow-replace %s", stack, strings.Join(refused, "\n  - "), firstWord(refused))
	}
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func firstWord(refused []string) string {
	f := strings.Fields(refused[0])
	return f[1]
}

// waitStack follows a stack until it settled; a rollback is an error with
// the reasons of the failed resources.
func (t *Target) waitStack(ctx context.Context, api *cloudformation.Client, stack string) error {
	for {
		out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
		if err != nil {
			return awsconf.Explain("cloudformation:DescribeStacks", fmt.Errorf("following stack %s: %w", stack, err))
		}
		s := out.Stacks[0]
		status := string(s.StackStatus)
		if !strings.HasSuffix(status, "_IN_PROGRESS") {
			if strings.Contains(status, "ROLLBACK") || strings.HasSuffix(status, "_FAILED") {
				return fmt.Errorf("stack %s: %s: %s%s", stack, status, aws.ToString(s.StackStatusReason), failedResources(ctx, api, stack))
			}
			return nil
		}
		if err := wait.Sleep(ctx, orDefault(t.Poll, DefaultPoll)); err != nil {
			return err
		}
	}
}

// failedResources lists the reasons of the resources that failed in the
// stack's last operation (events come newest first, back to the stack's
// own *_IN_PROGRESS event that started it).
func failedResources(ctx context.Context, api *cloudformation.Client, stack string) string {
	out, err := api.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(stack)})
	if err != nil {
		return ""
	}
	var lines []string
	for _, ev := range out.StackEvents {
		status := string(ev.ResourceStatus)
		if aws.ToString(ev.ResourceType) == "AWS::CloudFormation::Stack" && (status == "UPDATE_IN_PROGRESS" || status == "CREATE_IN_PROGRESS") {
			break
		}
		if strings.HasSuffix(status, "_FAILED") {
			lines = append(lines, fmt.Sprintf("%s %s: %s", aws.ToString(ev.LogicalResourceId), status, aws.ToString(ev.ResourceStatusReason)))
		}
	}
	if len(lines) == 0 {
		return ""
	}
	slices.Reverse(lines)
	return "\n  - " + strings.Join(lines, "\n  - ")
}
