package s3site

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
)

const (
	testBucket = "commander-site"
	testDist   = "EDFDVBD6EXAMPLE"
)

// siteFiles is a small Next.js-style static export.
var siteFiles = map[string]string{
	"index.html":       "<html>home</html>",
	"about/index.html": "<html>about</html>",
	"404.html":         "<html>not found</html>",
	"_next/static/chunks/app-3f9a1c2b4d5e6f70.js": "console.log('app')",
	"_next/static/css/5e8f7a9b1c2d3e4f.css":       "body{margin:0}",
	"main.3f9a1c2b.js":                            "console.log('main')",
	"styles.css":                                  "h1{color:red}",
	"logo.svg":                                    "<svg></svg>",
	"manifest.json":                               `{"name":"commander"}`,
	"notes.unknownext":                            "??",
}

func writeSite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, body := range files {
		writeFile(t, dir, rel, body)
	}
	return dir
}

func writeFile(t *testing.T, dir, rel, body string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fakeAWS) options(mod ...func(*Options)) Options {
	o := Options{AWS: f.config(), PathStyle: true, Bucket: testBucket, DistributionID: testDist}
	for _, m := range mod {
		m(&o)
	}
	return o
}

// published returns a fake holding siteFiles as a first publish left them,
// with the request log cleared.
func published(t *testing.T) (*fakeAWS, string) {
	t.Helper()
	f := newFakeAWS(t, testBucket)
	dir := writeSite(t, siteFiles)
	if _, err := Publish(context.Background(), dir, f.options()); err != nil {
		t.Fatal(err)
	}
	f.resetRequests()
	return f, dir
}

func TestPublishFirstUploadsAllAssetsBeforeHTML(t *testing.T) {
	f := newFakeAWS(t, testBucket)
	dir := writeSite(t, siteFiles)
	sum, err := Publish(context.Background(), dir, f.options())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Uploaded != len(siteFiles) || sum.Unchanged != 0 || sum.Deleted != 0 {
		t.Fatalf("summary %+v", sum)
	}
	var total int64
	for rel, body := range siteFiles {
		total += int64(len(body))
		if o := f.object(testBucket, rel); o == nil || string(o.body) != body {
			t.Errorf("%s not stored as built", rel)
		}
	}
	if sum.BytesUploaded != total {
		t.Errorf("BytesUploaded = %d, want %d", sum.BytesUploaded, total)
	}
	puts := f.ops("PutObject")
	lastAsset, firstHTML := -1, len(puts)
	for i, k := range puts {
		if strings.HasSuffix(k, ".html") {
			firstHTML = min(firstHTML, i)
		} else {
			lastAsset = i
		}
	}
	if firstHTML < lastAsset {
		t.Errorf("HTML uploaded before an asset: %v", puts)
	}
	if len(f.ops("ListObjectsV2")) != 1 || len(f.ops("HeadObject")) != 0 {
		t.Errorf("an empty bucket needs one listing and no HeadObject: %v", f.all())
	}
	want := []string{"/", "/404.html", "/_next/static/chunks/app-3f9a1c2b4d5e6f70.js", "/_next/static/css/5e8f7a9b1c2d3e4f.css",
		"/about", "/about/", "/about/index.html", "/index.html", "/logo.svg", "/main.3f9a1c2b.js", "/manifest.json",
		"/notes.unknownext", "/styles.css"}
	if !reflect.DeepEqual(sum.Paths, want) || sum.InvalidationID == "" {
		t.Errorf("invalidation %q paths %v, want %v", sum.InvalidationID, sum.Paths, want)
	}
	if !strings.Contains(sum.String(), "10 files uploaded") {
		t.Errorf("String() = %q", sum.String())
	}
}

