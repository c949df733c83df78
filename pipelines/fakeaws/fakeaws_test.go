package fakeaws_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/stevedore-ci/stevedore/pipelines/ecr"
	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush/ocitest"
)

var ctx = context.Background()

// must(call())(t) returns call's value, failing t on its error.
func must[V any](v V, err error) func(*testing.T) V {
	return func(t *testing.T) V {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestCallerIdentityAndCallLog(t *testing.T) {
	a := fakeaws.New(t, fakeaws.WithAccount("210987654321"), fakeaws.WithCallerARN("arn:aws:sts::210987654321:assumed-role/ci/job"))
	out := must(sts.NewFromConfig(a.Config()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(out.Account) != "210987654321" || aws.ToString(out.Arn) != "arn:aws:sts::210987654321:assumed-role/ci/job" {
		t.Fatalf("identity = %s %s", aws.ToString(out.Account), aws.ToString(out.Arn))
	}
	_, err := awsecr.NewFromConfig(a.Config()).DescribeRepositories(ctx, &awsecr.DescribeRepositoriesInput{RepositoryNames: []string{"nope"}})
	if errorCode(err) != "RepositoryNotFoundException" {
		t.Fatalf("DescribeRepositories of a missing repository: %v", err)
	}
	if got, want := a.Ops(), []string{"sts:GetCallerIdentity", "ecr:DescribeRepositories"}; !slices.Equal(got, want) {
		t.Fatalf("ops = %v, want %v", got, want)
	}
	if m := a.Mutating(); len(m) != 0 {
		t.Fatalf("reads reported as mutating: %v", m)
	}
	if names := a.CallsTo("DescribeRepositories")[0].Body["repositoryNames"]; !slices.Equal(names.([]any), []any{"nope"}) {
		t.Fatalf("recorded body = %v", names)
	}
}

// AssumeRole (the CDK CLI assumes the bootstrap roles) answers temporary
// credentials for the role; a malformed role is a ValidationError.
func TestAssumeRole(t *testing.T) {
	a := fakeaws.New(t)
	c := sts.NewFromConfig(a.Config())
	role := "arn:aws:iam::123456789012:role/cdk-hnb659fds-deploy-role-123456789012-us-east-1"
	out := must(c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("aws-cdk-ci")}))(t)
	cr := out.Credentials
	if cr == nil || aws.ToString(cr.AccessKeyId) == "" || aws.ToString(cr.SessionToken) == "" || cr.Expiration == nil {
		t.Fatalf("credentials = %+v", cr)
	}
	// Expiration is on the client's clock, not the fake's: credentials
	// already expired would be assumed again before every call.
	if !cr.Expiration.After(time.Now()) {
		t.Errorf("credentials expire at %s, in the past", cr.Expiration)
	}
	if got, want := aws.ToString(out.AssumedRoleUser.Arn), "arn:aws:sts::123456789012:assumed-role/cdk-hnb659fds-deploy-role-123456789012-us-east-1/aws-cdk-ci"; got != want {
		t.Errorf("assumed role ARN = %s, want %s", got, want)
	}
	_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("deploy-role"), RoleSessionName: aws.String("s")})
	if errorCode(err) != "ValidationError" {
		t.Errorf("AssumeRole of a malformed ARN: %v, want ValidationError", err)
	}
	if got := a.CallsTo("AssumeRole"); len(got) != 2 || got[0].Body["RoleArn"] != role {
		t.Errorf("AssumeRole calls = %v", got)
	}
	// A call made with the role's credentials shows them in the call log.
	cfg := a.Config()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey), aws.ToString(cr.SessionToken))
	must(sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	calls := a.Calls()
	if first, last := calls[0].AccessKey, calls[len(calls)-1].AccessKey; first != "AKIDTEST" || last != aws.ToString(cr.AccessKeyId) {
		t.Errorf("access keys recorded = %s then %s, want AKIDTEST then %s", first, last, aws.ToString(cr.AccessKeyId))
	}
	if m := a.Mutating(); len(m) != 0 {
		t.Errorf("AssumeRole reported as mutating: %v", m)
	}
}

