package fakeaws_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
)

// appTemplate is a CDK-like template: a cluster, one task definition and a
// service running image, plus outputs naming them.
func appTemplate(t *testing.T, image string, extra map[string]any) string {
	t.Helper()
	resources := map[string]any{
		"Cluster": map[string]any{"Type": "AWS::ECS::Cluster", "Properties": map[string]any{"ClusterName": "prod"}},
		"ApiTaskDef": map[string]any{"Type": "AWS::ECS::TaskDefinition", "Properties": map[string]any{
			"Family": "app-api", "Cpu": "256", "Memory": "512", "NetworkMode": "awsvpc",
			"ContainerDefinitions": []any{map[string]any{"Name": "api", "Image": image, "Essential": true,
				"PortMappings": []any{map[string]any{"ContainerPort": 8000}},
				"Environment":  []any{map[string]any{"Name": "REGION", "Value": map[string]any{"Ref": "AWS::Region"}}}}},
		}},
		"ApiService": map[string]any{"Type": "AWS::ECS::Service", "Properties": map[string]any{
			"Cluster": map[string]any{"Ref": "Cluster"}, "TaskDefinition": map[string]any{"Ref": "ApiTaskDef"}, "DesiredCount": 2,
			"DeploymentConfiguration": map[string]any{"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true}},
		}},
		"CDKMetadata": map[string]any{"Type": "AWS::CDK::Metadata", "Properties": map[string]any{"Analytics": "v2:deflate64:x"}},
	}
	for k, v := range extra {
		if v == nil {
			delete(resources, k)
		} else {
			resources[k] = v
		}
	}
	b, err := json.Marshal(map[string]any{
		"Resources": resources,
		"Outputs": map[string]any{
			"ClusterName":    map[string]any{"Value": map[string]any{"Ref": "Cluster"}},
			"ApiServiceName": map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"ApiService", "Name"}}},
			"HealthURL":      map[string]any{"Value": map[string]any{"Fn::Join": []any{"", []any{"https://", map[string]any{"Ref": "AWS::StackName"}, ".example.com/health"}}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func outputs(t *testing.T, c *cloudformation.Client, stack string) (string, map[string]string) {
	t.Helper()
	out := must(c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)}))(t)
	m := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return string(out.Stacks[0].StackStatus), m
}

func changes(cs *cloudformation.DescribeChangeSetOutput) []string {
	var out []string
	for _, c := range cs.Changes {
		rc := c.ResourceChange
		s := string(rc.Action) + " " + aws.ToString(rc.LogicalResourceId)
		if rc.Replacement != "" {
			s += " replace=" + string(rc.Replacement)
		}
		out = append(out, s)
	}
	return out
}

// changeSet creates a change set of template and describes it.
func changeSet(t *testing.T, c *cloudformation.Client, stack, name, typ, template string) *cloudformation.DescribeChangeSetOutput {
	t.Helper()
	must(c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String(stack), ChangeSetName: aws.String(name),
		ChangeSetType: cfntypes.ChangeSetType(typ), TemplateBody: aws.String(template), Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityIam}}))(t)
	return must(c.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{StackName: aws.String(stack), ChangeSetName: aws.String(name)}))(t)
}

