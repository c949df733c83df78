package s3site

import (
	"reflect"
	"strings"
	"testing"
)

func TestInvalidationPaths(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
		o    Options
		want []string
	}{
		{"root index", []string{"index.html"}, Options{}, []string{"/", "/index.html"}},
		{"nested index", []string{"blog/post/index.html"}, Options{},
			[]string{"/blog/post", "/blog/post/", "/blog/post/index.html"}},
		{"escaped", []string{"img/a b*.png", "café.css"}, Options{}, []string{"/caf%C3%A9.css", "/img/a%20b%2A.png"}},
		{"prefix in URL", []string{"site/index.html"}, Options{Prefix: "site/"}, []string{"/site", "/site/", "/site/index.html"}},
		{"prefix is origin path", []string{"site/index.html", "site/a.js"}, Options{Prefix: "site/", OriginPathIsPrefix: true},
			[]string{"/", "/a.js", "/index.html"}},
		{"over threshold", []string{"a.js", "b.js", "c.js"}, Options{InvalidateThreshold: 2}, []string{"/*"}},
		{"at threshold", []string{"a.js", "b.js"}, Options{InvalidateThreshold: 2}, []string{"/a.js", "/b.js"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.o.InvalidateThreshold == 0 {
				tc.o.InvalidateThreshold = DefaultInvalidateThreshold
			}
			if got := invalidationPaths(tc.keys, tc.o); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCallerReferenceUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		r := callerReference()
		if seen[r] || !strings.HasPrefix(r, "stevedore-") {
			t.Fatalf("duplicate or malformed caller reference %q", r)
		}
		seen[r] = true
	}
}

func TestSummaryString(t *testing.T) {
	s := Summary{Target: "s3://b/", Uploaded: 2, BytesUploaded: 3 << 20, Unchanged: 5, Deleted: 1,
		InvalidationID: "I1", InvalidationStatus: "InProgress", Paths: []string{"/a.js", "/"}}
	want := "Published to s3://b/: 2 files uploaded (3.0 MiB), 5 unchanged, 1 deleted. CloudFront invalidation I1 (InProgress) for /a.js /."
	if got := s.String(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	s = Summary{Target: "s3://b/", Orphans: 4, Unchanged: 1}
	if got := s.String(); !strings.Contains(got, "4 objects are not in the build") || !strings.Contains(got, "no invalidation") {
		t.Errorf("got %q", got)
	}
}
