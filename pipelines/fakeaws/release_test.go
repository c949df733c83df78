package fakeaws_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	stecs "github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
)

// fakeClock advances only when slept on, so waits take no real time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return ctx.Err()
}

const (
	goodImage = "repo/api@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	newImage  = "repo/api@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	badImage  = "repo/api@sha256:badbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadbadb"
)

// The fake's deployments are judged by stevedore's own rollout rules as
// real ECS ones would be: a good image completes, a bad one is reported as
// a circuit-breaker rollback with the events and the stopped tasks' reason,
// and a migration's exit code decides the task's outcome.
func TestStevedoreECSJudgesTheFake(t *testing.T) {
	a := fakeaws.New(t)
	a.SeedService("prod", "api", map[string]string{"api": goodImage})
	a.BadImage(badImage, "CannotPullContainerError: manifest unknown")
	a.ExitCode("alembic upgrade head", 1)
	d := stecs.New(a.Config(), stecs.WithClock(&fakeClock{now: time.Unix(1735732800, 0)}))

	res, err := d.Rollout(ctx, stecs.Spec{Cluster: "prod", Service: "api", Images: map[string]string{"api": newImage}})
	if err != nil || res.Mode != stecs.ModeImage {
		t.Fatalf("good rollout: %v %+v", err, res)
	}
	if st, _ := a.Service("prod", "api"); st.Images["api"] != newImage || len(st.Deployments) != 1 {
		t.Fatalf("after the good rollout: %+v", st)
	}

	_, err = d.Rollout(ctx, stecs.Spec{Cluster: "prod", Service: "api", Images: map[string]string{"api": badImage}})
	var re *stecs.RolloutError
	if !errors.As(err, &re) || re.Kind != stecs.KindCircuitBreaker {
		t.Fatalf("bad rollout: %v", err)
	}
	if !strings.Contains(strings.Join(re.StoppedTasks, "\n"), "CannotPullContainerError: manifest unknown") ||
		!strings.Contains(strings.Join(re.Events, "\n"), "deployment failed: tasks failed to start") {
		t.Fatalf("bad rollout details: stopped %q events %q", re.StoppedTasks, re.Events)
	}

	task, err := d.RunTask(ctx, stecs.TaskSpec{Cluster: "prod", Service: "api", Container: "api", Command: []string{"alembic", "upgrade", "head"}})
	if err == nil || task.ExitCode != 1 {
		t.Fatalf("failing migration: exit %d, err %v", task.ExitCode, err)
	}
	if task, err := d.RunTask(ctx, stecs.TaskSpec{Cluster: "prod", Service: "api", Container: "api", Command: []string{"true"}}); err != nil || task.ExitCode != 0 {
		t.Fatalf("passing task: exit %d, err %v", task.ExitCode, err)
	}
}

