package ecr

import (
	"strings"
	"testing"
)

func TestValidateRepositoryName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"app", true}, {"team/app", true}, {"a/b/c-d_e.f", true}, {"9lives", true}, {"ab", true},
		{strings.Repeat("a", 256), true},
		{"", false}, {"a", false}, {strings.Repeat("a", 257), false}, {"App", false}, {"app-", false},
		{"/app", false}, {"team//app", false}, {"a__b", false}, {"app@sha", false}, {"app name", false},
	} {
		if err := ValidateRepositoryName(tc.name); (err == nil) != tc.ok {
			t.Errorf("ValidateRepositoryName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestTagIsImmutable(t *testing.T) {
	for _, tc := range []struct {
		mutability string
		exclusions []string
		tag        string
		want       bool
	}{
		{"MUTABLE", nil, "latest", false},
		{"IMMUTABLE", nil, "latest", true},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"latest", "dev-*"}, "latest", false},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"latest", "dev-*"}, "dev-42", false},
		{"IMMUTABLE_WITH_EXCLUSION", []string{"latest", "dev-*"}, "v1.0.0", true},
		{"MUTABLE_WITH_EXCLUSION", []string{"release-*"}, "release-1", true},
		{"MUTABLE_WITH_EXCLUSION", []string{"release-*"}, "latest", false},
	} {
		r := Repository{TagMutability: tc.mutability, TagExclusions: tc.exclusions}
		if got := r.TagIsImmutable(tc.tag); got != tc.want {
			t.Errorf("%s %v: TagIsImmutable(%s) = %v, want %v", tc.mutability, tc.exclusions, tc.tag, got, tc.want)
		}
	}
}
