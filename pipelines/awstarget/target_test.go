package awstarget

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

func (w *world) before(a, b string) {
	w.t.Helper()
	i, j := w.index(a), w.index(b)
	if i < 0 || j < 0 || i >= j {
		w.t.Fatalf("%q (at %d) must come before %q (at %d): %v", a, i, b, j, w.calls())
	}
}

func (w *world) never(prefixes ...string) {
	w.t.Helper()
	for _, p := range prefixes {
		if i := w.index(p); i >= 0 {
			w.t.Errorf("%q was called: %v", p, w.calls())
		}
	}
}

func summary(t *testing.T, rep *steps.Report, step string) string {
	t.Helper()
	st, ok := rep.Step(step)
	if !ok {
		t.Fatalf("no step %s", step)
	}
	return st.Summary
}

// The release: preflight before any push, the migration with the new
// digest before any service changes image, cdk deploy moving the services
// while the followers judge them, verify last.
func TestReleaseOrderAndDigests(t *testing.T) {
	w := newWorld(t)
	rep, err := w.run(w.target())
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	w.before("GetParameter", "push:backend")
	w.before("DescribeSecret", "push:backend")
	w.before("DescribeRepositories", "push:worker")
	w.before("push:backend", "synth")
	w.before("synth", "DescribeStacks ShopApp")
	w.before("RegisterTaskDefinition shop-backend map[app:"+ref("shop-backend", newDigest)+"]", "RunTask")
	w.before("RunTask", "cdk deploy ShopApp")
	w.before("RunTask", "UpdateService")
	w.before("UpdateService shop-backend "+ref("shop-backend", newDigest), "GET /health")
	w.before("cdk deploy ShopApp", "S3 PUT /site-bucket/index.html")
	w.before("S3 PUT /site-bucket/index.html", "CreateInvalidation /2020-05-31/distribution/E1/invalidation")
	w.before("CreateInvalidation", "GET /")
	if got := w.image("shop-backend", "app"); got != ref("shop-backend", newDigest) {
		t.Fatalf("backend runs %s", got)
	}
	if n := w.count("RunTask"); n != 1 {
		t.Fatalf("%d migration tasks", n)
	}
	if !strings.Contains(w.calls()[w.index("RunTask")], "alembic upgrade head") {
		t.Fatalf("migration command: %v", w.calls())
	}
	for _, s := range []string{"backend", "worker"} {
		if got := summary(t, rep, deploy.RolloutStep(s)); !strings.HasPrefix(got, "completed: deployment ecs-svc/1") {
			t.Errorf("rollout:%s says %q", s, got)
		}
	}
	if got := summary(t, rep, deploy.StepVerify); !strings.Contains(got, "/health → 200") {
		t.Errorf("verify says %q", got)
	}
	if got := summary(t, rep, deploy.StepMigrate); !strings.Contains(got, `"alembic upgrade head" exited 0`) || !strings.Contains(got, "registered") {
		t.Errorf("migrate says %q", got)
	}
}

// A re-run of the same commit changes nothing: the migration is skipped,
// no revision registered, no change set executed, every service unchanged.
func TestRerunIsANoop(t *testing.T) {
	w := newWorld(t)
	if _, err := w.run(w.target()); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.log = nil
	w.mu.Unlock()
	rep, err := w.run(w.target())
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	w.never("RegisterTaskDefinition", "RunTask", "UpdateService", "ExecuteChangeSet")
	if got := summary(t, rep, deploy.StepMigrate); !strings.HasPrefix(got, "skipped: shop-backend already runs "+newDigest) {
		t.Errorf("migrate says %q", got)
	}
	for _, s := range []string{"backend", "worker"} {
		if got := summary(t, rep, deploy.RolloutStep(s)); !strings.HasPrefix(got, "unchanged") {
			t.Errorf("rollout:%s says %q", s, got)
		}
	}
}

// A failed migration stops everything after it: no stack change, every
// service on its old image.
func TestFailedMigrationLeavesServicesUntouched(t *testing.T) {
	w := newWorld(t)
	w.migrationExit = 1
	rep, err := w.run(w.target())
	if err == nil || !strings.Contains(err.Error(), "alembic.util.exc.CommandError") || !strings.Contains(err.Error(), "nothing was deployed") {
		t.Fatalf("error = %v", err)
	}
	w.never("cdk deploy", "UpdateService", "ExecuteChangeSet", "GET /health", "Follow")
	for svc, ctr := range map[string]string{"shop-backend": "app", "shop-worker": "worker"} {
		if got := w.image(svc, ctr); got != ref(svc, oldDigest) {
			t.Errorf("%s runs %s after a failed migration", svc, got)
		}
	}
	for _, s := range []string{deploy.StepDeployInfra, deploy.RolloutStep("backend"), deploy.StepVerify} {
		if st, _ := rep.Step(s); st.Status != steps.StatusSkipped {
			t.Errorf("%s = %s, want skipped", s, st.Status)
		}
	}
}

