package fakeaws_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
)

const (
	v1Image = "repo/api@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	v2Image = "repo/api@sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

// bgTemplate is a stack of one service behind a listener's production and
// test rules (the test rule's header value a Secrets Manager dynamic
// reference, as the CDK renders it), deployed with config.
func bgTemplate(image, config string) string {
	return fmt.Sprintf(`{"Resources": {
  "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "prod"}},
  "Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}},
  "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {"LoadBalancerArn": {"Ref": "Lb"}, "Port": 80}},
  "Blue": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": 8000}},
  "Green": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": 8000}},
  "Token": {"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": {}}},
  "ProdRule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {"ListenerArn": {"Ref": "Listener"}, "Priority": 20,
    "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}}],
    "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Blue"}}]}},
  "TestRule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {"ListenerArn": {"Ref": "Listener"}, "Priority": 10,
    "Conditions": [{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/*"]}},
      {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Stevedore-Test",
        "Values": [{"Fn::Join": ["", ["{{resolve:secretsmanager:", {"Ref": "Token"}, ":SecretString:::}}"]]}]}}],
    "Actions": [{"Type": "forward", "TargetGroupArn": {"Ref": "Blue"}}]}},
  "Task": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Family": "api",
    "ContainerDefinitions": [{"Name": "api", "Image": %q, "Essential": true}]}},
  "Service": {"Type": "AWS::ECS::Service", "Properties": {"Cluster": {"Ref": "Cluster"}, "ServiceName": "api",
    "TaskDefinition": {"Ref": "Task"}, "DesiredCount": 2,
    "DeploymentConfiguration": {%s},
    "LoadBalancers": [{"ContainerName": "api", "ContainerPort": 8000, "TargetGroupArn": {"Ref": "Blue"},
      "AdvancedConfiguration": {"AlternateTargetGroupArn": {"Ref": "Green"}, "ProductionListenerRule": {"Ref": "ProdRule"},
        "TestListenerRule": {"Ref": "TestRule"}, "RoleArn": "arn:aws:iam::123456789012:role/ecs-infra"}}]}}
},
"Outputs": {"TestRuleArn": {"Value": {"Ref": "TestRule"}}}}`, image, config)
}

const (
	blueGreen = `"Strategy": "BLUE_GREEN", "BakeTimeInMinutes": 10,
	  "DeploymentCircuitBreaker": {"Enable": true, "Rollback": true}`
	gateHook = `, "LifecycleHooks": [{"TargetType": "PAUSE", "LifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
	  "TimeoutConfiguration": {"Action": "ROLLBACK", "TimeoutInMinutes": 30}}]`
	alarms = `, "Alarms": {"AlarmNames": ["api-5xx"], "Enable": true, "Rollback": true}`
)

var allStages = []string{"RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
	"POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"}

// release deploys v1 of the stack, then starts v2 and returns the v2
// service deployment's ARN, found as a follower finds it.
func release(t *testing.T, a *fakeaws.AWS, config string) (*ecs.Client, string) {
	t.Helper()
	if err := a.ApplyTemplate("app", bgTemplate(v1Image, config)); err != nil {
		t.Fatal(err)
	}
	since := a.Now()
	if err := a.StartTemplate("app", bgTemplate(v2Image, config)); err != nil {
		t.Fatal(err)
	}
	c := ecs.NewFromConfig(a.Config())
	out, err := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String("api"),
		CreatedAt: &ecstypes.CreatedAt{After: aws.Time(since)}})
	if err != nil || len(out.ServiceDeployments) != 1 {
		t.Fatalf("ListServiceDeployments after %s: %v %+v", since, err, out)
	}
	return c, aws.ToString(out.ServiceDeployments[0].ServiceDeploymentArn)
}

func describeSD(t *testing.T, c *ecs.Client, arn string) ecstypes.ServiceDeployment {
	t.Helper()
	out, err := c.DescribeServiceDeployments(ctx, &ecs.DescribeServiceDeploymentsInput{ServiceDeploymentArns: []string{arn}})
	if err != nil || len(out.ServiceDeployments) != 1 {
		t.Fatalf("DescribeServiceDeployments: %v %+v", err, out)
	}
	return out.ServiceDeployments[0]
}

// follow polls until the deployment ends or stop says so, returning the
// stages seen (each once, in order) and the last answer.
func follow(t *testing.T, c *ecs.Client, arn string, stop func(ecstypes.ServiceDeployment) bool) ([]string, ecstypes.ServiceDeployment) {
	t.Helper()
	var stages []string
	for range 100 {
		sd := describeSD(t, c, arn)
		if st := string(sd.LifecycleStage); st != "" && (len(stages) == 0 || stages[len(stages)-1] != st) {
			stages = append(stages, st)
		}
		switch sd.Status {
		case ecstypes.ServiceDeploymentStatusSuccessful, ecstypes.ServiceDeploymentStatusStopped,
			ecstypes.ServiceDeploymentStatusRollbackSuccessful, ecstypes.ServiceDeploymentStatusRollbackFailed:
			return stages, sd
		}
		if stop != nil && stop(sd) {
			return stages, sd
		}
	}
	t.Fatalf("service deployment %s never ended; stages %v", arn, stages)
	return nil, ecstypes.ServiceDeployment{}
}

