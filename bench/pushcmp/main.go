// Command pushcmp compares the two ways stevedore could push an image built
// by Dagger: the engine's own Container.Publish with WithRegistryAuth (the
// password as a Dagger Secret), and pipelines/ocipush's in-process push of
// the tarball Container.AsTarball writes. It is a benchmark that prints
// figures, not a test.
//
// Each path pushes to its own fresh registry on 127.0.0.1 that requires
// basic auth with user AWS and an ECR-sized token (Dagger engines reach
// loopback registries over plain HTTP; run it where the engine shares the
// host's network, as the offline engine does). For each image it measures a
// first push, a re-push of the same digest, the requests and bytes the
// registry saw, and whether the digest is the same every time, across the
// two paths included.
//
//	cd bench/pushcmp && go run . [-runs 2] [-layer-mib 8]
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stevedore-ci/stevedore/pipelines/ocipush"
)

func main() {
	runs := flag.Int("runs", 2, "pushes of the same image per path (the first is a first push, the others re-pushes)")
	layerMiB := flag.Int("layer-mib", 8, "size of each generated layer file, MiB")
	base := flag.String("base", "debian:bookworm-slim", "base image of the single-platform case")
	showIndex := flag.Bool("show-index", false, "print the manifest each path wrote for the multi-platform image")
	flag.Parse()
	if *runs < 2 {
		log.Fatal("-runs must be at least 2: one first push and one re-push")
	}
	if *layerMiB < 1 || *layerMiB > 256 {
		log.Fatal("-layer-mib must be between 1 and 256")
	}
	ctx := context.Background()
	client, err := dagger.Connect(ctx, dagger.WithLogOutput(io.Discard))
	if err != nil {
		log.Fatalf("connecting to the Dagger engine (source its env first): %v", err)
	}
	defer client.Close()

	cases := []imageCase{
		{name: "single-platform (" + *base + " + 1 layer)", variants: singlePlatform(client, *base, *layerMiB)},
		{name: "multi-platform index (amd64 + arm64, 2 layers each)", variants: multiPlatform(client, *layerMiB)},
	}
	var all []result
	for _, c := range cases {
		// Build once, so both paths time the push, not the build.
		for _, v := range c.variants {
			if _, err := v.Sync(ctx); err != nil {
				log.Fatalf("building %s: %v", c.name, err)
			}
		}
		for _, p := range []pusher{publishPath{client}, ocipushPath{}} {
			rs, manifest, err := runCase(ctx, c, p, *runs)
			if err != nil {
				log.Fatalf("%s via %s: %v", c.name, p.name(), err)
			}
			if *showIndex && len(c.variants) > 1 {
				fmt.Printf("%s wrote for %s:\n%s\n\n", p.name(), c.name, manifest)
			}
			all = append(all, rs...)
		}
	}
	report(os.Stdout, all)
}

type imageCase struct {
	name     string
	variants []*dagger.Container
}

// singlePlatform is base plus one generated layer.
func singlePlatform(c *dagger.Client, base string, mib int) []*dagger.Container {
	return []*dagger.Container{c.Container().From(base).WithNewFile("/bench/data", randomText(mib))}
}

// multiPlatform is two scratch images (no exec, so no emulation needed),
// each with two generated layers.
func multiPlatform(c *dagger.Client, mib int) []*dagger.Container {
	var out []*dagger.Container
	for _, p := range []dagger.Platform{"linux/amd64", "linux/arm64"} {
		out = append(out, c.Container(dagger.ContainerOpts{Platform: p}).
			WithNewFile("/bench/a", randomText(mib)).
			WithNewFile("/bench/b", randomText(mib)))
	}
	return out
}

// randomText is mib MiB of incompressible-ish text (base64 of random bytes).
func randomText(mib int) string {
	buf := make([]byte, mib<<20*3/4)
	if _, err := rand.Read(buf); err != nil {
		log.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf)
}

type pusher interface {
	name() string
	// push sends variants to repo:tag and returns the digest and the time
	// spent outside the registry exchange (the tarball export), if any.
	push(ctx context.Context, reg *authRegistry, repo, tag string, variants []*dagger.Container) (digest string, prep time.Duration, err error)
}

type result struct {
	image, path      string
	run              int
	total, prep      time.Duration
	digest           string
	requests         int64
	upload, download int64
}

// runCase pushes c runs times through p to a new registry, and returns the
// figures and the manifest the registry holds at the end.
func runCase(ctx context.Context, c imageCase, p pusher, runs int) ([]result, []byte, error) {
	reg, err := newAuthRegistry()
	if err != nil {
		return nil, nil, err
	}
	defer reg.close()
	var out []result
	for i := 1; i <= runs; i++ {
		reg.reset()
		start := time.Now()
		digest, prep, err := p.push(ctx, reg, reg.host+"/bench/app", fmt.Sprintf("run%d", i), c.variants)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, result{
			image: c.name, path: p.name(), run: i, total: time.Since(start), prep: prep, digest: digest,
			requests: reg.requests.Load(), upload: reg.in.Load(), download: reg.out.Load(),
		})
	}
	ref, err := name.ParseReference(reg.host+"/bench/app@"+out[len(out)-1].digest, name.Insecure)
	if err != nil {
		return nil, nil, err
	}
	desc, err := remote.Get(ref, remote.WithContext(ctx), remote.WithAuth(&authn.Basic{Username: reg.username, Password: reg.password}))
	if err != nil {
		return nil, nil, fmt.Errorf("reading back %s: %w", ref, err)
	}
	return out, desc.Manifest, nil
}