func TestFaultsAreRetriedThenSurface(t *testing.T) {
	tests := []struct {
		name     string
		fault    fakeaws.Fault
		n        int
		wantCode string
		calls    int
	}{
		{"two throttles are absorbed by the retryer", fakeaws.Throttling, 2, "", 3},
		{"three 5xx exhaust the retryer", fakeaws.ServerError, 3, "InternalFailure", 3},
		{"access denied is not retried", fakeaws.AccessDenied, 1, "AccessDeniedException", 1},
		{"validation is not retried", fakeaws.Validation("bad name"), 1, "ValidationException", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := fakeaws.New(t)
			a.CreateRepository("app")
			a.Fail("ecr:DescribeRepositories", tc.fault, tc.n)
			_, err := awsecr.NewFromConfig(a.Config()).DescribeRepositories(ctx, &awsecr.DescribeRepositoriesInput{RepositoryNames: []string{"app"}})
			if errorCode(err) != tc.wantCode || (tc.wantCode == "") != (err == nil) {
				t.Fatalf("err = %v, want code %q", err, tc.wantCode)
			}
			if got := len(a.CallsTo("DescribeRepositories")); got != tc.calls {
				t.Fatalf("%d calls, want %d", got, tc.calls)
			}
		})
	}
}

func TestECRPushThroughRegistryShowsInDescribeImages(t *testing.T) {
	a := fakeaws.New(t)
	client := ecr.New(a.Config())
	repo := must(client.EnsureRepository(ctx, "team/api", ecr.RepositoryPolicy{ImmutableTags: true, KeepLast: 5}))(t)
	if !repo.Created || repo.URI != a.RepositoryURI("team/api") || repo.TagMutability != "IMMUTABLE" {
		t.Fatalf("repository = %+v", repo)
	}
	reg := must(client.Login(ctx))(t)
	if reg.Host != a.Host || reg.Username != "AWS" {
		t.Fatalf("login = %v", reg)
	}
	src := ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64"))
	res := must(ocipush.Push(ctx, src, ocipush.PushOptions{Repository: repo.URI, Tags: []string{"v1"}, Username: reg.Username, Password: reg.Password}))(t)
	img, found := must2(t)(client.FindImage(ctx, "team/api", res.Digest))
	if !found || img.Digest != res.Digest || !slices.Equal(img.Tags, []string{"v1"}) || img.SizeBytes == 0 {
		t.Fatalf("FindImage = %+v %v, pushed %s", img, found, res.Digest)
	}
	if imgs := a.Images("team/api"); len(imgs) != 1 || imgs[0].Digest != res.Digest {
		t.Fatalf("Images = %+v", imgs)
	}
	if !slices.Contains(a.Mutating(), "registry:PutManifest") || !slices.Contains(a.Mutating(), "ecr:CreateRepository") {
		t.Fatalf("mutating = %v", a.Mutating())
	}

	other := ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64"))
	tests := map[string]struct {
		opts ocipush.PushOptions
		want string
	}{
		"immutable tag moved": {ocipush.PushOptions{Repository: repo.URI, Tags: []string{"v1"}, Username: "AWS", Password: reg.Password}, "immutable"},
		"unknown repository":  {ocipush.PushOptions{Repository: a.RepositoryURI("missing"), Tags: []string{"v1"}, Username: "AWS", Password: reg.Password}, "does not exist"},
		"password not issued": {ocipush.PushOptions{Repository: repo.URI, Tags: []string{"v2"}, Username: "AWS", Password: ocitest.ECRPassword(t)}, ""},
		"user other than AWS": {ocipush.PushOptions{Repository: repo.URI, Tags: []string{"v2"}, Username: "admin", Password: reg.Password}, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := ocipush.Push(ctx, other, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("push error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	a.Fail("registry:PutManifest", fakeaws.ServerError, 10)
	if _, err := ocipush.Push(ctx, other, ocipush.PushOptions{Repository: repo.URI, Tags: []string{"v2"}, Username: "AWS", Password: reg.Password}); err == nil {
		t.Fatal("push through a failing registry succeeded")
	}
	if n := len(a.Images("team/api")); n != 1 {
		t.Fatalf("refused pushes stored images: %d", n)
	}
}

func must2(t *testing.T) func(ecr.Image, bool, error) (ecr.Image, bool) {
	return func(img ecr.Image, found bool, err error) (ecr.Image, bool) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return img, found
	}
}

func TestECRPutImageTagsAnExistingManifest(t *testing.T) {
	a := fakeaws.New(t)
	client := ecr.New(a.Config())
	repo := must(client.EnsureRepository(ctx, "web", ecr.RepositoryPolicy{}))(t)
	reg := must(client.Login(ctx))(t)
	res := must(ocipush.Push(ctx, ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64")), ocipush.PushOptions{Repository: repo.URI, Tags: []string{"build-1"}, Username: "AWS", Password: reg.Password}))(t)
	sdk := awsecr.NewFromConfig(a.Config())
	got := must(sdk.BatchGetImage(ctx, &awsecr.BatchGetImageInput{RepositoryName: aws.String("web"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageDigest: aws.String(res.Digest)}}}))(t)
	if len(got.Images) != 1 {
		t.Fatalf("BatchGetImage by digest: %+v", got.Failures)
	}
	must(sdk.PutImage(ctx, &awsecr.PutImageInput{RepositoryName: aws.String("web"), ImageTag: aws.String("prod"),
		ImageManifest: got.Images[0].ImageManifest, ImageDigest: aws.String(res.Digest)}))(t)
	img, _ := must2(t)(client.FindImage(ctx, "web", res.Digest))
	if img.Digest != res.Digest || !slices.Equal(img.Tags, []string{"build-1", "prod"}) {
		t.Fatalf("after PutImage: %+v", img)
	}
	// The registry side sees the ECR API's tag, as both are one store in ECR.
	if d := ocitestHead(t, a, reg.Password, repo.URI+":prod"); d != res.Digest {
		t.Fatalf("registry resolves prod to %s, want %s", d, res.Digest)
	}
	bg := must(sdk.BatchGetImage(ctx, &awsecr.BatchGetImageInput{RepositoryName: aws.String("web"),
		ImageIds: []ecrtypes.ImageIdentifier{{ImageTag: aws.String("prod")}, {ImageTag: aws.String("nope")}}}))(t)
	if len(bg.Images) != 1 || len(bg.Failures) != 1 || bg.Failures[0].FailureCode != ecrtypes.ImageFailureCodeImageNotFound {
		t.Fatalf("BatchGetImage = %d images, failures %+v", len(bg.Images), bg.Failures)
	}
}

func ocitestHead(t *testing.T, a *fakeaws.AWS, password, ref string) string {
	t.Helper()
	r := &ocitest.Registry{Host: a.Host, Username: "AWS", Password: password}
	return r.Head(t, ref).Digest.String()
}

// ecsClient returns an ECS client of the fake.
func ecsClient(a *fakeaws.AWS) *ecs.Client { return ecs.NewFromConfig(a.Config()) }

func describe(t *testing.T, c *ecs.Client, cluster, service string) ecstypes.Service {
	t.Helper()
	out := must(c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(cluster), Services: []string{service}}))(t)
	if len(out.Services) != 1 {
		t.Fatalf("DescribeServices %s: %+v", service, out.Failures)
	}
	return out.Services[0]
}

// registerImage registers a revision of family with one container "app".
func registerImage(t *testing.T, c *ecs.Client, family, image string) string {
	t.Helper()
	out := must(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String(family),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(image), Essential: aws.Bool(true)}}}))(t)
	return aws.ToString(out.TaskDefinition.TaskDefinitionArn)
}

