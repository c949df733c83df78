package awstarget

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
	"github.com/stevedore-ci/stevedore/pipelines/cdkapp"
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

// release is the change sets check-stacks prepared, or the plan it
// verified, for deploy-infra to execute in stack order.
type release struct {
	name   string
	stacks []string // the stacks to execute, in order
	// deferred stacks are prepared and reviewed only when their turn
	// comes: new stacks (nothing of theirs can be replaced) and stacks
	// whose change set needs what an earlier stack of the release creates
	// (a new export).
	deferred map[string]bool
	plan     bool // the change sets belong to a plan: never discarded
	asm      deploy.Assembly
	prep     ChangeSetPreparer
}

// prepareRelease has the CDK CLI prepare one change set per existing
// stack and reviews each: a replacement or removal of a stateful resource
// that AllowReplace does not name is refused, and every change set of the
// release is deleted again: nothing is executed.
func (t *Target) prepareRelease(ctx context.Context, p ChangeSetPreparer, asm deploy.Assembly) (release, error) {
	api := cloudformation.NewFromConfig(t.AWS)
	r := release{name: fmt.Sprintf("stevedore-%s-%d", planID(asm), time.Now().UnixNano()), deferred: map[string]bool{}, asm: asm, prep: p}
	fail := func(err error) (release, error) {
		t.discard(ctx, r)
		return release{}, err
	}
	for _, st := range asm.Stacks {
		if _, exists, err := t.stackOutputs(ctx, st); err != nil {
			return fail(err)
		} else if !exists {
			r.stacks, r.deferred[st] = append(r.stacks, st), true
			continue
		}
		cs, err := t.prepareOne(ctx, api, p, asm, st, r.name)
		if err != nil && len(r.stacks) > 0 {
			t.logf("%s: change set prepared when its turn comes (%v)", st, err)
			r.stacks, r.deferred[st] = append(r.stacks, st), true
			continue
		}
		if err != nil {
			return fail(err)
		}
		if cs == nil {
			t.logf("%s: no changes", st)
			continue
		}
		r.stacks = append(r.stacks, st)
		if err := t.reviewChanges(st, cs); err != nil {
			return fail(err)
		}
	}
	return r, nil
}

// prepareOne prepares and reads one stack's change set (nil: no changes).
func (t *Target) prepareOne(ctx context.Context, api *cloudformation.Client, p ChangeSetPreparer, asm deploy.Assembly, st, name string) (changes, error) {
	if _, err := p.Prepare(ctx, asm, st, name); err != nil {
		return nil, err
	}
	return t.describeChangeSet(ctx, api, st, name)
}