func TestChangeSetExecutionDeploysTheServiceLikeCloudFormation(t *testing.T) {
	a := fakeaws.New(t, fakeaws.WithSettlePolls(2))
	c := cloudformation.NewFromConfig(a.Config())

	cs := changeSet(t, c, "App", "create", "CREATE", appTemplate(t, "repo/api@sha256:1111", nil))
	if got := changes(cs); !slices.Equal(got, []string{"Add ApiService", "Add ApiTaskDef", "Add Cluster"}) || cs.ExecutionStatus != cfntypes.ExecutionStatusAvailable {
		t.Fatalf("create change set = %v %s", got, cs.ExecutionStatus)
	}
	if status, _ := outputs(t, c, "App"); status != "REVIEW_IN_PROGRESS" {
		t.Fatalf("stack before execution = %s", status)
	}
	must(c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{StackName: aws.String("App"), ChangeSetName: aws.String("create")}))(t)
	if status, _ := outputs(t, c, "App"); status != "CREATE_IN_PROGRESS" {
		t.Fatalf("stack while the service deploys = %s", status)
	}
	status, out := outputs(t, c, "App")
	if status != "CREATE_COMPLETE" || out["ClusterName"] != "prod" || out["HealthURL"] != "https://App.example.com/health" || !strings.HasPrefix(out["ApiServiceName"], "App-ApiService-") {
		t.Fatalf("stack = %s, outputs %v", status, out)
	}
	svc, ok := a.Service("prod", out["ApiServiceName"])
	if !ok || svc.Images["api"] != "repo/api@sha256:1111" || len(svc.Deployments) != 1 || svc.Deployments[0].RolloutState != "COMPLETED" {
		t.Fatalf("service after create = %+v", svc)
	}
	td := must(ecsClient(a).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String(svc.TaskDefinition)}))(t).TaskDefinition
	if cd := td.ContainerDefinitions[0]; aws.ToString(td.Family) != "app-api" || aws.ToString(td.Cpu) != "256" || aws.ToString(cd.Environment[0].Value) != "us-east-1" || aws.ToInt32(cd.PortMappings[0].ContainerPort) != 8000 {
		t.Fatalf("task definition from the template = %+v", td)
	}

	// A new image: the task definition is replaced, the service updated,
	// and a new ECS deployment follows, which the test then settles.
	cs = changeSet(t, c, "App", "update", "UPDATE", appTemplate(t, "repo/api@sha256:2222", nil))
	if got := changes(cs); !slices.Equal(got, []string{"Modify ApiService replace=False", "Modify ApiTaskDef replace=True"}) {
		t.Fatalf("update change set = %v", got)
	}
	a.ResetCalls()
	must(c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{StackName: aws.String("App"), ChangeSetName: aws.String("update")}))(t)
	st, _ := a.Service("prod", out["ApiServiceName"])
	if len(st.Deployments) != 2 || st.Deployments[0].RolloutState != "IN_PROGRESS" || st.Images["api"] != "repo/api@sha256:2222" {
		t.Fatalf("service right after execution = %+v", st)
	}
	for range 2 {
		status, _ = outputs(t, c, "App")
	}
	if status != "UPDATE_COMPLETE" || len(a.TaskDefinitions()) != 2 {
		t.Fatalf("stack = %s, task definitions %v", status, a.TaskDefinitions())
	}
	events := must(c.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String("App")}))(t)
	if e := events.StackEvents[0]; aws.ToString(e.LogicalResourceId) != "App" || e.ResourceStatus != cfntypes.ResourceStatusUpdateComplete {
		t.Fatalf("newest event = %s %s", aws.ToString(e.LogicalResourceId), e.ResourceStatus)
	}

	// The same template again: no changes, nothing registered or deployed.
	cs = changeSet(t, c, "App", "again", "UPDATE", appTemplate(t, "repo/api@sha256:2222", nil))
	if cs.Status != cfntypes.ChangeSetStatusFailed || !strings.Contains(aws.ToString(cs.StatusReason), "didn't contain changes") {
		t.Fatalf("no-op change set = %s %s", cs.Status, aws.ToString(cs.StatusReason))
	}
	if err := a.ApplyTemplate("App", appTemplate(t, "repo/api@sha256:2222", nil)); err != nil || len(a.TaskDefinitions()) != 2 {
		t.Fatalf("re-apply: %v, task definitions %v", err, a.TaskDefinitions())
	}
	want := []string{"cloudformation:ExecuteChangeSet", "cloudformation:CreateChangeSet", // through the SDK
		"cloudformation:CreateChangeSet", "cloudformation:DeleteChangeSet"} // ApplyTemplate, as `cdk deploy` of no change
	if m := a.Mutating(); !slices.Equal(m, want) {
		t.Fatalf("mutating calls = %v", m)
	}
	_, err := c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{StackName: aws.String("App"), ChangeSetName: aws.String("update")})
	if errorCode(err) != "InvalidChangeSetStatus" {
		t.Fatalf("executing a change set twice: %v", err)
	}
}

// A bad image fails the stack update and leaves the service on the old
// image: put back by the ECS circuit breaker when its rollback is on, by
// CloudFormation's own rollback when it is off.
func TestBadImageRollsTheStackBack(t *testing.T) {
	for _, ecsRollback := range []bool{true, false} {
		t.Run(map[bool]string{true: "circuit breaker rolls back", false: "CloudFormation rolls back"}[ecsRollback], func(t *testing.T) {
			testBadImageRollback(t, ecsRollback)
		})
	}
}

