package cfn

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
)

var deployed = []fakeaws.StackSeed{
	{Name: "commander-backend", Status: "UPDATE_COMPLETE", Outputs: map[string]string{
		"BackendUrl": "http://commander-alb-123.eu-west-3.elb.amazonaws.com", "Region": "eu-west-3"}},
	{Name: "commander-frontend", Status: "CREATE_COMPLETE", Outputs: map[string]string{
		"CloudFrontUrl": "d111111abcdef8.cloudfront.net", "BucketName": "commander-site", "Region": "us-east-1"}},
	{Name: "commander-empty", Status: "CREATE_COMPLETE"},
	{Name: "commander-rolled", Status: "ROLLBACK_COMPLETE", Reason: "The following resource(s) failed to create: [Distribution]."},
	{Name: "commander-stuck", Status: "UPDATE_ROLLBACK_FAILED", Reason: "Resource Bucket failed to update"},
	{Name: "commander-old", Status: "UPDATE_ROLLBACK_COMPLETE", Outputs: map[string]string{"BackendUrl": "http://old"}},
	{Name: "commander-deleted", Status: "DELETE_COMPLETE"},
}

func TestStackOutputs(t *testing.T) {
	for _, tc := range []struct {
		stack   string
		want    map[string]string
		wantErr []string
	}{
		{"commander-frontend", map[string]string{"CloudFrontUrl": "d111111abcdef8.cloudfront.net", "BucketName": "commander-site", "Region": "us-east-1"}, nil},
		{"commander-empty", map[string]string{}, nil},
		{"commander-old", map[string]string{"BackendUrl": "http://old"}, nil},
		{"commander-missing", nil, []string{"stack commander-missing not found in region eu-west-3", "run the deploy first"}},
		{"commander-deleted", nil, []string{"stack commander-deleted not found", "was deleted"}},
		{"commander-rolled", nil, []string{"state ROLLBACK_COMPLETE", "failed to create: [Distribution]", "delete the stack"}},
		{"commander-stuck", nil, []string{"state UPDATE_ROLLBACK_FAILED", "Resource Bucket failed to update"}},
		{"", nil, []string{"no stack name"}},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			f := newFakeCFN(t, deployed)
			got, err := f.reader().StackOutputs(context.Background(), tc.stack)
			if tc.wantErr == nil {
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %v, %v; want %v", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error, got %v", got)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestOutputsMergesInOrder(t *testing.T) {
	f := newFakeCFN(t, deployed)
	got, err := f.reader().Outputs(context.Background(), "commander-backend", "commander-frontend")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"BackendUrl": "http://commander-alb-123.eu-west-3.elb.amazonaws.com",
		"CloudFrontUrl": "d111111abcdef8.cloudfront.net", "BucketName": "commander-site", "Region": "us-east-1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v", got)
	}
	if calls := f.calls(); !reflect.DeepEqual(calls, []string{"commander-backend", "commander-frontend"}) {
		t.Errorf("calls %v", calls)
	}
}

func TestOutputsStopsAtFirstBadStack(t *testing.T) {
	f := newFakeCFN(t, deployed)
	_, err := f.reader().Outputs(context.Background(), "commander-missing", "commander-frontend")
	if err == nil || !strings.Contains(err.Error(), "commander-missing not found") {
		t.Fatalf("got %v", err)
	}
	if _, err := f.reader().Outputs(context.Background()); err == nil {
		t.Error("no stack names must be an error")
	}
}

func TestStackOutputsRetriesThrottling(t *testing.T) {
	f := newFakeCFN(t, deployed)
	f.failNext(http.StatusBadRequest, "Throttling")
	f.failNext(http.StatusBadRequest, "Throttling")
	got, err := f.reader().StackOutputs(context.Background(), "commander-backend")
	if err != nil || got["BackendUrl"] == "" {
		t.Fatalf("got %v, %v", got, err)
	}
	if n := len(f.calls()); n != 3 {
		t.Errorf("%d calls, want 3 (two throttled)", n)
	}
}

func TestStackOutputsExplainsAPIErrors(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		want   string
	}{
		{http.StatusForbidden, "AccessDenied", "lack the cloudformation:DescribeStacks permission"},
		{http.StatusBadRequest, "Throttling", "still throttled after retries"},
	} {
		f := newFakeCFN(t, deployed)
		for range 3 {
			f.failNext(tc.status, tc.code)
		}
		_, err := f.reader().StackOutputs(context.Background(), "commander-backend")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.code, err, tc.want)
		}
	}
}
