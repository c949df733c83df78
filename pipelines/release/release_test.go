package release

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
)

func newStore(t *testing.T, env string) (*Store, *fakeaws.AWS, *time.Time) {
	t.Helper()
	a := fakeaws.New(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := NewStore(ssm.NewFromConfig(a.Config()), "shop", env)
	s.Now = func() time.Time { return now }
	return s, a, &now
}

func has(a *fakeaws.AWS, name string) bool {
	_, ok := a.Parameter(name)
	return ok
}

func TestPutAndHistoryNewestFirst(t *testing.T) {
	s, f, now := newStore(t, "prod")
	ctx := context.Background()
	for i, c := range []string{"aaaaaaa1", "bbbbbbb2", "ccccccc3"} {
		status := Succeeded
		if i == 2 {
			status = Failed
		}
		*now = now.Add(time.Hour)
		r, err := s.Put(ctx, Record{Status: status, Commit: c, Images: map[string]string{"api": "r@sha256:" + strings.Repeat("0", 63) + string(rune('1'+i))}, By: "arn:aws:sts::1:assumed-role/ci"})
		if err != nil {
			t.Fatal(err)
		}
		if r.Seq != i+1 {
			t.Fatalf("seq = %d, want %d", r.Seq, i+1)
		}
	}
	h, err := s.History(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 3 || h[0].Commit != "ccccccc3" || h[2].Commit != "aaaaaaa1" {
		t.Fatalf("history = %+v", h)
	}
	if !has(f, "/stevedore/shop/prod/releases/000002") {
		t.Fatal("release #2 is not at /stevedore/shop/prod/releases/000002")
	}
	cur, ok, err := s.Current(ctx)
	if err != nil || !ok || cur.Seq != 2 {
		t.Fatalf("current = %+v %v %v: the failed #3 must not count", cur, ok, err)
	}
	if two, _ := s.History(ctx, 2); len(two) != 2 || two[1].Seq != 2 {
		t.Fatalf("History(2) = %+v", two)
	}
	if r, err := s.Find(ctx, "#1"); err != nil || r.Commit != "aaaaaaa1" {
		t.Fatalf("Find #1 = %+v %v", r, err)
	}
	if r, err := s.Find(ctx, "bbbbbbb"); err != nil || r.Seq != 2 {
		t.Fatalf("Find by commit = %+v %v", r, err)
	}
	for ref, want := range map[string]string{"9": "no release #9", "abc": "at least 7 characters", "ccccccc": "no succeeded release of commit ccccccc"} {
		if _, err := s.Find(ctx, ref); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Find(%q) = %v, want %q", ref, err, want)
		}
	}
}

func TestPutKeepsTheLastN(t *testing.T) {
	s, _, _ := newStore(t, "dev")
	s.Keep = 2
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		if _, err := s.Put(ctx, Record{Status: Succeeded, Commit: "c"}); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := s.History(ctx, 0)
	if len(h) != 2 || h[0].Seq != 4 || h[1].Seq != 3 {
		t.Fatalf("history = %+v", h)
	}
}

func TestStoreErrorsNameThePermission(t *testing.T) {
	s, f, _ := newStore(t, "dev")
	f.Fail("ssm:GetParametersByPath", fakeaws.AccessDenied, 10)
	_, err := s.History(context.Background(), 0)
	if err == nil || !strings.Contains(err.Error(), "ssm:GetParametersByPath on /stevedore/shop/dev/releases") {
		t.Fatalf("err = %v", err)
	}
}

func TestLockIsExclusiveAndReleased(t *testing.T) {
	s, f, now := newStore(t, "prod")
	ctx := context.Background()
	held, err := s.Acquire(ctx, "arn:aws:sts::1:assumed-role/ci/run-1", "deploy", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Acquire(ctx, "arn:aws:sts::1:assumed-role/dev/laptop", "deploy", time.Hour)
	var locked *LockedError
	if !errors.As(err, &locked) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second acquire: %v", err)
	}
	if !strings.Contains(err.Error(), "prod is locked by arn:aws:sts::1:assumed-role/ci/run-1 (deploy) since 2026-12-01T12:00:00Z") || locked.Stale {
		t.Fatalf("message: %v", err)
	}
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := held.Release(ctx); err != nil {
		t.Fatalf("second release: %v", err)
	}
	if has(f, "/stevedore/shop/prod/lock") {
		t.Fatal("lock left behind")
	}
	again, err := s.Acquire(ctx, "b", "promote", time.Hour)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	// A lease past its expiry is reported stale, never broken silently.
	*now = now.Add(2 * time.Hour)
	_, err = s.Acquire(ctx, "c", "deploy", time.Hour)
	if !errors.As(err, &locked) || !locked.Stale || !strings.Contains(err.Error(), "unlock --env prod --force") {
		t.Fatalf("stale: %v", err)
	}
	prev, ok, err := s.Break(ctx)
	if err != nil || !ok || prev.Holder != "b" {
		t.Fatalf("break = %+v %v %v", prev, ok, err)
	}
	if err := again.Release(ctx); err == nil || !strings.Contains(err.Error(), "was broken") {
		t.Fatalf("release of a broken lock: %v", err)
	}
}

func TestCheckAccount(t *testing.T) {
	if err := CheckAccount("prod", "", "111111111111"); err != nil {
		t.Fatal(err)
	}
	if err := CheckAccount("prod", "222222222222", "222222222222"); err != nil {
		t.Fatal(err)
	}
	err := CheckAccount("prod", "222222222222", "111111111111")
	if err == nil || !strings.Contains(err.Error(), "prod lives in account 222222222222, but the credentials in use are of account 111111111111") {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckPromote(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 12, 1, h, 0, 0, 0, time.UTC) }
	good := Record{Seq: 5, Status: Succeeded, Commit: "c5", At: at(10)}
	failed := Record{Seq: 6, Status: Failed, Commit: "c6", At: at(11)}
	older := Record{Seq: 4, Status: Succeeded, Commit: "c4", At: at(9)}
	for _, tc := range []struct {
		name   string
		source []Record
		target *Record
		force  bool
		want   string // error substring, "" for ok
		seq    int
	}{
		{"first promote", []Record{good}, nil, false, "", 5},
		{"target behind", []Record{good, older}, &Record{Seq: 2, Status: Succeeded, Commit: "c4", At: at(12)}, false, "", 5},
		{"last deploy failed", []Record{failed, good}, nil, false, "the last deploy of staging (#6, commit c6) failed", 0},
		{"last failed, forced", []Record{failed, good}, nil, true, "", 5},
		{"target newer", []Record{good}, &Record{Seq: 3, Status: Succeeded, Commit: "hotfix", At: at(12)}, false, "prod runs commit hotfix (release #3", 0},
		{"target newer, forced", []Record{good}, &Record{Seq: 3, Commit: "hotfix", At: at(12)}, true, "", 5},
		{"nothing", nil, nil, true, "staging has no release to promote", 0},
		{"only failures", []Record{failed}, nil, true, "no succeeded release", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := CheckPromote("staging", "prod", tc.source, tc.target, tc.force)
			if tc.want == "" {
				if err != nil || r.Seq != tc.seq {
					t.Fatalf("got %+v, %v", r, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCheckRollback(t *testing.T) {
	h := []Record{
		{Seq: 4, Status: Succeeded, Commit: "c4"},
		{Seq: 3, Status: Succeeded, Commit: "c3", Migrated: true},
		{Seq: 2, Status: Failed, Commit: "c2", Migrated: true},
		{Seq: 1, Status: Succeeded, Commit: "c1"},
	}
	if err := CheckRollback("prod", h, h[1], false); err != nil {
		t.Fatalf("to #3: %v", err)
	}
	err := CheckRollback("prod", h, h[3], false)
	if err == nil || !strings.Contains(err.Error(), "releases after #1 of prod ran migrations (#3 (c3))") {
		t.Fatalf("to #1: %v", err)
	}
	if err := CheckRollback("prod", h, h[3], true); err != nil {
		t.Fatalf("allowed: %v", err)
	}
}