func testBadImageRollback(t *testing.T, ecsRollback bool) {
	service := map[string]any{"ApiService": map[string]any{"Type": "AWS::ECS::Service", "Properties": map[string]any{
		"Cluster": map[string]any{"Ref": "Cluster"}, "TaskDefinition": map[string]any{"Ref": "ApiTaskDef"}, "DesiredCount": 2,
		"DeploymentConfiguration": map[string]any{"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": ecsRollback}},
	}}}
	a := fakeaws.New(t, fakeaws.WithSettlePolls(1))
	if err := a.ApplyTemplate("App", appTemplate(t, "repo/api@sha256:good", service)); err != nil {
		t.Fatal(err)
	}
	c := cloudformation.NewFromConfig(a.Config())
	_, before := outputs(t, c, "App")
	good, _ := a.Service("prod", before["ApiServiceName"])
	a.BadImage("repo/api@sha256:bad", "")
	if err := a.ApplyTemplate("App", appTemplate(t, "repo/api@sha256:bad", service)); err == nil || !strings.Contains(err.Error(), "UPDATE_ROLLBACK_COMPLETE") {
		t.Fatalf("ApplyTemplate of a bad image: %v", err)
	}
	status, after := outputs(t, c, "App")
	if status != "UPDATE_ROLLBACK_COMPLETE" || after["ApiServiceName"] != before["ApiServiceName"] {
		t.Fatalf("stack = %s outputs %v", status, after)
	}
	svc, _ := a.Service("prod", after["ApiServiceName"])
	if svc.Images["api"] != "repo/api@sha256:good" || svc.TaskDefinition != good.TaskDefinition || svc.Deployments[0].TaskDefinition != good.TaskDefinition {
		t.Fatalf("service after rollback = %+v, before %s", svc, good.TaskDefinition)
	}
	events := must(c.DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String("App")}))(t)
	var failed []string
	for _, e := range events.StackEvents {
		if e.ResourceStatus == cfntypes.ResourceStatusUpdateFailed {
			failed = append(failed, aws.ToString(e.LogicalResourceId)+": "+aws.ToString(e.ResourceStatusReason))
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0], "ApiService: ") || !strings.Contains(failed[0], "Circuit Breaker") {
		t.Fatalf("failed events = %v", failed)
	}
	// The rolled-back template is the stack's again: re-applying it is a no-op.
	cs := changeSet(t, c, "App", "back", "UPDATE", appTemplate(t, "repo/api@sha256:good", service))
	if cs.Status != cfntypes.ChangeSetStatusFailed {
		t.Fatalf("change set to the running template = %v", changes(cs))
	}
}

func TestChangeSetShowsStatefulReplacementsAndRemovals(t *testing.T) {
	a := fakeaws.New(t)
	db := func(name string) map[string]any {
		return map[string]any{"Type": "AWS::RDS::DBInstance", "Properties": map[string]any{"DBName": name, "Engine": "postgres", "AllocatedStorage": "20"}}
	}
	table := map[string]any{"Type": "AWS::DynamoDB::Table", "Properties": map[string]any{"KeySchema": []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}}}}
	if err := a.ApplyTemplate("Data", appTemplate(t, "img:1", map[string]any{"Db": db("app"), "Locks": table})); err != nil {
		t.Fatal(err)
	}
	c := cloudformation.NewFromConfig(a.Config())
	tests := map[string]struct {
		extra map[string]any
		want  []string
	}{
		"renamed database is replaced": {map[string]any{"Db": db("app2"), "Locks": table}, []string{"Modify Db replace=True"}},
		"table dropped":                {map[string]any{"Db": db("app")}, []string{"Remove Locks"}},
		"storage grown in place": {map[string]any{"Locks": table, "Db": map[string]any{"Type": "AWS::RDS::DBInstance",
			"Properties": map[string]any{"DBName": "app", "Engine": "postgres", "AllocatedStorage": "40"}}}, []string{"Modify Db replace=False"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cs := changeSet(t, c, "Data", strings.ReplaceAll(name, " ", "-"), "UPDATE", appTemplate(t, "img:1", tc.extra))
			if got := changes(cs); !slices.Equal(got, tc.want) {
				t.Fatalf("changes = %v, want %v", got, tc.want)
			}
		})
	}
	list := must(c.ListChangeSets(ctx, &cloudformation.ListChangeSetsInput{StackName: aws.String("Data")}))(t)
	if len(list.Summaries) != 4 {
		t.Fatalf("%d change sets listed", len(list.Summaries))
	}
	must(c.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{StackName: aws.String("Data"), ChangeSetName: aws.String("table-dropped")}))(t)
	_, err := c.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{StackName: aws.String("Data"), ChangeSetName: aws.String("table-dropped")})
	if errorCode(err) != "ChangeSetNotFound" {
		t.Fatalf("deleted change set: %v", err)
	}
}

