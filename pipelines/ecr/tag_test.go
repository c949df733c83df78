package ecr

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

const testManifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:c0"},"layers":[]}`

func batchGetImageReply() reply {
	b, _ := json.Marshal(map[string]any{"images": []any{map[string]any{
		"repositoryName":         "app",
		"imageId":                map[string]string{"imageDigest": testDigest},
		"imageManifest":          testManifest,
		"imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
	}}, "failures": []any{}})
	return ok(string(b))
}

func TestTagImage(t *testing.T) {
	f, c := newFake(t, map[string][]reply{
		"BatchGetImage": {batchGetImageReply()},
		"PutImage": {
			ok(`{"image":{"repositoryName":"app","imageId":{"imageDigest":"` + testDigest + `","imageTag":"v2"}}}`),
			apiError("ImageAlreadyExistsException", "Image with digest and tag 'latest' already exists"),
		},
	})
	if err := c.TagImage(context.Background(), "app", testDigest, []string{"v2", "latest", "v2"}); err != nil {
		t.Fatal(err)
	}
	if got := f.ops(); !slices.Equal(got, []string{"BatchGetImage", "PutImage", "PutImage"}) {
		t.Fatalf("calls = %v (duplicate tags must be put once)", got)
	}
	get := f.bodies("BatchGetImage")[0]
	if field(get, "imageIds", 0, "imageDigest") != testDigest || field(get, "repositoryName") != "app" {
		t.Errorf("BatchGetImage body = %v", get)
	}
	accepted, _ := field(get, "acceptedMediaTypes").([]any)
	for _, mt := range manifestMediaTypes {
		if !slices.Contains(accepted, any(mt)) {
			t.Errorf("acceptedMediaTypes %v lacks %s: ECR would convert the manifest", accepted, mt)
		}
	}
	for i, tag := range []string{"v2", "latest"} {
		put := f.bodies("PutImage")[i]
		if field(put, "imageTag") != tag || field(put, "imageDigest") != testDigest || field(put, "imageManifest") != testManifest ||
			field(put, "imageManifestMediaType") != "application/vnd.oci.image.manifest.v1+json" || field(put, "repositoryName") != "app" {
			t.Errorf("PutImage #%d body = %v", i, put)
		}
	}
}

func TestTagImageErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tags    []string
		script  map[string][]reply
		want    string
		wantOps []string
	}{
		{
			name: "immutable tag already on another image",
			tags: []string{"latest"},
			script: map[string][]reply{
				"BatchGetImage": {batchGetImageReply()},
				"PutImage":      {apiError("ImageTagAlreadyExistsException", "The image tag 'latest' already exists in the 'app' repository and cannot be overwritten because the repository is immutable.")},
			},
			want:    "tag latest already points to another image and the repository has immutable tags",
			wantOps: []string{"BatchGetImage", "PutImage"},
		},
		{
			name: "digest not in repository",
			tags: []string{"v2"},
			script: map[string][]reply{"BatchGetImage": {ok(`{"images":[],"failures":[{"imageId":{"imageDigest":"` + testDigest +
				`"},"failureCode":"ImageNotFound","failureReason":"Requested image not found"}]}`)}},
			want:    "not found in ECR repository app: push it before tagging",
			wantOps: []string{"BatchGetImage"},
		},
		{
			name:    "repository missing",
			tags:    []string{"v2"},
			script:  map[string][]reply{"BatchGetImage": {apiError("RepositoryNotFoundException", "missing")}},
			want:    "ECR repository app does not exist",
			wantOps: []string{"BatchGetImage"},
		},
		{
			name: "put denied",
			tags: []string{"v2"},
			script: map[string][]reply{
				"BatchGetImage": {batchGetImageReply()},
				"PutImage":      {apiError("AccessDeniedException", "denied")},
			},
			want:    "ecr:PutImage permission",
			wantOps: []string{"BatchGetImage", "PutImage"},
		},
		{name: "no tags", want: "pass at least one tag"},
		{name: "bad tag", tags: []string{"ok", "bad tag"}, want: `invalid image tag "bad tag"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t, tc.script)
			err := c.TagImage(context.Background(), "app", testDigest, tc.tags)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			if got := f.ops(); !slices.Equal(got, tc.wantOps) {
				t.Errorf("calls = %v, want %v", got, tc.wantOps)
			}
		})
	}
}