// A circuit-breaker rollback fails the deploy as soon as the follower sees
// it, with the ECS events, and stops cdk deploy instead of waiting for
// CloudFormation's rollback.
func TestCircuitBreakerRollbackFailsFast(t *testing.T) {
	w := newWorld(t)
	w.rollback, w.cdkHangs = true, true
	rep, err := w.run(w.target())
	if err == nil || !strings.Contains(err.Error(), "rolled back by the circuit breaker") || !strings.Contains(err.Error(), "tasks failed to start") {
		t.Fatalf("error = %v", err)
	}
	st, _ := rep.Step(deploy.StepDeployInfra)
	if st.Status != steps.StatusFailed || !strings.Contains(st.Err, "stopped because rollout:") {
		t.Fatalf("deploy-infra = %+v", st)
	}
	w.never("GET /health")
}

// A dry run reads only: digests compared with ECR, every stack diffed, the
// migration and the rollouts described.
func TestDryRunMakesNoMutatingCall(t *testing.T) {
	w := newWorld(t)
	tg := w.target()
	tg.DryRun = true
	rep, err := w.run(tg)
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	w.never("push:", "RegisterTaskDefinition", "RunTask", "UpdateService", "ExecuteChangeSet", "cdk deploy", "GET /health", "S3 PUT", "CreateInvalidation")
	if w.index("cdk diff ShopApp") < 0 || w.index("DescribeImages") < 0 {
		t.Fatalf("the dry run did not diff or look up the digests: %v", w.calls())
	}
	if got := summary(t, rep, deploy.PushStep("backend")); got != "would create repository shop-backend and push "+newDigest && got != "would push "+newDigest {
		t.Errorf("push says %q", got)
	}
	if got := summary(t, rep, deploy.StepMigrate); !strings.HasPrefix(got, `would run "alembic upgrade head" with `+ref("shop-backend", newDigest)) {
		t.Errorf("migrate says %q", got)
	}
	if got := summary(t, rep, deploy.StepVerify); !strings.HasPrefix(got, "would check "+w.health.URL) {
		t.Errorf("verify says %q", got)
	}
}

// An unbootstrapped account and a missing secret are both reported, with
// the commands that fix them, before any push.
func TestPreflightReportsBeforeAnyPush(t *testing.T) {
	w := newWorld(t)
	w.bootstrapped = false
	w.secrets = map[string]bool{}
	_, err := w.run(w.target())
	var p Problems
	if !errors.As(err, &p) || len(p) != 2 {
		t.Fatalf("error = %v", err)
	}
	for _, want := range []string{"not bootstrapped", "bootstrap`", "secret shop/jwt does not exist", "aws secretsmanager create-secret"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	w.never("push:", "synth")
}

// A secret the templates reference but the declared list misses is
// reported by check-stacks, before the migration and any stack change.
func TestTemplateSecretCheckedBeforeAnyStackChange(t *testing.T) {
	w := newWorld(t)
	w.secrets = map[string]bool{}
	tg := w.target()
	tg.Secrets = nil
	_, err := w.run(tg)
	if err == nil || !strings.Contains(err.Error(), "step check-stacks failed") || !strings.Contains(err.Error(), "secret shop/jwt does not exist") {
		t.Fatalf("error = %v", err)
	}
	w.never("RunTask", "cdk deploy")
}

// A failure at each step stops the steps that depend on it.
func TestFailureStopsDependents(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(*world, *Target)
		step   string
		never  []string
	}{
		{"push", func(w *world, _ *Target) { w.pushFails = "denied: not authorized" }, "push:backend", []string{"synth", "RunTask", "cdk deploy"}},
		{"deploy-infra", func(w *world, _ *Target) { w.cdkFails = "cdk deploy failed: UPDATE_ROLLBACK_COMPLETE" }, deploy.StepDeployInfra, []string{"GET /health"}},
		{"verify", func(w *world, t *Target) {
			t.HealthURL = w.health.URL + "/missing"
			w.health.Config.Handler = http.NotFoundHandler()
		}, deploy.StepVerify, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tg := w.target()
			tc.break_(w, tg)
			rep, err := w.run(tg)
			if err == nil || !strings.Contains(err.Error(), "step "+tc.step+" failed") {
				t.Fatalf("error = %v", err)
			}
			if st, _ := rep.Step(tc.step); st.Status != steps.StatusFailed {
				t.Fatalf("%s = %s", tc.step, st.Status)
			}
			w.never(tc.never...)
		})
	}
}

