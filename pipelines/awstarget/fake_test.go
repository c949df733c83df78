package awstarget

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/internal/awstest"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// world is one fake AWS account: ECS services, CloudFormation stacks,
// SSM, Secrets Manager, ECR, behind one endpoint speaking the wire
// protocols the SDK uses (JSON for ECS/ECR/SSM/Secrets Manager, query/XML
// for CloudFormation), plus fakes of the engine-side interfaces (CDK
// applying a template to the fake ECS, image push) that record into the
// same ordered call log.
type world struct {
	t   *testing.T
	mu  sync.Mutex
	log []string

	bootstrapped bool
	secrets      map[string]bool
	// services: ECS service name -> container -> image it runs.
	services map[string]map[string]string
	revs     map[string]string // images key -> revision ARN (registered migration revisions)
	nrev     int
	stacks   map[string]map[string]string // stack -> outputs (exists when present)
	events   []string                     // CloudFormation events DescribeStackEvents returns

	// Faults.
	migrationExit int    // exit code of the migration task
	rollback      bool   // the new deployment is rolled back by the circuit breaker
	cdkHangs      bool   // cdk deploy waits for its context (CloudFormation rolling back)
	cdkFails      string // cdk deploy fails with this output
	pushFails     string
	haveImage     bool // ECR already has the new digest

	health *httptest.Server
	srv    *httptest.Server
}

const (
	oldDigest = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	newDigest = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	host      = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
)

func ref(repo, digest string) string { return host + "/" + repo + "@" + digest }

// newWorld has app "shop" deployed with the old images: stack ShopApp
// exists with cluster and service outputs.
func newWorld(t *testing.T) *world {
	w := &world{
		t: t, bootstrapped: true, secrets: map[string]bool{"shop/jwt": true},
		services: map[string]map[string]string{
			"shop-backend": {"app": ref("shop-backend", oldDigest)},
			"shop-worker":  {"worker": ref("shop-worker", oldDigest)},
		},
		revs: map[string]string{},
	}
	w.health = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.call("GET " + r.URL.Path)
		fmt.Fprintln(rw, `{"status":"ok"}`)
	}))
	t.Cleanup(w.health.Close)
	w.stacks = map[string]map[string]string{"ShopApp": w.appOutputs()}
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *world) appOutputs() map[string]string {
	return map[string]string{
		contract.OutputCluster:            "shop",
		contract.ServiceOutput("backend"): "shop-backend",
		contract.ServiceOutput("worker"):  "shop-worker",
		contract.OutputHealthURL:          w.health.URL + "/health",
		contract.OutputFrontendBucket:     "site-bucket",
		contract.OutputDistribution:       "E1",
		contract.OutputFrontendURL:        w.health.URL + "/",
	}
}

func (w *world) call(c string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.log = append(w.log, c)
}

func (w *world) calls() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.log)
}

func (w *world) index(prefix string) int {
	return slices.IndexFunc(w.calls(), func(c string) bool { return strings.HasPrefix(c, prefix) })
}