func rollouts(s ecstypes.Service) []string {
	var out []string
	for _, d := range s.Deployments {
		out = append(out, aws.ToString(d.Status)+"/"+string(d.RolloutState)+"/"+shortTD(aws.ToString(d.TaskDefinition)))
	}
	return out
}

func shortTD(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func TestECSDeploymentCompletesAfterSettlePolls(t *testing.T) {
	a := fakeaws.New(t, fakeaws.WithSettlePolls(3))
	first := a.SeedService("prod", "api", map[string]string{"app": "repo/api@sha256:1111"})
	c := ecsClient(a)
	if got := rollouts(describe(t, c, "prod", "api")); !slices.Equal(got, []string{"PRIMARY/COMPLETED/api:1"}) {
		t.Fatalf("seeded service = %v", got)
	}
	next := registerImage(t, c, "api", "repo/api@sha256:2222")
	upd := must(c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("api"), TaskDefinition: aws.String(next)}))(t)
	if got := rollouts(*upd.Service); !slices.Equal(got, []string{"PRIMARY/IN_PROGRESS/api:2", "ACTIVE/COMPLETED/api:1"}) {
		t.Fatalf("after UpdateService = %v", got)
	}
	var seen [][]string
	for range 3 {
		seen = append(seen, rollouts(describe(t, c, "prod", "api")))
	}
	want := [][]string{
		{"PRIMARY/IN_PROGRESS/api:2", "ACTIVE/COMPLETED/api:1"},
		{"PRIMARY/IN_PROGRESS/api:2", "ACTIVE/COMPLETED/api:1"},
		{"PRIMARY/COMPLETED/api:2"},
	}
	if !slices.EqualFunc(seen, want, slices.Equal) {
		t.Fatalf("polls = %v, want %v", seen, want)
	}
	svc := describe(t, c, "prod", "api")
	if svc.RunningCount != 2 || aws.ToString(svc.TaskDefinition) != next || !strings.Contains(aws.ToString(svc.Events[0].Message), "(service api) has reached a steady state.") {
		t.Fatalf("settled service: running %d, td %s, events %v", svc.RunningCount, aws.ToString(svc.TaskDefinition), aws.ToString(svc.Events[0].Message))
	}
	// An UpdateService with the current revision starts no deployment.
	must(c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("api"), TaskDefinition: aws.String(next)}))(t)
	if got := rollouts(describe(t, c, "prod", "api")); len(got) != 1 {
		t.Fatalf("no-op update started a deployment: %v", got)
	}
	if st, _ := a.Service("prod", "api"); st.Images["app"] != "repo/api@sha256:2222" || first == next {
		t.Fatalf("state = %+v", st)
	}
}

