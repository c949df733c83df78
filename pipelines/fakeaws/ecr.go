package fakeaws

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

type ecrState struct {
	repos  map[string]*ecrRepo
	tokens map[string]bool // registry passwords GetAuthorizationToken issued
}

func (s *ecrState) init() {
	s.repos = map[string]*ecrRepo{}
	s.tokens = map[string]bool{}
}

type ecrRepo struct {
	name, mutability, lifecycle string
	exclusions                  []string
	scanOnPush                  bool
	created                     time.Time
	images                      map[string]*ecrImage // by digest
}

type ecrImage struct {
	digest, mediaType string
	manifest          []byte
	tags              []string
	pushedAt          time.Time
}

// CreateRepository adds an empty ECR repository, as a test's starting state.
func (a *AWS) CreateRepository(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ecr.repos[name] = &ecrRepo{name: name, mutability: "MUTABLE", created: a.now, images: map[string]*ecrImage{}}
}

// Image is an image the fake ECR holds.
type Image struct {
	Repository, Digest string
	Tags               []string
}

// Images lists what repo holds (pushed through the registry or PutImage),
// oldest first.
func (a *AWS) Images(repo string) []Image {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.ecr.repos[repo]
	if r == nil {
		return nil
	}
	var out []Image
	for _, im := range r.sortedImages() {
		out = append(out, Image{Repository: repo, Digest: im.digest, Tags: append([]string(nil), im.tags...)})
	}
	return out
}

// RepositoryURI is host/repo: the fake registry serves it.
func (a *AWS) RepositoryURI(repo string) string { return a.Host + "/" + repo }

func (r *ecrRepo) sortedImages() []*ecrImage {
	out := make([]*ecrImage, 0, len(r.images))
	for _, im := range r.images {
		out = append(out, im)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pushedAt.Before(out[j].pushedAt) })
	return out
}

func (a *AWS) ecrRepoJSON(r *ecrRepo) map[string]any {
	filters := []any{}
	for _, e := range r.exclusions {
		filters = append(filters, map[string]any{"filter": e, "filterType": "WILDCARD"})
	}
	return map[string]any{
		"repositoryName": r.name, "repositoryUri": a.RepositoryURI(r.name),
		"repositoryArn": a.arnOf("ecr", "repository/"+r.name), "registryId": a.account,
		"imageTagMutability": r.mutability, "imageTagMutabilityExclusionFilters": filters,
		"imageScanningConfiguration": map[string]any{"scanOnPush": r.scanOnPush},
		"createdAt":                  epoch(r.created),
	}
}

func (a *AWS) ecrImageJSON(r *ecrRepo, im *ecrImage) map[string]any {
	return map[string]any{
		"registryId": a.account, "repositoryName": r.name, "imageDigest": im.digest,
		"imageTags": im.tags, "imageSizeInBytes": imageSize(im.manifest),
		"imagePushedAt": epoch(im.pushedAt), "imageManifestMediaType": im.mediaType,
	}
}

// imageSize sums the config and layer sizes of an image manifest; an index
// counts its own bytes.
func imageSize(manifest []byte) int64 {
	var m struct {
		Config struct{ Size int64 }
		Layers []struct{ Size int64 }
	}
	_ = json.Unmarshal(manifest, &m)
	n := m.Config.Size
	for _, l := range m.Layers {
		n += l.Size
	}
	if n == 0 {
		n = int64(len(manifest))
	}
	return n
}

func repoNotFound(name, account string) *Fault {
	return badRequest("RepositoryNotFoundException", "The repository with name '%s' does not exist in the registry with id '%s'", name, account)
}

