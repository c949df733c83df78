package fakeaws_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	stecs "github.com/stevedore-ci/stevedore/pipelines/ecs"
	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
	"github.com/stevedore-ci/stevedore/pipelines/gate"
)

// headerRule sets the test rule's http-header value with ModifyRule,
// keeping its other conditions (what the real adapter does).
type headerRule struct {
	c   *elbv2.Client
	arn string
}

func (r headerRule) SetHeader(ctx context.Context, header string, value gate.Token) error {
	out, err := r.c.DescribeRules(ctx, &elbv2.DescribeRulesInput{RuleArns: []string{r.arn}})
	if err != nil {
		return err
	}
	var conds []elbtypes.RuleCondition
	for _, c := range out.Rules[0].Conditions {
		if aws.ToString(c.Field) != "http-header" {
			conds = append(conds, c)
		}
	}
	conds = append(conds, elbtypes.RuleCondition{Field: aws.String("http-header"),
		HttpHeaderConfig: &elbtypes.HttpHeaderConditionConfig{HttpHeaderName: aws.String(header), Values: []string{string(value)}}})
	_, err = r.c.ModifyRule(ctx, &elbv2.ModifyRuleInput{RuleArn: aws.String(r.arn), Conditions: conds})
	return err
}

// stevedore's own follower and gate, end to end on the fake: the
// deployment pauses at its PAUSE hook, the gate's HTTP checks reach the
// new revision through the load balancer front with the test header, and
// CONTINUE (checks pass) or ROLLBACK (a smoke request fails) follows.
func TestStevedoreGateOnTheFake(t *testing.T) {
	for _, tc := range []struct {
		name   string
		orders int // what v2 answers on /api/orders
		want   string
	}{
		{"passes", 200, "SUCCESSFUL"},
		{"fails", 500, "ROLLBACK_SUCCESSFUL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := fakeaws.New(t)
			var seenToken string
			a.SetRevisionHandler(v2Image, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seenToken = r.Header.Get("X-Stevedore-Test")
				if r.URL.Path == "/api/orders" {
					w.WriteHeader(tc.orders)
				}
				io.WriteString(w, `"orders"`)
			}))
			if err := a.ApplyTemplate("app", bgTemplate(v1Image, blueGreen+gateHook)); err != nil {
				t.Fatal(err)
			}
			_, out := outputs(t, cloudformation.NewFromConfig(a.Config()), "app")
			since := a.Now()
			if err := a.StartTemplate("app", bgTemplate(v2Image, blueGreen+gateHook)); err != nil {
				t.Fatal(err)
			}
			token, err := gate.NewToken()
			if err != nil {
				t.Fatal(err)
			}
			rule := headerRule{elbv2.NewFromConfig(a.Config()), out["TestRuleArn"]}
			spec := gate.Spec{Service: "api", URL: a.LoadBalancerURL(), Health: "/health", Token: token, Rule: rule,
				Smoke:   []gate.Smoke{{Path: "/api/orders", Status: 200, Body: "orders"}},
				Timeout: time.Second, Interval: 10 * time.Millisecond, RuleSettle: time.Millisecond}
			check := func(ctx context.Context) error { _, err := spec.Check(ctx); return err }
			d := stecs.New(a.Config(), stecs.WithClock(&fakeClock{now: since}))
			res, err := d.FollowServiceDeployment(ctx, stecs.ServiceDeploymentSpec{Cluster: "prod", Service: "api", Since: since,
				Images: map[string]string{"api": v2Image}, Gate: check})
			if res.Status != tc.want {
				t.Fatalf("status %s (err %v)", res.Status, err)
			}
			if seenToken != string(token) {
				t.Errorf("the new revision saw test header %q, not the release's token", seenToken)
			}
			if !slices.Equal(res.Stages[:6], allStages[:6]) {
				t.Errorf("stages seen: %v", res.Stages)
			}
			if st, _ := a.Rule(out["TestRuleArn"]); slices.Contains(st.HeaderValues, string(token)) {
				t.Error("the gate left the test route open with the release's token")
			}
			switch tc.want {
			case "SUCCESSFUL":
				if err != nil || !slices.Equal(res.Gated, []string{"POST_TEST_TRAFFIC_SHIFT"}) || !slices.Equal(res.Stages, allStages) {
					t.Fatalf("passed gate: %v, gated %v, stages %v", err, res.Gated, res.Stages)
				}
				serviceOn(t, a, v2Image)
			default:
				var re *stecs.RolloutError
				if !errors.As(err, &re) || re.Kind != stecs.KindGateFailed || !strings.Contains(err.Error(), "ROLLBACK_SUCCESSFUL") || !strings.Contains(err.Error(), "/api/orders") {
					t.Fatalf("failed gate: %v", err)
				}
				serviceOn(t, a, v1Image)
			}
			// A re-run finds the service steady on what it runs: unchanged.
			img := map[string]string{"api": v2Image}
			if tc.want != "SUCCESSFUL" {
				img["api"] = v1Image
			}
			again, err := d.FollowServiceDeployment(ctx, stecs.ServiceDeploymentSpec{Cluster: "prod", Service: "api", Since: a.Now(), Images: img, Gate: check})
			if err != nil || !again.Unchanged {
				t.Errorf("re-run: %v %+v", err, again)
			}
		})
	}
}

