package ecs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

var digestC = "123456789012.dkr.ecr.us-east-1.amazonaws.com/api@sha256:" + strings.Repeat("c", 64)

// releaseDefs are the revisions of the follow scenarios: api:5 runs the
// old image, api:8 the release, api:9 someone else's.
func releaseDefs() map[string]map[string]string {
	return map[string]map[string]string{tdPrev: {"app": digestA}, tdNew: {"app": digestB}, tdOther: {"app": digestC}}
}

type followWant struct {
	Outcome                      Outcome
	DeploymentID, TaskDefinition string
}

type followCase struct {
	name     string
	spec     FollowSpec
	states   []state
	stopped  []map[string]any
	wantErr  []string
	wantKind FailureKind
	want     followWant // on success
	wantAt   time.Duration
	check    func(t *testing.T, h *harness, res FollowResult, err error)
}

// Follow judges the deployment CloudFormation starts: the script begins
// with the service at rest on the old image (CloudFormation has not acted
// yet) and the fake serves its states without any UpdateService.
func TestFollow(t *testing.T) {
	spec := FollowSpec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestB}}
	rest := with(steady(old("PRIMARY", 2)), "has reached a steady state.")
	inProgress := deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 0), old("ACTIVE", 2))
	failed := ours(tdNew, "PRIMARY", "FAILED", 0)
	failed.reason, failed.failed = "ECS deployment circuit breaker: tasks failed to start.", 2
	failedActive := failed
	failedActive.status = "ACTIVE"
	back := dep{id: depBack, status: "PRIMARY", td: tdPrev, rollout: "IN_PROGRESS", desired: 2, createdAt: 10,
		reason: "ECS deployment circuit breaker: rolling back to deploymentId " + depOld + "."}
	backDone := back
	backDone.rollout, backDone.running, backDone.reason = "COMPLETED", 2, ""
	longAgo := ours(tdNew, "PRIMARY", "COMPLETED", 2)
	longAgo.createdAt = -600

	cases := []followCase{
		{
			name: "the deployment CloudFormation starts completes",
			spec: spec,
			states: []state{rest,
				with(inProgress, "has started 2 tasks: (task new1) (task new2)."),
				deps(ours(tdNew, "PRIMARY", "IN_PROGRESS", 2), old("ACTIVE", 0)),
				with(deps(ours(tdNew, "PRIMARY", "COMPLETED", 2)), "has reached a steady state.")},
			want:   followWant{Outcome: OutcomeCompleted, DeploymentID: depOurs, TaskDefinition: tdNew},
			wantAt: 15 * time.Second,
			check: func(t *testing.T, h *harness, res FollowResult, err error) {
				if n := h.fake.count("DescribeTaskDefinition"); n != 2 {
					t.Errorf("DescribeTaskDefinition calls = %d, want 2 (api:5 and api:8, each once)", n)
				}
				if h.fake.count("UpdateService")+h.fake.count("RegisterTaskDefinition") != 0 {
					t.Error("Follow must never deploy or register anything")
				}
				if len(res.Events) != 2 || !strings.Contains(res.Events[0], "has started 2 tasks") {
					t.Errorf("events = %q", res.Events)
				}
				if !strings.Contains(h.log(), "no deployment of the new images yet; PRIMARY is deployment ecs-svc/1111111111111111111 (api:5) COMPLETED") {
					t.Errorf("the wait must be visible in the log:\n%s", h.log())
				}
			},
		},
		{
			name:   "a service already steady on the images is unchanged without waiting",
			spec:   spec,
			states: []state{steady(longAgo)},
			want:   followWant{Outcome: OutcomeUnchanged, DeploymentID: depOurs, TaskDefinition: tdNew},
			wantAt: 0,
			check: func(t *testing.T, h *harness, res FollowResult, err error) {
				if n := h.fake.count("DescribeServices"); n != 1 {
					t.Errorf("DescribeServices calls = %d, want 1: the look at the start decides", n)
				}
			},
		},
		{
			name:   "a deployment that completed after Follow began is completed, not unchanged",
			spec:   spec,
			states: []state{steady(dep{id: depOurs, td: tdNew, desired: 2, createdAt: 1})},
			want:   followWant{Outcome: OutcomeCompleted, DeploymentID: depOurs, TaskDefinition: tdNew},
		},
		{
			name:   "first deploy: the service was created with the images after Since, so completed",
			spec:   FollowSpec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestB}, Since: time.Unix(epoch-900, 0)},
			states: []state{steady(dep{id: depOurs, td: tdNew, desired: 2, createdAt: -600})},
			want:   followWant{Outcome: OutcomeCompleted, DeploymentID: depOurs, TaskDefinition: tdNew},
		},
		{
			name: "the images already PRIMARY but still in flight: followed to the end",
			spec: spec,
			states: []state{
				deps(dep{id: depOurs, status: "PRIMARY", td: tdNew, rollout: "IN_PROGRESS", running: 1, pending: 1, desired: 2, createdAt: -60}, old("ACTIVE", 1)),
				deps(dep{id: depOurs, status: "PRIMARY", td: tdNew, rollout: "COMPLETED", running: 2, desired: 2, createdAt: -60})},
			want:   followWant{Outcome: OutcomeCompleted, DeploymentID: depOurs, TaskDefinition: tdNew},
			wantAt: 5 * time.Second,
		},
		{
			name: "circuit-breaker rollback fails within one poll with events and stop reasons",
			spec: spec,
			states: []state{rest, inProgress,
				with(deps(failedActive, back, old("ACTIVE", 2)), "deployment ecs-svc/2222222222222222222 deployment failed: tasks failed to start."),
				with(deps(backDone), "has reached a steady state.")},
			stopped:  stoppedTasks,
			wantKind: KindCircuitBreaker, wantAt: 10 * time.Second,
			wantErr: []string{
				"ecs rollout of service api (cluster prod) failed: deployment ecs-svc/2222222222222222222 was rolled back by the deployment circuit breaker to api:5",
				"deployment failed: tasks failed to start.",
				"task badtask1: Essential container in task exited [EssentialContainerExited]; container app: exit code 1",
			},
		},
		{
			name:     "rolloutState FAILED",
			spec:     spec,
			states:   []state{rest, deps(failed, old("ACTIVE", 2))},
			stopped:  stoppedTasks,
			wantKind: KindFailed, wantAt: 5 * time.Second,
			wantErr: []string{"deployment ecs-svc/2222222222222222222 of api:8 failed: ECS deployment circuit breaker: tasks failed to start.", "container app: exit code 1"},
		},
		{
			name: "replaced by someone else's deployment",
			spec: spec,
			states: []state{rest, inProgress,
				deps(dep{id: depElse, status: "PRIMARY", td: tdOther, rollout: "IN_PROGRESS", desired: 2, createdAt: 8}, ours(tdNew, "ACTIVE", "IN_PROGRESS", 1), old("ACTIVE", 2))},
			wantKind: KindReplaced, wantAt: 10 * time.Second,
			wantErr: []string{"was replaced by a newer deployment ecs-svc/4444444444444444444 of api:9: someone else updated the service"},
		},
		{
			name:     "no deployment of the images appears within the timeout",
			spec:     FollowSpec{Cluster: "prod", Service: "api", Images: map[string]string{"app": digestB}, Timeout: time.Minute},
			states:   []state{rest},
			wantKind: KindNoDeployment, wantAt: time.Minute,
			wantErr: []string{"ecs rollout of service api (cluster prod) failed: no deployment of app=api@sha256:bbbbbbbbbbbb appeared within 1m0s",
				"PRIMARY is deployment ecs-svc/1111111111111111111 (api:5) COMPLETED",
				"check that the stack update changes this service's task definition"},
		},
		{
			name:    "a tag instead of a digest is refused before any call",
			spec:    FollowSpec{Cluster: "prod", Service: "api", Images: map[string]string{"app": "api:latest"}},
			states:  []state{rest},
			wantErr: []string{`following the release of service api: container "app": image "api:latest" is not pinned by digest`},
			check: func(t *testing.T, h *harness, res FollowResult, err error) {
				if n := h.fake.count("DescribeServices"); n != 0 {
					t.Errorf("DescribeServices calls = %d, want 0", n)
				}
			},
		},
		{
			name:    "no images is refused",
			spec:    FollowSpec{Cluster: "prod", Service: "api"},
			states:  []state{rest},
			wantErr: []string{"following the release of service api: no images given"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]*scenario{"api": {states: tc.states, defs: releaseDefs(), stopped: tc.stopped}})
			h.fake.startScript("api")
			res, err := h.d.Follow(context.Background(), tc.spec)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v\nlog:\n%s", err, h.log())
				}
				got := followWant{Outcome: res.Outcome, DeploymentID: res.DeploymentID, TaskDefinition: res.TaskDefinition}
				if got != tc.want {
					t.Errorf("result = %+v, want %+v", got, tc.want)
				}
			} else if err == nil {
				t.Fatalf("want an error, got %+v\nlog:\n%s", res, h.log())
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q:\n%v", want, err)
				}
			}
			var rerr *RolloutError
			if errors.As(err, &rerr) != (tc.wantKind != "") || (rerr != nil && rerr.Kind != tc.wantKind) {
				t.Errorf("error kind: got %v, want %q", err, tc.wantKind)
			}
			if tc.wantKind != "" || len(tc.wantErr) == 0 {
				if got := h.elapsed(); got != tc.wantAt || res.Elapsed != tc.wantAt {
					t.Errorf("verdict at %s (Elapsed %s) of fake time, want %s", got, res.Elapsed, tc.wantAt)
				}
			}
			if tc.check != nil {
				tc.check(t, h, res, err)
			}
		})
	}
}