func TestPublishUnchangedRerunWritesNothing(t *testing.T) {
	f, dir := published(t)
	sum, err := Publish(context.Background(), dir, f.options())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Uploaded != 0 || sum.Unchanged != len(siteFiles) || sum.InvalidationID != "" || sum.Paths != nil {
		t.Fatalf("summary %+v", sum)
	}
	if w := f.writes(); len(w) != 0 {
		t.Fatalf("writes on an unchanged rerun: %v", w)
	}
	// The fake pages by two keys: every page must have been read.
	if n := len(f.ops("ListObjectsV2")); n != (len(siteFiles)+1)/2 {
		t.Errorf("%d list pages for %d objects", n, len(siteFiles))
	}
	if !strings.Contains(sum.String(), "Nothing changed") {
		t.Errorf("String() = %q", sum.String())
	}
}

func TestPublishChangedAssetUploadsAndInvalidatesOnlyIt(t *testing.T) {
	for _, tc := range []struct{ name, body, reason string }{
		{"same size", "h1{color:xyz}", "sha256 differs"},
		{"other size", "h1{color:blue}", "size changed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, dir := published(t)
			writeFile(t, dir, "styles.css", tc.body)
			sum, err := Publish(context.Background(), dir, f.options())
			if err != nil {
				t.Fatal(err)
			}
			if puts := f.ops("PutObject"); !reflect.DeepEqual(puts, []string{"styles.css"}) {
				t.Fatalf("uploads %v", puts)
			}
			if string(f.object(testBucket, "styles.css").body) != tc.body {
				t.Error("new content not stored")
			}
			if !reflect.DeepEqual(sum.Paths, []string{"/styles.css"}) || len(f.ops("CreateInvalidation")) != 1 {
				t.Errorf("paths %v", sum.Paths)
			}
			i := slices.IndexFunc(sum.Changes, func(c Change) bool { return c.Key == "styles.css" })
			if c := sum.Changes[i]; c.Action != ActionUpload || !strings.Contains(c.Reason, tc.reason) {
				t.Errorf("change %+v", c)
			}
		})
	}
}

func TestPublishDeleteRemovesGoneFiles(t *testing.T) {
	f, dir := published(t)
	os.Remove(filepath.Join(dir, "about", "index.html"))

	sum, err := Publish(context.Background(), dir, f.options())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Orphans != 1 || sum.Deleted != 0 || f.object(testBucket, "about/index.html") == nil || len(f.writes()) != 0 {
		t.Fatalf("without Delete the object must stay: %+v", sum)
	}

	sum, err = Publish(context.Background(), dir, f.options(func(o *Options) { o.Delete = true }))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Deleted != 1 || f.object(testBucket, "about/index.html") != nil {
		t.Fatalf("summary %+v", sum)
	}
	if want := []string{"/about", "/about/", "/about/index.html"}; !reflect.DeepEqual(sum.Paths, want) {
		t.Errorf("paths %v, want %v", sum.Paths, want)
	}
}