// On a first deploy the migration runs right after deploy-infra created
// the stacks, and the followers wait for its outputs.
func TestFirstDeploy(t *testing.T) {
	w := newWorld(t)
	w.stacks = map[string]map[string]string{}
	w.services = map[string]map[string]string{"shop-backend": {}, "shop-worker": {}}
	rep, err := w.run(w.target())
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	w.before("cdk deploy ShopApp", "RunTask")
	if got := summary(t, rep, deploy.StepMigrate); !strings.HasPrefix(got, "first deploy") {
		t.Errorf("migrate says %q", got)
	}
	if got := summary(t, rep, deploy.StepCheckStacks); !strings.HasPrefix(got, "first deploy: none of the 1 stacks") {
		t.Errorf("check-stacks says %q", got)
	}
}

// deploy-infra prints CloudFormation's events while cdk deploy runs, and
// stops at its time limit saying so.
func TestDeployInfraProgressAndTimeLimit(t *testing.T) {
	w := newWorld(t)
	w.cdkHangs = true
	w.events = []string{"BackendService"}
	tg := w.target()
	tg.DeployTimeout = 100 * time.Millisecond
	var lines []string
	tg.Log = func(s string) { lines = append(lines, s) }
	_, _, err := tg.DeployInfra(context.Background(), deploy.Assembly{ID: "asm", Stacks: []string{"ShopApp"}, Context: map[string]string{}})
	if err == nil || !strings.Contains(err.Error(), "did not finish within 100ms") {
		t.Fatalf("error = %v", err)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "ShopApp BackendService AWS::ECS::Service UPDATE_IN_PROGRESS") {
		t.Fatalf("no progress printed: %v", lines)
	}
}

// Verify stops at once on a permanent answer and says which URL answered
// what; it waits through 503s.
func TestVerify(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/health":
			n++
			if n < 3 {
				rw.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			rw.Write([]byte("ok\n"))
		case "/forbidden":
			rw.WriteHeader(http.StatusForbidden)
			rw.Write([]byte("AccessDenied"))
		}
	}))
	defer srv.Close()
	tg := &Target{Poll: time.Millisecond, VerifyTimeout: 5 * time.Second}
	o, err := tg.Verify(context.Background(), nil, deploy.Outputs{contract.OutputHealthURL: srv.URL + "/health"})
	if err != nil || !strings.Contains(o.Summary, srv.URL+"/health → 200 ok") {
		t.Fatalf("verify = %+v, %v", o, err)
	}
	start := time.Now()
	_, err = tg.Verify(context.Background(), nil, deploy.Outputs{contract.OutputHealthURL: srv.URL + "/health", contract.OutputFrontendURL: srv.URL + "/forbidden"})
	if err == nil || !strings.Contains(err.Error(), srv.URL+"/forbidden answered 403 Forbidden") || !errors.Is(err, errPermanent) {
		t.Fatalf("error = %v", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Fatal("a 403 did not stop verify at once")
	}
	tg.VerifyTimeout = 20 * time.Millisecond
	_, err = tg.Verify(context.Background(), nil, deploy.Outputs{contract.OutputHealthURL: srv.URL + "/health-never"})
	if err != nil {
		t.Fatalf("an empty 200 is fine: %v", err)
	}
	if _, err := tg.Verify(context.Background(), nil, deploy.Outputs{}); err == nil || !strings.Contains(err.Error(), "nothing to verify") {
		t.Fatalf("error = %v", err)
	}
	// An unknown host, as the resolver reports it (no DNS in tests).
	tg.VerifyTimeout = 5 * time.Second
	tg.HTTP = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: "shop.invalid", IsNotFound: true}
	}}}
	_, err = tg.Verify(context.Background(), nil, deploy.Outputs{contract.OutputHealthURL: "http://shop.invalid/health"})
	if err == nil || !errors.Is(err, errPermanent) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("unknown host: %v", err)
	}
}

