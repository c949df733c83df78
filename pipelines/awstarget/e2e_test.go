package awstarget

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecr"
	"github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush"
	"github.com/stevedore-ci/stevedore/pipelines/ocipush/ocitest"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// These tests run the AWS target through the deploy graph against the one
// fake AWS (pipelines/fakeaws), with the real pipelines/ecs
// Deployer, real pushes to the fake ECR registry, and a CDK runner that
// deploys the synthesized template through CloudFormation change sets the
// way `cdk deploy` does, so the fake ECS services move as real
// CloudFormation would move them.

const stack = "ShopApp"

const (
	oldDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	newDigest = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

func testApp() *appspec.App {
	return &appspec.App{
		Name: "shop",
		Services: []appspec.Service{
			{Name: "backend", Repository: "shop-backend", Container: "app"},
			{Name: "worker", Repository: "shop-worker", Container: "worker"},
		},
		Migrate: &appspec.Migrate{Service: "backend", Command: []string{"alembic", "upgrade", "head"}},
	}
}

type fakeBuild struct{}

func (fakeBuild) BuildImage(ctx context.Context, s string) (steps.Outcome, error) {
	return steps.Outcome{}, nil
}
func (fakeBuild) BuildFrontend(ctx context.Context) (steps.Outcome, error) {
	return steps.Outcome{}, nil
}

// fakeSite is the built frontend: one page.
type fakeSite struct{}

func (fakeSite) Export(ctx context.Context, dir string) error {
	return os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>shop</h1>"), 0o644)
}

// shopTemplate is a CDK-like template for the app: a cluster, one task
// definition and service per app service, the JWT secret by name, the
// bootstrap version check, outputs under the contract's keys.
func shopTemplate(images map[string]string, health, dbName string) string {
	resources := map[string]any{
		"Cluster":  map[string]any{"Type": "AWS::ECS::Cluster", "Properties": map[string]any{"ClusterName": "shop"}},
		"Database": map[string]any{"Type": "AWS::RDS::DBInstance", "Properties": map[string]any{"DBName": dbName, "Engine": "postgres"}},
		"Site":     map[string]any{"Type": "AWS::S3::Bucket", "Properties": map[string]any{"BucketName": "shop-site"}},
		"Cdn":      map[string]any{"Type": "AWS::CloudFront::Distribution", "Properties": map[string]any{"DistributionConfig": map[string]any{"Enabled": true}}},
	}
	outputs := map[string]any{
		contract.OutputCluster:        map[string]any{"Value": map[string]any{"Ref": "Cluster"}},
		contract.OutputHealthURL:      map[string]any{"Value": health + "/health"},
		contract.OutputFrontendURL:    map[string]any{"Value": health + "/"},
		contract.OutputFrontendBucket: map[string]any{"Value": map[string]any{"Ref": "Site"}},
		contract.OutputDistribution:   map[string]any{"Value": map[string]any{"Ref": "Cdn"}},
	}
	for _, svc := range []struct{ name, container string }{{"backend", "app"}, {"worker", "worker"}} {
		td, sv := svc.name+"TaskDef", svc.name+"Service"
		resources[td] = map[string]any{"Type": "AWS::ECS::TaskDefinition", "Properties": map[string]any{
			"Family": "shop-" + svc.name, "Cpu": "256", "Memory": "512", "NetworkMode": "awsvpc",
			"ContainerDefinitions": []any{map[string]any{"Name": svc.container, "Image": images[svc.name], "Essential": true,
				"Secrets": []any{map[string]any{"Name": "JWT", "ValueFrom": map[string]any{"Fn::Join": []any{"", []any{
					"arn:", map[string]any{"Ref": "AWS::Partition"}, ":secretsmanager:", map[string]any{"Ref": "AWS::Region"}, ":",
					map[string]any{"Ref": "AWS::AccountId"}, ":secret:shop/jwt"}}}}}}},
		}}
		resources[sv] = map[string]any{"Type": "AWS::ECS::Service", "Properties": map[string]any{
			"ServiceName": "shop-" + svc.name, "Cluster": map[string]any{"Ref": "Cluster"},
			"TaskDefinition": map[string]any{"Ref": td}, "DesiredCount": 2,
			"DeploymentConfiguration": map[string]any{"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true}},
		}}
		outputs[contract.ServiceOutput(svc.name)] = map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{sv, "Name"}}}
	}
	b, _ := json.Marshal(map[string]any{
		"Parameters": map[string]any{"BootstrapVersion": map[string]any{"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/hnb659fds/version"}},
		"Resources":  resources,
		"Outputs":    outputs,
	})
	return string(b)
}

// e2e is one fake account with the app deployed on old images.
type e2e struct {
	t      *testing.T
	a      *fakeaws.AWS
	health *httptest.Server
	tars   map[string]string // service -> OCI tarball of its new image
	newRef map[string]string // service -> the reference a push gives it

	dbName string   // the database name the new template asks for
	last   *Target  // the target of the last run
	extra  []string // stacks deployed before ShopApp (a network stack)
	// template, when set, renders ShopApp's template instead of
	// shopTemplate (the deployment strategies' tests).
	template func(images map[string]string) string

	mu      sync.Mutex
	pushes  []string
	cdk     []string
	checked []string // paths verify asked the health server for
}

