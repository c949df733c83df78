package ocipush

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/ocipush/ocitest"
)

// logSink collects log lines; safe for the concurrent progress logger.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) log(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

func (l *logSink) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// ecrRegistry starts a registry that wants user AWS and an ECR-like password.
func ecrRegistry(t *testing.T) *ocitest.Registry {
	return ocitest.NewRegistry(t, "AWS", ocitest.ECRPassword(t))
}

// pushOpts are options that authenticate against reg.
func pushOpts(reg *ocitest.Registry, repo string, tags ...string) PushOptions {
	return PushOptions{Repository: reg.Repo(repo), Tags: tags, Username: reg.Username, Password: reg.Password}
}

func mustPush(t *testing.T, src string, o PushOptions) PushResult {
	t.Helper()
	res, err := Push(context.Background(), src, o)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	return res
}

func TestPushRefusesWrongCredentials(t *testing.T) {
	reg := ecrRegistry(t)
	src := ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64"))
	wrong := ocitest.ECRPassword(t)
	cases := []struct {
		name, user, pass string
		want             []string
	}{
		{"wrong password", "AWS", wrong, []string{"refused the credentials for user AWS", "HTTP 401"}},
		{"anonymous", "", "", []string{"requires credentials", "HTTP 401"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg.Reset()
			logs := &logSink{}
			o := PushOptions{Repository: reg.Repo("app"), Tags: []string{"v1"}, Username: tc.user, Password: tc.pass, Log: logs.log}
			_, err := Push(context.Background(), src, o)
			if err == nil {
				t.Fatal("push with bad credentials succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if tc.pass != "" && (strings.Contains(err.Error(), tc.pass) || strings.Contains(logs.text(), tc.pass)) {
				t.Errorf("the password leaked into the error or the log: %q", err)
			}
			if w := reg.Writes(); len(w) != 0 {
				t.Errorf("uploads happened despite refused credentials: %v", w)
			}
		})
	}
}

func TestPushUploadsAndTags(t *testing.T) {
	reg := ecrRegistry(t)
	img := ocitest.Image(t, "linux/amd64")
	src := ocitest.ImageTar(t, img)
	logs := &logSink{}
	o := pushOpts(reg, "team/app", "v1", "latest", "v1")
	o.Log = logs.log
	res := mustPush(t, src, o)

	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if res.Digest != want.String() || !res.Pushed {
		t.Fatalf("result %+v: want digest %s, pushed", res, want)
	}
	if res.Ref != reg.Repo("team/app")+"@"+want.String() {
		t.Errorf("ref %q is not repository@digest", res.Ref)
	}
	if !slices.Equal(res.Tags, []string{"v1", "latest"}) || !slices.Equal(res.Platforms, []string{"linux/amd64"}) {
		t.Errorf("tags %v platforms %v", res.Tags, res.Platforms)
	}
	for _, tag := range res.Tags {
		if got := reg.Head(t, reg.Repo("team/app:"+tag)).Digest.String(); got != res.Digest {
			t.Errorf("registry serves %s for tag %s, push reported %s", got, tag, res.Digest)
		}
	}
	if got := reg.Head(t, res.Ref).Digest.String(); got != res.Digest {
		t.Errorf("registry serves %s for %s", got, res.Ref)
	}
	if local, err := LocalDigest(src); err != nil || local != res.Digest {
		t.Errorf("LocalDigest = %s, %v; push reported %s", local, err, res.Digest)
	}
	if strings.Contains(logs.text(), reg.Password) {
		t.Error("the password appears in the log")
	}
	if !strings.Contains(logs.text(), "pushed "+res.Ref) {
		t.Errorf("log does not report the push:\n%s", logs.text())
	}
}

func TestPushTwiceUploadsNothing(t *testing.T) {
	reg := ecrRegistry(t)
	src := ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64"))
	first := mustPush(t, src, pushOpts(reg, "app", "v1", "latest"))
	reg.Reset()
	logs := &logSink{}
	o := pushOpts(reg, "app", "v1", "latest")
	o.Log = logs.log
	second := mustPush(t, src, o)
	if w := reg.Writes(); len(w) != 0 {
		t.Errorf("second push wrote to the registry: %v", w)
	}
	if second.Pushed || second.Digest != first.Digest {
		t.Errorf("second push %+v, first %+v", second, first)
	}
	if !strings.Contains(logs.text(), "already present, nothing pushed") {
		t.Errorf("log does not say nothing was pushed:\n%s", logs.text())
	}
}

func TestPushOnlyRetagsWhereNeeded(t *testing.T) {
	reg := ecrRegistry(t)
	srcA := ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64"))
	srcB := ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64"))
	a := mustPush(t, srcA, pushOpts(reg, "app", "v1", "latest"))
	b := mustPush(t, srcB, pushOpts(reg, "app", "v2", "latest"))
	if a.Digest == b.Digest || !b.Pushed {
		t.Fatalf("setup: a %+v b %+v", a, b)
	}

	// A is present; v1 already points at it, latest points at B, rc is new.
	reg.Reset()
	res := mustPush(t, srcA, pushOpts(reg, "app", "v1", "latest", "rc"))
	want := []string{"PUT /v2/app/manifests/latest", "PUT /v2/app/manifests/rc"}
	if got := reg.Writes(); !slices.Equal(got, want) {
		t.Errorf("writes %v, want only the tag moves %v", got, want)
	}
	if res.Pushed {
		t.Error("Pushed is true although only tags changed")
	}
	for _, tag := range []string{"v1", "latest", "rc"} {
		if got := reg.Head(t, reg.Repo("app:"+tag)).Digest.String(); got != a.Digest {
			t.Errorf("tag %s points at %s, want %s", tag, got, a.Digest)
		}
	}
	if got := reg.Head(t, reg.Repo("app:v2")).Digest.String(); got != b.Digest {
		t.Errorf("untouched tag v2 moved to %s", got)
	}
}

func TestPushMultiPlatform(t *testing.T) {
	for _, nested := range []bool{true, false} {
		name := map[bool]string{true: "index.json names an index", false: "index.json lists platforms"}[nested]
		t.Run(name, func(t *testing.T) {
			reg := ecrRegistry(t)
			idx := ocitest.Index(t, "linux/amd64", "linux/arm64")
			res := mustPush(t, ocitest.IndexTar(t, idx, nested), pushOpts(reg, "app", "v1"))
			want, err := idx.Digest()
			if err != nil {
				t.Fatal(err)
			}
			head := reg.Head(t, reg.Repo("app:v1"))
			if res.Digest != want.String() || head.Digest.String() != res.Digest {
				t.Errorf("push reported %s, index is %s, registry serves %s", res.Digest, want, head.Digest)
			}
			if !head.MediaType.IsIndex() {
				t.Errorf("registry serves a %s, want an index", head.MediaType)
			}
			if !slices.Equal(res.Platforms, []string{"linux/amd64", "linux/arm64"}) {
				t.Errorf("platforms %v", res.Platforms)
			}
		})
	}
}

func TestPushOtherSources(t *testing.T) {
	img := ocitest.Image(t, "linux/arm64")
	cases := map[string]string{
		"docker save tarball":  ocitest.DockerTar(t, img, "example.com/app:v1"),
		"OCI layout directory": layoutDir(t, ocitest.ImageTar(t, img)),
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			reg := ecrRegistry(t)
			res := mustPush(t, src, pushOpts(reg, "app", "v1"))
			if got := reg.Head(t, reg.Repo("app:v1")).Digest.String(); got != res.Digest {
				t.Errorf("registry serves %s, push reported %s", got, res.Digest)
			}
			if local, err := LocalDigest(src); err != nil || local != res.Digest {
				t.Errorf("LocalDigest = %s, %v; push reported %s", local, err, res.Digest)
			}
		})
	}
}

