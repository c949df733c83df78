package ecr

import (
	"fmt"
	"regexp"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ECR's own rules for repository names (CreateRepository API reference):
// 2 to 256 characters, lowercase path components separated by "/".
var repositoryNamePattern = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

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

// validateDigest checks a digest before a request (go-containerregistry's
// rule), so the user sees which value is wrong rather than an
// InvalidParameterException.
func validateDigest(digest string) error {
	if _, err := v1.NewHash(digest); err != nil {
		return fmt.Errorf("invalid image digest %q: expected a form like sha256:<64 hex digits>", digest)
	}
	return nil
}