func newE2E(t *testing.T, firstDeploy bool, opts ...fakeaws.Option) *e2e {
	a := fakeaws.New(t, opts...)
	a.PutParameter("/cdk-bootstrap/hnb659fds/version", "28")
	a.PutSecret("shop/jwt", "s3cret")
	e := &e2e{t: t, a: a, tars: map[string]string{}, newRef: map[string]string{}, dbName: "shop"}
	e.health = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.checked = append(e.checked, r.URL.Path)
		e.mu.Unlock()
		if r.URL.Path == "/missing" {
			http.NotFound(rw, r)
			return
		}
		fmt.Fprintln(rw, "ok")
	}))
	t.Cleanup(e.health.Close)
	for svc, platform := range map[string]string{"backend": "linux/amd64", "worker": "linux/arm64"} {
		e.tars[svc] = ocitest.ImageTar(t, ocitest.Image(t, platform))
		d, err := ocipush.LocalDigest(e.tars[svc])
		if err != nil {
			t.Fatal(err)
		}
		e.newRef[svc] = a.RepositoryURI("shop-"+svc) + "@" + d
	}
	if !firstDeploy {
		old := map[string]string{"backend": a.RepositoryURI("shop-backend") + "@" + oldDigest, "worker": a.RepositoryURI("shop-worker") + "@" + oldDigest}
		if err := a.ApplyTemplate(stack, shopTemplate(old, e.health.URL, "shop")); err != nil {
			t.Fatal(err)
		}
	}
	a.ResetCalls()
	return e
}

func (e *e2e) target() *Target {
	cfg := e.a.Config()
	t := &Target{
		App: testApp(), Env: "dev", AWS: cfg,
		CDK: &cfnCDK{e: e}, Images: &registryImages{e: e}, ECS: ecs.New(cfg),
		Secrets: []string{"shop/jwt"}, Poll: 2 * time.Millisecond, Progress: 20 * time.Millisecond,
		VerifyTimeout: time.Second, FollowTimeout: 10 * time.Second,
	}
	t.App.Frontend = nil
	if err := t.Check(); err != nil {
		e.t.Fatal(err)
	}
	return t
}

func (e *e2e) run(t *Target) (*steps.Report, error) {
	e.last = t
	p := &deploy.Pipeline{
		Services: t.App.ServiceNames(), Migrate: t.App.Migrate.Service, Frontend: t.App.Frontend != nil,
		Build: fakeBuild{}, Preflight: t, Push: t, Synth: e2eSynth{stacks: append(slices.Clone(e.extra), stack)}, Infra: t, Follow: t, Release: t,
	}
	return p.Run(context.Background(), steps.Options{})
}

// op is the position of the first call "service:Op" in the fake's log.
func (e *e2e) op(name string) int { return slices.Index(e.a.Ops(), name) }

func (e *e2e) images() map[string]string {
	out := map[string]string{}
	for svc, ctr := range map[string]string{"backend": "app", "worker": "worker"} {
		st, ok := e.a.Service("shop", "shop-"+svc)
		if ok {
			out[svc] = st.Images[ctr]
		}
	}
	return out
}

// e2eSynth puts the pushed digests into the assembly's context.
type e2eSynth struct{ stacks []string }

func (e2eSynth) Prepare(ctx context.Context) (steps.Outcome, error) { return steps.Outcome{}, nil }
func (s e2eSynth) Synth(ctx context.Context, images []deploy.Image) (deploy.Assembly, steps.Outcome, error) {
	asm := deploy.Assembly{ID: "cdk.out", Stacks: s.stacks, Env: "dev", Context: map[string]string{}}
	for _, img := range images {
		asm.Context[contract.ImageContextKey(img.Service)] = img.Ref
	}
	return asm, steps.Outcome{}, nil
}

// registryImages pushes the OCI tarballs to the fake ECR the way the
// engine-side pusher does: repository ensured, ECR login, ocipush.
type registryImages struct{ e *e2e }

func (r *registryImages) Push(ctx context.Context, service string) (deploy.Image, steps.Outcome, error) {
	e := r.e
	e.mu.Lock()
	e.pushes = append(e.pushes, service)
	e.mu.Unlock()
	c := ecr.New(e.a.Config())
	if _, err := c.EnsureRepository(ctx, "shop-"+service, ecr.RepositoryPolicy{}); err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	reg, err := c.Login(ctx)
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	res, err := ocipush.Push(ctx, e.tars[service], ocipush.PushOptions{Repository: reg.Host + "/shop-" + service, Tags: []string{"c0ffee"}, Username: reg.Username, Password: reg.Password, Insecure: true})
	if err != nil {
		return deploy.Image{}, steps.Outcome{}, err
	}
	return deploy.Image{Service: service, Ref: res.Ref, Pushed: res.Pushed}, steps.Outcome{Summary: "pushed"}, nil
}

