// Package ocitest provides an in-process OCI registry behind basic auth, and
// builders for the image tarballs Dagger's AsTarball writes, for tests of
// code that pushes and pulls images.
package ocitest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is an in-memory OCI registry on a loopback httptest server. When
// Username is set, every request must carry those basic-auth credentials,
// as Amazon ECR requires; refused requests get a 401 with a Basic challenge.
type Registry struct {
	// Host is "127.0.0.1:port", usable as the registry part of a repository.
	Host string
	// Username and Password are the credentials the registry accepts.
	Username, Password string

	mu       sync.Mutex
	requests int
	writes   []string
}

// NewRegistry starts a registry that accepts username and password (an
// empty username means no authentication) and stops it when the test ends.
func NewRegistry(t testing.TB, username, password string) *Registry {
	t.Helper()
	r := &Registry{Username: username, Password: password}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.record(req)
		if !r.authorized(req) {
			w.Header().Set("WWW-Authenticate", `Basic realm="ocitest"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": "UNAUTHORIZED", "message": "authentication required"}}})
			return
		}
		inner.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.Host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// authorized checks the basic-auth credentials of req.
func (r *Registry) authorized(req *http.Request) bool {
	if r.Username == "" {
		return true
	}
	u, p, ok := req.BasicAuth()
	return ok && u == r.Username && p == r.Password
}

// record counts req, and notes it as a write when it uploads or tags.
func (r *Registry) record(req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	switch req.Method {
	case http.MethodPut, http.MethodPost, http.MethodPatch:
		r.writes = append(r.writes, req.Method+" "+req.URL.Path)
	}
}

// Requests is the number of requests the registry has seen.
func (r *Registry) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// Writes lists the PUT, POST and PATCH requests seen, as "METHOD /path".
func (r *Registry) Writes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.writes...)
}

// Reset forgets the requests counted so far.
func (r *Registry) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests, r.writes = 0, nil
}

// Repo is the repository path under this registry, e.g. "127.0.0.1:1234/app".
func (r *Registry) Repo(path string) string {
	return r.Host + "/" + path
}

// Head asks the registry, with its own credentials, what ref points at.
func (r *Registry) Head(t testing.TB, ref string) v1.Descriptor {
	t.Helper()
	parsed, err := name.ParseReference(ref)
	if err != nil {
		t.Fatalf("parse %s: %v", ref, err)
	}
	auth := authn.Anonymous
	if r.Username != "" {
		auth = authn.FromConfig(authn.AuthConfig{Username: r.Username, Password: r.Password})
	}
	desc, err := remote.Head(parsed, remote.WithAuth(auth))
	if err != nil {
		t.Fatalf("head %s: %v", ref, err)
	}
	return *desc
}

// ECRPassword returns a random password shaped like the one in a decoded ECR
// authorization token: about 1.5 KB of base64.
func ECRPassword(t testing.TB) string {
	t.Helper()
	buf := make([]byte, 1100)
	if _, err := rand.Read(buf); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf)
}