func TestPublishDeleteStaysUnderPrefix(t *testing.T) {
	f := newFakeAWS(t, testBucket)
	f.put(testBucket, "other-app/index.html", "x", "text/html", "", nil)
	f.put(testBucket, "site/old.js", "old", "text/javascript", "", nil)
	dir := writeSite(t, map[string]string{"index.html": "<html>v2</html>"})
	sum, err := Publish(context.Background(), dir, f.options(func(o *Options) { o.Prefix = "/site"; o.Delete = true }))
	if err != nil {
		t.Fatal(err)
	}
	if f.object(testBucket, "site/index.html") == nil || f.object(testBucket, "site/old.js") != nil {
		t.Errorf("prefix content wrong: %v", f.snapshot(testBucket))
	}
	if f.object(testBucket, "other-app/index.html") == nil {
		t.Error("an object outside the prefix was deleted")
	}
	if want := []string{"/site/", "/site/index.html", "/site/old.js", "/site"}; !sameSet(sum.Paths, want) {
		t.Errorf("paths %v, want %v", sum.Paths, want)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestPublishHeadersPerFileType(t *testing.T) {
	f := newFakeAWS(t, testBucket)
	dir := writeSite(t, siteFiles)
	if _, err := Publish(context.Background(), dir, f.options()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, contentType, cacheControl string }{
		{"index.html", "text/html; charset=utf-8", CacheRevalidate},
		{"about/index.html", "text/html; charset=utf-8", CacheRevalidate},
		{"_next/static/chunks/app-3f9a1c2b4d5e6f70.js", "text/javascript; charset=utf-8", CacheImmutable},
		{"_next/static/css/5e8f7a9b1c2d3e4f.css", "text/css; charset=utf-8", CacheImmutable},
		{"main.3f9a1c2b.js", "text/javascript; charset=utf-8", CacheImmutable},
		{"styles.css", "text/css; charset=utf-8", CacheShort},
		{"logo.svg", "image/svg+xml", CacheShort},
		{"manifest.json", "application/json; charset=utf-8", CacheShort},
		{"notes.unknownext", "application/octet-stream", CacheShort},
	} {
		o := f.object(testBucket, tc.key)
		if o.contentType != tc.contentType || o.cacheControl != tc.cacheControl {
			t.Errorf("%s: Content-Type %q Cache-Control %q, want %q %q", tc.key, o.contentType, o.cacheControl, tc.contentType, tc.cacheControl)
		}
		if o.meta["sha256"] == "" || len(o.meta["sha256"]) != 64 {
			t.Errorf("%s: sha256 metadata %q", tc.key, o.meta["sha256"])
		}
	}
}

func TestPublishRuleChangeReuploads(t *testing.T) {
	f, dir := published(t)
	rules, err := ParseRules("*.svg=public, max-age=86400")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Publish(context.Background(), dir, f.options(func(o *Options) { o.Rules = rules }))
	if err != nil {
		t.Fatal(err)
	}
	if puts := f.ops("PutObject"); !reflect.DeepEqual(puts, []string{"logo.svg"}) {
		t.Fatalf("uploads %v", puts)
	}
	if got := f.object(testBucket, "logo.svg").cacheControl; got != "public, max-age=86400" {
		t.Errorf("Cache-Control %q", got)
	}
	if !reflect.DeepEqual(sum.Paths, []string{"/logo.svg"}) {
		t.Errorf("paths %v", sum.Paths)
	}
}

func TestPublishComparesObjectsWithoutMetadata(t *testing.T) {
	for _, tc := range []struct {
		name   string
		seed   func(f *fakeAWS)
		upload bool
	}{
		{"same MD5 and headers", func(f *fakeAWS) {
			f.put(testBucket, "styles.css", siteFiles["styles.css"], "text/css; charset=utf-8", CacheShort, nil)
		}, false},
		{"multipart ETag", func(f *fakeAWS) {
			f.put(testBucket, "styles.css", siteFiles["styles.css"], "text/css; charset=utf-8", CacheShort, nil)
			f.setETag(testBucket, "styles.css", "9b2cf535f27731c974343645a3985328-2")
		}, true},
		{"same content, old content type", func(f *fakeAWS) {
			f.put(testBucket, "styles.css", siteFiles["styles.css"], "binary/octet-stream", CacheShort, nil)
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAWS(t, testBucket)
			tc.seed(f)
			dir := writeSite(t, map[string]string{"styles.css": siteFiles["styles.css"]})
			sum, err := Publish(context.Background(), dir, f.options())
			if err != nil {
				t.Fatal(err)
			}
			if got := sum.Uploaded == 1; got != tc.upload {
				t.Errorf("uploaded=%v, want %v (%+v)", got, tc.upload, sum.Changes)
			}
		})
	}
}

func TestPublishThresholdInvalidatesEverything(t *testing.T) {
	f := newFakeAWS(t, testBucket)
	dir := writeSite(t, siteFiles)
	sum, err := Publish(context.Background(), dir, f.options(func(o *Options) { o.InvalidateThreshold = 3 }))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sum.Paths, []string{"/*"}) || !reflect.DeepEqual(f.aws.Invalidations(testDist)[0], []string{"/*"}) {
		t.Errorf("paths %v", sum.Paths)
	}
}

func TestPublishRetriesSlowDown(t *testing.T) {
	f := newFakeAWS(t, testBucket)
	f.fail("PutObject", http.StatusServiceUnavailable, "SlowDown", 2)
	dir := writeSite(t, siteFiles)
	sum, err := Publish(context.Background(), dir, f.options(func(o *Options) { o.Concurrency = 1 }))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Uploaded != len(siteFiles) {
		t.Errorf("summary %+v", sum)
	}
	for rel, body := range siteFiles { // a retried body must be sent again from its start
		if o := f.object(testBucket, rel); o == nil || string(o.body) != body {
			t.Errorf("%s not stored as built", rel)
		}
	}
	if n := len(f.ops("PutObject")); n != len(siteFiles)+2 {
		t.Errorf("%d PutObject attempts, want %d", n, len(siteFiles)+2)
	}
}

func TestPublishAccessDeniedStopsWrites(t *testing.T) {
	f, dir := published(t)
	before := f.snapshot(testBucket)
	writeFile(t, dir, "styles.css", "h1{color:green}")
	writeFile(t, dir, "logo.svg", "<svg>v2</svg>")
	writeFile(t, dir, "index.html", "<html>v2</html>")
	os.Remove(filepath.Join(dir, "404.html"))
	f.fail("PutObject", http.StatusForbidden, "AccessDenied", -1)

	sum, err := Publish(context.Background(), dir, f.options(func(o *Options) { o.Concurrency = 1; o.Delete = true }))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{"s3:PutObject permission", "after 0 of 3 uploads", "written: none", "nothing deleted"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if n := len(f.ops("PutObject")); n != 1 {
		t.Errorf("%d PutObject attempts after the first denial, want 1", n)
	}
	if len(f.ops("DeleteObjects"))+len(f.ops("CreateInvalidation")) != 0 {
		t.Errorf("deleted or invalidated after a failed upload: %v", f.all())
	}
	if !reflect.DeepEqual(f.snapshot(testBucket), before) || sum.Uploaded != 0 {
		t.Error("bucket contents changed")
	}
}

func TestPublishBucketProblems(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fakeAWS)
		want  []string
	}{
		{"missing", func(f *fakeAWS) { f.aws.DeleteBucket(testBucket) }, []string{"bucket commander-site does not exist"}},
		{"forbidden", func(f *fakeAWS) { f.fail("HeadBucket", http.StatusForbidden, "", -1) },
			[]string{"access denied to bucket commander-site", "s3:ListBucket", "s3:PutObject"}},
		{"other region", func(f *fakeAWS) { f.aws.MoveBucket(testBucket, "eu-west-3") }, []string{"is in region eu-west-3, not us-east-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAWS(t, testBucket)
			tc.setup(f)
			dir := writeSite(t, siteFiles)
			_, err := Publish(context.Background(), dir, f.options(func(o *Options) { o.Delete = true }))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !reflect.DeepEqual(f.all(), []string{"HeadBucket "}) {
				t.Errorf("requests after a failed bucket check: %v", f.all())
			}
		})
	}
}