// With WithWallClock stevedore's follower on the real clock finds the
// deployment started after its Since and has the hook's full time for its
// gate.
func TestStevedoreGateOnTheWallClock(t *testing.T) {
	a := fakeaws.New(t, fakeaws.WithWallClock())
	if err := a.ApplyTemplate("app", bgTemplate(v1Image, blueGreen+gateHook)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // the SDK sends Since to the millisecond: not the one v1 was created in
	since := time.Now()
	if err := a.StartTemplate("app", bgTemplate(v2Image, blueGreen+gateHook)); err != nil {
		t.Fatal(err)
	}
	ran := false
	d := stecs.New(a.Config())
	res, err := d.FollowServiceDeployment(ctx, stecs.ServiceDeploymentSpec{Cluster: "prod", Service: "api", Since: since,
		Poll: time.Millisecond, Images: map[string]string{"api": v2Image}, Gate: func(context.Context) error { ran = true; return nil }})
	if err != nil || !ran || res.Status != "SUCCESSFUL" {
		t.Fatalf("gate ran %v: %v %+v", ran, err, res)
	}
}

// stevedore's rollout of a blue/green service (its own UpdateService)
// follows the service deployment that call started, stage by stage: a
// good image succeeds; a bad one is rolled back by ECS and the rollout
// fails saying so, without a second rollback of its own.
func TestStevedoreRolloutOfABlueGreenService(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  bool
	}{{"succeeds", false}, {"rolled back by ECS", true}} {
		t.Run(tc.name, func(t *testing.T) {
			a := fakeaws.New(t, fakeaws.WithWallClock())
			if err := a.ApplyTemplate("app", bgTemplate(v1Image, blueGreen)); err != nil {
				t.Fatal(err)
			}
			if tc.bad {
				a.BadImage(v2Image, "CannotPullContainerError: manifest unknown")
			}
			var lines []string
			d := stecs.New(a.Config(), stecs.WithLog(func(s string) { lines = append(lines, s) }))
			res, err := d.Rollout(ctx, stecs.Spec{Cluster: "prod", Service: "api", Images: map[string]string{"api": v2Image},
				Rollback: true, Poll: time.Millisecond, Timeout: 10 * time.Second})
			log := strings.Join(lines, "\n")
			if !strings.Contains(log, "BLUE_GREEN deployment: following its service deployment") || !strings.Contains(log, "stage BAKE_TIME") && !tc.bad {
				t.Errorf("the rollout did not follow the service deployment stage by stage:\n%s", log)
			}
			if !tc.bad {
				if err != nil || res.RolledBack {
					t.Fatalf("rollout: %v %+v\n%s", err, res, log)
				}
				serviceOn(t, a, v2Image)
				return
			}
			var re *stecs.RolloutError
			if !errors.As(err, &re) || !res.RolledBack || !strings.Contains(err.Error(), "was rolled back") || !strings.Contains(err.Error(), "tasks failed to start") {
				t.Fatalf("bad image: %v %+v\n%s", err, res, log)
			}
			if n := len(a.CallsTo("UpdateService")); n != 1 {
				t.Errorf("UpdateService called %d times, want once: ECS rolled back, stevedore must not roll back again", n)
			}
			serviceOn(t, a, v1Image)
		})
	}
}
