package ecr

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// Registry holds what a registry client needs to push to ECR. Password is a
// secret: hand it to Dagger as a secret, never print it. String and GoString
// redact it so a stray %v does not leak it.
type Registry struct {
	// Host without scheme, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com.
	Host     string
	Username string
	Password string
	// ExpiresAt is when the password stops working (12 hours after issue).
	ExpiresAt time.Time
}

// String describes the registry without the password.
func (r Registry) String() string {
	return fmt.Sprintf("ecr.Registry{Host:%s Username:%s Password:<redacted> ExpiresAt:%s}", r.Host, r.Username, r.ExpiresAt.Format(time.RFC3339))
}

// GoString is String, so %#v redacts the password too.
func (r Registry) GoString() string { return r.String() }

// Login fetches a registry password for the default registry of the
// configured account and region.
func (c *Client) Login(ctx context.Context) (Registry, error) {
	out, err := c.api.GetAuthorizationToken(ctx, &awsecr.GetAuthorizationTokenInput{})
	if err != nil {
		return Registry{}, awsconf.Explain("ecr:GetAuthorizationToken", err)
	}
	if len(out.AuthorizationData) == 0 {
		return Registry{}, errors.New("ecr:GetAuthorizationToken returned no authorization data: retry, or check that ECR is available in this region")
	}
	data := out.AuthorizationData[0]
	user, password, err := DecodeToken(aws.ToString(data.AuthorizationToken))
	if err != nil {
		return Registry{}, fmt.Errorf("ecr:GetAuthorizationToken: %w", err)
	}
	host := registryHostFromEndpoint(aws.ToString(data.ProxyEndpoint))
	if host == "" {
		return Registry{}, errors.New("ecr:GetAuthorizationToken returned no registry endpoint: retry, or check the endpoint override")
	}
	return Registry{Host: host, Username: user, Password: password, ExpiresAt: aws.ToTime(data.ExpiresAt)}, nil
}

// registryHostFromEndpoint turns "https://host/" into "host".
func registryHostFromEndpoint(endpoint string) string {
	host := endpoint
	if _, rest, ok := strings.Cut(host, "://"); ok {
		host = rest
	}
	return strings.TrimRight(host, "/")
}

// DecodeToken splits an ECR authorization token (base64 of "user:password")
// into user and password. Errors never include the token or what it decodes
// to, since both are secrets.
func DecodeToken(token string) (user, password string, err error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return "", "", errors.New("the ECR authorization token is empty")
	}
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil {
		// Deliberately not wrapped: keep only the kind of failure.
		return "", "", errors.New("the ECR authorization token is not valid base64 (was it truncated or altered?)")
	}
	user, password, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errors.New("the decoded ECR authorization token has no ':' between user name and password")
	}
	if user == "" || password == "" {
		return "", "", errors.New("the decoded ECR authorization token has an empty user name or password")
	}
	return user, password, nil
}