func TestReferencedSecrets(t *testing.T) {
	tpls := []string{
		`{"a":":secret:app/openai-??????","b":"{{resolve:secretsmanager:app/tavily:SecretString:key}}","c":"{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:app/jwt:SecretString}}"}`,
		`{"Resources":{"S":{"Type":"AWS::SecretsManager::Secret","Properties":{"Name":"app/generated"}}},"x":":secret:app/generated"}`,
	}
	got := referencedSecrets(tpls)
	want := []string{"app/jwt", "app/openai", "app/tavily"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCheck(t *testing.T) {
	err := (&Target{HealthURL: "ftp://x", Poll: -1}).Check()
	for _, want := range []string{"no app description", "no environment", "are required", `health URL "ftp://x"`, "negative time limit"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}

// Rollout judges a service against outputs already known; without the
// service outputs it says which output is missing.
func TestRolloutAndMissingOutputs(t *testing.T) {
	w := newWorld(t)
	w.services["shop-backend"]["app"] = ref("shop-backend", newDigest)
	tg := w.target()
	img := deploy.Image{Service: "backend", Ref: ref("shop-backend", newDigest)}
	o, err := tg.Rollout(context.Background(), img, deploy.Outputs(w.appOutputs()))
	if err != nil || !strings.HasPrefix(o.Summary, "unchanged: shop-backend already runs "+newDigest) {
		t.Fatalf("rollout = %+v, %v", o, err)
	}
	_, err = tg.Rollout(context.Background(), img, deploy.Outputs{contract.OutputCluster: "shop"})
	if !errors.Is(err, deploy.ErrNoOutput) || !strings.Contains(err.Error(), "BackendServiceName") {
		t.Fatalf("error = %v", err)
	}
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

// A dry run on a first deploy describes what would happen once the stacks
// exist; a digest ECR already has is not pushed again.
func TestDryRunFirstDeploy(t *testing.T) {
	w := newWorld(t)
	w.stacks = map[string]map[string]string{}
	w.haveImage = true
	tg := w.target()
	tg.DryRun, tg.RegistryHost = true, "gateway.local:4566"
	rep, err := w.run(tg)
	if err != nil {
		t.Fatalf("%v\n%s", err, rep.Text())
	}
	w.never("GetAuthorizationToken", "push:", "cdk deploy")
	if got := summary(t, rep, deploy.PushStep("worker")); got != "already in ECR, would skip the push" {
		t.Errorf("push says %q", got)
	}
	if got := summary(t, rep, deploy.RolloutStep("worker")); !strings.HasPrefix(got, "would follow the first deployment of gateway.local:4566/shop-worker@"+newDigest) {
		t.Errorf("rollout says %q", got)
	}
	if got := summary(t, rep, deploy.StepVerify); !strings.HasPrefix(got, "would check the health and frontend URLs once the stacks exist") {
		t.Errorf("verify says %q", got)
	}
}

func TestReviewChanges(t *testing.T) {
	rc := func(typ, logical, physical string, action cfntypes.ChangeAction, repl cfntypes.Replacement) cfntypes.ResourceChange {
		return cfntypes.ResourceChange{ResourceType: aws.String(typ), LogicalResourceId: aws.String(logical), PhysicalResourceId: aws.String(physical), Action: action, Replacement: repl}
	}
	cs := changes{
		rc("AWS::ECS::TaskDefinition", "Task", "td", cfntypes.ChangeActionModify, cfntypes.ReplacementTrue),
		rc("AWS::S3::Bucket", "Assets", "shop-assets", cfntypes.ChangeActionRemove, ""),
		rc("AWS::DynamoDB::Table", "Orders", "orders", cfntypes.ChangeActionModify, cfntypes.ReplacementConditional),
		rc("AWS::RDS::DBInstance", "Database", "db-1", cfntypes.ChangeActionModify, cfntypes.ReplacementFalse),
	}
	err := (&Target{}).reviewChanges("App", cs)
	for _, want := range []string{"AWS::S3::Bucket Assets (shop-assets) would be deleted", "AWS::DynamoDB::Table Orders (orders) may be replaced", "--allow-replace Assets"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	if err != nil && (strings.Contains(err.Error(), "Task") || strings.Contains(err.Error(), "Database")) {
		t.Errorf("a stateless replacement or an in-place update was refused: %v", err)
	}
	if err := (&Target{AllowReplace: []string{"shop-assets", "Orders"}}).reviewChanges("App", cs); err != nil {
		t.Errorf("acknowledged by physical and logical name: %v", err)
	}
}
