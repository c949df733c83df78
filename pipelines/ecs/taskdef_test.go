package ecs

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

var (
	digestA = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:" + strings.Repeat("a", 64)
	digestB = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:" + strings.Repeat("b", 64)
)

// richTaskDef is a DescribeTaskDefinition answer using most of what a
// task definition can hold, including read-only fields and a reserved tag.
var richTaskDef = `{"taskDefinition": {
  "taskDefinitionArn": "` + tdPrev + `", "family": "api", "revision": 5, "status": "ACTIVE",
  "containerDefinitions": [
    {"name": "app", "image": "` + digestA + `", "cpu": 0, "essential": true,
     "portMappings": [{"containerPort": 8000, "hostPort": 8000, "protocol": "tcp", "name": "http", "appProtocol": "http"}],
     "environment": [{"name": "ENV", "value": "prod"}],
     "secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"}],
     "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/api", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "api"}},
     "healthCheck": {"command": ["CMD-SHELL", "curl -f http://localhost:8000/health || exit 1"], "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60},
     "mountPoints": [{"sourceVolume": "data", "containerPath": "/data", "readOnly": false}],
     "dependsOn": [{"containerName": "envoy", "condition": "HEALTHY"}],
     "ulimits": [{"name": "nofile", "softLimit": 65536, "hardLimit": 65536}]},
    {"name": "envoy", "image": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.27.0.0-prod", "cpu": 64, "memory": 256, "essential": true, "user": "1337"}
  ],
  "cpu": "512", "memory": "1024", "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"], "compatibilities": ["EC2", "FARGATE"],
  "executionRoleArn": "arn:aws:iam::123456789012:role/api-exec", "taskRoleArn": "arn:aws:iam::123456789012:role/api-task",
  "volumes": [{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-123", "rootDirectory": "/", "transitEncryption": "ENABLED"}}],
  "placementConstraints": [{"type": "memberOf", "expression": "attribute:ecs.availability-zone in [us-east-1a]"}],
  "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
  "ephemeralStorage": {"sizeInGiB": 30},
  "proxyConfiguration": {"type": "APPMESH", "containerName": "envoy", "properties": [{"name": "IgnoredUID", "value": "1337"}]},
  "pidMode": "task", "ipcMode": "task",
  "inferenceAccelerators": [{"deviceName": "device1", "deviceType": "eia2.medium"}],
  "enableFaultInjection": true,
  "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.ecr-auth"}],
  "registeredAt": 1735732000, "registeredBy": "arn:aws:iam::123456789012:role/deployer"
},
"tags": [{"key": "team", "value": "backend"}, {"key": "aws:cloudformation:stack-name", "value": "BackendStack"}]}`

func imageScenario() *scenario {
	return &scenario{
		before:  steady(old("PRIMARY", 2)),
		states:  []state{deps(ours(tdNew, "PRIMARY", "COMPLETED", 2))},
		taskDef: richTaskDef,
	}
}