func (r *registryImages) Digest(ctx context.Context, service string) (string, error) {
	return ocipush.LocalDigest(r.e.tars[service])
}

// cfnCDK deploys the assembly's template like `cdk deploy`: a change set
// per stack (deleted when it has no changes), executed, then DescribeStacks
// until the stack settled; a rolled-back stack fails the deploy.
type cfnCDK struct{ e *e2e }

func (c *cfnCDK) Template(ctx context.Context, asm deploy.Assembly, st string) (string, error) {
	if st != stack {
		return `{"Resources":{"Subnets":{"Type":"AWS::SSM::Parameter","Properties":{"Name":"/shop/subnets","Type":"String","Value":"subnet-1"}}},"Outputs":{"Subnets":{"Value":"subnet-1","Export":{"Name":"shop-subnets"}}}}`, nil
	}
	images := map[string]string{}
	for _, s := range []string{"backend", "worker"} {
		images[s] = asm.Context[contract.ImageContextKey(s)]
	}
	if c.e.template != nil {
		return c.e.template(images), nil
	}
	return shopTemplate(images, c.e.health.URL, c.e.dbName), nil
}

func (c *cfnCDK) Diff(ctx context.Context, asm deploy.Assembly, stacks []string) (string, error) {
	c.e.mu.Lock()
	c.e.cdk = append(c.e.cdk, "diff "+strings.Join(stacks, " "))
	c.e.mu.Unlock()
	return "Stack " + strings.Join(stacks, " "), nil
}

// Prepare creates the change set like cdk deploy --method=prepare-change-set:
// one with no changes is deleted.
func (c *cfnCDK) Prepare(ctx context.Context, asm deploy.Assembly, st, name string) (string, error) {
	c.e.mu.Lock()
	c.e.cdk = append(c.e.cdk, "prepare "+st)
	c.e.mu.Unlock()
	api := cloudformation.NewFromConfig(c.e.a.Config())
	tpl, _ := c.Template(ctx, asm, st)
	typ := cfntypes.ChangeSetTypeUpdate
	if _, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(st)}); err != nil {
		typ = cfntypes.ChangeSetTypeCreate
	}
	if _, err := api.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String(st), ChangeSetName: aws.String(name), ChangeSetType: typ, TemplateBody: aws.String(tpl)}); err != nil {
		return "", err
	}
	cs, err := api.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{StackName: aws.String(st), ChangeSetName: aws.String(name)})
	if err != nil {
		return "", err
	}
	if cs.Status == cfntypes.ChangeSetStatusFailed && strings.Contains(aws.ToString(cs.StatusReason), "didn't contain changes") {
		_, err = api.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{StackName: aws.String(st), ChangeSetName: aws.String(name)})
		return st + " (no changes)", err
	}
	return "changeset " + name + " created", nil
}

// Deploy is cdk deploy: prepare, execute, wait (unused by the target,
// which prepares and executes itself, but part of the CDK interface).
func (c *cfnCDK) Deploy(ctx context.Context, asm deploy.Assembly, stacks []string) (string, error) {
	return "", errors.New("the target must deploy through reviewed change sets")
}

// The release against the fake account: preflight before the first push,
// the migration (new digest) as a one-off task before the change set that
// moves the services, the followers' verdicts, the services on the pushed
// digests.
func TestE2EReleaseOrder(t *testing.T) {
	e := newE2E(t, false)
	rep, err := e.run(e.target())
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	ops := e.a.Ops()
	for _, pair := range [][2]string{
		{"ssm:GetParameter", "ecr:CreateRepository"},
		{"secretsmanager:DescribeSecret", "ecr:CreateRepository"},
		{"ecr:CreateRepository", "registry:PutManifest"},
		{"registry:PutManifest", "ecs:RegisterTaskDefinition"},
		{"ecs:RegisterTaskDefinition", "ecs:RunTask"},
		{"ecs:RunTask", "cloudformation:ExecuteChangeSet"},
	} {
		i, j := e.op(pair[0]), e.op(pair[1])
		if i < 0 || j < 0 || i >= j {
			t.Fatalf("%s (at %d) must come before %s (at %d): %v", pair[0], i, pair[1], j, ops)
		}
	}
	reg := e.a.CallsTo("RegisterTaskDefinition")
	if len(reg) != 1 || !strings.Contains(fmt.Sprint(reg[0].Body), e.newRef["backend"]) {
		t.Fatalf("migration revision: %v", reg)
	}
	run := e.a.CallsTo("RunTask")
	if len(run) != 1 || !strings.Contains(fmt.Sprint(run[0].Body), "alembic upgrade head") {
		t.Fatalf("migration task: %v", run)
	}
	if got := e.images(); got["backend"] != e.newRef["backend"] || got["worker"] != e.newRef["worker"] {
		t.Fatalf("services run %v, want %v", got, e.newRef)
	}
	for _, s := range []string{"backend", "worker"} {
		if got := summary(t, rep, deploy.RolloutStep(s)); !strings.HasPrefix(got, "completed: ") {
			t.Errorf("rollout:%s says %q", s, got)
		}
	}
	if got := e.a.StackStatus(stack); got != "UPDATE_COMPLETE" {
		t.Errorf("stack is %s", got)
	}
}