func paused(sd ecstypes.ServiceDeployment) bool { return awaiting(sd) != nil }

// rollBackAtHook answers the paused hook of service deployment arn with
// ROLLBACK.
func rollBackAtHook(t *testing.T, c *ecs.Client, arn string, sd ecstypes.ServiceDeployment) {
	t.Helper()
	if _, err := c.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn),
		HookId: awaiting(sd).HookId, Action: ecstypes.DeploymentLifecycleHookActionRollback}); err != nil {
		t.Fatal(err)
	}
}

func awaiting(sd ecstypes.ServiceDeployment) *ecstypes.DeploymentLifecycleHookDetail {
	for i, h := range sd.LifecycleHookDetails {
		if h.Status == ecstypes.DeploymentLifecycleHookStatusAwaitingAction {
			return &sd.LifecycleHookDetails[i]
		}
	}
	return nil
}

func serviceOn(t *testing.T, a *fakeaws.AWS, image string) {
	t.Helper()
	st, ok := a.Service("prod", "api")
	if !ok || st.Images["api"] != image || len(st.Deployments) != 1 || st.Deployments[0].RolloutState != "COMPLETED" {
		t.Fatalf("service should be steady on %s: %+v", image, st)
	}
}

// A blue/green deployment goes through every lifecycle stage, one per
// poll, with the test traffic on the new revision from TEST_TRAFFIC_SHIFT
// and production traffic from PRODUCTION_TRAFFIC_SHIFT; it ends
// SUCCESSFUL with the service steady on the new task definition and the
// stack complete.
func TestBlueGreenGoesThroughEveryStage(t *testing.T) {
	a := fakeaws.New(t)
	c, arn := release(t, a, blueGreen)
	if l, _ := c.ListServiceDeployments(ctx, &ecs.ListServiceDeploymentsInput{Cluster: aws.String("prod"), Service: aws.String("api"),
		Status: []ecstypes.ServiceDeploymentStatus{ecstypes.ServiceDeploymentStatusPending}}); len(l.ServiceDeployments) != 1 {
		t.Fatalf("a new deployment is PENDING until its first poll: %+v", l)
	}
	cfn := cloudformation.NewFromConfig(a.Config())
	for range 5 { // a CDK CLI waiting moves nothing: the follower sees every stage
		if st, _ := outputs(t, cfn, "app"); st != "UPDATE_IN_PROGRESS" {
			t.Fatalf("stack %s", st)
		}
	}
	weights := map[string][2]float64{}
	stages, last := follow(t, c, arn, func(sd ecstypes.ServiceDeployment) bool {
		tr := sd.TargetServiceRevision
		weights[string(sd.LifecycleStage)] = [2]float64{aws.ToFloat64(tr.RequestedTestTrafficWeight), aws.ToFloat64(tr.RequestedProductionTrafficWeight)}
		return false
	})
	if !slices.Equal(stages, allStages) {
		t.Fatalf("stages: %v, want %v", stages, allStages)
	}
	if last.Status != ecstypes.ServiceDeploymentStatusSuccessful || last.FinishedAt == nil {
		t.Fatalf("end: %s %v", last.Status, last.FinishedAt)
	}
	for stage, want := range map[string][2]float64{"POST_SCALE_UP": {0, 0}, "TEST_TRAFFIC_SHIFT": {100, 0}, "POST_TEST_TRAFFIC_SHIFT": {100, 0},
		"PRODUCTION_TRAFFIC_SHIFT": {100, 100}, "BAKE_TIME": {100, 100}} {
		if weights[stage] != want {
			t.Errorf("at %s (test, production) weights %v, want %v", stage, weights[stage], want)
		}
	}
	serviceOn(t, a, v2Image)
	if s := a.StackStatus("app"); s != "UPDATE_COMPLETE" {
		t.Errorf("stack: %s", s)
	}
	if len(last.SourceServiceRevisions) != 1 || aws.ToString(last.SourceServiceRevisions[0].Arn) == aws.ToString(last.TargetServiceRevision.Arn) {
		t.Errorf("source revisions: %+v", last.SourceServiceRevisions)
	}
}

