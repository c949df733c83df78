package ecs

import (
	"context"
	"fmt"
)

// rollback returns the service to the task definition recorded before the
// rollout (not "revision - 1", which may never have run) and follows that
// deployment like the first. It returns one line for the error and whether
// the service is back on its previous task definition.
func (d *Deployer) rollback(ctx context.Context, spec Spec, failed verdict, t tracking, f *follower) (string, bool) {
	prev := shortName(t.previous)
	switch failed.kind {
	case KindCircuitBreaker:
		// ECS is already rolling back: a second rollback would only race
		// it, so verify that the circuit breaker's deployment completes.
		bt := trackDeployment(spec, failed.primary, t.taskDef)
		d.logf("%s: following the circuit breaker's rollback deployment %s of %s", spec.Service, bt.id, shortName(bt.taskDef))
		if v := f.run(ctx, bt); !v.done {
			return fmt.Sprintf("the circuit breaker's rollback to %s did not complete either: %s", shortName(bt.taskDef), v.reason), false
		}
		return fmt.Sprintf("the circuit breaker's rollback to %s completed", shortName(bt.taskDef)), true
	case KindFailed, KindTimeout:
	case KindReplaced, KindWrongRevision:
		return "not rolled back: another deployment has taken over the service", false
	default:
		return "not rolled back: the service's state is unknown or it no longer exists", false
	}
	if t.previous == "" {
		return "not rolled back: no earlier revision of the service completed its deployment, so there is none known to be good", false
	}
	if t.previous == t.taskDef {
		return fmt.Sprintf("not rolled back: the failed deployment ran %s, the task definition that was active before, so there is nothing older to return to", prev), false
	}
	d.logf("%s: rolling back to %s", spec.Service, prev)
	bt, _, err := d.startDeployment(ctx, spec, updateInput(spec, t.previous, t.taskDef, false), t.previous, t.taskDef)
	if err != nil {
		return fmt.Sprintf("rollback to %s could not start: %v", prev, err), false
	}
	if v := f.run(ctx, bt); !v.done {
		return fmt.Sprintf("rollback to %s failed too: %s", prev, v.reason), false
	}
	return fmt.Sprintf("rolled back to %s successfully", prev), true
}
