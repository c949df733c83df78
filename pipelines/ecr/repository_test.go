package ecr

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestEnsureRepository(t *testing.T) {
	const name = "team/app"
	notFound := apiError("RepositoryNotFoundException", "The repository with name 'team/app' does not exist")
	for _, tc := range []struct {
		name    string
		policy  RepositoryPolicy
		script  map[string][]reply
		wantOps []string
		check   func(t *testing.T, repo Repository, f *fakeECR)
	}{
		{
			name:   "missing repository is created with scan, immutable tags except latest, keep 10",
			policy: RepositoryPolicy{ScanOnPush: true, ImmutableTags: true, KeepLast: 10, MutableTags: []string{"latest"}},
			script: map[string][]reply{
				"DescribeRepositories": {notFound},
				"CreateRepository":     {ok(`{"repository":` + repositoryJSON(name, true, "IMMUTABLE_WITH_EXCLUSION", "latest") + `}`)},
				"PutLifecyclePolicy":   {ok(`{"repositoryName":"team/app"}`)},
			},
			wantOps: []string{"DescribeRepositories", "CreateRepository", "PutLifecyclePolicy"},
			check: func(t *testing.T, repo Repository, f *fakeECR) {
				create := f.bodies("CreateRepository")[0]
				if field(create, "repositoryName") != name || field(create, "imageScanningConfiguration", "scanOnPush") != true ||
					field(create, "imageTagMutability") != "IMMUTABLE_WITH_EXCLUSION" ||
					field(create, "imageTagMutabilityExclusionFilters", 0, "filter") != "latest" ||
					field(create, "imageTagMutabilityExclusionFilters", 0, "filterType") != "WILDCARD" {
					t.Errorf("CreateRepository body = %v", create)
				}
				put := f.bodies("PutLifecyclePolicy")[0]
				if field(put, "repositoryName") != name {
					t.Errorf("PutLifecyclePolicy repository = %v", field(put, "repositoryName"))
				}
				var doc any
				if err := json.Unmarshal([]byte(field(put, "lifecyclePolicyText").(string)), &doc); err != nil {
					t.Fatalf("lifecycle policy is not JSON: %v", err)
				}
				rule := field(doc, "rules", 0)
				if field(rule, "selection", "tagStatus") != "any" || field(rule, "selection", "countType") != "imageCountMoreThan" ||
					field(rule, "selection", "countNumber") != 10.0 || field(rule, "action", "type") != "expire" || field(rule, "rulePriority") != 1.0 {
					t.Errorf("lifecycle rule = %v", rule)
				}
				if !repo.Created || repo.URI != testRegistry+"/"+name || repo.RegistryID != testAccount ||
					repo.ARN != "arn:aws:ecr:us-east-1:123456789012:repository/team/app" {
					t.Errorf("repository = %+v", repo)
				}
				if !repo.TagIsImmutable("v1.2.3") || repo.TagIsImmutable("latest") {
					t.Errorf("TagIsImmutable: want v1.2.3 immutable and latest movable, repo %+v", repo)
				}
			},
		},
		{
			name:   "missing repository, plain settings: mutable, no scan, no lifecycle policy",
			policy: RepositoryPolicy{MutableTags: []string{"latest"}},
			script: map[string][]reply{
				"DescribeRepositories": {notFound},
				"CreateRepository":     {ok(`{"repository":` + repositoryJSON(name, false, "MUTABLE") + `}`)},
			},
			wantOps: []string{"DescribeRepositories", "CreateRepository"},
			check: func(t *testing.T, repo Repository, f *fakeECR) {
				create := f.bodies("CreateRepository")[0]
				// The SDK leaves a false scanOnPush out; ECR's default is false.
				if field(create, "imageScanningConfiguration", "scanOnPush") == true || field(create, "imageTagMutability") != "MUTABLE" ||
					field(create, "imageTagMutabilityExclusionFilters") != nil {
					t.Errorf("CreateRepository body = %v", create)
				}
				if !repo.Created || repo.TagIsImmutable("latest") {
					t.Errorf("repository = %+v", repo)
				}
			},
		},
		{
			name:   "immutable without exceptions",
			policy: RepositoryPolicy{ImmutableTags: true, KeepLast: 3},
			script: map[string][]reply{
				"DescribeRepositories": {notFound},
				"CreateRepository":     {ok(`{"repository":` + repositoryJSON(name, false, "IMMUTABLE") + `}`)},
				"PutLifecyclePolicy":   {ok(`{}`)},
			},
			wantOps: []string{"DescribeRepositories", "CreateRepository", "PutLifecyclePolicy"},
			check: func(t *testing.T, repo Repository, f *fakeECR) {
				if m := field(f.bodies("CreateRepository")[0], "imageTagMutability"); m != "IMMUTABLE" {
					t.Errorf("imageTagMutability = %v", m)
				}
				text := field(f.bodies("PutLifecyclePolicy")[0], "lifecyclePolicyText").(string)
				if !strings.Contains(text, `"countNumber":3`) {
					t.Errorf("lifecycle policy = %s", text)
				}
				if !repo.TagIsImmutable("latest") {
					t.Errorf("latest should be immutable in %+v", repo)
				}
			},
		},
		{
			name:   "existing repository is reported, not changed",
			policy: RepositoryPolicy{ScanOnPush: true, ImmutableTags: true, KeepLast: 10},
			script: map[string][]reply{
				"DescribeRepositories": {ok(`{"repositories":[` + repositoryJSON(name, false, "MUTABLE") + `]}`)},
			},
			wantOps: []string{"DescribeRepositories"},
			check: func(t *testing.T, repo Repository, f *fakeECR) {
				if repo.Created || repo.ScanOnPush || repo.TagMutability != "MUTABLE" || repo.Name != name {
					t.Errorf("repository = %+v", repo)
				}
				if names := field(f.bodies("DescribeRepositories")[0], "repositoryNames", 0); names != name {
					t.Errorf("described %v", names)
				}
			},
		},
		{
			name:   "creation race: another job created it first",
			policy: RepositoryPolicy{KeepLast: 5},
			script: map[string][]reply{
				"DescribeRepositories": {notFound, ok(`{"repositories":[` + repositoryJSON(name, true, "IMMUTABLE") + `]}`)},
				"CreateRepository":     {apiError("RepositoryAlreadyExistsException", "The repository with name 'team/app' already exists")},
			},
			wantOps: []string{"DescribeRepositories", "CreateRepository", "DescribeRepositories"},
			check: func(t *testing.T, repo Repository, f *fakeECR) {
				if repo.Created || !repo.ScanOnPush || repo.TagMutability != "IMMUTABLE" {
					t.Errorf("repository = %+v", repo)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t, tc.script)
			repo, err := c.EnsureRepository(context.Background(), name, tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.ops(); !slices.Equal(got, tc.wantOps) {
				t.Fatalf("calls = %v, want %v", got, tc.wantOps)
			}
			tc.check(t, repo, f)
		})
	}
}

func TestEnsureRepositoryRejectsBadInputBeforeAnyRequest(t *testing.T) {
	for _, tc := range []struct {
		repo   string
		policy RepositoryPolicy
		want   string
	}{
		{"", RepositoryPolicy{}, "empty ECR repository name"},
		{"a", RepositoryPolicy{}, "2 to 256 characters"},
		{strings.Repeat("a", 257), RepositoryPolicy{}, "2 to 256 characters"},
		{"My-App", RepositoryPolicy{}, `invalid ECR repository name "My-App"`},
		{"-app", RepositoryPolicy{}, "lowercase letters"},
		{"team/", RepositoryPolicy{}, "lowercase letters"},
		{"a..b", RepositoryPolicy{}, "lowercase letters"},
		{"app:latest", RepositoryPolicy{}, "lowercase letters"},
		{"app", RepositoryPolicy{KeepLast: -1}, "invalid KeepLast -1"},
		{"app", RepositoryPolicy{ImmutableTags: true, MutableTags: []string{"a", "b", "c", "d", "e", "f"}}, "at most 5"},
		{"app", RepositoryPolicy{ImmutableTags: true, MutableTags: []string{"la test"}}, `invalid mutable tag filter "la test"`},
	} {
		f, c := newFake(t, nil)
		_, err := c.EnsureRepository(context.Background(), tc.repo, tc.policy)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("EnsureRepository(%q, %+v) error = %v, want it to contain %q", tc.repo, tc.policy, err, tc.want)
		}
		if calls := f.ops(); len(calls) != 0 {
			t.Errorf("EnsureRepository(%q) sent %v before validating", tc.repo, calls)
		}
	}
}