// A PAUSE hook stops the deployment at its stage with the hook's details
// until CONTINUE; a wrong hook ID and a second CONTINUE are refused as ECS
// refuses them.
func TestPauseHookThenContinue(t *testing.T) {
	a := fakeaws.New(t)
	c, arn := release(t, a, blueGreen+gateHook)
	stages, sd := follow(t, c, arn, paused)
	h := awaiting(sd)
	if h == nil || sd.LifecycleStage != "POST_TEST_TRAFFIC_SHIFT" || h.TargetType != ecstypes.DeploymentLifecycleHookTargetTypePause ||
		h.TimeoutAction != ecstypes.DeploymentLifecycleHookActionRollback || !strings.HasPrefix(aws.ToString(h.HookId), "ecs-pause-") {
		t.Fatalf("paused at %s (stages %v) with %+v", sd.LifecycleStage, stages, h)
	}
	if want := a.Now().Add(30 * time.Minute); h.ExpiresAt == nil || h.ExpiresAt.After(want) || h.ExpiresAt.Before(want.Add(-time.Minute)) {
		t.Errorf("expires at %v, want 30 minutes after the pause (now %v)", h.ExpiresAt, a.Now())
	}
	for range 3 {
		if again := describeSD(t, c, arn); again.LifecycleStage != "POST_TEST_TRAFFIC_SHIFT" || !paused(again) {
			t.Fatalf("a paused deployment stays paused, got %s", again.LifecycleStage)
		}
	}
	if a.StackStatus("app") != "UPDATE_IN_PROGRESS" {
		t.Errorf("the stack waits for the paused deployment: %s", a.StackStatus("app"))
	}
	_, err := c.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), HookId: aws.String("ecs-pause-nope")})
	if errorCode(err) != "InvalidParameterException" {
		t.Errorf("unknown hook: %v", err)
	}
	if _, err := c.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), HookId: h.HookId,
		Action: ecstypes.DeploymentLifecycleHookActionContinue}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), HookId: h.HookId})
	if errorCode(err) != "ConflictException" {
		t.Errorf("a hook no longer waiting: %v", err)
	}
	rest, last := follow(t, c, arn, nil)
	if last.Status != ecstypes.ServiceDeploymentStatusSuccessful || !slices.Contains(rest, "BAKE_TIME") {
		t.Fatalf("after CONTINUE: %s via %v", last.Status, rest)
	}
	if len(last.LifecycleHookDetails) != 1 || last.LifecycleHookDetails[0].Status != ecstypes.DeploymentLifecycleHookStatusSucceeded {
		t.Errorf("hook after CONTINUE: %+v", last.LifecycleHookDetails)
	}
	serviceOn(t, a, v2Image)
}

// ROLLBACK at a PAUSE hook rolls back to the previous revision, which
// serves again; the rollback names the source revision.
func TestPauseHookThenRollback(t *testing.T) {
	a := fakeaws.New(t)
	c, arn := release(t, a, blueGreen+gateHook)
	_, sd := follow(t, c, arn, paused)
	rollBackAtHook(t, c, arn, sd)
	if mid := describeSD(t, c, arn); mid.Status != ecstypes.ServiceDeploymentStatusRollbackInProgress {
		t.Errorf("right after ROLLBACK: %s", mid.Status)
	}
	_, last := follow(t, c, arn, nil)
	if last.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful || last.Rollback == nil ||
		aws.ToString(last.Rollback.ServiceRevisionArn) != aws.ToString(last.SourceServiceRevisions[0].Arn) {
		t.Fatalf("end: %s, rollback %+v", last.Status, last.Rollback)
	}
	serviceOn(t, a, v1Image)
	if got := get(t, a, "/", ""); got.td != a.TaskDefinitions()[0] {
		t.Errorf("after the rollback the front serves %s", got.td)
	}
	if s := a.StackStatus("app"); s != "UPDATE_ROLLBACK_COMPLETE" {
		t.Errorf("stack: %s", s)
	}
	ev, err := cloudformation.NewFromConfig(a.Config()).DescribeStackEvents(ctx, &cloudformation.DescribeStackEventsInput{StackName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range ev.StackEvents {
		found = found || (string(e.ResourceStatus) == "UPDATE_FAILED" && strings.Contains(aws.ToString(e.ResourceStatusReason), "ended ROLLBACK_SUCCESSFUL"))
	}
	if !found {
		t.Error("no UPDATE_FAILED event says how the service deployment ended")
	}
}

// apiService creates service api (v1) through the ECS API with config and
// updates it to v2, returning the v2 service deployment's ARN.
func apiService(t *testing.T, a *fakeaws.AWS, config *ecstypes.DeploymentConfiguration) (*ecs.Client, string) {
	t.Helper()
	c := ecs.NewFromConfig(a.Config())
	if _, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	var tds []string
	for _, img := range []string{v1Image, v2Image} {
		out, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("api"),
			ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: aws.String(img)}}})
		if err != nil {
			t.Fatal(err)
		}
		tds = append(tds, aws.ToString(out.TaskDefinition.TaskDefinitionArn))
	}
	if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("api"),
		TaskDefinition: aws.String(tds[0]), DesiredCount: aws.Int32(2), DeploymentConfiguration: config}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: aws.String("prod"), Service: aws.String("api"), TaskDefinition: aws.String(tds[1])})
	if err != nil {
		t.Fatal(err)
	}
	return c, aws.ToString(out.Service.CurrentServiceDeployment)
}

// productionWeights follows a deployment and lists the production weights
// seen at PRODUCTION_TRAFFIC_SHIFT.
func productionWeights(t *testing.T, c *ecs.Client, arn string) ([]float64, ecstypes.ServiceDeployment) {
	var weights []float64
	_, last := follow(t, c, arn, func(sd ecstypes.ServiceDeployment) bool {
		if sd.LifecycleStage == "PRODUCTION_TRAFFIC_SHIFT" {
			weights = append(weights, aws.ToFloat64(sd.TargetServiceRevision.RequestedProductionTrafficWeight))
		}
		return false
	})
	return weights, last
}

