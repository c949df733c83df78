package ecr

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestFindImage(t *testing.T) {
	detail := `{"imageDetails":[{"repositoryName":"app","imageDigest":"` + testDigest + `","imageTags":["v1","latest"],"imagePushedAt":1700000100,"imageSizeInBytes":52428800}]}`
	for _, tc := range []struct {
		name      string
		reply     reply
		wantFound bool
		wantErr   string
	}{
		{name: "by digest, found", reply: ok(detail), wantFound: true},
		{name: "by digest, not found", reply: apiError("ImageNotFoundException", "The image requested does not exist")},
		{name: "repository missing", reply: apiError("RepositoryNotFoundException", "missing"), wantErr: "ECR repository app does not exist"},
		{name: "access denied", reply: apiError("AccessDeniedException", "denied"), wantErr: "ecr:DescribeImages permission"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t, map[string][]reply{"DescribeImages": {tc.reply}})
			img, found, err := c.FindImage(context.Background(), "app", testDigest)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || found != tc.wantFound {
				t.Fatalf("found = %v, err = %v; want found %v", found, err, tc.wantFound)
			}
			body := f.bodies("DescribeImages")[0]
			if field(body, "repositoryName") != "app" {
				t.Errorf("repositoryName = %v", field(body, "repositoryName"))
			}
			if field(body, "imageIds", 0, "imageDigest") != testDigest || field(body, "imageIds", 0, "imageTag") != nil {
				t.Errorf("imageIds = %v, want digest only", field(body, "imageIds"))
			}
			if !found {
				if img.Digest != "" {
					t.Errorf("not-found image should be zero, got %+v", img)
				}
				return
			}
			if img.Digest != testDigest || strings.Join(img.Tags, ",") != "v1,latest" || img.SizeBytes != 52428800 || !img.PushedAt.Equal(time.Unix(1700000100, 0)) {
				t.Errorf("image = %+v", img)
			}
		})
	}
}

func TestFindImageValidatesBeforeRequest(t *testing.T) {
	f, c := newFake(t, nil)
	if _, _, err := c.FindImage(context.Background(), "app", "latest"); err == nil || !strings.Contains(err.Error(), "invalid image digest") {
		t.Errorf("FindImage with a tag as digest: %v", err)
	}
	if _, _, err := c.FindImage(context.Background(), "App", testDigest); err == nil || !strings.Contains(err.Error(), "invalid ECR repository name") {
		t.Errorf("FindImage with bad repository: %v", err)
	}
	if ops := f.ops(); len(ops) != 0 {
		t.Errorf("requests sent before validation: %v", ops)
	}
}