func TestECSBadImageTripsTheCircuitBreaker(t *testing.T) {
	a := fakeaws.New(t, fakeaws.WithSettlePolls(1))
	a.SeedService("prod", "api", map[string]string{"app": "repo/api@sha256:good"})
	a.BadImage("repo/api@sha256:bad", "CannotPullContainerError: pull image manifest has been retried 5 time(s)")
	c := ecsClient(a)
	before := aws.ToString(describe(t, c, "prod", "api").Deployments[0].Id)
	bad := registerImage(t, c, "api", "repo/api@sha256:bad")
	must(c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("api"), TaskDefinition: aws.String(bad)}))(t)

	svc := describe(t, c, "prod", "api")
	if got := rollouts(svc); !slices.Equal(got, []string{"PRIMARY/IN_PROGRESS/api:1", "ACTIVE/FAILED/api:2"}) {
		t.Fatalf("after the failing poll: %v", got)
	}
	if r := aws.ToString(svc.Deployments[0].RolloutStateReason); r != "ECS deployment circuit breaker: rolling back to deploymentId "+before+"." {
		t.Fatalf("rollback deployment reason = %q", r)
	}
	if r := aws.ToString(svc.Deployments[1].RolloutStateReason); r != "ECS deployment circuit breaker: tasks failed to start." {
		t.Fatalf("failed deployment reason = %q", r)
	}
	var msgs []string
	for _, e := range svc.Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	if all := strings.Join(msgs, "\n"); !strings.Contains(all, "deployment failed: tasks failed to start") || !strings.Contains(all, "rolling back to deployment") {
		t.Fatalf("events = %q", msgs)
	}
	list := must(c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), Family: aws.String("api"), DesiredStatus: ecstypes.DesiredStatusStopped}))(t)
	tasks := must(c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: list.TaskArns}))(t)
	if len(tasks.Tasks) != 2 || !strings.HasPrefix(aws.ToString(tasks.Tasks[0].StoppedReason), "CannotPullContainerError") || aws.ToString(tasks.Tasks[0].TaskDefinitionArn) != bad {
		t.Fatalf("stopped tasks = %d %+v", len(tasks.Tasks), tasks.Tasks)
	}
	if got := rollouts(describe(t, c, "prod", "api")); !slices.Equal(got, []string{"PRIMARY/COMPLETED/api:1"}) {
		t.Fatalf("after the rollback: %v", got)
	}
}