// LINEAR shifts production traffic by StepPercent per poll; CANARY shifts
// CanaryPercent, then the rest.
func TestLinearAndCanaryWeights(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config ecstypes.DeploymentConfiguration
		want   []float64
	}{
		{"linear", ecstypes.DeploymentConfiguration{Strategy: ecstypes.DeploymentStrategyLinear,
			LinearConfiguration: &ecstypes.LinearConfiguration{StepPercent: aws.Float64(25), StepBakeTimeInMinutes: aws.Int32(2)}}, []float64{25, 50, 75, 100}},
		{"linear uneven", ecstypes.DeploymentConfiguration{Strategy: ecstypes.DeploymentStrategyLinear,
			LinearConfiguration: &ecstypes.LinearConfiguration{StepPercent: aws.Float64(40)}}, []float64{40, 80, 100}},
		{"canary", ecstypes.DeploymentConfiguration{Strategy: ecstypes.DeploymentStrategyCanary,
			CanaryConfiguration: &ecstypes.CanaryConfiguration{CanaryPercent: aws.Float64(10), CanaryBakeTimeInMinutes: aws.Int32(5)}}, []float64{10, 100}},
		{"blue/green", ecstypes.DeploymentConfiguration{Strategy: ecstypes.DeploymentStrategyBlueGreen}, []float64{100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := fakeaws.New(t)
			c, arn := apiService(t, a, &tc.config)
			got, last := productionWeights(t, c, arn)
			if !slices.Equal(got, tc.want) || last.Status != ecstypes.ServiceDeploymentStatusSuccessful {
				t.Fatalf("production weights %v (want %v), end %s", got, tc.want, last.Status)
			}
			serviceOn(t, a, v2Image)
		})
	}
}

// A rolling service (no strategy) deploys exactly as before: no lifecycle
// stages, COMPLETED after the settle polls of DescribeServices.
func TestRollingServiceUnchanged(t *testing.T) {
	a := fakeaws.New(t)
	c, arn := apiService(t, a, &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true}})
	for range 3 {
		if sd := describeSD(t, c, arn); sd.LifecycleStage != "" || sd.Status != ecstypes.ServiceDeploymentStatusInProgress {
			t.Fatalf("a rolling deployment is not moved by DescribeServiceDeployments: %s %s", sd.Status, sd.LifecycleStage)
		}
	}
	for range 2 {
		c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}})
	}
	if sd := describeSD(t, c, arn); sd.Status != ecstypes.ServiceDeploymentStatusSuccessful || sd.LifecycleHookDetails != nil {
		t.Fatalf("after the settle polls: %s", sd.Status)
	}
	serviceOn(t, a, v2Image)
}

// ECS refuses a PAUSE hook at a traffic shift.
func TestPauseAtTrafficShiftRefused(t *testing.T) {
	a := fakeaws.New(t)
	c := ecs.NewFromConfig(a.Config())
	c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("prod")})
	td, _ := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{Family: aws.String("api"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("api"), Image: aws.String(v1Image)}}})
	_, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("prod"), ServiceName: aws.String("api"), TaskDefinition: td.TaskDefinition.TaskDefinitionArn,
		DeploymentConfiguration: &ecstypes.DeploymentConfiguration{Strategy: ecstypes.DeploymentStrategyBlueGreen, LifecycleHooks: []ecstypes.DeploymentLifecycleHook{{
			TargetType: ecstypes.DeploymentLifecycleHookTargetTypePause, LifecycleStages: []ecstypes.DeploymentLifecycleHookStage{"TEST_TRAFFIC_SHIFT"}}}}})
	if errorCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), "TEST_TRAFFIC_SHIFT") {
		t.Fatalf("PAUSE at TEST_TRAFFIC_SHIFT: %v", err)
	}
}

// An alarm that fires during BAKE_TIME rolls the deployment back; the
// deployment names the alarm.
func TestAlarmDuringBakeRollsBack(t *testing.T) {
	a := fakeaws.New(t)
	a.FireAlarm("api-5xx", "BAKE_TIME")
	c, arn := release(t, a, blueGreen+alarms)
	stages, last := follow(t, c, arn, nil)
	if last.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful || stages[len(stages)-1] != "BAKE_TIME" {
		t.Fatalf("end %s after %v", last.Status, stages)
	}
	if last.Alarms == nil || !slices.Equal(last.Alarms.TriggeredAlarmNames, []string{"api-5xx"}) || last.Alarms.Status != ecstypes.ServiceDeploymentRollbackMonitorsStatusTriggered {
		t.Errorf("alarms: %+v", last.Alarms)
	}
	if last.Rollback == nil || !strings.Contains(aws.ToString(last.Rollback.Reason), "api-5xx") {
		t.Errorf("rollback: %+v", last.Rollback)
	}
	serviceOn(t, a, v1Image)
}

// An alarm the deployment does not monitor changes nothing.
func TestUnmonitoredAlarmIgnored(t *testing.T) {
	a := fakeaws.New(t)
	a.FireAlarm("other-alarm", "BAKE_TIME")
	c, arn := release(t, a, blueGreen+alarms)
	if _, last := follow(t, c, arn, nil); last.Status != ecstypes.ServiceDeploymentStatusSuccessful || last.Alarms.Status != ecstypes.ServiceDeploymentRollbackMonitorsStatusMonitoringComplete {
		t.Fatalf("end %s, alarms %+v", last.Status, last.Alarms)
	}
}