func TestBootstrapVersionParameterAndRule(t *testing.T) {
	const param = "/cdk-bootstrap/hnb659fds/version"
	tpl := `{"Parameters":{"BootstrapVersion":{"Type":"AWS::SSM::Parameter::Value<String>","Default":"` + param + `"}},
	"Rules":{"CheckBootstrapVersion":{"Assertions":[{"Assert":{"Fn::Not":[{"Fn::Contains":[["1","2","3","4","5"],{"Ref":"BootstrapVersion"}]}]},
	"AssertDescription":"CDK bootstrap stack version 6 required. Please run 'cdk bootstrap' with a recent version of the CDK CLI."}]}},
	"Resources":{"Topic":{"Type":"AWS::SNS::Topic"}}}`
	tests := []struct {
		name, version, want string
	}{
		{"not bootstrapped", "", "Unable to fetch parameters [" + param + "] from parameter store"},
		{"bootstrap too old", "4", "CDK bootstrap stack version 6 required"},
		{"bootstrapped", "21", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := fakeaws.New(t)
			if tc.version != "" {
				a.PutParameter(param, tc.version)
			}
			c := cloudformation.NewFromConfig(a.Config())
			_, err := c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String("App"), ChangeSetName: aws.String("c"),
				ChangeSetType: cfntypes.ChangeSetTypeCreate, TemplateBody: aws.String(tpl)})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				usesPreviousBootstrapVersion(t, c, tpl, param)
				return
			}
			if errorCode(err) != "ValidationError" || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CreateChangeSet error = %v, want %q", err, tc.want)
			}
			if _, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("App")}); err == nil {
				t.Fatal("a refused change set left a stack behind")
			}
		})
	}
}

// usesPreviousBootstrapVersion executes change set c of App, then updates
// App as the CDK CLI does, with UsePreviousValue for BootstrapVersion: the
// previous value is the SSM parameter's name, resolved again.
func usesPreviousBootstrapVersion(t *testing.T, c *cloudformation.Client, tpl, param string) {
	t.Helper()
	must(c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{StackName: aws.String("App"), ChangeSetName: aws.String("c")}))(t)
	must(c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("App")}))(t) // settles it
	updated := strings.Replace(tpl, `"Topic":{"Type":"AWS::SNS::Topic"}`, `"Topic":{"Type":"AWS::SNS::Topic"},"Queue":{"Type":"AWS::SQS::Queue"}`, 1)
	must(c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String("App"), ChangeSetName: aws.String("u"),
		TemplateBody: aws.String(updated), Parameters: []cfntypes.Parameter{{ParameterKey: aws.String("BootstrapVersion"), UsePreviousValue: aws.Bool(true)}}}))(t)
	must(c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{StackName: aws.String("App"), ChangeSetName: aws.String("u")}))(t)
	out := must(c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("App")}))(t)
	p := out.Stacks[0].Parameters
	if len(p) != 1 || aws.ToString(p[0].ParameterValue) != param || aws.ToString(p[0].ResolvedValue) != "21" {
		t.Errorf("parameters after the update = %+v, want %s resolved to 21", p, param)
	}
	if s := out.Stacks[0].StackStatus; s != cfntypes.StackStatusUpdateComplete {
		t.Errorf("stack status after the update = %s", s)
	}
}

