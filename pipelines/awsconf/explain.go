package awsconf

import (
	"errors"
	"fmt"
	"net"
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
			return fmt.Errorf("%s: access denied: the credentials in use lack the %s permission (check the deploy role's policy): %w", action, action, err)
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
