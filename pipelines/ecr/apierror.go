package ecr

import (
	"errors"
	"fmt"
	"slices"

	"github.com/aws/smithy-go"
)

// ECR error codes this package reacts to.
const (
	codeRepositoryNotFound      = "RepositoryNotFoundException"
	codeRepositoryAlreadyExists = "RepositoryAlreadyExistsException"
	codeImageNotFound           = "ImageNotFoundException"
	codeScanNotFound            = "ScanNotFoundException"
)

// hasCode reports whether err is an AWS API error with one of codes. Codes
// rather than SDK types so a generic error from a gateway matches too.
func hasCode(err error, codes ...string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && slices.Contains(codes, apiErr.ErrorCode())
}

// errRepositoryMissing is the error for a call on a repository that does not
// exist where one is required.
// ErrRepositoryNotFound is wrapped by every error about a repository that
// does not exist, so callers (a dry run) can tell it apart.
var ErrRepositoryNotFound = errors.New("no such ECR repository")

func errRepositoryMissing(repo string) error {
	return fmt.Errorf("ECR repository %s does not exist: create it first (EnsureRepository) or check the name and region (%w)", repo, ErrRepositoryNotFound)
}