// A second run of the same commit: no revision registered, no migration
// task, no change set executed, no service update; the report says so.
func TestE2ERerunIsANoop(t *testing.T) {
	e := newE2E(t, false)
	if rep, err := e.run(e.target()); err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	e.a.ResetCalls()
	rep, err := e.run(e.target())
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	for _, op := range []string{"ecs:RegisterTaskDefinition", "ecs:RunTask", "ecs:UpdateService", "cloudformation:ExecuteChangeSet", "registry:PutManifest"} {
		if e.op(op) >= 0 {
			t.Errorf("the re-run called %s: %v", op, e.a.Mutating())
		}
	}
	if st, _ := rep.Step(deploy.StepMigrate); !st.Deliberate || !strings.HasPrefix(st.Reason, "shop-backend already runs") {
		t.Errorf("migrate: %+v", st)
	}
	for _, s := range []string{"backend", "worker"} {
		if got := summary(t, rep, deploy.RolloutStep(s)); !strings.HasPrefix(got, "unchanged: shop-"+s+" already runs") {
			t.Errorf("rollout:%s says %q", s, got)
		}
	}
}

// A failed migration: no change set executed, every service on its old
// image.
func TestE2EFailedMigrationLeavesServicesUntouched(t *testing.T) {
	e := newE2E(t, false)
	e.a.ExitCode("alembic upgrade head", 3)
	before := e.images()
	_, err := e.run(e.target())
	if err == nil || !strings.Contains(err.Error(), "step migrate failed") {
		t.Fatalf("error = %v", err)
	}
	if e.op("cloudformation:ExecuteChangeSet") >= 0 {
		t.Fatalf("the stack was changed after a failed migration: %v", e.a.Mutating())
	}
	// The change sets check-stacks prepared are discarded.
	if err := e.last.Discard(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(e.a.CallsTo("DeleteChangeSet")) != len(e.a.CallsTo("CreateChangeSet")) {
		t.Fatalf("change sets left behind: %v", e.a.Mutating())
	}
	if got := e.images(); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("services moved from %v to %v", before, got)
	}
}

// A bad image: the circuit breaker rolls the deployment back; the follower
// fails the deploy with the ECS events and the stopped tasks' reason, and
// the service is back on its old image.
func TestE2ECircuitBreakerRollback(t *testing.T) {
	// ECS reports the failed deployment many polls before its rollback is
	// over, as it does on AWS (where CloudFormation takes minutes more).
	e := newE2E(t, false, fakeaws.WithSettlePolls(8))
	e.a.BadImage(e.newRef["worker"], "CannotPullContainerError: pull access denied")
	before := e.images()["worker"]
	rep, err := e.run(e.target())
	if err == nil {
		t.Fatalf("the deploy succeeded:\n%s", rep.Text())
	}
	st, _ := rep.Step(deploy.RolloutStep("worker"))
	if st.Status != steps.StatusFailed || !strings.Contains(st.Err, "circuit breaker") || !strings.Contains(st.Err, "CannotPullContainerError") {
		t.Fatalf("rollout:worker = %+v\n%v", st, e.a.Ops())
	}
	if ds, _ := rep.Step(deploy.StepDeployInfra); ds.Status != steps.StatusFailed {
		t.Fatalf("deploy-infra = %s", ds.Status)
	}
	if s, _ := rep.Step(deploy.StepVerify); s.Status != steps.StatusSkipped {
		t.Fatalf("verify = %s", s.Status)
	}
	if got := e.images()["worker"]; got != before {
		t.Fatalf("worker runs %s after the rollback, want %s", got, before)
	}
}

// A dry run makes no mutating call on the account.
func TestE2EDryRunMakesNoMutatingCall(t *testing.T) {
	e := newE2E(t, false)
	tg := e.target()
	tg.DryRun = true
	rep, err := e.run(tg)
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	if m := e.a.Mutating(); len(m) != 0 {
		t.Fatalf("a dry run called %v", m)
	}
	if len(e.pushes) != 0 || !slices.Equal(e.cdk, []string{"diff " + stack}) {
		t.Fatalf("pushes %v, cdk %v", e.pushes, e.cdk)
	}
}

// An unbootstrapped account and a missing secret are reported together
// before any push or any other change.
func TestE2EPreflightBeforeAnyPush(t *testing.T) {
	a := fakeaws.New(t)
	e := &e2e{t: t, a: a, tars: map[string]string{}, newRef: map[string]string{}}
	e.health = httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(e.health.Close)
	_, err := e.run(e.target())
	var p Problems
	if !errors.As(err, &p) || len(p) != 2 || !strings.Contains(err.Error(), "not bootstrapped") || !strings.Contains(err.Error(), "secret shop/jwt does not exist") {
		t.Fatalf("error = %v", err)
	}
	if m := a.Mutating(); len(m) != 0 || len(e.pushes) != 0 {
		t.Fatalf("changed %v, pushed %v after a failed preflight", m, e.pushes)
	}
}