func (w *world) count(prefix string) int {
	n := 0
	for _, c := range w.calls() {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (w *world) image(service, container string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.services[service][container]
}

// --- the AWS endpoint ---

func (w *world) serve(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		op := target[strings.LastIndex(target, ".")+1:]
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		w.call(op)
		out, code := w.json(op, in)
		rw.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if code != "" {
			rw.Header().Set("X-Amzn-Errortype", code)
			rw.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(rw, `{"__type":%q,"message":"fake: %s"}`, code, code)
			return
		}
		_ = json.NewEncoder(rw).Encode(out)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/site-bucket") {
		w.call("S3 " + r.Method + " " + r.URL.Path)
		if r.Method == http.MethodGet {
			fmt.Fprint(rw, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>site-bucket</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`)
			return
		}
		rw.Header().Set("ETag", `"etag"`)
		return
	}
	if strings.Contains(r.URL.Path, "/distribution/") {
		w.call("CreateInvalidation " + r.URL.Path)
		rw.Header().Set("Location", "https://cloudfront/"+r.URL.Path+"/I1")
		rw.WriteHeader(http.StatusCreated)
		fmt.Fprint(rw, `<Invalidation xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Id>I1</Id><Status>Completed</Status><CreateTime>2026-01-01T00:00:00Z</CreateTime><InvalidationBatch><Paths><Quantity>1</Quantity><Items><Path>/*</Path></Items></Paths><CallerReference>x</CallerReference></InvalidationBatch></Invalidation>`)
		return
	}
	form := parseForm(string(body))
	op := form["Action"]
	w.call(op + " " + form["StackName"])
	rw.Header().Set("Content-Type", "text/xml")
	switch op {
	case "DescribeStacks":
		w.mu.Lock()
		outs, ok := w.stacks[form["StackName"]]
		w.mu.Unlock()
		if !ok {
			rw.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(rw, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id %s does not exist</Message></Error></ErrorResponse>`, form["StackName"])
			return
		}
		var b strings.Builder
		for k, v := range outs {
			if v != "" {
				fmt.Fprintf(&b, "<member><OutputKey>%s</OutputKey><OutputValue>%s</OutputValue></member>", k, v)
			}
		}
		fmt.Fprintf(rw, `<DescribeStacksResponse><DescribeStacksResult><Stacks><member><StackName>%s</StackName><StackId>id</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>%s</Outputs></member></Stacks></DescribeStacksResult></DescribeStacksResponse>`, form["StackName"], b.String())
	case "DescribeStackEvents":
		var b strings.Builder
		w.mu.Lock()
		for i, e := range w.events {
			fmt.Fprintf(&b, "<member><EventId>e%d</EventId><StackName>%s</StackName><LogicalResourceId>%s</LogicalResourceId><ResourceType>AWS::ECS::Service</ResourceType><ResourceStatus>UPDATE_IN_PROGRESS</ResourceStatus><Timestamp>%s</Timestamp></member>", i, form["StackName"], e, time.Now().UTC().Format(time.RFC3339))
		}
		w.mu.Unlock()
		fmt.Fprintf(rw, `<DescribeStackEventsResponse><DescribeStackEventsResult><StackEvents>%s</StackEvents></DescribeStackEventsResult></DescribeStackEventsResponse>`, b.String())
	default:
		w.t.Errorf("unexpected CloudFormation call %s", op)
		rw.WriteHeader(http.StatusBadRequest)
	}
}

func parseForm(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, "&") {
		k, v, _ := strings.Cut(kv, "=")
		v = strings.ReplaceAll(v, "%2F", "/")
		out[k] = v
	}
	return out
}

func (w *world) json(op string, in map[string]any) (any, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch op {
	case "GetParameter":
		if !w.bootstrapped {
			return nil, "ParameterNotFound"
		}
		return map[string]any{"Parameter": map[string]any{"Name": in["Name"], "Value": "28"}}, ""
	case "DescribeSecret":
		name, _ := in["SecretId"].(string)
		if !w.secrets[name] {
			return nil, "ResourceNotFoundException"
		}
		return map[string]any{"Name": name}, ""
	case "DescribeRepositories":
		return map[string]any{"repositories": []any{}}, "RepositoryNotFoundException"
	case "DescribeImages":
		if w.haveImage {
			return map[string]any{"imageDetails": []any{map[string]any{"imageDigest": newDigest}}}, ""
		}
		return nil, "ImageNotFoundException"
	case "GetAuthorizationToken":
		return map[string]any{"authorizationData": []any{map[string]any{
			"authorizationToken": base64.StdEncoding.EncodeToString([]byte("AWS:pw")), "proxyEndpoint": "https://" + host,
		}}}, ""
	case "DescribeServices":
		name := in["services"].([]any)[0].(string)
		if _, ok := w.services[name]; !ok {
			return map[string]any{"services": []any{}, "failures": []any{map[string]any{"arn": name, "reason": "MISSING"}}}, ""
		}
		return map[string]any{"services": []any{map[string]any{"serviceName": name, "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/" + name + ":1"}}}, ""
	case "DescribeTaskDefinition":
		td := in["taskDefinition"].(string)
		name := strings.TrimSuffix(td[strings.LastIndex(td, "/")+1:], ":1")
		var defs []any
		for c, img := range w.services[name] {
			defs = append(defs, map[string]any{"name": c, "image": img})
		}
		return map[string]any{"taskDefinition": map[string]any{"taskDefinitionArn": td, "containerDefinitions": defs}}, ""
	}
	w.t.Errorf("unexpected JSON call %s", op)
	return nil, "UnknownOperationException"
}

// --- the engine side and ECS ---

// fakeCDK "deploys" the assembly as CloudFormation would: the template
// (the assembly's context) names each service's image; a service whose
// image changes gets an UpdateService, a new stack is created.
type fakeCDK struct{ w *world }

func (c fakeCDK) Deploy(ctx context.Context, asm deploy.Assembly, stacks []string) (string, error) {
	w := c.w
	w.call("cdk deploy " + strings.Join(stacks, " "))
	if w.cdkFails != "" {
		return "", errors.New(w.cdkFails)
	}
	changed := false
	w.mu.Lock()
	for svc, ctr := range map[string]string{"shop-backend": "app", "shop-worker": "worker"} {
		img := asm.Context[contract.ImageContextKey(strings.TrimPrefix(svc, "shop-"))]
		if w.services[svc][ctr] != img {
			changed = true
			w.log = append(w.log, "UpdateService "+svc+" "+img)
			if !w.rollback {
				w.services[svc] = map[string]string{ctr: img}
			}
		}
	}
	if _, ok := w.stacks["ShopApp"]; !ok {
		changed = true
	}
	w.stacks["ShopApp"] = w.appOutputs()
	if changed {
		w.log = append(w.log, "ExecuteChangeSet ShopApp")
	}
	w.mu.Unlock()
	if w.cdkHangs {
		<-ctx.Done()
		return "", fmt.Errorf("cdk deploy failed: %w", ctx.Err())
	}
	if !changed {
		return " ✅  ShopApp (no changes)", nil
	}
	return " ✅  ShopApp", nil
}

func (c fakeCDK) Diff(ctx context.Context, asm deploy.Assembly, stacks []string) (string, error) {
	c.w.call("cdk diff " + strings.Join(stacks, " "))
	return "Stack ShopApp\n[~] AWS::ECS::TaskDefinition", nil
}

func (c fakeCDK) Template(ctx context.Context, asm deploy.Assembly, stack string) (string, error) {
	return `{"Resources":{"Task":{"Type":"AWS::ECS::TaskDefinition","Properties":{"ContainerDefinitions":[{"Secrets":[{"Name":"JWT","ValueFrom":{"Fn::Join":["",["arn:",{"Ref":"AWS::Partition"},":secretsmanager:us-east-1:123456789012:secret:shop/jwt"]]}}]}]}}}}`, nil
}

type fakeImages struct{ w *world }

func (i fakeImages) Push(ctx context.Context, service string) (deploy.Image, steps.Outcome, error) {
	i.w.call("push:" + service)
	if i.w.pushFails != "" {
		return deploy.Image{}, steps.Outcome{}, errors.New(i.w.pushFails)
	}
	return deploy.Image{Service: service, Ref: ref("shop-"+service, newDigest), Pushed: true}, steps.Outcome{}, nil
}

func (i fakeImages) Digest(ctx context.Context, service string) (string, error) {
	i.w.call("digest:" + service)
	return newDigest, nil
}

// fakeECS keeps the migration revisions and follows the services of the
// world the way pipelines/ecs does: completed when the service carries
// the images, a RolloutError with the service events when the circuit
// breaker rolled it back.
type fakeECS struct{ w *world }

func (e fakeECS) MigrationRevision(ctx context.Context, cluster, service string, images map[string]string) (ecs.Revision, error) {
	w := e.w
	w.mu.Lock()
	defer w.mu.Unlock()
	key := fmt.Sprint(images)
	if arn, ok := w.revs[key]; ok {
		return ecs.Revision{ARN: arn, Reused: true, Changed: true}, nil
	}
	w.nrev++
	arn := fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/%s:%d", service, w.nrev+1)
	w.revs[key] = arn
	w.log = append(w.log, "RegisterTaskDefinition "+service+" "+key)
	return ecs.Revision{ARN: arn, Changed: true}, nil
}

func (e fakeECS) RunTask(ctx context.Context, spec ecs.TaskSpec) (ecs.TaskResult, error) {
	w := e.w
	w.call("RunTask " + spec.TaskDefinition + " " + strings.Join(spec.Command, " "))
	if w.migrationExit != 0 {
		return ecs.TaskResult{ExitCode: w.migrationExit}, fmt.Errorf("task exited with code %d: alembic.util.exc.CommandError", w.migrationExit)
	}
	return ecs.TaskResult{ExitCode: 0, Duration: 3 * time.Second}, nil
}

func (e fakeECS) Follow(ctx context.Context, spec ecs.FollowSpec) (ecs.FollowResult, error) {
	w := e.w
	w.call("Follow " + spec.Service)
	for {
		if w.rollback && w.index("UpdateService "+spec.Service) >= 0 {
			return ecs.FollowResult{}, &ecs.RolloutError{Service: spec.Service, Cluster: spec.Cluster, Kind: ecs.KindCircuitBreaker,
				Reason: "deployment rolled back by the circuit breaker", Events: []string{"(service " + spec.Service + ") deployment failed: tasks failed to start."}}
		}
		done := true
		for c, img := range spec.Images {
			if w.image(spec.Service, c) != img {
				done = false
			}
		}
		if done {
			out := ecs.OutcomeCompleted
			if w.index("UpdateService "+spec.Service) < 0 {
				out = ecs.OutcomeUnchanged
			}
			return ecs.FollowResult{Outcome: out, DeploymentID: "ecs-svc/1", TaskDefinition: "arn:x/" + spec.Service + ":9"}, nil
		}
		select {
		case <-ctx.Done():
			return ecs.FollowResult{}, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// --- the deploy graph over the target ---

// fakeSite is the built frontend: one page.
type fakeSite struct{ w *world }

func (s fakeSite) Export(ctx context.Context, dir string) error {
	s.w.call("export site")
	return os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>shop</h1>"), 0o644)
}

type fakeBuild struct{}

func (fakeBuild) BuildImage(ctx context.Context, s string) (steps.Outcome, error) {
	return steps.Outcome{}, nil
}
func (fakeBuild) BuildFrontend(ctx context.Context) (steps.Outcome, error) {
	return steps.Outcome{}, nil
}

// fakeSynth puts the digests into the assembly's context, like synth.
type fakeSynth struct{ w *world }

func (fakeSynth) Prepare(ctx context.Context) (steps.Outcome, error) { return steps.Outcome{}, nil }
func (s fakeSynth) Synth(ctx context.Context, images []deploy.Image) (deploy.Assembly, steps.Outcome, error) {
	s.w.call("synth")
	asm := deploy.Assembly{ID: "asm", Stacks: []string{"ShopApp"}, Env: "dev", Context: map[string]string{}}
	for _, img := range images {
		asm.Context[contract.ImageContextKey(img.Service)] = img.Ref
	}
	return asm, steps.Outcome{}, nil
}

func testApp() *appspec.App {
	return &appspec.App{
		Name: "shop",
		Services: []appspec.Service{
			{Name: "backend", Repository: "shop-backend", Container: "app"},
			{Name: "worker", Repository: "shop-worker", Container: "worker"},
		},
		Migrate:  &appspec.Migrate{Service: "backend", Command: []string{"alembic", "upgrade", "head"}},
		Frontend: &appspec.Frontend{Dir: "web"},
	}
}

func (w *world) target() *Target {
	var lines []string
	var mu sync.Mutex
	t := &Target{
		App: testApp(), Env: "dev", AWS: awstest.Config(w.srv.URL),
		CDK: fakeCDK{w}, Images: fakeImages{w}, ECS: fakeECS{w}, Site: fakeSite{w},
		Secrets: []string{"shop/jwt"}, Poll: 5 * time.Millisecond, Progress: 10 * time.Millisecond,
		VerifyTimeout: time.Second,
		Log: func(s string) {
			mu.Lock()
			defer mu.Unlock()
			lines = append(lines, s)
		},
	}
	if err := t.Check(); err != nil {
		w.t.Fatal(err)
	}
	return t
}

func (w *world) run(t *Target) (*steps.Report, error) {
	p := &deploy.Pipeline{
		Services: t.App.ServiceNames(), Migrate: t.App.Migrate.Service, Frontend: t.App.Frontend != nil,
		Build: fakeBuild{}, Preflight: t, Push: t, Synth: fakeSynth{w}, Infra: t, Follow: t, Release: t,
	}
	return p.Run(context.Background(), steps.Options{})
}
