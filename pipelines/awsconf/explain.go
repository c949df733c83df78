package awsconf

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/aws/smithy-go"
)

// Explain turns an SDK error into one line that says what failed and what to
// do about it. action names the API call (e.g. "ecr:CreateRepository") so an
// AccessDenied tells the user which permission the role lacks. The error
// stays wrapped, so errors.As still finds the API error.
func Explain(action string, err error) error {
	if err == nil {
		return nil
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch code := apiErr.ErrorCode(); {
		case code == "AccessDenied" || code == "AccessDeniedException" || code == "UnauthorizedOperation":
			return fmt.Errorf("%s: access denied: %s (check the deploy role's policy): %w", action, missingPermission(action, apiErr.ErrorMessage()), err)
		case code == "UnrecognizedClientException" || code == "InvalidClientTokenId" || code == "InvalidSignatureException" || code == "SignatureDoesNotMatch":
			return fmt.Errorf("%s: AWS rejected the credentials (%s): check the access key, secret key and session token: %w", action, code, err)
		case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired":
			return fmt.Errorf("%s: the AWS session token has expired: refresh the credentials and retry: %w", action, err)
		case strings.Contains(code, "Throttl") || code == "TooManyRequestsException":
			return fmt.Errorf("%s: still throttled after retries: lower the parallelism or retry later: %w", action, err)
		}
		return fmt.Errorf("%s: %w", action, err)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("%s: cannot resolve %s: check the region and the network (is AWS reachable from here?): %w", action, dnsErr.Name, err)
	}
	return fmt.Errorf("%s: %w", action, err)
}

// deniedAction finds the permission in AWS's own access-denied message:
// "… is not authorized to perform: iam:PassRole on resource: …" or
// "… because no identity-based policy allows the kms:Decrypt action".
var deniedAction = regexp.MustCompile(`(?:not authorized to perform:?|policy allows the) ([a-z0-9-]+:[A-Za-z0-9*]+)`)

// missingPermission names the permission AWS says is missing, which is not
// always the call's own (RegisterTaskDefinition needs iam:PassRole, an S3
// upload kms:GenerateDataKey); without one in the message, the call's.
func missingPermission(action, message string) string {
	if m := deniedAction.FindStringSubmatch(message); m != nil {
		if m[1] != action {
			return fmt.Sprintf("the credentials in use lack the %s permission, which %s needs", m[1], action)
		}
		return fmt.Sprintf("the credentials in use lack the %s permission", m[1])
	}
	return fmt.Sprintf("the credentials in use lack the %s permission", action)
}

// NeedsAccount is the error of a function that needs AWS credentials when
// none were given: it names the function the user called, and the example
// command repeats that call with with-aws in front (plus extra, e.g.
// "--target aws" for deploy and plan).
func NeedsAccount(function, extra string) error {
	call := strings.TrimSpace(function + " " + extra)
	return fmt.Errorf("%s needs an AWS account: call with-aws first, e.g. dagger call --source=. with-aws --region eu-west-1 --access-key-id env:AWS_ACCESS_KEY_ID --secret-access-key env:AWS_SECRET_ACCESS_KEY %s", function, call)
}