// The first deploy: no stacks, so the migration runs right after
// deploy-infra created them; the followers wait for the new outputs.
func TestE2EFirstDeploy(t *testing.T) {
	e := newE2E(t, true)
	rep, err := e.run(e.target())
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	i, j := e.op("cloudformation:ExecuteChangeSet"), e.op("ecs:RunTask")
	if i < 0 || j < i {
		t.Fatalf("migration at %d, change set at %d: %v", j, i, e.a.Ops())
	}
	if got := e.images(); got["backend"] != e.newRef["backend"] {
		t.Fatalf("services run %v", got)
	}
}

// A failure at each step, injected in the fake account, fails that step
// and stops every step that depends on it.
func TestE2EFailureStopsDependents(t *testing.T) {
	for _, tc := range []struct {
		op     string
		fault  fakeaws.Fault
		n      int
		step   string
		never  []string // operations that must not have been called
		denied []string // steps that must be skipped
	}{
		{"secretsmanager:DescribeSecret", fakeaws.AccessDenied, 1, deploy.StepPreflight,
			[]string{"ecr:CreateRepository", "registry:PutManifest"}, []string{deploy.PushStep("backend"), deploy.StepSynth}},
		{"ecr:CreateRepository", fakeaws.AccessDenied, 1, "push:", // whichever push runs first
			[]string{"ecs:RunTask", "cloudformation:CreateChangeSet"}, []string{deploy.StepSynth, deploy.StepMigrate, deploy.StepDeployInfra}},
		{"cloudformation:DescribeStacks", fakeaws.ServerError, 3, deploy.StepCheckStacks,
			[]string{"ecs:RunTask", "cloudformation:CreateChangeSet"}, []string{deploy.StepMigrate, deploy.StepDeployInfra, deploy.RolloutStep("worker")}},
		{"ecs:RunTask", fakeaws.AccessDenied, 1, deploy.StepMigrate,
			[]string{"cloudformation:ExecuteChangeSet"}, []string{deploy.StepDeployInfra, deploy.RolloutStep("backend"), deploy.StepVerify}},
		{"cloudformation:ExecuteChangeSet", fakeaws.Validation("Template error: unresolved resource dependencies"), 1, deploy.StepDeployInfra,
			nil, []string{deploy.StepVerify}},
		{"verify", fakeaws.Fault{}, 0, deploy.StepVerify, nil, nil},
	} {
		t.Run(tc.op, func(t *testing.T) {
			e := newE2E(t, false)
			tg := e.target()
			if tc.op == "verify" { // the health URL answers 404
				tg.HealthURL = e.health.URL + "/missing"
			} else {
				e.a.Fail(tc.op, tc.fault, tc.n)
			}
			rep, err := e.run(tg)
			if err == nil || !strings.Contains(err.Error(), "step "+tc.step) || !strings.Contains(err.Error(), " failed") {
				t.Fatalf("error = %v", err)
			}
			for _, op := range tc.never {
				if e.op(op) >= 0 {
					t.Errorf("%s was called after %s failed", op, tc.step)
				}
			}
			for _, s := range tc.denied {
				if st, _ := rep.Step(s); st.Status != steps.StatusSkipped && st.Status != steps.StatusFailed {
					t.Errorf("%s = %s after %s failed", s, st.Status, tc.step)
				}
			}
		})
	}
}

// A change set that replaces the database is refused in check-stacks,
// before the migration and before anything is executed, unless the
// database is acknowledged by name.
func TestE2EReplacedDatabaseRefused(t *testing.T) {
	e := newE2E(t, false)
	e.dbName = "shop_v2"
	before := e.images()
	rep, err := e.run(e.target())
	if err == nil || !strings.Contains(err.Error(), "AWS::RDS::DBInstance Database") || !strings.Contains(err.Error(), "--allow-replace Database") {
		t.Fatalf("error = %v\n%s", err, rep.Text())
	}
	if e.op("cloudformation:ExecuteChangeSet") >= 0 || e.op("ecs:RunTask") >= 0 {
		t.Fatalf("a change set was executed or the migration ran: %v", e.a.Mutating())
	}
	if len(e.a.CallsTo("DeleteChangeSet")) != len(e.a.CallsTo("CreateChangeSet")) {
		t.Fatalf("the refused change set was left behind: %v", e.a.Mutating())
	}
	if got := e.images(); fmt.Sprint(got) != fmt.Sprint(before) {
		t.Fatalf("services moved to %v", got)
	}

	e.a.ResetCalls()
	tg := e.target()
	tg.AllowReplace = []string{"Database"}
	if rep, err := e.run(tg); err != nil {
		t.Fatalf("acknowledged replacement: %v\n%s", err, rep.Text())
	}
	if e.op("cloudformation:ExecuteChangeSet") < 0 {
		t.Fatal("the acknowledged change set was not executed")
	}
}

