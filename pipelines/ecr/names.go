package ecr

import (
	"fmt"
	"regexp"
	"strings"
)

// ECR's own rules for repository names (CreateRepository API reference):
// 2 to 256 characters, lowercase path components separated by "/".
var repositoryNamePattern = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// The OCI distribution rules for tags and digests, checked before a request so
// the user sees which value is wrong rather than an InvalidParameterException.
var (
	tagPattern    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestPattern = regexp.MustCompile(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$`)
)

// ValidateRepositoryName reports a clear error when name is not a valid ECR
// repository name.
func ValidateRepositoryName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty ECR repository name: pass a name such as my-app or team/my-app")
	case len(name) < 2 || len(name) > 256:
		return fmt.Errorf("invalid ECR repository name %q: it must be 2 to 256 characters long", name)
	case !repositoryNamePattern.MatchString(name):
		return fmt.Errorf("invalid ECR repository name %q: use lowercase letters, digits and '.', '_', '-' between them, with '/' separating path parts (e.g. team/my-app)", name)
	}
	return nil
}

func validateTag(tag string) error {
	if !tagPattern.MatchString(tag) {
		return fmt.Errorf("invalid image tag %q: use up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'", tag)
	}
	return nil
}

func validateDigest(digest string) error {
	if !digestPattern.MatchString(digest) {
		return fmt.Errorf("invalid image digest %q: expected a form like sha256:<64 hex digits>", digest)
	}
	return nil
}

// RegistryHost returns the host name (no scheme) of the private registry of an
// account in a region, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com.
func RegistryHost(accountID, region string) string {
	suffix := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	return fmt.Sprintf("%s.dkr.ecr.%s.%s", accountID, region, suffix)
}

// ImageRef is an ECR image reference split into its parts.
type ImageRef struct {
	// Host of the registry, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com.
	Host string
	// AccountID (registry id) and Region read from the host.
	AccountID string
	Region    string
	// Repository name, e.g. team/my-app.
	Repository string
	// Tag and Digest, when the reference carries them.
	Tag    string
	Digest string
}

var registryHostPattern = regexp.MustCompile(`^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$`)

// ParseRepositoryURI splits a repository URI as ECR reports it
// (123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app), optionally
// followed by :tag and/or @digest and optionally prefixed by https://.
func ParseRepositoryURI(uri string) (ImageRef, error) {
	rest := strings.TrimPrefix(strings.TrimPrefix(uri, "https://"), "http://")
	host, path, ok := strings.Cut(rest, "/")
	if !ok || path == "" {
		return ImageRef{}, fmt.Errorf("invalid ECR repository URI %q: expected <account>.dkr.ecr.<region>.amazonaws.com/<repository>", uri)
	}
	m := registryHostPattern.FindStringSubmatch(host)
	if m == nil {
		return ImageRef{}, fmt.Errorf("invalid ECR repository URI %q: host %q is not an ECR private registry (<account>.dkr.ecr.<region>.amazonaws.com)", uri, host)
	}
	ref := ImageRef{Host: host, AccountID: m[1], Region: m[2]}
	if name, digest, found := strings.Cut(path, "@"); found {
		if err := validateDigest(digest); err != nil {
			return ImageRef{}, fmt.Errorf("in ECR URI %q: %w", uri, err)
		}
		path, ref.Digest = name, digest
	}
	if i := strings.LastIndex(path, ":"); i >= 0 {
		if err := validateTag(path[i+1:]); err != nil {
			return ImageRef{}, fmt.Errorf("in ECR URI %q: %w", uri, err)
		}
		path, ref.Tag = path[:i], path[i+1:]
	}
	if err := ValidateRepositoryName(path); err != nil {
		return ImageRef{}, fmt.Errorf("in ECR URI %q: %w", uri, err)
	}
	ref.Repository = path
	return ref, nil
}