func (a *AWS) ecrOp(op string, in map[string]any) (any, *Fault) {
	name := str(in, "repositoryName")
	repo := a.ecr.repos[name]
	needRepo := func() *Fault {
		if repo == nil {
			return repoNotFound(name, a.account)
		}
		return nil
	}
	switch op {
	case "CreateRepository":
		if repo != nil {
			return nil, badRequest("RepositoryAlreadyExistsException", "The repository with name '%s' already exists in the registry with id '%s'", name, a.account)
		}
		repo = &ecrRepo{name: name, mutability: "MUTABLE", created: a.tick(), images: map[string]*ecrImage{}}
		if m := str(in, "imageTagMutability"); m != "" {
			repo.mutability = m
		}
		for _, f := range list(in, "imageTagMutabilityExclusionFilters") {
			repo.exclusions = append(repo.exclusions, str(f, "filter"))
		}
		repo.scanOnPush = flag(obj(in, "imageScanningConfiguration"), "scanOnPush")
		a.ecr.repos[name] = repo
		return map[string]any{"repository": a.ecrRepoJSON(repo)}, nil
	case "DescribeRepositories":
		names := strs(in, "repositoryNames")
		if len(names) == 0 {
			for n := range a.ecr.repos {
				names = append(names, n)
			}
			sort.Strings(names)
		}
		var out []any
		for _, n := range names {
			r := a.ecr.repos[n]
			if r == nil {
				return nil, repoNotFound(n, a.account)
			}
			out = append(out, a.ecrRepoJSON(r))
		}
		return map[string]any{"repositories": out}, nil
	case "PutLifecyclePolicy":
		if f := needRepo(); f != nil {
			return nil, f
		}
		repo.lifecycle = str(in, "lifecyclePolicyText")
		return map[string]any{"registryId": a.account, "repositoryName": name, "lifecyclePolicyText": repo.lifecycle}, nil
	case "GetLifecyclePolicy":
		if f := needRepo(); f != nil {
			return nil, f
		}
		if repo.lifecycle == "" {
			return nil, badRequest("LifecyclePolicyNotFoundException", "Lifecycle policy does not exist for the repository with name '%s'", name)
		}
		return map[string]any{"registryId": a.account, "repositoryName": name, "lifecyclePolicyText": repo.lifecycle}, nil
	case "PutImageTagMutability":
		if f := needRepo(); f != nil {
			return nil, f
		}
		repo.mutability = str(in, "imageTagMutability")
		repo.exclusions = nil
		for _, f := range list(in, "imageTagMutabilityExclusionFilters") {
			repo.exclusions = append(repo.exclusions, str(f, "filter"))
		}
		return map[string]any{"registryId": a.account, "repositoryName": name, "imageTagMutability": repo.mutability}, nil
	case "GetAuthorizationToken":
		sum := sha256.Sum256(fmt.Appendf(nil, "%s-%d", a.account, a.nextID()))
		password := strings.Repeat(base64.StdEncoding.EncodeToString(sum[:]), 30)
		a.ecr.tokens[password] = true
		return map[string]any{"authorizationData": []any{map[string]any{
			"authorizationToken": base64.StdEncoding.EncodeToString([]byte("AWS:" + password)),
			"expiresAt":          epoch(a.now.Add(12 * time.Hour)),
			"proxyEndpoint":      a.URL,
		}}}, nil
	case "DescribeImages":
		if f := needRepo(); f != nil {
			return nil, f
		}
		ids := list(in, "imageIds")
		var out []any
		if len(ids) == 0 {
			for _, im := range repo.sortedImages() {
				out = append(out, a.ecrImageJSON(repo, im))
			}
		}
		for _, id := range ids {
			im := repo.find(id)
			if im == nil {
				return nil, badRequest("ImageNotFoundException", "The image with imageId {%s} does not exist within the repository with name '%s' in the registry with id '%s'", idString(id), name, a.account)
			}
			out = append(out, a.ecrImageJSON(repo, im))
		}
		return map[string]any{"imageDetails": out}, nil
	case "BatchGetImage":
		if f := needRepo(); f != nil {
			return nil, f
		}
		images, failures := []any{}, []any{}
		for _, id := range list(in, "imageIds") {
			im := repo.find(id)
			if im == nil {
				failures = append(failures, map[string]any{"imageId": id, "failureCode": "ImageNotFound", "failureReason": "Requested image not found"})
				continue
			}
			images = append(images, map[string]any{"registryId": a.account, "repositoryName": name,
				"imageId":       map[string]any{"imageDigest": im.digest, "imageTag": str(id, "imageTag")},
				"imageManifest": string(im.manifest), "imageManifestMediaType": im.mediaType})
		}
		return map[string]any{"images": images, "failures": failures}, nil
	case "PutImage":
		if f := needRepo(); f != nil {
			return nil, f
		}
		manifest, tag := []byte(str(in, "imageManifest")), str(in, "imageTag")
		digest := digestOf(manifest)
		mediaType := str(in, "imageManifestMediaType")
		if mediaType == "" {
			mediaType = manifestMediaType(manifest)
		}
		if f := repo.tagAllowed(tag, digest); f != nil {
			return nil, f
		}
		if im := repo.images[digest]; im != nil && slices.Contains(im.tags, tag) {
			return nil, badRequest("ImageAlreadyExistsException", "Image with digest '%s' and tag '%s' already exists in the repository with name '%s' in registry with id '%s'", digest, tag, name, a.account)
		}
		a.storeImage(repo, digest, mediaType, manifest, tag)
		// Keep the registry side in step, as in ECR where both are one store.
		req := httptest.NewRequest(http.MethodPut, "/v2/"+name+"/manifests/"+tag, bytes.NewReader(manifest))
		req.Header.Set("Content-Type", mediaType)
		a.registry.ServeHTTP(httptest.NewRecorder(), req)
		return map[string]any{"image": map[string]any{"registryId": a.account, "repositoryName": name,
			"imageId": map[string]any{"imageDigest": digest, "imageTag": tag}, "imageManifest": string(manifest)}}, nil
	case "DescribeImageScanFindings":
		if f := needRepo(); f != nil {
			return nil, f
		}
		id := obj(in, "imageId")
		im := repo.find(id)
		if im == nil {
			return nil, badRequest("ImageNotFoundException", "The image with imageId {%s} does not exist within the repository with name '%s'", idString(id), name)
		}
		return map[string]any{"registryId": a.account, "repositoryName": name,
			"imageId":           map[string]any{"imageDigest": im.digest},
			"imageScanStatus":   map[string]any{"status": "COMPLETE", "description": "The scan was completed successfully."},
			"imageScanFindings": map[string]any{"findings": []any{}, "findingSeverityCounts": map[string]any{}}}, nil
	}
	return nil, a.unknownOp("ecr", op)
}