func TestECSOneOffTaskExitCodes(t *testing.T) {
	a := fakeaws.New(t)
	td := a.SeedService("prod", "api", map[string]string{"app": "repo/api@sha256:1111"})
	a.ExitCode("alembic upgrade head", 3)
	c := ecsClient(a)
	run := func(command ...string) (int32, string) {
		in := &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String(td), StartedBy: aws.String("stevedore")}
		if command != nil {
			in.Overrides = &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{{Name: aws.String("app"), Command: command}}}
		}
		arn := aws.ToString(must(c.RunTask(ctx, in))(t).Tasks[0].TaskArn)
		var statuses []string
		for {
			task := must(c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{arn}}))(t).Tasks[0]
			statuses = append(statuses, aws.ToString(task.LastStatus))
			if aws.ToString(task.LastStatus) == "STOPPED" {
				return aws.ToInt32(task.Containers[0].ExitCode), strings.Join(statuses, ">")
			}
		}
	}
	if code, statuses := run("alembic", "upgrade", "head"); code != 3 || statuses != "RUNNING>STOPPED" {
		t.Fatalf("migration: exit %d, statuses %s", code, statuses)
	}
	if code, _ := run("echo", "ok"); code != 0 {
		t.Fatalf("other command exit %d", code)
	}
	if code, _ := run(); code != 0 {
		t.Fatalf("no override exit %d", code)
	}
	// An exit code scripted for an image applies to any command run on it.
	a.ExitCode("repo/api@sha256:1111", 2)
	if code, _ := run(); code != 2 {
		t.Fatalf("image scripted to exit 2 exited %d", code)
	}
	if code, _ := run("alembic", "upgrade", "head"); code != 3 {
		t.Fatalf("the command's code wins over the image's: exit %d", code)
	}
	// A task of an image that cannot start stops without an exit code.
	a.BadImage("repo/api@sha256:gone", "CannotPullContainerError: manifest unknown")
	gone := registerImage(t, c, "api", "repo/api@sha256:gone")
	arn := must(c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("prod"), TaskDefinition: aws.String(gone)}))(t).Tasks[0].TaskArn
	var task ecstypes.Task
	for aws.ToString(task.LastStatus) != "STOPPED" {
		task = must(c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("prod"), Tasks: []string{aws.ToString(arn)}}))(t).Tasks[0]
	}
	if task.Containers[0].ExitCode != nil || aws.ToString(task.StoppedReason) != "CannotPullContainerError: manifest unknown" {
		t.Fatalf("task of a bad image: exit %v, reason %q", task.Containers[0].ExitCode, aws.ToString(task.StoppedReason))
	}
	_, err := c.RunTask(ctx, &ecs.RunTaskInput{Cluster: aws.String("nope"), TaskDefinition: aws.String(td)})
	if errorCode(err) != "ClusterNotFoundException" {
		t.Fatalf("RunTask in a missing cluster: %v", err)
	}
}