func TestPublishDryRunWritesNothing(t *testing.T) {
	f, dir := published(t)
	before := f.snapshot(testBucket)
	writeFile(t, dir, "styles.css", "h1{color:green}")
	writeFile(t, dir, "new.txt", "hello")
	os.Remove(filepath.Join(dir, "404.html"))

	sum, err := Publish(context.Background(), dir, f.options(func(o *Options) { o.DryRun = true; o.Delete = true }))
	if err != nil {
		t.Fatal(err)
	}
	if w := f.writes(); len(w) != 0 || !reflect.DeepEqual(f.snapshot(testBucket), before) {
		t.Fatalf("dry run wrote: %v", w)
	}
	got := map[string]Action{}
	for _, c := range sum.Changes {
		if c.Action != ActionUnchanged {
			got[c.Key] = c.Action
		}
	}
	want := map[string]Action{"styles.css": ActionUpload, "new.txt": ActionUpload, "404.html": ActionDelete}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	if sum.Uploaded != 2 || sum.Deleted != 1 || sum.Unchanged != len(siteFiles)-2 || len(sum.Changes) != len(siteFiles)+1 {
		t.Errorf("summary %+v", sum)
	}
	if !reflect.DeepEqual(sum.Paths, []string{"/404.html", "/new.txt", "/styles.css"}) {
		t.Errorf("paths %v", sum.Paths)
	}
	if s := sum.String(); !strings.Contains(s, "would upload 2 files") || !strings.Contains(s, "Nothing was changed") {
		t.Errorf("String() = %q", s)
	}
}