// While a stack update runs, a follower polling DescribeServices drives the
// deployment it watches, so it sees every state of it, whatever the stack
// poller does in between; the service deployment keeps the history after
// the deployment left DescribeServices.
func TestFollowerSeesEveryStateOfAStackDeployment(t *testing.T) {
	a := fakeaws.New(t, fakeaws.WithSettlePolls(2))
	if err := a.ApplyTemplate("App", appTemplate(t, goodImage, nil)); err != nil {
		t.Fatal(err)
	}
	name := stackOutput(t, a, "App", "ApiServiceName")
	a.BadImage(badImage, "")
	if err := a.StartTemplate("App", appTemplate(t, badImage, nil)); err != nil {
		t.Fatal(err)
	}
	type result struct {
		status string
		err    error
	}
	done := make(chan result)
	go func() { // `cdk deploy`, waiting for CloudFormation
		status, err := a.WaitStack(ctx, "App")
		done <- result{status, err}
	}()
	c := ecsClient(a)
	var seen []string
	for range 4 {
		_ = a.StackStatus("App")
		svc := describe(t, c, "prod", name)
		seen = append(seen, strings.Join(rollouts(svc), ","))
	}
	want := []string{
		"PRIMARY/IN_PROGRESS/app-api:2,ACTIVE/COMPLETED/app-api:1",
		"PRIMARY/IN_PROGRESS/app-api:1,ACTIVE/FAILED/app-api:2",
		"PRIMARY/IN_PROGRESS/app-api:1,ACTIVE/FAILED/app-api:2",
		"PRIMARY/COMPLETED/app-api:1",
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("follower saw\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
	if r := <-done; r.status != "UPDATE_ROLLBACK_COMPLETE" || r.err == nil {
		t.Fatalf("cdk deploy saw %s, %v", r.status, r.err)
	}

	svc := describe(t, c, "prod", name)
	list := must(c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String(name)}))(t)
	if len(list.ServiceDeployments) != 2 || aws.ToString(list.ServiceDeployments[0].ServiceDeploymentArn) != aws.ToString(svc.CurrentServiceDeployment) {
		t.Fatalf("service deployments = %+v, current %s", list.ServiceDeployments, aws.ToString(svc.CurrentServiceDeployment))
	}
	out := must(c.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(svc.CurrentServiceDeployment)}}))(t)
	sd := out.ServiceDeployments[0]
	if sd.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful || sd.Rollback == nil || sd.DeploymentCircuitBreaker.Status != ecstypes.ServiceDeploymentRollbackMonitorsStatusTriggered {
		t.Fatalf("rolled-back service deployment = %s rollback %+v", sd.Status, sd.Rollback)
	}
	revs := must(c.DescribeServiceRevisions(ctx, &ecs.DescribeServiceRevisionsInput{ServiceRevisionArns: []string{aws.ToString(sd.TargetServiceRevision.Arn), aws.ToString(sd.Rollback.ServiceRevisionArn)}}))(t)
	var images []string
	for _, r := range revs.ServiceRevisions {
		images = append(images, aws.ToString(r.ContainerImages[0].Image))
	}
	if !slices.Equal(images, []string{badImage, goodImage}) {
		t.Fatalf("target and rollback revisions run %v", images)
	}
	first := must(c.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{aws.ToString(list.ServiceDeployments[1].ServiceDeploymentArn)}}))(t)
	if first.ServiceDeployments[0].Status != ecstypes.ServiceDeploymentStatusSuccessful {
		t.Fatalf("first deployment = %s", first.ServiceDeployments[0].Status)
	}
}

func stackOutput(t *testing.T, a *fakeaws.AWS, stack, key string) string {
	t.Helper()
	_, out := outputs(t, cloudformation.NewFromConfig(a.Config()), stack)
	if out[key] == "" {
		t.Fatalf("stack %s has no output %s: %v", stack, key, out)
	}
	return out[key]
}

// ApplyTemplate records the calls `cdk deploy` would make, so the call log
// orders a migration task against the stack update, and a fault scripted
// for them fails the deploy before anything changes.
func TestCDKDeployCallsAreLoggedAndCanFail(t *testing.T) {
	a := fakeaws.New(t, fakeaws.WithSettlePolls(1))
	if err := a.ApplyTemplate("App", appTemplate(t, goodImage, nil)); err != nil {
		t.Fatal(err)
	}
	name := stackOutput(t, a, "App", "ApiServiceName")
	a.ResetCalls()

	// A migration from the current revision with the new image, then the
	// stack update that moves the service.
	c := ecsClient(a)
	current, _ := a.Service("prod", name)
	td := must(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(current.TaskDefinition)}))(t).TaskDefinition
	td.ContainerDefinitions[0].Image = aws.String(newImage)
	rev := must(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: td.Family, ContainerDefinitions: td.ContainerDefinitions}))(t)
	d := stecs.New(a.Config(), stecs.WithClock(&fakeClock{now: time.Unix(1735732800, 0)}))
	if _, err := d.RunTask(ctx, stecs.TaskSpec{Cluster: "prod", TaskDefinition: aws.ToString(rev.TaskDefinition.TaskDefinitionArn), Container: "api", Command: []string{"alembic", "upgrade", "head"}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := a.Service("prod", name); st.Images["api"] != goodImage {
		t.Fatalf("the migration moved the service: %v", st.Images)
	}
	a.Fail("ExecuteChangeSet", fakeaws.AccessDenied, 1)
	if err := a.ApplyTemplate("App", appTemplate(t, newImage, nil)); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("cdk deploy without permission: %v", err)
	}
	if st, _ := a.Service("prod", name); st.Images["api"] != goodImage {
		t.Fatalf("a refused deploy moved the service: %v", st.Images)
	}
	if err := a.ApplyTemplate("App", appTemplate(t, newImage, nil)); err != nil {
		t.Fatal(err)
	}
	ops := a.Ops()
	run, exec := slices.Index(ops, "ecs:RunTask"), slices.Index(ops, "cloudformation:ExecuteChangeSet")
	if run < 0 || exec < run {
		t.Fatalf("ops = %v: want the migration task before the stack update", ops)
	}
	if st, _ := a.Service("prod", name); st.Images["api"] != newImage {
		t.Fatalf("after cdk deploy: %v", st.Images)
	}
}