func planOf(t *testing.T, rep *steps.Report) string {
	t.Helper()
	st, _ := rep.Step(deploy.StepDeployInfra)
	for _, a := range st.Artifacts {
		if a.Name == "plan id" {
			return a.Value
		}
	}
	t.Fatalf("no plan id in %+v", st)
	return ""
}

// plan leaves change sets and executes nothing; deploy --plan executes
// exactly those and creates none of its own.
func TestE2EPlanThenDeploy(t *testing.T) {
	e := newE2E(t, false)
	tg := e.target()
	tg.DryRun, tg.LeavePlan = true, true
	rep, err := e.run(tg)
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	id := planOf(t, rep)
	if e.op("cloudformation:CreateChangeSet") < 0 || e.op("cloudformation:ExecuteChangeSet") >= 0 || e.op("ecs:RunTask") >= 0 {
		t.Fatalf("plan: %v", e.a.Mutating())
	}
	e.a.ResetCalls()
	tg = e.target()
	tg.Plan = id
	if rep, err := e.run(tg); err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	exec := e.a.CallsTo("ExecuteChangeSet")
	if len(exec) != 1 || exec[0].Body["ChangeSetName"] != planPrefix+id {
		t.Fatalf("executed %v, want the plan's change set", exec)
	}
	if n := len(e.a.CallsTo("CreateChangeSet")); n != 0 {
		t.Fatalf("deploy --plan created %d change sets of its own", n)
	}
	if got := e.images(); got["backend"] != e.newRef["backend"] {
		t.Fatalf("services run %v", got)
	}
}

// deploy --plan refuses, having changed nothing, when the stack changed
// since the plan, when the build is another one, or when the plan
// replaces a database nobody acknowledged.
func TestE2EPlanRefusals(t *testing.T) {
	plan := func(e *e2e) string {
		tg := e.target()
		tg.DryRun, tg.LeavePlan = true, true
		rep, err := e.run(tg)
		if err != nil {
			t.Fatalf("%v\n%s", err, rep.Text())
		}
		return planOf(t, rep)
	}
	for _, tc := range []struct {
		name  string
		setup func(e *e2e, id string) string // returns the id to deploy
		want  string
	}{
		{"stack changed since", func(e *e2e, id string) string {
			old := map[string]string{"backend": e.a.RepositoryURI("shop-backend") + "@" + newDigest, "worker": e.a.RepositoryURI("shop-worker") + "@" + oldDigest}
			if err := e.a.ApplyTemplate(stack, shopTemplate(old, e.health.URL, "shop")); err != nil {
				t.Fatal(err)
			}
			return id
		}, "can no longer be executed"},
		{"another build", func(e *e2e, id string) string { return "0123456789ab" }, "was made from another build"},
		{"replaced database", func(e *e2e, id string) string { return id }, "--allow-replace Database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newE2E(t, false)
			if tc.name == "replaced database" {
				e.dbName = "shop_v2"
			}
			id := tc.setup(e, plan(e))
			e.a.ResetCalls()
			tg := e.target()
			tg.Plan = id
			_, err := e.run(tg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v", err)
			}
			if e.op("cloudformation:ExecuteChangeSet") >= 0 || e.op("ecs:RunTask") >= 0 {
				t.Fatalf("executed a change set or migrated: %v", e.a.Mutating())
			}
		})
	}
}

// Several stacks: a new one is prepared when its turn comes; one whose
// change set cannot be made before an earlier stack is deployed (a new
// export) is prepared after it. Both are executed in order.
func TestE2EStacksPreparedInTurn(t *testing.T) {
	e := newE2E(t, false)
	e.extra = []string{"ShopNet"}
	e.a.Fail("cloudformation:CreateChangeSet", fakeaws.Validation("No export named shop-subnets found"), 1)
	rep, err := e.run(e.target())
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	var order []string
	for _, c := range e.a.CallsTo("ExecuteChangeSet") {
		order = append(order, fmt.Sprint(c.Body["StackName"]))
	}
	if !slices.Equal(order, []string{"ShopNet", stack}) {
		t.Fatalf("executed %v", order)
	}
	if got := summary(t, rep, deploy.StepCheckStacks); !strings.Contains(got, "2 prepared in deploy-infra") {
		t.Errorf("check-stacks says %q", got)
	}
	if v, ok := e.a.Parameter("/shop/subnets"); !ok || v != "subnet-1" {
		t.Errorf("network stack not applied: %q %v", v, ok)
	}
}

// The frontend: published to the stack's bucket after deploy-infra, the
// distribution invalidated, both URLs verified.
func TestE2EFrontendPublished(t *testing.T) {
	e := newE2E(t, false)
	tg := e.target()
	tg.App.Frontend, tg.Site = &appspec.Frontend{Dir: "web"}, fakeSite{}
	rep, err := e.run(tg)
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	exec, put := e.op("cloudformation:ExecuteChangeSet"), e.op("s3:PutObject")
	if exec < 0 || put < exec {
		t.Fatalf("upload at %d, change set at %d: %v", put, exec, e.a.Ops())
	}
	if _, ok := e.a.Objects("shop-site")["index.html"]; !ok {
		t.Fatalf("bucket holds %v", e.a.Objects("shop-site"))
	}
	if e.op("cloudfront:CreateInvalidation") < put {
		t.Fatalf("no invalidation after the upload: %v", e.a.Ops())
	}
	if !slices.Contains(e.checked, "/health") || !slices.Contains(e.checked, "/") {
		t.Fatalf("verify checked %v", e.checked)
	}
}

