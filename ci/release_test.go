package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/release"
)

func TestFormatHistory(t *testing.T) {
	out := formatHistory([]release.Record{
		{Seq: 2, Status: release.Succeeded, Commit: "0123456789abcdef0123", At: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), By: "arn:aws:sts::1:assumed-role/ci",
			Images: map[string]string{"worker": "r/w@sha256:bb", "api": "r/a@sha256:aa"}},
		{Seq: 1, Status: release.Failed, Commit: "c1", At: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), By: "me"},
	})
	lines := strings.Split(out, "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "#") {
		t.Fatalf("table:\n%s", out)
	}
	for _, want := range []string{"0123456789ab ", "2026-12-01T10:00:00Z", "api=r/a@sha256:aa worker=r/w@sha256:bb"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("row 1 lacks %q: %s", want, lines[1])
		}
	}
	if !strings.Contains(lines[2], "failed") {
		t.Errorf("row 2: %s", lines[2])
	}
}