func TestPushDialOverride(t *testing.T) {
	reg := ecrRegistry(t)
	src := ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64"))
	o := PushOptions{Repository: "registry.example:5000/app", Tags: []string{"v1"}, Username: reg.Username, Password: reg.Password, Insecure: true, Dial: reg.Host}
	res := mustPush(t, src, o)
	if res.Ref != "registry.example:5000/app@"+res.Digest {
		t.Errorf("ref %q does not use the public name", res.Ref)
	}
	if got := reg.Head(t, reg.Repo("app:v1")).Digest.String(); got != res.Digest {
		t.Errorf("registry serves %s, push reported %s", got, res.Digest)
	}

	o.Insecure = false
	_, err := Push(context.Background(), src, o)
	if err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("https to a plain http registry: got %v, want a hint about plain http", err)
	}
}

func TestPushUnreachableRegistry(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	src := ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64"))
	_, err = Push(context.Background(), src, PushOptions{Repository: addr + "/app", Tags: []string{"v1"}, Insecure: true})
	if err == nil || !strings.Contains(err.Error(), "cannot reach registry "+addr) {
		t.Errorf("got %v, want a clear 'cannot reach registry' error", err)
	}
}

func TestPushRejectsBadInputBeforeNetwork(t *testing.T) {
	reg := ecrRegistry(t)
	src := ocitest.ImageTar(t, ocitest.Image(t, "linux/amd64"))
	cases := []struct {
		name string
		src  string
		edit func(*PushOptions)
		want string
	}{
		{"no tag", src, func(o *PushOptions) { o.Tags = nil }, "no tag given"},
		{"empty tag", src, func(o *PushOptions) { o.Tags = []string{"v1", ""} }, `invalid tag ""`},
		{"tag with space", src, func(o *PushOptions) { o.Tags = []string{"v 1"} }, `invalid tag "v 1"`},
		{"tag starting with dash", src, func(o *PushOptions) { o.Tags = []string{"-v1"} }, `invalid tag "-v1"`},
		{"tag with colon", src, func(o *PushOptions) { o.Tags = []string{"v1:2"} }, `invalid tag "v1:2"`},
		{"tag too long", src, func(o *PushOptions) { o.Tags = []string{strings.Repeat("a", 129)} }, "invalid tag"},
		{"repository with tag", src, func(o *PushOptions) { o.Repository += ":v1" }, "contains a tag"},
		{"repository with digest", src, func(o *PushOptions) { o.Repository += "@sha256:" + strings.Repeat("a", 64) }, "contains a digest"},
		{"no repository", src, func(o *PushOptions) { o.Repository = "" }, "no repository given"},
		{"bad dial", src, func(o *PushOptions) { o.Dial = "registry" }, "invalid dial address"},
		{"password without user", src, func(o *PushOptions) { o.Username = "" }, "without a username"},
		{"missing file", "/nonexistent/image.tar", func(*PushOptions) {}, "does not exist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg.Reset()
			o := pushOpts(reg, "app", "v1")
			tc.edit(&o)
			_, err := Push(context.Background(), tc.src, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			if n := reg.Requests(); n != 0 {
				t.Errorf("%d requests reached the registry before validation failed", n)
			}
		})
	}
}

func TestValidateTagAcceptsGrammar(t *testing.T) {
	for _, tag := range []string{"v1", "latest", "_x", "1.2.3-rc.1", "sha-0123abc", strings.Repeat("a", 128)} {
		if err := ValidateTag(tag); err != nil {
			t.Errorf("ValidateTag(%q) = %v, want nil", tag, err)
		}
	}
}