// A secret the templates reference (but nobody declared) is reported by
// check-stacks before any change set, migration or stack change.
func TestE2ETemplateSecretChecked(t *testing.T) {
	a := fakeaws.New(t)
	a.PutParameter("/cdk-bootstrap/hnb659fds/version", "28")
	e := &e2e{t: t, a: a, tars: map[string]string{}, newRef: map[string]string{}, dbName: "shop"}
	e.health = httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(e.health.Close)
	for svc, platform := range map[string]string{"backend": "linux/amd64", "worker": "linux/arm64"} {
		e.tars[svc] = ocitest.ImageTar(t, ocitest.Image(t, platform))
	}
	tg := e.target()
	tg.Secrets = nil
	_, err := e.run(tg)
	if err == nil || !strings.Contains(err.Error(), "step check-stacks failed") || !strings.Contains(err.Error(), "secret shop/jwt does not exist") {
		t.Fatalf("error = %v", err)
	}
	for _, op := range []string{"cloudformation:CreateChangeSet", "ecs:RunTask"} {
		if e.op(op) >= 0 {
			t.Errorf("%s after a missing secret: %v", op, a.Mutating())
		}
	}
}

// A CDK runner that cannot prepare change sets: cdk deploy itself, with
// CloudFormation's events printed while it runs and the time limit said.
type deployOnly struct{ c *cfnCDK }

func (d deployOnly) Template(ctx context.Context, asm deploy.Assembly, st string) (string, error) {
	return d.c.Template(ctx, asm, st)
}
func (d deployOnly) Diff(ctx context.Context, asm deploy.Assembly, stacks []string) (string, error) {
	return d.c.Diff(ctx, asm, stacks)
}

// Deploy executes the change set and then hangs, like a cdk deploy waiting
// on a stuck resource.
func (d deployOnly) Deploy(ctx context.Context, asm deploy.Assembly, stacks []string) (string, error) {
	api := cloudformation.NewFromConfig(d.c.e.a.Config())
	for _, st := range stacks {
		if _, err := d.c.Prepare(ctx, asm, st, "cdk-deploy"); err != nil {
			return "", err
		}
		if _, err := api.ExecuteChangeSet(context.WithoutCancel(ctx), &cloudformation.ExecuteChangeSetInput{StackName: aws.String(st), ChangeSetName: aws.String("cdk-deploy")}); err != nil {
			return "", err
		}
	}
	<-ctx.Done()
	return "", ctx.Err()
}

