package awstarget

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
	"github.com/stevedore-ci/stevedore/pipelines/cdkapp"
	"github.com/stevedore-ci/stevedore/pipelines/cfn"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/internal/wait"
	"github.com/stevedore-ci/stevedore/pipelines/internal/words"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// Current checks every secret the templates reference by name, reads the
// outputs of the assembly's stacks that already exist (none on a first
// deploy) and, outside a dry run, prepares and reviews the change sets
// deploy-infra will execute (or verifies the plan being applied). It
// changes no resource: unexecuted change sets are removed by Discard.
func (t *Target) Current(ctx context.Context, asm deploy.Assembly) (deploy.Outputs, steps.Outcome, error) {
	if len(asm.Stacks) == 0 {
		return nil, steps.Outcome{}, errors.New("the cloud assembly has no stacks: the CDK app must define at least one")
	}
	t.mu.Lock()
	t.checked = time.Now()
	t.mu.Unlock()
	var templates []string
	var parsed []cdkapp.Template
	for _, st := range asm.Stacks {
		tpl, err := t.CDK.Template(ctx, asm, st)
		if err != nil {
			return nil, steps.Outcome{}, fmt.Errorf("reading the template of %s: %w", st, err)
		}
		templates = append(templates, tpl)
		parsed = append(parsed, cdkapp.Template{Stack: st, Body: []byte(tpl)})
	}
	var errs []error
	secrets := referencedSecrets(templates)
	for _, name := range secrets {
		if err := t.secretProblem(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	if err := problemsOf(errs, t.AWS.Region); err != nil {
		return nil, steps.Outcome{}, err
	}
	out := deploy.Outputs{}
	var existing []string
	for _, st := range asm.Stacks {
		outs, ok, err := t.stackOutputs(ctx, st)
		if err != nil {
			return nil, steps.Outcome{}, err
		}
		if ok {
			existing = append(existing, st)
			for k, v := range outs {
				out[k] = v
			}
		}
	}
	if err := t.checkStrategies(parsed, out, asm.Context); err != nil {
		return nil, steps.Outcome{}, err
	}
	t.recordImages(ctx, out)
	summary := fmt.Sprintf("%d of %s exist", len(existing), words.Count(len(asm.Stacks), "stack"))
	if len(existing) == 0 {
		summary = fmt.Sprintf("first deploy: none of the %s exists yet", words.Count(len(asm.Stacks), "stack"))
	}
	if len(secrets) > 0 {
		summary += fmt.Sprintf("; %s referenced, all exist", words.Count(len(secrets), "secret"))
	}
	// The change sets are prepared and reviewed here, before the
	// migration: a refused one leaves the schema where it was too.
	if !t.DryRun {
		var r release
		var err error
		p, ok := t.CDK.(ChangeSetPreparer)
		switch {
		case t.Plan != "":
			r, err = t.verifyPlan(ctx, asm, t.Plan)
			summary += fmt.Sprintf("; plan %s verified (%d change sets)", t.Plan, len(r.stacks))
		case ok:
			r, err = t.prepareRelease(ctx, p, asm)
			summary += fmt.Sprintf("; %s prepared and reviewed", words.Count(len(r.stacks)-len(r.deferred), "change set"))
			if len(r.deferred) > 0 {
				summary += fmt.Sprintf(", %d prepared in deploy-infra (new stacks or needing an earlier one)", len(r.deferred))
			}
		}
		if err != nil {
			return nil, steps.Outcome{}, err
		}
		if r.name != "" {
			t.mu.Lock()
			t.release = &r
			t.mu.Unlock()
		}
	}
	return out, steps.Outcome{Summary: summary}, nil
}

// contractNames adds, for every output the app exports under its own name
// (stevedore.yaml infra.outputs), the contract name the steps read.
func (t *Target) contractNames(outs map[string]string) map[string]string {
	if t.App == nil || t.App.Infra == nil {
		return outs
	}
	for key, own := range t.App.Infra.Outputs {
		if v, ok := outs[own]; ok {
			outs[key] = v
		}
	}
	return outs
}

// stackOutputs reads one stack; ok is false when it does not exist (yet).
func (t *Target) stackOutputs(ctx context.Context, stack string) (map[string]string, bool, error) {
	out, err := cloudformation.NewFromConfig(t.AWS).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if hasCode(err, "ValidationError") && strings.Contains(err.Error(), "does not exist") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, awsconf.Explain("cloudformation:DescribeStacks", fmt.Errorf("reading stack %s: %w", stack, err))
	}
	if len(out.Stacks) == 0 {
		return nil, false, nil
	}
	s := out.Stacks[0]
	switch s.StackStatus {
	case types.StackStatusReviewInProgress, types.StackStatusDeleteComplete:
		return nil, false, nil
	case types.StackStatusRollbackComplete, types.StackStatusRollbackFailed, types.StackStatusDeleteFailed:
		return nil, false, fmt.Errorf("stack %s is in state %s: delete it (dagger call … destroy, or the CloudFormation console) and deploy again", stack, s.StackStatus)
	}
	outs := map[string]string{}
	for _, o := range s.Outputs {
		outs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return t.contractNames(outs), true, nil
}

// DeployInfra runs cdk deploy of every stack (cdk diff in a dry run),
// within the time limit, printing CloudFormation's progress, and reads
// back the outputs.
func (t *Target) DeployInfra(ctx context.Context, asm deploy.Assembly) (deploy.Outputs, steps.Outcome, error) {
	if len(asm.Stacks) == 0 {
		return nil, steps.Outcome{}, errors.New("the cloud assembly has no stacks: the CDK app must define at least one")
	}
	if t.DryRun {
		out, err := t.CDK.Diff(ctx, asm, asm.Stacks)
		if err != nil {
			return nil, steps.Outcome{}, err
		}
		t.logf("cdk diff %s:\n%s", strings.Join(asm.Stacks, " "), out)
		var plan []steps.Artifact
		if t.LeavePlan {
			p, ok := t.CDK.(ChangeSetPreparer)
			if !ok {
				return nil, steps.Outcome{}, errors.New("the CDK runner cannot prepare change sets for a plan")
			}
			id, lines, err := t.leavePlan(ctx, p, asm)
			if err != nil {
				return nil, steps.Outcome{}, err
			}
			plan = append(plan, steps.Artifact{Kind: "plan", Name: "plan id", Value: id}, steps.Artifact{Kind: "plan", Name: "change sets", Value: strings.Join(lines, "\n")})
		}
		// Stacks that do not exist yet have no outputs: the plan says so.
		current := deploy.Outputs{}
		for _, st := range asm.Stacks {
			if outs, ok, err := t.stackOutputs(ctx, st); err == nil && ok {
				for k, v := range outs {
					current[k] = v
				}
			}
		}
		o := steps.Outcome{Summary: fmt.Sprintf("cdk diff of %d stacks", len(asm.Stacks)),
			Artifacts: append([]steps.Artifact{{Kind: "diff", Name: "cdk diff", Value: out}}, plan...)}
		if t.LeavePlan {
			o.Summary += fmt.Sprintf("; change sets left for deploy --plan %s", plan[0].Value)
		}
		return current, o, nil
	}
	limit := orDefault(t.DeployTimeout, DefaultDeployTimeout)
	dctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	stop := t.watchStacks(dctx, asm.Stacks)
	start := time.Now()
	changed := -1 // cdk deploy does not say
	var err error
	t.mu.Lock()
	r := t.release
	t.mu.Unlock()
	if r != nil {
		changed, err = t.executeRelease(dctx, *r)
	} else {
		_, err = t.CDK.Deploy(dctx, asm, asm.Stacks)
	}
	stop()
	if err != nil {
		if errors.Is(dctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, steps.Outcome{}, fmt.Errorf("cdk deploy did not finish within %s (CloudFormation goes on, or rolls back, by itself: see the stack events; raise the limit with --deploy-timeout): %w", limit, err)
		}
		return nil, steps.Outcome{}, err
	}
	outputs, err := cfn.NewReader(t.AWS).Outputs(ctx, asm.Stacks...)
	if err != nil {
		return nil, steps.Outcome{}, err
	}
	outputs = t.contractNames(outputs)
	o := steps.Outcome{Summary: fmt.Sprintf("%d of %s changed in %s", changed, words.Count(len(asm.Stacks), "stack"), time.Since(start).Round(time.Second))}
	switch changed {
	case 0:
		o.Summary = fmt.Sprintf("no changes in the %s", words.Count(len(asm.Stacks), "stack"))
	case -1:
		o.Summary = fmt.Sprintf("%s deployed in %s", words.Count(len(asm.Stacks), "stack"), time.Since(start).Round(time.Second))
	}
	for _, k := range []string{contract.OutputHealthURL, contract.OutputFrontendURL} {
		if v := outputs[k]; v != "" {
			o.Artifacts = append(o.Artifacts, steps.Artifact{Kind: steps.KindURL, Name: k, Value: v})
		}
	}
	return deploy.Outputs(outputs), o, nil
}

// watchStacks prints the new CloudFormation events of the stacks, and at
// least every Progress interval a line per stack, until stop is called:
// a stuck resource never leaves the log silent.
func (t *Target) watchStacks(ctx context.Context, stacks []string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	api := cloudformation.NewFromConfig(t.AWS)
	// Events from before the deploy are not news: the first look happens
	// here, before the caller starts the deploy, so every event of the
	// deploy itself is printed.
	seen := map[string]bool{}
	for _, st := range stacks {
		newEvents(ctx, api, st, seen)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		every := orDefault(t.Progress, DefaultProgress)
		poll := min(every, orDefault(t.Poll, DefaultPoll))
		start := time.Now()
		last := time.Now()
		for {
			if wait.Sleep(ctx, poll) != nil {
				return
			}
			// A read in flight finishes when the deploy ends: the poll
			// stops between calls, never in the middle of one.
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			printed := false
			for _, st := range stacks {
				for _, line := range newEvents(rctx, api, st, seen) {
					t.logf("%s", line)
					printed = true
				}
			}
			if !printed && time.Since(last) >= every {
				t.logf("deploy-infra still running after %s: %s", time.Since(start).Round(time.Second), strings.Join(stackStates(rctx, api, stacks), ", "))
				printed = true
			}
			rcancel()
			if printed {
				last = time.Now()
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// newEvents returns the stack's events not seen yet, oldest first, and
// marks them seen.
func newEvents(ctx context.Context, api *cloudformation.Client, stack string, seen map[string]bool) []string {
	out, err := api.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String(stack)})
	if err != nil {
		return nil // not created yet, or a transient error: the next poll tries again
	}
	var lines []string
	for _, ev := range out.StackEvents {
		id := aws.ToString(ev.EventId)
		if seen[id] {
			continue
		}
		seen[id] = true
		line := fmt.Sprintf("%s %s %s %s", stack, aws.ToString(ev.LogicalResourceId), aws.ToString(ev.ResourceType), ev.ResourceStatus)
		if r := aws.ToString(ev.ResourceStatusReason); r != "" {
			line += ": " + r
		}
		lines = append(lines, line)
	}
	slices.Reverse(lines) // the API answers newest first
	return lines
}

// stackStates says where each stack stands.
func stackStates(ctx context.Context, api *cloudformation.Client, stacks []string) []string {
	var out []string
	for _, st := range stacks {
		state := "not created yet"
		if d, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(st)}); err == nil && len(d.Stacks) > 0 {
			state = string(d.Stacks[0].StackStatus)
		}
		out = append(out, st+" "+state)
	}
	return out
}

// recordImages remembers what each existing service runs before the
// deploy, so a follower that comes late to a finished deployment still
// reports it as one. A service that cannot be read is left out: its
// follower reads it itself.
func (t *Target) recordImages(ctx context.Context, out deploy.Outputs) {
	before := map[string]string{}
	for _, s := range t.App.Services {
		cluster, svc, err := ecsTarget(out, s.Name)
		if err != nil {
			continue
		}
		if img, err := t.runningImage(ctx, cluster, svc, s.Container); err == nil {
			before[s.Name] = img
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.before = before
}

func (t *Target) imageBefore(service string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.before[service]
}
