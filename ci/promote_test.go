package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/release"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

func TestCheckPromoteArgs(t *testing.T) {
	for _, tc := range []struct {
		from, to, format, want string
	}{
		{"staging", "prod", "text", ""},
		{"dev", "staging", "json", ""},
		{"prod", "prod", "text", "name two different environments"},
		{"", "prod", "text", "needs --from and --to"},
		{"staging", " ", "text", "needs --from and --to"},
		{"staging", "prod", "yaml", "yaml"},
	} {
		err := checkPromoteArgs(tc.from, tc.to, tc.format)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("checkPromoteArgs(%q, %q, %q) = %v, want %q", tc.from, tc.to, tc.format, err, tc.want)
		}
	}
}

func TestCheckRollbackArgs(t *testing.T) {
	for _, tc := range []struct {
		to, env, want string
	}{
		{"12", "prod", ""},
		{"#12", "prod", ""},
		{"c0ffee1", "prod", ""},
		{"", "prod", "needs --to"},
		{"#", "prod", "needs --to"},
		{"abc", "prod", "at least 7 characters"},
		{"12", "", "needs --env"},
	} {
		err := checkRollbackArgs(tc.to, tc.env, "text")
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("checkRollbackArgs(%q, %q) = %v, want %q", tc.to, tc.env, err, tc.want)
		}
	}
}

// The report names the release it recorded and says first what a
// rollback does not undo; a refusal before any step is returned as is.
func TestReleaseReport(t *testing.T) {
	rep := &steps.Report{Title: "stevedore rollback prod to 3", Steps: []steps.StepResult{{Name: "verify", Status: steps.StatusOK}}}
	out, err := releaseReport(rep, release.Record{Seq: 5, From: "prod#3", Commit: "c0ffee1"}, nil, "text", "Migrations are not reversed")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "Migrations are not reversed") || !strings.Contains(out, "recorded as release #5 (from prod#3, commit c0ffee1)") {
		t.Fatalf("report:\n%s", out)
	}
	refused := errors.New("prod is locked by ci")
	if _, err := releaseReport(nil, release.Record{}, refused, "text", "note"); !errors.Is(err, refused) {
		t.Fatalf("refusal: %v", err)
	}
}