// FailRollback makes the rollback end ROLLBACK_FAILED with its reason.
func TestRollbackFailed(t *testing.T) {
	a := fakeaws.New(t)
	a.FailRollback("prod", "api", "")
	c, arn := release(t, a, blueGreen+gateHook)
	_, sd := follow(t, c, arn, paused)
	rollBackAtHook(t, c, arn, sd)
	if _, last := follow(t, c, arn, nil); last.Status != ecstypes.ServiceDeploymentStatusRollbackFailed || !strings.Contains(aws.ToString(last.StatusReason), "unable to roll back") {
		t.Fatalf("end %s: %s", last.Status, aws.ToString(last.StatusReason))
	}
}

// Someone else stopping the deployment: ABORT ends it STOPPED, ROLLBACK
// rolls it back; a finished deployment cannot be stopped.
func TestStoppedBySomeoneElse(t *testing.T) {
	for _, tc := range []struct{ stopType, want string }{{"ABORT", "STOPPED"}, {"ROLLBACK", "ROLLBACK_SUCCESSFUL"}} {
		t.Run(tc.stopType, func(t *testing.T) {
			a := fakeaws.New(t)
			c, arn := release(t, a, blueGreen+gateHook)
			follow(t, c, arn, paused)
			a.ResetCalls()
			if err := a.StopDeployment("prod", "api", tc.stopType); err != nil {
				t.Fatal(err)
			}
			if len(a.Mutating()) != 0 {
				t.Errorf("someone else's stop is not the code under test's call: %v", a.Mutating())
			}
			_, last := follow(t, c, arn, nil)
			why := aws.ToString(last.StatusReason)
			if last.Rollback != nil {
				why += aws.ToString(last.Rollback.Reason)
			}
			if string(last.Status) != tc.want || !strings.Contains(why, "StopServiceDeployment") {
				t.Fatalf("end %s (%s)", last.Status, aws.ToString(last.StatusReason))
			}
			_, err := c.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn), StopType: ecstypes.StopServiceDeploymentStopTypeAbort})
			if errorCode(err) != "ConflictException" {
				t.Errorf("stopping a finished deployment: %v", err)
			}
		})
	}
}

// A new deployment replacing one in flight ends the old one STOPPED.
func TestReplacedInFlight(t *testing.T) {
	a := fakeaws.New(t)
	c, arn := release(t, a, blueGreen+gateHook)
	follow(t, c, arn, paused)
	if err := a.Redeploy("prod", "api"); err != nil {
		t.Fatal(err)
	}
	old := describeSD(t, c, arn)
	if old.Status != ecstypes.ServiceDeploymentStatusStopped || !strings.Contains(aws.ToString(old.StatusReason), "newer deployment") {
		t.Fatalf("replaced: %s %s", old.Status, aws.ToString(old.StatusReason))
	}
	svc, _ := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}})
	next := aws.ToString(svc.Services[0].CurrentServiceDeployment)
	if next == arn {
		t.Fatal("the service's current deployment is still the replaced one")
	}
	if nd := describeSD(t, c, next); aws.ToString(nd.SourceServiceRevisions[0].Arn) != aws.ToString(old.SourceServiceRevisions[0].Arn) {
		t.Errorf("the new deployment replaces what served (%s), not the stopped one: %s", aws.ToString(old.SourceServiceRevisions[0].Arn), aws.ToString(nd.SourceServiceRevisions[0].Arn))
	}
}

// A PAUSE hook nobody answers times out on the fake clock and takes its
// timeout action: ROLLBACK rolls back, CONTINUE goes on.
func TestHookTimeout(t *testing.T) {
	for _, tc := range []struct{ action, want string }{{"ROLLBACK", "ROLLBACK_SUCCESSFUL"}, {"CONTINUE", "SUCCESSFUL"}} {
		t.Run(tc.action, func(t *testing.T) {
			a := fakeaws.New(t)
			c, arn := release(t, a, blueGreen+strings.Replace(gateHook, `"ROLLBACK"`, `"`+tc.action+`"`, 1))
			follow(t, c, arn, paused)
			a.Advance(29 * time.Minute)
			if sd := describeSD(t, c, arn); !paused(sd) {
				t.Fatal("the hook timed out early")
			}
			a.Advance(2 * time.Minute)
			_, last := follow(t, c, arn, nil)
			if string(last.Status) != tc.want || last.LifecycleHookDetails[0].Status != ecstypes.DeploymentLifecycleHookStatusTimedOut {
				t.Fatalf("end %s, hook %+v", last.Status, last.LifecycleHookDetails)
			}
		})
	}
}

// ApplyTemplate passes time itself: a paused deployment nobody continues
// times out and rolls back, and the deploy fails as cdk deploy would.
func TestApplyTemplateHookTimesOut(t *testing.T) {
	a := fakeaws.New(t)
	if err := a.ApplyTemplate("app", bgTemplate(v1Image, blueGreen+gateHook)); err != nil {
		t.Fatal(err)
	}
	if err := a.ApplyTemplate("app", bgTemplate(v2Image, blueGreen+gateHook)); err == nil || !strings.Contains(err.Error(), "UPDATE_ROLLBACK_COMPLETE") {
		t.Fatalf("apply: %v", err)
	}
	serviceOn(t, a, v1Image)
	if err := a.ApplyTemplate("app", bgTemplate(v2Image, blueGreen)); err != nil {
		t.Fatalf("without a hook: %v", err)
	}
	serviceOn(t, a, v2Image)
}