func TestSeedStackAndDelete(t *testing.T) {
	start := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	a := fakeaws.New(t, fakeaws.WithStartTime(start))
	a.SeedStack(fakeaws.StackSeed{Name: "Old", Status: "UPDATE_ROLLBACK_FAILED", Reason: "stuck", Outputs: map[string]string{"ClusterName": "c1"}})
	c := cloudformation.NewFromConfig(a.Config())
	if status, out := outputs(t, c, "Old"); status != "UPDATE_ROLLBACK_FAILED" || out["ClusterName"] != "c1" {
		t.Fatalf("seeded stack = %s %v", status, out)
	}
	if err := a.ApplyTemplate("App", appTemplate(t, "img:1", nil)); err != nil {
		t.Fatal(err)
	}
	_, out := outputs(t, c, "App")
	res := must(c.ListStackResources(ctx, &cloudformation.ListStackResourcesInput{StackName: aws.String("App")}))(t)
	var found []string
	for _, r := range res.StackResourceSummaries {
		if aws.ToString(r.ResourceType) == "AWS::ECS::Service" {
			found = append(found, aws.ToString(r.PhysicalResourceId))
		}
		if !r.LastUpdatedTimestamp.After(start) {
			t.Errorf("%s updated at %s, before the fake clock's start", aws.ToString(r.LogicalResourceId), r.LastUpdatedTimestamp)
		}
	}
	if len(found) != 1 || !strings.HasSuffix(found[0], ":service/prod/"+out["ApiServiceName"]) {
		t.Fatalf("service resources = %v", found)
	}
	must(c.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String("App")}))(t)
	_, err := c.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("App")})
	if errorCode(err) != "ValidationError" || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("deleted stack: %v", err)
	}
	if _, ok := a.Service("prod", out["ApiServiceName"]); ok {
		t.Fatal("the stack's service outlived the stack")
	}
}

// A planned change set can only be executed while the stack is as it was
// planned against: once another change ran, it is OBSOLETE.
func TestPlannedChangeSetGoesObsoleteWhenTheStackMoves(t *testing.T) {
	a := fakeaws.New(t, fakeaws.WithSettlePolls(1))
	if err := a.ApplyTemplate("App", appTemplate(t, "img:1", nil)); err != nil {
		t.Fatal(err)
	}
	c := cloudformation.NewFromConfig(a.Config())
	planned := changeSet(t, c, "App", "planned", "UPDATE", appTemplate(t, "img:2", nil))
	if planned.ExecutionStatus != cfntypes.ExecutionStatusAvailable {
		t.Fatalf("planned change set = %s", planned.ExecutionStatus)
	}
	if err := a.ApplyTemplate("App", appTemplate(t, "img:3", nil)); err != nil {
		t.Fatal(err)
	}
	cs := must(c.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{StackName: aws.String("App"), ChangeSetName: planned.ChangeSetId}))(t)
	if cs.ExecutionStatus != cfntypes.ExecutionStatusObsolete {
		t.Fatalf("planned change set after another update = %s", cs.ExecutionStatus)
	}
	_, err := c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: planned.ChangeSetId})
	if errorCode(err) != "InvalidChangeSetStatus" || !strings.Contains(err.Error(), "OBSOLETE") {
		t.Fatalf("executing an obsolete change set: %v", err)
	}
}

// A first deploy whose service cannot start rolls the whole stack back;
// such a stack can only be deleted.
func TestFailedCreateRollsBackAndBlocksUpdates(t *testing.T) {
	a := fakeaws.New(t, fakeaws.WithSettlePolls(1))
	a.BadImage("img:bad", "")
	err := a.ApplyTemplate("App", appTemplate(t, "img:bad", nil))
	if err == nil || !strings.Contains(err.Error(), "ROLLBACK_COMPLETE") {
		t.Fatalf("first deploy of a bad image: %v", err)
	}
	if list := must(ecsClient(a).ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String("prod")}))(t); len(list.ServiceArns) != 0 {
		t.Fatalf("services kept after a rolled-back create: %v", list.ServiceArns)
	}
	c := cloudformation.NewFromConfig(a.Config())
	_, err = c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String("App"), ChangeSetName: aws.String("retry"),
		TemplateBody: aws.String(appTemplate(t, "img:good", nil))})
	if errorCode(err) != "ValidationError" || !strings.Contains(err.Error(), "ROLLBACK_COMPLETE state and can not be updated") {
		t.Fatalf("update of a ROLLBACK_COMPLETE stack: %v", err)
	}
}