func TestECSTaskDefinitionsAndTags(t *testing.T) {
	a := fakeaws.New(t)
	c := ecsClient(a)
	out := must(c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("api"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("img:1")}},
		Tags:                 []ecstypes.Tag{{Key: aws.String("stevedore:images"), Value: aws.String("app=img:1")}}}))(t)
	first := aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	second := registerImage(t, c, "api", "img:2")
	must(c.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: aws.String(second), Tags: []ecstypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))(t)

	desc := must(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("api:1"), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags}}))(t)
	if aws.ToString(desc.TaskDefinition.TaskDefinitionArn) != first || len(desc.Tags) != 1 || aws.ToString(desc.Tags[0].Value) != "app=img:1" {
		t.Fatalf("DescribeTaskDefinition api:1 = %s tags %+v", aws.ToString(desc.TaskDefinition.TaskDefinitionArn), desc.Tags)
	}
	latest := must(c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("api")}))(t)
	if latest.TaskDefinition.Revision != 2 || aws.ToString(latest.TaskDefinition.ContainerDefinitions[0].Image) != "img:2" {
		t.Fatalf("latest = %d %s", latest.TaskDefinition.Revision, aws.ToString(latest.TaskDefinition.ContainerDefinitions[0].Image))
	}
	tags := must(c.ListTagsForResource(ctx, &ecs.ListTagsForResourceInput{ResourceArn: aws.String(second)}))(t)
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "k" {
		t.Fatalf("tags = %+v", tags.Tags)
	}
	must(c.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(second)}))(t)
	list := must(c.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String("api"), Sort: ecstypes.SortOrderDesc}))(t)
	if !slices.Equal(list.TaskDefinitionArns, []string{first}) {
		t.Fatalf("active revisions = %v", list.TaskDefinitionArns)
	}
	if got := a.TaskDefinitions(); !slices.Equal(got, []string{first, second}) {
		t.Fatalf("TaskDefinitions = %v", got)
	}
}

// Without the circuit breaker (ECS's default) a bad image never fails the
// deployment: it stays IN_PROGRESS while failed tasks pile up.
func TestECSWithoutCircuitBreakerAStuckDeploymentNeverEnds(t *testing.T) {
	a := fakeaws.New(t, fakeaws.WithSettlePolls(1))
	a.BadImage("repo/api@sha256:bad", "")
	c := ecsClient(a)
	must(c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}))(t)
	good := registerImage(t, c, "api", "repo/api@sha256:good")
	svc := must(c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("api"), TaskDefinition: aws.String(good), DesiredCount: aws.Int32(1)}))(t).Service
	if cb := svc.DeploymentConfiguration.DeploymentCircuitBreaker; cb == nil || cb.Enable {
		t.Fatalf("default circuit breaker = %+v, want off", cb)
	}
	describe(t, c, "prod", "api")
	bad := registerImage(t, c, "api", "repo/api@sha256:bad")
	must(c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("api"), TaskDefinition: aws.String(bad)}))(t)
	var s ecstypes.Service
	for range 10 {
		s = describe(t, c, "prod", "api")
	}
	if got := rollouts(s); !slices.Equal(got, []string{"PRIMARY/IN_PROGRESS/api:2", "ACTIVE/COMPLETED/api:1"}) || s.Deployments[0].FailedTasks < 10 {
		t.Fatalf("stuck deployment = %v, failed tasks %d", got, s.Deployments[0].FailedTasks)
	}
	if _, err := ecsClient(a).CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("nope"), ServiceName: aws.String("x"), TaskDefinition: aws.String(good)}); errorCode(err) != "ClusterNotFoundException" {
		t.Fatalf("CreateService in a missing cluster: %v", err)
	}
}