type answer struct {
	status   int
	body, td string
}

func get(t *testing.T, a *fakeaws.AWS, path, token string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.LoadBalancerURL()+path, nil)
	if token != "" {
		req.Header.Set("X-Stevedore-Test", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b), resp.Header.Get(fakeaws.RevisionHeader)}
}

// The test rule's header value is what the template says (a dynamic
// reference) until ModifyRule sets it; then the front sends a request
// with that value to the new revision while the deployment is past
// TEST_TRAFFIC_SHIFT, everything else to the serving one, and an old
// value no longer reaches the new revision.
func TestModifyRuleRoutesTheTestHeader(t *testing.T) {
	a := fakeaws.New(t)
	a.SetRevisionHandler(v2Image, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/orders" {
			http.Error(w, `{"detail":"relation \"orders\" does not exist"}`, http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "v2")
	}))
	c, arn := release(t, a, blueGreen+gateHook)
	_, out0 := outputs(t, cloudformation.NewFromConfig(a.Config()), "app")
	rule := out0["TestRuleArn"]
	elb := elbv2.NewFromConfig(a.Config())
	out, err := elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{rule}})
	if err != nil || len(out.Rules) != 1 {
		t.Fatalf("DescribeRules: %v %+v", err, out)
	}
	r := out.Rules[0]
	if aws.ToString(r.RuleArn) != rule || aws.ToString(r.Priority) != "10" || len(r.Conditions) != 2 || len(r.Actions) != 1 ||
		!strings.HasPrefix(r.Conditions[1].HttpHeaderConfig.Values[0], "{{resolve:secretsmanager:") {
		t.Fatalf("rule: %+v", r)
	}
	if _, err := elb.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{rule + "0"}}); errorCode(err) != "RuleNotFound" {
		t.Errorf("unknown rule: %v", err)
	}
	v1, v2 := a.TaskDefinitions()[0], a.TaskDefinitions()[1]
	setToken := func(token string) {
		t.Helper()
		conds := slices.Clone(r.Conditions)
		conds[1] = elbtypes.RuleCondition{Field: aws.String("http-header"), HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{
			HttpHeaderName: aws.String("X-Stevedore-Test"), Values: []string{token}}}
		out, err := elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(rule), Conditions: conds})
		if err != nil || len(out.Rules) != 1 || out.Rules[0].Conditions[1].HttpHeaderConfig.Values[0] != token || len(out.Rules[0].Conditions) != 2 {
			t.Fatalf("ModifyRule: %v %+v", err, out)
		}
	}
	if got := get(t, a, "/health", "tok-1"); got.td != v1 {
		t.Fatalf("before ModifyRule a header value reaches %s", got.td)
	}
	follow(t, c, arn, paused)
	setToken("tok-1")
	if st, _ := a.Rule(rule); st.Header != "X-Stevedore-Test" || !slices.Equal(st.HeaderValues, []string{"tok-1"}) {
		t.Errorf("rule state: %+v", st)
	}
	for _, tc := range []struct {
		path, token string
		want        answer
	}{
		{"/health", "tok-1", answer{200, "v2", v2}},
		{"/api/orders", "tok-1", answer{500, `{"detail":"relation \"orders\" does not exist"}` + "\n", v2}},
		{"/health", "", answer{200, "ok", v1}},
		{"/health", "tok-2", answer{200, "ok", v1}},
		{"/health", "TOK-1", answer{200, "v2", v2}}, // header values match case-insensitively, as on an ALB
	} {
		if got := get(t, a, tc.path, tc.token); got != tc.want {
			t.Errorf("GET %s with %q: %+v, want %+v", tc.path, tc.token, got, tc.want)
		}
	}
	setToken("tok-2")
	if got := get(t, a, "/health", "tok-1"); got.td != v1 {
		t.Errorf("the old value still reaches %s", got.td)
	}
	if got := get(t, a, "/health", "tok-2"); got.td != v2 {
		t.Errorf("the new value reaches %s", got.td)
	}
	_, err = elb.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(rule), Conditions: []elbtypes.RuleCondition{{Field: aws.String("http-header"),
		HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-Stevedore-Test")}}}})
	if errorCode(err) != "ValidationError" {
		t.Errorf("a header condition without values: %v", err)
	}
	if !slices.Contains(a.Mutating(), "elasticloadbalancing:ModifyRule") {
		t.Errorf("ModifyRule is a mutating call: %v", a.Mutating())
	}
}

// During the production shift of a linear deployment the front splits
// production requests by the weight; after success the new revision
// serves all.
func TestFrontFollowsProductionWeights(t *testing.T) {
	a := fakeaws.New(t)
	linear := `"Strategy": "LINEAR", "LinearConfiguration": {"StepPercent": 25, "StepBakeTimeInMinutes": 1}`
	c, arn := release(t, a, linear)
	v2 := a.TaskDefinitions()[1]
	share := func() int {
		n := 0
		for range 100 {
			if get(t, a, "/", "").td == v2 {
				n++
			}
		}
		return n
	}
	follow(t, c, arn, func(sd ecstypes.ServiceDeployment) bool {
		return sd.LifecycleStage == "PRODUCTION_TRAFFIC_SHIFT" && aws.ToFloat64(sd.TargetServiceRevision.RequestedProductionTrafficWeight) == 50
	})
	if got := share(); got != 50 {
		t.Errorf("at 50%% the new revision got %d of 100 requests", got)
	}
	follow(t, c, arn, nil)
	if got := share(); got != 100 {
		t.Errorf("after success the new revision got %d of 100 requests", got)
	}
}

// StopServiceDeployment works on a rolling deployment too: ROLLBACK rolls
// back to the last completed revision, ABORT stops it where it stands.
func TestStopRollingDeployment(t *testing.T) {
	for _, tc := range []struct{ stopType, want, image string }{{"ROLLBACK", "ROLLBACK_SUCCESSFUL", v1Image}, {"ABORT", "STOPPED", v2Image}} {
		t.Run(tc.stopType, func(t *testing.T) {
			a := fakeaws.New(t)
			c, arn := apiService(t, a, &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true}})
			if _, err := c.StopServiceDeployment(ctx, &ecs.StopServiceDeploymentInput{ServiceDeploymentArn: aws.String(arn),
				StopType: ecstypes.StopServiceDeploymentStopType(tc.stopType)}); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}})
			}
			if sd := describeSD(t, c, arn); string(sd.Status) != tc.want {
				t.Fatalf("end: %s", sd.Status)
			}
			if st, _ := a.Service("prod", "api"); st.Images["api"] != tc.image {
				t.Errorf("service runs %s, want %s", st.Images["api"], tc.image)
			}
		})
	}
}

