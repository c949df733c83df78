package awsconf

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

// Access denied names the permission AWS's message names, which may not be
// the call's own.
func TestExplainNamesThePermissionAWSNames(t *testing.T) {
	for _, tc := range []struct {
		name, action, message, want string
	}{
		{"another permission", "ecs:RegisterTaskDefinition",
			"User: arn:aws:sts::123456789012:assumed-role/deploy/gh is not authorized to perform: iam:PassRole on resource: arn:aws:iam::123456789012:role/task",
			"lack the iam:PassRole permission, which ecs:RegisterTaskDefinition needs"},
		{"identity-based policy wording", "s3:PutObject",
			"User: arn:aws:sts::1:assumed-role/x is not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:eu-west-1:1:key/k because no identity-based policy allows the kms:GenerateDataKey action",
			"lack the kms:GenerateDataKey permission, which s3:PutObject needs"},
		{"the call's own", "ecr:CreateRepository",
			"User: arn:aws:iam::1:user/ci is not authorized to perform: ecr:CreateRepository on resource: *",
			"lack the ecr:CreateRepository permission (check"},
		{"no permission in the message", "s3:ListBucket", "Access Denied", "lack the s3:ListBucket permission (check"},
	} {
		err := Explain(tc.action, &smithy.GenericAPIError{Code: "AccessDenied", Message: tc.message})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		var api smithy.APIError
		if !errors.As(err, &api) {
			t.Errorf("%s: the API error is no longer wrapped", tc.name)
		}
	}
}

// The hint names the function called, with the arguments that apply.
func TestNeedsAccount(t *testing.T) {
	for _, tc := range []struct{ function, extra, want string }{
		{"deploy --dry-run", "--target aws", "deploy --dry-run needs an AWS account: call with-aws first, e.g. dagger call --source=. with-aws --region eu-west-1 --access-key-id env:AWS_ACCESS_KEY_ID --secret-access-key env:AWS_SECRET_ACCESS_KEY deploy --dry-run --target aws"},
		{"plan", "--target aws", "plan needs an AWS account: call with-aws first, e.g. dagger call --source=. with-aws --region eu-west-1 --access-key-id env:AWS_ACCESS_KEY_ID --secret-access-key env:AWS_SECRET_ACCESS_KEY plan --target aws"},
		{"publish", "", "publish needs an AWS account: call with-aws first, e.g. dagger call --source=. with-aws --region eu-west-1 --access-key-id env:AWS_ACCESS_KEY_ID --secret-access-key env:AWS_SECRET_ACCESS_KEY publish"},
	} {
		if got := NeedsAccount(tc.function, tc.extra).Error(); got != tc.want {
			t.Errorf("NeedsAccount(%s, %s) = %q, want %q", tc.function, tc.extra, got, tc.want)
		}
	}
}