func idString(id map[string]any) string {
	if d := str(id, "imageDigest"); d != "" {
		return "imageDigest=" + d
	}
	return "imageTag=" + str(id, "imageTag")
}

// find resolves an imageId ({imageDigest} or {imageTag}).
func (r *ecrRepo) find(id map[string]any) *ecrImage {
	if d := str(id, "imageDigest"); d != "" {
		im := r.images[d]
		if im != nil && str(id, "imageTag") != "" && !slices.Contains(im.tags, str(id, "imageTag")) {
			return nil
		}
		return im
	}
	tag := str(id, "imageTag")
	for _, im := range r.images {
		if slices.Contains(im.tags, tag) {
			return im
		}
	}
	return nil
}

// tagAllowed refuses to move an immutable tag to another digest.
func (r *ecrRepo) tagAllowed(tag, digest string) *Fault {
	if tag == "" {
		return nil
	}
	excluded := false
	for _, p := range r.exclusions {
		if ok, _ := path.Match(p, tag); ok {
			excluded = true
		}
	}
	immutable := strings.HasPrefix(r.mutability, "IMMUTABLE") != excluded
	for _, im := range r.images {
		if im.digest != digest && slices.Contains(im.tags, tag) && immutable {
			return badRequest("ImageTagAlreadyExistsException", "The image tag '%s' already exists in the '%s' repository and cannot be overwritten because the tag is immutable.", tag, r.name)
		}
	}
	return nil
}