// The stack waits for a rollback and ends rolled back; a deployment after
// it starts from the restored revision.
func TestDeployAfterRollback(t *testing.T) {
	a := fakeaws.New(t)
	c, arn := release(t, a, blueGreen+gateHook)
	_, sd := follow(t, c, arn, paused)
	rollBackAtHook(t, c, arn, sd)
	if s := a.StackStatus("app"); s != "UPDATE_IN_PROGRESS" {
		t.Fatalf("the stack waits for the rollback: %s", s)
	}
	_, last := follow(t, c, arn, nil)
	if a.StackStatus("app") != "UPDATE_ROLLBACK_COMPLETE" || last.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful {
		t.Fatalf("stack %s, deployment %s", a.StackStatus("app"), last.Status)
	}
	if err := a.Redeploy("prod", "api"); err != nil {
		t.Fatal(err)
	}
	svc, _ := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}})
	next := describeSD(t, c, aws.ToString(svc.Services[0].CurrentServiceDeployment))
	if next.LifecycleStage == "" || aws.ToString(next.SourceServiceRevisions[0].Arn) != aws.ToString(last.Rollback.ServiceRevisionArn) {
		t.Errorf("a deployment after the rollback is a blue/green one from the restored revision: %+v", next)
	}
}

// A deployment started while a rollback runs owns the service: the
// rollback's end does not undo it.
func TestDeployDuringRollback(t *testing.T) {
	a := fakeaws.New(t)
	c, arn := release(t, a, blueGreen+gateHook)
	_, sd := follow(t, c, arn, paused)
	rollBackAtHook(t, c, arn, sd)
	if err := a.Redeploy("prod", "api"); err != nil {
		t.Fatal(err)
	}
	svc, _ := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}})
	next := aws.ToString(svc.Services[0].CurrentServiceDeployment)
	if _, first := follow(t, c, arn, nil); first.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful {
		t.Fatalf("the rollback: %s", first.Status)
	}
	_, p := follow(t, c, next, paused)
	if _, err := c.ContinueServiceDeployment(ctx, &ecs.ContinueServiceDeploymentInput{ServiceDeploymentArn: aws.String(next), HookId: awaiting(p).HookId}); err != nil {
		t.Fatal(err)
	}
	if _, last := follow(t, c, next, nil); last.Status != ecstypes.ServiceDeploymentStatusSuccessful {
		t.Fatalf("the newer deployment: %s", last.Status)
	}
	serviceOn(t, a, v1Image)
}