func TestEnsureRepositoryAccessDeniedNamesPermission(t *testing.T) {
	f, c := newFake(t, map[string][]reply{
		"DescribeRepositories": {apiError("RepositoryNotFoundException", "missing")},
		"CreateRepository": {apiError("AccessDeniedException",
			"User: arn:aws:sts::123456789012:assumed-role/ci/job is not authorized to perform: ecr:CreateRepository")},
	})
	_, err := c.EnsureRepository(context.Background(), "app", RepositoryPolicy{})
	if err == nil || !strings.Contains(err.Error(), "lack the ecr:CreateRepository permission") {
		t.Fatalf("error = %v, want one naming the ecr:CreateRepository permission", err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Errorf("API error not kept in the chain: %v", err)
	}
	if got := f.ops(); len(got) != 2 {
		t.Errorf("calls = %v: AccessDenied must not be retried", got)
	}
}

func TestEnsureRepositoryLifecycleFailureAfterCreate(t *testing.T) {
	_, c := newFake(t, map[string][]reply{
		"DescribeRepositories": {apiError("RepositoryNotFoundException", "missing")},
		"CreateRepository":     {ok(`{"repository":` + repositoryJSON("app", false, "MUTABLE") + `}`)},
		"PutLifecyclePolicy":   {apiError("AccessDeniedException", "not authorized to perform: ecr:PutLifecyclePolicy")},
	})
	repo, err := c.EnsureRepository(context.Background(), "app", RepositoryPolicy{KeepLast: 10})
	if err == nil || !strings.Contains(err.Error(), "was created but its lifecycle policy was not set") ||
		!strings.Contains(err.Error(), "ecr:PutLifecyclePolicy permission") {
		t.Fatalf("error = %v", err)
	}
	if !repo.Created || repo.Name != "app" {
		t.Errorf("the created repository should still be reported, got %+v", repo)
	}
}

func TestKeepLastPolicyRejectsNonPositive(t *testing.T) {
	if _, err := keepLastPolicy(0); err == nil {
		t.Error("keepLastPolicy(0) should fail: 0 means no policy")
	}
}