// storeImage records a manifest under digest and moves tag onto it.
func (a *AWS) storeImage(r *ecrRepo, digest, mediaType string, manifest []byte, tag string) {
	if tag != "" {
		for _, im := range r.images {
			im.tags = slices.DeleteFunc(im.tags, func(t string) bool { return t == tag })
		}
	}
	im := r.images[digest]
	if im == nil {
		im = &ecrImage{digest: digest, mediaType: mediaType, manifest: manifest, pushedAt: a.tick(), tags: []string{}}
		r.images[digest] = im
	}
	if tag != "" {
		im.tags = append(im.tags, tag)
	}
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func manifestMediaType(b []byte) string {
	var m struct{ MediaType string }
	_ = json.Unmarshal(b, &m)
	if m.MediaType == "" {
		return "application/vnd.oci.image.manifest.v1+json"
	}
	return m.MediaType
}

// serveRegistry is the OCI distribution API of the fake ECR: basic auth
// with user AWS and a password GetAuthorizationToken issued; repositories
// must have been created through the ECR API first, as in ECR.
func (a *AWS) serveRegistry(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/v2/")
	repo, kind, ref := "", "", ""
	for _, k := range []string{"/manifests/", "/blobs/uploads/", "/blobs/", "/tags/list"} {
		if i := strings.LastIndex(rest, k); i >= 0 {
			repo, kind, ref = rest[:i], strings.Trim(k, "/"), rest[i+len(k):]
			break
		}
	}
	op := registryOp(r.Method, kind)
	body, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.record("registry", op, "", map[string]any{"Repository": repo, "Reference": ref})
	user, pass, ok := r.BasicAuth()
	authorized := ok && user == "AWS" && a.ecr.tokens[pass]
	known := repo == "" || a.ecr.repos[repo] != nil
	fault := a.takeFault("registry", op)
	var tagFault *Fault
	if authorized && known && op == "PutManifest" && !strings.HasPrefix(ref, "sha256:") {
		tagFault = a.ecr.repos[repo].tagAllowed(ref, digestOf(body))
	}
	a.mu.Unlock()
	switch {
	case fault != nil:
		registryError(w, fault.Status, fault.Code, fault.Message)
		return
	case !authorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="`+a.Host+`",service="ecr.amazonaws.com"`)
		registryError(w, http.StatusUnauthorized, "DENIED", "Your authorization token has expired. Reauthenticate and try again.")
		return
	case !known:
		registryError(w, http.StatusNotFound, "NAME_UNKNOWN", fmt.Sprintf("The repository with name '%s' does not exist in the registry with id '%s'", repo, a.account))
		return
	case tagFault != nil:
		registryError(w, http.StatusBadRequest, "TAG_INVALID", tagFault.Message)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	sw := &statusWriter{ResponseWriter: w}
	a.registry.ServeHTTP(sw, r)
	if op == "PutManifest" && sw.status == http.StatusCreated {
		a.mu.Lock()
		tag := ref
		if strings.HasPrefix(ref, "sha256:") {
			tag = ""
		}
		a.storeImage(a.ecr.repos[repo], digestOf(body), r.Header.Get("Content-Type"), body, tag)
		a.mu.Unlock()
	}
}

func registryOp(method, kind string) string {
	switch kind {
	case "":
		return "Ping"
	case "tags/list":
		return "ListTags"
	case "blobs/uploads":
		if method == http.MethodPost {
			return "StartUpload"
		}
		return "PutBlob"
	}
	noun := map[string]string{"manifests": "Manifest", "blobs": "Blob"}[kind]
	verb := map[string]string{http.MethodGet: "Get", http.MethodHead: "Head", http.MethodPut: "Put", http.MethodDelete: "Delete"}[method]
	return verb + noun
}

func registryError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader notes the status on its way out.
func (s *statusWriter) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// stsOp answers who the caller is and, for AssumeRole (the CDK CLI assumes
// the bootstrap roles), temporary credentials the fake accepts like any
// other: it checks no signature.
func (a *AWS) stsOp(op string, in map[string]any) (any, *Fault) {
	switch op {
	case "GetCallerIdentity":
		return map[string]any{"Account": a.account, "Arn": a.arn, "UserId": "AROAFAKE:stevedore"}, nil
	case "AssumeRole":
		role, session := str(in, "RoleArn"), str(in, "RoleSessionName")
		m := assumableRole.FindStringSubmatch(role)
		if m == nil || session == "" {
			return nil, badRequest("ValidationError", "RoleArn %q is not an IAM role ARN, or RoleSessionName is missing", role)
		}
		return map[string]any{
			"Credentials": map[string]any{"AccessKeyId": "ASIAFAKEASSUMEDROLE1", "SecretAccessKey": "fake-assumed-secret",
				"SessionToken": "fake-session-token", "Expiration": time.Now().Add(time.Hour)}, // the client's clock
			"AssumedRoleUser": map[string]any{"Arn": "arn:aws:sts::" + m[1] + ":assumed-role/" + m[2] + "/" + session,
				"AssumedRoleId": "AROAFAKEASSUMED:" + session},
		}, nil
	}
	return nil, a.unknownOp("sts", op)
}

var assumableRole = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/(?:[^/]+/)*([^/]+)$`)