func TestE2EDeployInfraProgressAndTimeLimit(t *testing.T) {
	e := newE2E(t, false, fakeaws.WithSettlePolls(1000))
	tg := e.target()
	tg.CDK = deployOnly{&cfnCDK{e: e}}
	// Generous against a loaded machine: the events and a progress line must
	// come before the limit.
	tg.DeployTimeout, tg.Progress = 3*time.Second, 100*time.Millisecond
	var mu sync.Mutex
	var lines []string
	tg.Log = func(s string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, s)
	}
	images := map[string]string{contract.ImageContextKey("backend"): e.newRef["backend"], contract.ImageContextKey("worker"): e.newRef["worker"]}
	_, _, err := tg.DeployInfra(context.Background(), deploy.Assembly{ID: "cdk.out", Stacks: []string{stack}, Context: images})
	if err == nil || !strings.Contains(err.Error(), "did not finish within 3s") || !strings.Contains(err.Error(), "--deploy-timeout") {
		t.Fatalf("error = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	log := strings.Join(lines, "\n")
	if !strings.Contains(log, "ShopApp ShopApp AWS::CloudFormation::Stack UPDATE_IN_PROGRESS") {
		t.Errorf("the stack's events were not printed: %v", lines)
	}
	if !strings.Contains(log, "deploy-infra still running after") || !strings.Contains(log, "ShopApp UPDATE_IN_PROGRESS") {
		t.Errorf("no progress line while nothing happened: %v", lines)
	}
}

// Rollout judges a service against outputs already known; without the
// service outputs each step says which output is missing.
func TestE2ERolloutAndMissingOutputs(t *testing.T) {
	e := newE2E(t, false)
	if err := e.a.ApplyTemplate(stack, shopTemplate(map[string]string{"backend": e.newRef["backend"], "worker": e.newRef["worker"]}, e.health.URL, "shop")); err != nil {
		t.Fatal(err)
	}
	tg := e.target()
	img := deploy.Image{Service: "backend", Ref: e.newRef["backend"]}
	out := deploy.Outputs{contract.OutputCluster: "shop", contract.ServiceOutput("backend"): "shop-backend"}
	o, err := tg.Rollout(context.Background(), img, out)
	if err != nil || !strings.HasPrefix(o.Summary, "unchanged: shop-backend already runs") {
		t.Fatalf("rollout = %+v, %v", o, err)
	}
	_, err = tg.Rollout(context.Background(), img, deploy.Outputs{contract.OutputCluster: "shop"})
	if !errors.Is(err, deploy.ErrNoOutput) || !strings.Contains(err.Error(), "BackendServiceName") {
		t.Fatalf("error = %v", err)
	}
	tg.Site = fakeSite{}
	if _, err := tg.PublishFrontend(context.Background(), deploy.Outputs{}); !errors.Is(err, deploy.ErrNoOutput) {
		t.Fatalf("publish without bucket: %v", err)
	}
	if _, err := tg.Migrate(context.Background(), img, deploy.Outputs{}); !errors.Is(err, deploy.ErrNoOutput) {
		t.Fatalf("migrate without cluster: %v", err)
	}
	if _, err := tg.Migrate(context.Background(), deploy.Image{Service: "nope"}, deploy.Outputs{}); err == nil {
		t.Fatal("migrate of an unknown service succeeded")
	}
	tg.DryRun = true
	if o, err := tg.PublishFrontend(context.Background(), deploy.Outputs{}); err != nil || !strings.Contains(o.Summary, "once the frontend stack exists") {
		t.Fatalf("dry-run publish = %+v, %v", o, err)
	}
}

// A dry run of a first deploy says what would happen once the stacks
// exist; a digest the registry already has is not pushed again.
func TestE2EDryRunFirstDeploy(t *testing.T) {
	e := newE2E(t, true)
	if _, _, err := (&registryImages{e: e}).Push(context.Background(), "worker"); err != nil {
		t.Fatal(err)
	}
	e.a.ResetCalls()
	tg := e.target()
	tg.DryRun = true
	rep, err := e.run(tg)
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	if m := e.a.Mutating(); len(m) != 0 {
		t.Fatalf("a dry run called %v", m)
	}
	if got := summary(t, rep, deploy.PushStep("worker")); got != "already in ECR, would skip the push" {
		t.Errorf("push:worker says %q", got)
	}
	if got := summary(t, rep, deploy.PushStep("backend")); !strings.HasPrefix(got, "would create repository shop-backend and push sha256:") {
		t.Errorf("push:backend says %q", got)
	}
	if got := summary(t, rep, deploy.RolloutStep("worker")); !strings.HasPrefix(got, "would follow the first deployment of "+e.newRef["worker"]) {
		t.Errorf("rollout says %q", got)
	}
	if got := summary(t, rep, deploy.StepVerify); got != "would check the health and frontend URLs once the stacks exist" {
		t.Errorf("verify says %q", got)
	}
}

// The registry address override: image references name it, in a plan as
// in a deploy.
func TestE2ERegistryOverride(t *testing.T) {
	e := newE2E(t, false)
	tg := e.target()
	tg.DryRun, tg.RegistryHost = true, "gateway.local:4566"
	rep, err := e.run(tg)
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	if e.op("ecr:GetAuthorizationToken") >= 0 {
		t.Error("asked ECR for its address although it was given")
	}
	if got := summary(t, rep, deploy.StepMigrate); !strings.Contains(got, "gateway.local:4566/shop-backend@sha256:") {
		t.Errorf("migrate says %q", got)
	}
}

// A stack the plan found unchanged must still match the build when the
// plan is applied.
func TestE2EPlanUnchangedStack(t *testing.T) {
	for _, drift := range []bool{false, true} {
		t.Run(fmt.Sprint("drift=", drift), func(t *testing.T) {
			e := newE2E(t, false)
			e.extra = []string{"ShopNet"}
			net, _ := (&cfnCDK{e: e}).Template(context.Background(), deploy.Assembly{}, "ShopNet")
			if err := e.a.ApplyTemplate("ShopNet", net); err != nil {
				t.Fatal(err)
			}
			tg := e.target()
			tg.DryRun, tg.LeavePlan = true, true
			rep, err := e.run(tg)
			if err != nil {
				t.Fatalf("%v\n%s", err, rep.Text())
			}
			id := planOf(t, rep)
			if drift {
				if err := e.a.ApplyTemplate("ShopNet", strings.Replace(net, "subnet-1", "subnet-2", -1)); err != nil {
					t.Fatal(err)
				}
			}
			e.a.ResetCalls()
			tg = e.target()
			tg.Plan = id
			_, err = e.run(tg)
			switch {
			case drift && (err == nil || !strings.Contains(err.Error(), "stack ShopNet has no change set of plan "+id+" but its template differs")):
				t.Fatalf("error = %v", err)
			case !drift && err != nil:
				t.Fatal(err)
			}
			if n := len(e.a.CallsTo("ExecuteChangeSet")); (n == 1) == drift {
				t.Fatalf("%d change sets executed with drift=%v", n, drift)
			}
		})
	}
}