// The registered revision must equal the described one minus read-only
// fields and reserved tags, with only the app image changed.
func TestRolloutNewImageChangesOnlyThatImage(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": imageScenario()})
	res, err := h.d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestB}})
	if err != nil {
		t.Fatalf("%v\n%s", err, h.log())
	}
	if res.Mode != ModeImage || res.TaskDefinition != tdNew || res.Previous != tdPrev {
		t.Fatalf("result = %+v", res)
	}
	desc := h.fake.bodies("DescribeTaskDefinition")[0]
	if desc["taskDefinition"] != tdPrev || !reflect.DeepEqual(desc["include"], []any{"TAGS"}) {
		t.Errorf("DescribeTaskDefinition request = %v: must ask for the service's revision with TAGS", desc)
	}
	var described struct {
		TaskDefinition map[string]any `json:"taskDefinition"`
	}
	if err := json.Unmarshal([]byte(richTaskDef), &described); err != nil {
		t.Fatal(err)
	}
	want := described.TaskDefinition
	for _, readOnly := range []string{"taskDefinitionArn", "revision", "status", "compatibilities", "requiresAttributes", "registeredAt", "registeredBy"} {
		delete(want, readOnly)
	}
	app := want["containerDefinitions"].([]any)[0].(map[string]any)
	app["image"] = digestB
	// Container cpu is a plain int32 in the SDK, so a 0 ("no reservation",
	// the API's default) is not sent: same meaning, not a dropped field.
	delete(app, "cpu")
	got := h.fake.bodies("RegisterTaskDefinition")[0]
	// The user's tags are kept, aws:* dropped, and the image set recorded.
	tags, _ := got["tags"].([]any)
	if len(tags) != 2 || tags[1].(map[string]any)["key"] != ImagesTag || len(tags[1].(map[string]any)["value"].(string)) != 64 {
		t.Errorf("tags = %v, want team plus %s=<sha256 hex>", got["tags"], ImagesTag)
	}
	want["tags"] = []any{map[string]any{"key": "team", "value": "backend"}, tags[len(tags)-1]}

	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("RegisterTaskDefinition body differs from the described revision beyond the image:\ngot  %s\nwant %s", g, w)
	}
	if upd := h.fake.bodies("UpdateService")[0]; upd["taskDefinition"] != tdNew || upd["forceNewDeployment"] == true {
		t.Errorf("UpdateService must deploy the new revision, sent %v", upd)
	}
}

// Every RegisterTaskDefinition input field that TaskDefinition also has is
// copied; a field the SDK adds later fails this test until it is handled.
func TestRegisterInputCopiesEveryAcceptedField(t *testing.T) {
	var td types.TaskDefinition
	fillNonZero(reflect.ValueOf(&td).Elem())
	in := registerInput(&td, []types.Tag{{}})
	src := reflect.ValueOf(td)
	dst := reflect.ValueOf(*in)
	for i := 0; i < dst.NumField(); i++ {
		field := dst.Type().Field(i)
		if !field.IsExported() || field.Name == "Tags" {
			continue
		}
		from := src.FieldByName(field.Name)
		if !from.IsValid() {
			t.Errorf("RegisterTaskDefinitionInput.%s has no counterpart in TaskDefinition: decide how to fill it", field.Name)
			continue
		}
		if !reflect.DeepEqual(dst.Field(i).Interface(), from.Interface()) {
			t.Errorf("%s not copied", field.Name)
		}
	}
}

// fillNonZero gives every exported field a non-zero value.
func fillNonZero(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		switch f.Kind() {
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.String:
			f.SetString("x")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int32, reflect.Int64:
			f.SetInt(1)
		}
	}
}

func TestRegisterRevisionRefusals(t *testing.T) {
	cases := []struct {
		name      string
		images    map[string]string
		allowTags bool
		wantErr   string
		wantCalls int // DescribeServices calls: 0 when refused before any API call
	}{
		{"tag refused", map[string]string{"app": "api:latest"}, false, `container "app": image "api:latest" is not pinned by digest`, 0},
		{"short digest refused", map[string]string{"app": "api@sha256:abc"}, false, "not pinned by digest", 0},
		{"empty reference refused", map[string]string{"app": ""}, true, `invalid image reference ""`, 0},
		{"unknown container lists the real ones", map[string]string{"web": digestB}, false, `container "web" not found in task definition api:5 (it has: app, envoy)`, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]*scenario{"api": imageScenario()})
			_, err := h.d.RegisterRevision(context.Background(), "prod", "api", tc.images, tc.allowTags)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
			if n := h.fake.count("DescribeServices"); n != tc.wantCalls {
				t.Errorf("DescribeServices calls = %d, want %d", n, tc.wantCalls)
			}
			if n := h.fake.count("RegisterTaskDefinition"); n != 0 {
				t.Errorf("nothing may be registered, got %d calls", n)
			}
		})
	}
}

