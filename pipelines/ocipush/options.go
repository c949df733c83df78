package ocipush

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// PushOptions says where Push sends an image and how it reaches the registry.
type PushOptions struct {
	// Repository is the target without tag or digest, e.g.
	// "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app" or "registry:5000/app".
	Repository string
	// Tags are the tags to point at the pushed image; at least one.
	Tags []string
	// Credentials; an empty Username means anonymous access. For ECR the
	// user is "AWS" and the password is the decoded authorization token.
	Username string
	Password string
	// Insecure allows plain http, for a registry:2 service without TLS.
	Insecure bool
	// Dial, when set ("host:port"), is where connections to the registry
	// host actually go, so a registry bound under another hostname can be
	// addressed by its public name. TLS still verifies the public name.
	Dial string
	// Log receives human progress lines; nil discards them.
	Log func(string)
	// Jobs is the number of blobs uploaded in parallel; 0 keeps the default (4).
	Jobs int
}

// PullOptions says which image Pull fetches and how it writes it.
type PullOptions struct {
	// Credentials; an empty Username means anonymous access.
	Username string
	Password string
	// Insecure allows plain http; see PushOptions.Insecure.
	Insecure bool
	// Dial redirects connections to the registry host; see PushOptions.Dial.
	Dial string
	// Platform picks the image out of a multi-platform index, as
	// "os/arch[/variant]"; empty means linux/amd64. When given, a
	// single-platform image must match it.
	Platform string
	// Format of the written tarball: FormatOCI (default) or FormatDocker.
	Format string
	// Log receives human progress lines; nil discards them.
	Log func(string)
}

// endpoint holds what Push and Pull share to reach a registry.
type endpoint struct {
	username, password string
	insecure           bool
	dial               string
	log                func(string)
}

// Tarball formats Pull can write.
const (
	// FormatOCI is an OCI image layout in a tar, the format AsTarball writes;
	// it keeps the manifest digest unchanged.
	FormatOCI = "oci"
	// FormatDocker is a `docker save` style tarball.
	FormatDocker = "docker"
)

// PushResult is what Push reports; it is JSON-encodable.
type PushResult struct {
	// Digest of the pushed manifest or index (sha256:…).
	Digest string `json:"digest"`
	// Ref is repository@digest, the pinned reference to deploy.
	Ref string `json:"ref"`
	// Tags now pointing at Digest.
	Tags []string `json:"tags"`
	// Pushed is false when the registry already held the digest.
	Pushed bool `json:"pushed"`
	// Platforms the image runs on, e.g. ["linux/amd64", "linux/arm64"].
	Platforms []string `json:"platforms"`
}

// PullResult is what Pull reports; it is JSON-encodable.
type PullResult struct {
	// Ref is the reference that was pulled, as given.
	Ref string `json:"ref"`
	// Digest is what Ref resolved to: the index digest for a multi-platform
	// image, else the image manifest digest.
	Digest string `json:"digest"`
	// ImageDigest is the manifest digest of the image written to the file.
	ImageDigest string `json:"imageDigest"`
	// Platform of the written image.
	Platform string `json:"platform"`
	// File is the tarball written, Format its format.
	File   string `json:"file"`
	Format string `json:"format"`
}

// tagPattern is the tag grammar of the OCI distribution spec.
var tagPattern = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)

// ValidateTag reports whether tag satisfies the OCI tag grammar.
func ValidateTag(tag string) error {
	if tagPattern.MatchString(tag) {
		return nil
	}
	return fmt.Errorf("invalid tag %q: a tag is 1 to 128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'", tag)
}

// normalizeTags validates every tag and drops duplicates, keeping order.
func normalizeTags(tags []string) ([]string, error) {
	if len(tags) == 0 {
		return nil, errors.New("no tag given: give at least one tag to point at the pushed image")
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		if err := ValidateTag(t); err != nil {
			return nil, err
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// nameOptions turns the connection settings into name parsing options.
func (e endpoint) nameOptions() []name.Option {
	if e.insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// validate checks the dial address before any network use.
func (e endpoint) validate() error {
	if e.password != "" && e.username == "" {
		return errors.New("a password was given without a username: give both (for ECR the username is AWS)")
	}
	if e.dial == "" {
		return nil
	}
	if host, port, err := net.SplitHostPort(e.dial); err != nil || host == "" || port == "" {
		return fmt.Errorf("invalid dial address %q: want host:port", e.dial)
	}
	return nil
}

// parseRepository parses a repository given without tag or digest.
func parseRepository(repo string, e endpoint) (name.Repository, error) {
	if repo == "" {
		return name.Repository{}, errors.New("no repository given: want e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app")
	}
	if strings.Contains(repo, "@") {
		return name.Repository{}, fmt.Errorf("repository %q contains a digest: give the repository alone", repo)
	}
	if last := repo[strings.LastIndex(repo, "/")+1:]; strings.Contains(last, ":") {
		return name.Repository{}, fmt.Errorf("repository %q contains a tag: give the repository alone and the tags separately", repo)
	}
	r, err := name.NewRepository(repo, e.nameOptions()...)
	if err != nil {
		return name.Repository{}, fmt.Errorf("invalid repository %q: %w", repo, err)
	}
	return r, nil
}

// logf sends one formatted line to log, if any.
func logf(log func(string), format string, args ...any) {
	if log != nil {
		log(fmt.Sprintf(format, args...))
	}
}