// With two services behind one listener, host-header conditions pick the
// service when the request names a host; rule and listener ARNs look like
// ELBv2's.
func TestFrontRoutesByHost(t *testing.T) {
	a := fakeaws.New(t)
	svc := func(name, image string, prio int) string {
		return fmt.Sprintf(`
  "%[1]sRule": {"Type": "AWS::ElasticLoadBalancingV2::ListenerRule", "Properties": {"ListenerArn": {"Ref": "Listener"}, "Priority": %[3]d,
    "Conditions": [{"Field": "host-header", "HostHeaderConfig": {"Values": ["%[1]s.example.com"]}}],
    "Actions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": {"Ref": "Tg"}, "Weight": 1}]}}]}},
  "%[1]sTask": {"Type": "AWS::ECS::TaskDefinition", "Properties": {"Family": "%[1]s",
    "ContainerDefinitions": [{"Name": "app", "Image": %[2]q}]}},
  "%[1]sService": {"Type": "AWS::ECS::Service", "Properties": {"Cluster": "prod", "ServiceName": "%[1]s", "TaskDefinition": {"Ref": "%[1]sTask"},
    "DeploymentConfiguration": {"Strategy": "BLUE_GREEN"},
    "LoadBalancers": [{"ContainerName": "app", "ContainerPort": 80, "TargetGroupArn": {"Ref": "Tg"},
      "AdvancedConfiguration": {"ProductionListenerRule": {"Ref": "%[1]sRule"}}}]}}`, name, image, prio)
	}
	tpl := `{"Resources": {
  "Cluster": {"Type": "AWS::ECS::Cluster", "Properties": {"ClusterName": "prod"}},
  "Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}},
  "Listener": {"Type": "AWS::ElasticLoadBalancingV2::Listener", "Properties": {"LoadBalancerArn": {"Ref": "Lb"}, "Port": 80}},
  "Tg": {"Type": "AWS::ElasticLoadBalancingV2::TargetGroup", "Properties": {"Port": 80}},` + svc("api", v1Image, 10) + "," + svc("web", v2Image, 20) + `},
"Outputs": {"Rule": {"Value": {"Ref": "webRule"}}}}`
	if err := a.ApplyTemplate("app", tpl); err != nil {
		t.Fatal(err)
	}
	a.SetRevisionHandler(v1Image, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api") }))
	a.SetRevisionHandler(v2Image, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "web") }))
	for host, want := range map[string]string{"api.example.com": "api", "WEB.example.com": "web", "other.example.com": "503"} {
		req, _ := http.NewRequest(http.MethodGet, a.LoadBalancerURL()+"/", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := string(b); got != want && !(want == "503" && resp.StatusCode == 503) {
			t.Errorf("Host %s: %d %q, want %s", host, resp.StatusCode, got, want)
		}
	}
	_, out := outputs(t, cloudformation.NewFromConfig(a.Config()), "app")
	if !strings.HasPrefix(out["Rule"], "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/") {
		t.Errorf("rule ARN %s", out["Rule"])
	}
	r, err := elbv2.NewFromConfig(a.Config()).DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{out["Rule"]}})
	if err != nil || len(r.Rules[0].Actions) != 1 || aws.ToInt32(r.Rules[0].Actions[0].ForwardConfig.TargetGroups[0].Weight) != 1 ||
		!strings.Contains(aws.ToString(r.Rules[0].Actions[0].ForwardConfig.TargetGroups[0].TargetGroupArn), ":targetgroup/") {
		t.Fatalf("forward action: %v %+v", err, r)
	}
}

// An alarm also rolls back a rolling deployment that monitors it, at its
// next DescribeServices poll.
func TestAlarmRollsBackRollingDeployment(t *testing.T) {
	a := fakeaws.New(t)
	c, arn := apiService(t, a, &ecstypes.DeploymentConfiguration{DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true},
		Alarms: &ecstypes.DeploymentAlarms{AlarmNames: []string{"api-5xx"}, Enable: true, Rollback: true}})
	a.FireAlarm("api-5xx", "")
	for range 4 {
		c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("prod"), Services: []string{"api"}})
	}
	sd := describeSD(t, c, arn)
	if sd.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful || sd.Alarms == nil || !slices.Equal(sd.Alarms.TriggeredAlarmNames, []string{"api-5xx"}) ||
		!strings.Contains(aws.ToString(sd.Rollback.Reason), "api-5xx") || !strings.Contains(aws.ToString(sd.StatusReason), "api-5xx") {
		t.Fatalf("end %s (%s), alarms %+v, rollback %+v", sd.Status, aws.ToString(sd.StatusReason), sd.Alarms, sd.Rollback)
	}
	serviceOn(t, a, v1Image)
}

// A new revision whose tasks fail to start trips the circuit breaker at
// SCALE_UP, which rolls the blue/green deployment back.
func TestBlueGreenBadImageRollsBack(t *testing.T) {
	a := fakeaws.New(t)
	a.BadImage(v2Image, "CannotPullContainerError: manifest unknown")
	c, arn := release(t, a, blueGreen)
	stages, last := follow(t, c, arn, nil)
	if last.Status != ecstypes.ServiceDeploymentStatusRollbackSuccessful || stages[len(stages)-1] != "SCALE_UP" ||
		last.DeploymentCircuitBreaker.Status != ecstypes.ServiceDeploymentRollbackMonitorsStatusTriggered || last.DeploymentCircuitBreaker.FailureCount < 2 ||
		!strings.Contains(aws.ToString(last.Rollback.Reason), "circuit breaker") {
		t.Fatalf("end %s after %v: breaker %+v, rollback %+v", last.Status, stages, last.DeploymentCircuitBreaker, last.Rollback)
	}
	serviceOn(t, a, v1Image)
	tasks, err := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("prod"), DesiredStatus: ecstypes.DesiredStatusStopped})
	if err != nil || len(tasks.TaskArns) < 2 {
		t.Errorf("stopped tasks: %v %+v", err, tasks)
	}
}