// executeRelease executes the change sets in order, following each stack
// until it settles; a deferred stack is prepared and reviewed first.
func (t *Target) executeRelease(ctx context.Context, r release) (int, error) {
	t.mu.Lock()
	t.release = nil // from here on the change sets are the deploy's
	t.mu.Unlock()
	api := cloudformation.NewFromConfig(t.AWS)
	done := 0
	for _, st := range r.stacks {
		if r.deferred[st] {
			cs, err := t.prepareOne(ctx, api, r.prep, r.asm, st, r.name)
			if err != nil {
				return done, err
			}
			if cs == nil {
				continue
			}
			if err := t.reviewChanges(st, cs); err != nil {
				_, _ = api.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{StackName: aws.String(st), ChangeSetName: aws.String(r.name)})
				return done, err
			}
		}
		if _, err := api.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{StackName: aws.String(st), ChangeSetName: aws.String(r.name)}); err != nil {
			return done, awsconf.Explain("cloudformation:ExecuteChangeSet", fmt.Errorf("stack %s: %w", st, err))
		}
		done++
		if err := t.waitStack(ctx, api, st); err != nil {
			return done, err
		}
	}
	return done, nil
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
	var refused, names []string
	for _, c := range cs {
		typ, logical, physical := aws.ToString(c.ResourceType), aws.ToString(c.LogicalResourceId), aws.ToString(c.PhysicalResourceId)
		if !cdkapp.IsStateful(typ) {
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
		refused = append(refused, fmt.Sprintf("%s %s (%s) %s", typ, logical, cmp.Or(physical, "new"), what))
		names = append(names, "--allow-replace "+logical)
	}
	if len(refused) > 0 {
		return fmt.Errorf("stack %s: refusing to deploy, nothing was changed:\n  - %s\nif that is intended, acknowledge each by name: with-aws %s", stack, strings.Join(refused, "\n  - "), strings.Join(names, " "))
	}
	return nil
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

// planPrefix names the change sets a plan leaves, stevedore-plan-<id>.
const planPrefix = "stevedore-plan-"

// planID identifies what an assembly would deploy: the environment, the
// stacks and the CDK context (image digests included). A plan and the
// deploy that applies it compute the same id only from the same build.
func planID(asm deploy.Assembly) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", asm.Env, strings.Join(asm.Stacks, ","))
	for _, k := range slices.Sorted(maps.Keys(asm.Context)) {
		fmt.Fprintf(h, "%s=%s\x00", k, asm.Context[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// leavePlan prepares one change set per stack and leaves it for `deploy
// --plan ID`: nothing is executed. A stack without changes gets none.
func (t *Target) leavePlan(ctx context.Context, p ChangeSetPreparer, asm deploy.Assembly) (string, []string, error) {
	api := cloudformation.NewFromConfig(t.AWS)
	id := planID(asm)
	name := planPrefix + id
	var lines []string
	for _, st := range asm.Stacks {
		// A plan made again from the same build replaces its change set.
		_, _ = api.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{StackName: aws.String(st), ChangeSetName: aws.String(name)})
		if _, err := p.Prepare(ctx, asm, st, name); err != nil {
			return "", nil, err
		}
		cs, err := t.describeChangeSet(ctx, api, st, name)
		if err != nil {
			return "", nil, err
		}
		switch {
		case cs == nil:
			lines = append(lines, st+": no changes")
		default:
			line := fmt.Sprintf("%s: change set %s, %d changes", st, name, len(cs))
			if err := t.reviewChanges(st, cs); err != nil {
				line += " (deploy would refuse it: " + err.Error() + ")"
			}
			lines = append(lines, line)
		}
	}
	return id, lines, nil
}

// verifyPlan checks, read-only, that plan id can be applied as it is: the
// plan is of this build, every change set is still executable (the stack
// did not change since), a stack the plan found unchanged still is, and
// no stateful resource is replaced unacknowledged.
func (t *Target) verifyPlan(ctx context.Context, asm deploy.Assembly, id string) (release, error) {
	if got := planID(asm); got != id {
		return release{}, fmt.Errorf("plan %s was made from another build (this one is plan %s: other images, context or stacks): run plan again and deploy its id", id, got)
	}
	api := cloudformation.NewFromConfig(t.AWS)
	name := planPrefix + id
	r := release{name: name, plan: true}
	var problems Problems
	for _, st := range asm.Stacks {
		want, err := t.CDK.Template(ctx, asm, st)
		if err != nil {
			return release{}, err
		}
		cs, err := api.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{StackName: aws.String(st), ChangeSetName: aws.String(name)})
		if hasCode(err, "ChangeSetNotFound", "ChangeSetNotFoundException", "ValidationError") {
			// The plan found no changes here: the stack must still match.
			tpl, err := api.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(st)})
			if err != nil || !sameJSON(aws.ToString(tpl.TemplateBody), want) {
				problems = append(problems, fmt.Sprintf("stack %s has no change set of plan %s but its template differs from this build: run plan again", st, id))
			}
			continue
		}
		if err != nil {
			return release{}, awsconf.Explain("cloudformation:DescribeChangeSet", fmt.Errorf("stack %s: %w", st, err))
		}
		if cs.Status != types.ChangeSetStatusCreateComplete || cs.ExecutionStatus != types.ExecutionStatusAvailable {
			problems = append(problems, fmt.Sprintf("change set %s of stack %s can no longer be executed (%s/%s: the stack changed since the plan): run plan again", name, st, cs.Status, cs.ExecutionStatus))
			continue
		}
		tpl, err := api.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String(st), ChangeSetName: aws.String(name)})
		if err != nil {
			return release{}, awsconf.Explain("cloudformation:GetTemplate", fmt.Errorf("stack %s: %w", st, err))
		}
		if !sameJSON(aws.ToString(tpl.TemplateBody), want) {
			problems = append(problems, fmt.Sprintf("change set %s of stack %s holds another template than this build: run plan again", name, st))
			continue
		}
		all, err := t.describeChangeSet(ctx, api, st, name)
		if err != nil {
			return release{}, err
		}
		if err := t.reviewChanges(st, all); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		r.stacks = append(r.stacks, st)
	}
	if len(problems) > 0 {
		return release{}, fmt.Errorf("deploy --plan %s: %w", id, problems)
	}
	return r, nil
}

// sameJSON compares two templates as JSON values.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return a == b
	}
	return reflect.DeepEqual(x, y)
}

// Discard deletes the change sets check-stacks prepared when deploy-infra
// never executed them (a failed migration, a failed push): a stopped
// deploy leaves nothing behind. A plan's change sets are kept.
func (t *Target) Discard(ctx context.Context) error {
	t.mu.Lock()
	r := t.release
	t.release = nil
	t.mu.Unlock()
	if r == nil || r.plan {
		return nil
	}
	return t.discard(ctx, *r)
}

func (t *Target) discard(ctx context.Context, r release) error {
	api := cloudformation.NewFromConfig(t.AWS)
	var errs []error
	for _, st := range r.stacks {
		if r.deferred[st] {
			continue // never prepared
		}
		if _, err := api.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{StackName: aws.String(st), ChangeSetName: aws.String(r.name)}); err != nil {
			errs = append(errs, awsconf.Explain("cloudformation:DeleteChangeSet", fmt.Errorf("stack %s, change set %s: %w", st, r.name, err)))
		}
	}
	return errors.Join(errs...)
}