// publishPath is Dagger's Container.Publish with the password as a Secret.
type publishPath struct{ c *dagger.Client }

func (publishPath) name() string { return "Container.Publish" }

func (p publishPath) push(ctx context.Context, reg *authRegistry, repo, tag string, variants []*dagger.Container) (string, time.Duration, error) {
	secret := p.c.SetSecret("pushcmp-registry-password", reg.password)
	first := variants[0].WithRegistryAuth(reg.host, reg.username, secret)
	ref, err := first.Publish(ctx, repo+":"+tag, dagger.ContainerPublishOpts{PlatformVariants: variants[1:]})
	if err != nil {
		return "", 0, err
	}
	_, digest, ok := strings.Cut(ref, "@")
	if !ok {
		return "", 0, fmt.Errorf("publish returned %q, which has no digest", ref)
	}
	return digest, 0, nil
}

// ocipushPath exports the OCI tarball and pushes it in process.
type ocipushPath struct{}

func (ocipushPath) name() string { return "AsTarball + ocipush" }

func (ocipushPath) push(ctx context.Context, reg *authRegistry, repo, tag string, variants []*dagger.Container) (string, time.Duration, error) {
	dir, err := os.MkdirTemp("", "pushcmp-")
	if err != nil {
		return "", 0, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "image.tar")
	start := time.Now()
	tarball := variants[0].AsTarball(dagger.ContainerAsTarballOpts{PlatformVariants: variants[1:]})
	if _, err := tarball.Export(ctx, file); err != nil {
		return "", 0, err
	}
	prep := time.Since(start)
	res, err := ocipush.Push(ctx, file, ocipush.PushOptions{
		Repository: repo, Tags: []string{tag}, Username: reg.username, Password: reg.password, Insecure: true,
	})
	return res.Digest, prep, err
}

// authRegistry is an in-memory OCI registry on loopback that wants basic
// auth, counting requests and body bytes in each direction.
type authRegistry struct {
	host, username, password string
	srv                      *http.Server
	requests, in, out        atomic.Int64
}

func newAuthRegistry() (*authRegistry, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	token := make([]byte, 1100) // a decoded ECR token is about 1.5 KB of base64
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	r := &authRegistry{host: ln.Addr().String(), username: "AWS", password: base64.StdEncoding.EncodeToString(token)}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.requests.Add(1)
		if u, p, ok := req.BasicAuth(); !ok || u != r.username || p != r.password {
			w.Header().Set("WWW-Authenticate", `Basic realm="pushcmp"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		req.Body = &countingReader{r: req.Body, n: &r.in}
		inner.ServeHTTP(&countingWriter{ResponseWriter: w, n: &r.out}, req)
	}), ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Printf("registry: %v", err)
		}
	}()
	return r, nil
}

func (r *authRegistry) reset() { r.requests.Store(0); r.in.Store(0); r.out.Store(0) }
func (r *authRegistry) close() { _ = r.srv.Close() }

type countingReader struct {
	r io.ReadCloser
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
func (c *countingReader) Close() error { return c.r.Close() }

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

func report(w io.Writer, rs []result) {
	fmt.Fprintf(w, "| image | path | push | time | of which export | requests | uploaded | downloaded | digest |\n|---|---|---|---|---|---|---|---|---|\n")
	digests := map[string]map[string]map[string]bool{} // image -> path -> digests
	var order []string
	for _, r := range rs {
		kind := "first"
		if r.run > 1 {
			kind = fmt.Sprintf("re-push %d", r.run-1)
		}
		prep := "–"
		if r.prep > 0 {
			prep = r.prep.Round(10 * time.Millisecond).String()
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %d | %s | %s | %s |\n", r.image, r.path, kind,
			r.total.Round(10*time.Millisecond), prep, r.requests, size(r.upload), size(r.download), short(r.digest))
		if digests[r.image] == nil {
			digests[r.image] = map[string]map[string]bool{}
			order = append(order, r.image)
		}
		if digests[r.image][r.path] == nil {
			digests[r.image][r.path] = map[string]bool{}
		}
		digests[r.image][r.path][r.digest] = true
	}
	fmt.Fprintln(w)
	for _, image := range order {
		all := map[string]bool{}
		for _, set := range digests[image] {
			for d := range set {
				all[d] = true
			}
		}
		unstable := false
		for _, set := range digests[image] {
			unstable = unstable || len(set) > 1
		}
		fmt.Fprintf(w, "digests of %s: %d distinct over %d paths (%s)\n", image, len(all), len(digests[image]), stability(len(all), len(digests[image]), unstable))
	}
}

func stability(distinct, paths int, unstable bool) string {
	switch {
	case unstable:
		return "UNSTABLE: the same image pushed again by one path got another digest"
	case distinct == 1:
		return "the same digest on every push, both paths"
	case distinct == paths:
		return "stable per path, but the paths build different manifests"
	}
	return fmt.Sprintf("%d digests over %d paths", distinct, paths)
}

// size formats a byte count in binary units.
func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func short(d string) string {
	if len(d) > 19 {
		return d[:19] + "…"
	}
	return d
}
