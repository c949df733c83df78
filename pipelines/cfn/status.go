package cfn

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// errNotDeployed marks a stack that exists only by name: deleted, or
// waiting on a change set that was never executed.
var errNotDeployed = errors.New("stack has no deployed resources")

// checkStatus refuses stacks whose outputs cannot be trusted: any *_FAILED
// state, and ROLLBACK_* (a first deploy that failed and was rolled back).
// In-progress and UPDATE_ROLLBACK_COMPLETE stacks are accepted: they still
// carry the outputs of their last good deploy.
func checkStatus(name string, s types.Stack) error {
	status := string(s.StackStatus)
	switch {
	case status == string(types.StackStatusDeleteComplete):
		return fmt.Errorf("stack %s was deleted: %w", name, errNotDeployed)
	case status == string(types.StackStatusReviewInProgress):
		return fmt.Errorf("stack %s has a change set that was never executed: %w", name, errNotDeployed)
	case strings.HasSuffix(status, "_FAILED") || strings.HasPrefix(status, "ROLLBACK_"):
		reason := ""
		if r := aws.ToString(s.StackStatusReason); r != "" {
			reason = fmt.Sprintf(" (%s)", r)
		}
		hint := "fix the cause shown in the stack events and deploy again"
		if status == string(types.StackStatusRollbackComplete) {
			hint = "delete the stack, fix the cause shown in the stack events and deploy again"
		}
		return fmt.Errorf("stack %s is in state %s%s: its outputs cannot be used; %s", name, status, reason, hint)
	}
	return nil
}
