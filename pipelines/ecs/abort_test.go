package ecs

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestAbortServiceDeployment(t *testing.T) {
	cases := []struct {
		name     string
		script   []map[string]any
		failOps  map[string][]string
		rollback bool
		want     string // the result line
		wantErr  string
		wantStop []string
	}{
		{name: "rollback of the deployment in flight", script: upToPause(), rollback: true,
			want: "stopped service deployment sd0000000001 (IN_PROGRESS, deploying api/8) with ROLLBACK", wantStop: []string{"STOP:ROLLBACK"}},
		{name: "abort where it stands", script: []map[string]any{paused()},
			want: "stopped service deployment sd0000000001 (IN_PROGRESS, deploying api/8) with ABORT", wantStop: []string{"STOP:ABORT"}},
		{name: "nothing in flight: nothing stopped", script: []map[string]any{sd("SUCCESSFUL", "CLEAN_UP", 2, 100, nil)},
			wantErr: "aborting the deployment of api (cluster prod): no service deployment is in flight (PENDING or IN_PROGRESS), nothing was stopped"},
		{name: "no deployment at all", wantErr: "no service deployment is in flight"},
		{name: "StopServiceDeployment denied: the API's own message", script: []map[string]any{paused()}, rollback: true,
			failOps: map[string][]string{"StopServiceDeployment": {"AccessDeniedException"}},
			wantErr: "not authorized to perform: ecs:StopServiceDeployment", wantStop: []string{"STOP:ROLLBACK"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, map[string]*scenario{"api": {serviceDeployments: tc.script, failOps: tc.failOps,
				sdAfter: map[string][]map[string]any{"STOP:ROLLBACK": rolledBack("ROLLBACK_SUCCESSFUL", nil), "STOP:ABORT": {sd("STOPPED", "POST_TEST_TRAFFIC_SHIFT", 2, 0, nil)}}}})
			res, err := h.d.AbortServiceDeployment(context.Background(), AbortSpec{Cluster: "prod", Service: "api", Rollback: tc.rollback})
			if tc.wantErr == "" && (err != nil || res.String() != tc.want) {
				t.Fatalf("got %q, %v; want %q", res, err, tc.want)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
			if got := actions(h.fake); !reflect.DeepEqual(got, tc.wantStop) {
				t.Errorf("stops sent %q, want %q", got, tc.wantStop)
			}
			if tc.wantStop != nil && h.fake.bodies("StopServiceDeployment")[0]["serviceDeploymentArn"] != sdArn {
				t.Errorf("stopped %v, want %s", h.fake.bodies("StopServiceDeployment")[0], sdArn)
			}
		})
	}
	if _, err := NewFromAPI(nil).AbortServiceDeployment(context.Background(), AbortSpec{}); err == nil || !strings.Contains(err.Error(), "no service named") {
		t.Errorf("no service: got %v", err)
	}
}