func TestRegisterRevisionAllowTags(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": imageScenario()})
	rev, err := h.d.RegisterRevision(context.Background(), "prod", "api", map[string]string{"envoy": "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.0.0-prod"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !rev.Changed || rev.ARN != tdNew || rev.Previous != tdPrev {
		t.Fatalf("revision = %+v", rev)
	}
	c := h.fake.bodies("RegisterTaskDefinition")[0]["containerDefinitions"].([]any)
	if c[0].(map[string]any)["image"] != digestA || c[1].(map[string]any)["image"] != "public.ecr.aws/appmesh/aws-appmesh-envoy:v1.29.0.0-prod" {
		t.Fatalf("images registered: %v / %v", c[0], c[1])
	}
}

func TestRolloutUnchangedImages(t *testing.T) {
	for _, force := range []bool{false, true} {
		sc := imageScenario()
		// A forced deployment redeploys the current revision.
		sc.states = []state{deps(ours(tdPrev, "PRIMARY", "COMPLETED", 2))}
		h := newHarness(t, map[string]*scenario{"api": sc})
		res, err := h.d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestA}, Force: force})
		if err != nil {
			t.Fatal(err)
		}
		if n := h.fake.count("RegisterTaskDefinition"); n != 0 {
			t.Errorf("force=%v: same images must not register a revision (%d calls)", force, n)
		}
		wantMode, wantUpdates := ModeUnchanged, 0
		if force {
			wantMode, wantUpdates = ModeForce, 1
		}
		if res.Mode != wantMode || h.fake.count("UpdateService") != wantUpdates {
			t.Errorf("force=%v: mode %s with %d updates, want %s with %d", force, res.Mode, h.fake.count("UpdateService"), wantMode, wantUpdates)
		}
		if force && h.fake.bodies("UpdateService")[0]["forceNewDeployment"] != true {
			t.Errorf("forcing an unchanged revision must set forceNewDeployment")
		}
	}
}

// Unchanged images are not trusted blindly: the live deployment must be
// complete, or the rollout fails (here: stuck in progress until the timeout).
func TestRolloutUnchangedVerifiesTheLiveDeployment(t *testing.T) {
	sc := imageScenario()
	stuck := old("PRIMARY", 1)
	stuck.rollout, stuck.pending = "IN_PROGRESS", 1
	sc.before = deps(stuck)
	h := newHarness(t, map[string]*scenario{"api": sc})
	res, err := h.d.Rollout(context.Background(), Spec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestA}, Timeout: time.Minute})
	var rerr *RolloutError
	if !errors.As(err, &rerr) || rerr.Kind != KindTimeout {
		t.Fatalf("err = %v, want a timeout verdict\n%s", err, h.log())
	}
	if !strings.Contains(err.Error(), "in flight when the rollout began, did not finish within 1m0s: not starting on top of it") {
		t.Errorf("the error must say the rollout did not start: %v", err)
	}
	if h.fake.count("UpdateService") != 0 || h.fake.count("RegisterTaskDefinition") != 0 {
		t.Fatalf("verifying must change nothing: mode %s, %d updates", res.Mode, h.fake.count("UpdateService"))
	}
	if n := h.fake.count("DescribeServices"); n < 3 {
		t.Fatalf("only %d DescribeServices: the live deployment was not followed", n)
	}
}

func TestSpecValidation(t *testing.T) {
	h := newHarness(t, map[string]*scenario{"api": imageScenario()})
	for _, spec := range []Spec{
		{},
		{Service: "api", TaskDefinition: tdNew, Images: map[string]string{"app": digestB}},
		{Service: "api", Images: map[string]string{"app": "api:latest"}},
	} {
		if _, err := h.d.Rollout(context.Background(), spec); err == nil {
			t.Errorf("spec %+v must be refused", spec)
		}
	}
	if n := h.fake.count("DescribeServices"); n != 0 {
		t.Errorf("invalid specs must be refused before any API call, got %d", n)
	}
}