func TestPublishDeleteErrorsPerKey(t *testing.T) {
	f, dir := published(t)
	os.Remove(filepath.Join(dir, "404.html"))
	f.aws.DenyDelete(testBucket, "404.html")
	_, err := Publish(context.Background(), dir, f.options(func(o *Options) { o.Delete = true }))
	if err == nil || !strings.Contains(err.Error(), "s3:DeleteObject permission") || !strings.Contains(err.Error(), "404.html") {
		t.Fatalf("got %v", err)
	}
	if len(f.ops("CreateInvalidation")) != 0 {
		t.Error("invalidated after a failed delete")
	}
}

func TestPublishWaitsForInvalidation(t *testing.T) {
	for _, tc := range []struct {
		name          string
		completeAfter int
		wantPolls     int
		wantErr       string
	}{
		{"completes", 3, 3, ""},
		{"times out", 100, 4, "still InProgress after 40s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAWS(t, testBucket, fakeaws.WithInvalidationPolls(tc.completeAfter))
			dir := writeSite(t, map[string]string{"index.html": "x"})
			var slept []time.Duration
			sum, err := Publish(context.Background(), dir, f.options(func(o *Options) {
				o.WaitInvalidation, o.PollInterval, o.WaitTimeout = true, 10*time.Second, 40*time.Second
				o.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
			}))
			if tc.wantErr == "" && (err != nil || sum.InvalidationStatus != "Completed") {
				t.Fatalf("err %v status %q", err, sum.InvalidationStatus)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if n := len(f.ops("GetInvalidation")); n != tc.wantPolls || len(slept) != tc.wantPolls || slept[0] != 10*time.Second {
				t.Errorf("%d polls, slept %v", n, slept)
			}
		})
	}
}

func TestPublishRefusesBadInput(t *testing.T) {
	f := newFakeAWS(t, testBucket)
	site := writeSite(t, siteFiles)
	for _, tc := range []struct {
		name, dir string
		mod       func(*Options)
		want      string
	}{
		{"empty dir", t.TempDir(), nil, "is empty: nothing to publish"},
		{"missing dir", filepath.Join(site, "nope"), nil, "did the frontend build run?"},
		{"no bucket", site, func(o *Options) { o.Bucket = "" }, "no bucket"},
		{"s3 url as bucket", site, func(o *Options) { o.Bucket = "s3://x/y" }, "without s3://"},
		{"bad rule", site, func(o *Options) { o.Rules = []Rule{{Pattern: "[", CacheControl: "x"}} }, "cache rule 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := f.options()
			if tc.mod != nil {
				tc.mod(&o)
			}
			_, err := Publish(context.Background(), tc.dir, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
	if len(f.all()) != 0 {
		t.Errorf("requests sent for invalid input: %v", f.all())
	}
}
