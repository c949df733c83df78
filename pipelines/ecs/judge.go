package ecs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// FailureKind classifies why a rollout failed.
type FailureKind string

// Failure kinds of a rollout.
const (
	// KindFailed: our deployment's rolloutState became FAILED.
	KindFailed FailureKind = "failed"
	// KindCircuitBreaker: the deployment circuit breaker rolled the service
	// back to an older task definition.
	KindCircuitBreaker FailureKind = "circuit-breaker-rollback"
	// KindReplaced: a newer deployment by someone else became PRIMARY.
	KindReplaced FailureKind = "replaced"
	// KindLost: our deployment vanished for no reason we could tell.
	KindLost FailureKind = "deployment-lost"
	// KindServiceMissing: the service does not exist.
	KindServiceMissing FailureKind = "service-missing"
	// KindServiceInactive: the service is DRAINING or INACTIVE.
	KindServiceInactive FailureKind = "service-inactive"
	// KindTimeout: the deployment did not finish in time.
	KindTimeout FailureKind = "timeout"
	// KindPollError: DescribeServices itself failed, so the outcome is unknown.
	KindPollError FailureKind = "poll-error"
	// KindNoDeployment: no deployment of the wanted images appeared (Follow).
	KindNoDeployment FailureKind = "no-deployment"
	// KindWrongRevision: the deployment followed is not of the revision the
	// rollout registered or forced.
	KindWrongRevision FailureKind = "wrong-revision"
	// KindRolledBack: a service deployment ended ROLLBACK_SUCCESSFUL.
	KindRolledBack FailureKind = "rolled-back"
	// KindRollbackFailed: a service deployment ended ROLLBACK_FAILED.
	KindRollbackFailed FailureKind = "rollback-failed"
	// KindStopped: a service deployment was STOPPED (by someone else, or
	// replaced by a newer one).
	KindStopped FailureKind = "stopped"
	// KindGateFailed: the pipeline gate failed (or could not run) at a
	// PAUSE hook, so the deployment was rolled back.
	KindGateFailed FailureKind = "gate-failed"
	// KindGateSkipped: a gate was configured but the deployment never
	// paused at a PAUSE hook, so the new revision went live untested.
	KindGateSkipped FailureKind = "gate-skipped"
	// KindHookTimedOut: nobody continued a PAUSE hook in time and ECS took
	// the hook's timeout action.
	KindHookTimedOut FailureKind = "hook-timed-out"
)

// tracking identifies the deployment a follower watches.
type tracking struct {
	cluster, service string
	id               string    // our deployment id
	taskDef          string    // the task definition it deploys
	created          time.Time // its createdAt; zero if unknown
	previous         string    // the task definition before the rollout
}

// verdict is the judgement of one DescribeServices answer.
type verdict struct {
	done     bool        // our deployment finished
	kind     FailureKind // non-empty: it failed
	reason   string      // one line saying why it failed
	rollback string      // what became of a rollback stevedore asked for
	err      error       // underlying API error, for errors.As
	svc      *types.Service
	ours     *types.Deployment
	primary  *types.Deployment
}

// judge decides, from one DescribeServices answer, whether our deployment
// has succeeded, failed, or is still under way. It is pure so that every
// rule can be read in one place.
func judge(out *ecs.DescribeServicesOutput, t tracking) verdict {
	if kind, msg := serviceProblem(out, t.cluster, t.service); msg != "" {
		return verdict{kind: kind, reason: msg}
	}
	svc := &out.Services[0]
	v := verdict{svc: svc, ours: deploymentByID(svc.Deployments, t.id), primary: primaryDeployment(svc.Deployments)}
	if v.primary != nil && aws.ToString(v.primary.Id) != t.id {
		v.kind, v.reason = otherPrimary(v.primary, v.ours, t)
		return v
	}
	switch {
	case v.ours == nil:
		// No PRIMARY at all: a transient answer; the timeout bounds it.
		return v
	case !sameRevision(aws.ToString(v.ours.TaskDefinition), t.taskDef):
		v.kind = KindWrongRevision
		v.reason = fmt.Sprintf("deployment %s runs %s, not %s that this rollout deploys: someone else changed the service at the same time", t.id, shortName(aws.ToString(v.ours.TaskDefinition)), shortName(t.taskDef))
	case v.ours.RolloutState == types.DeploymentRolloutStateFailed:
		v.kind = KindFailed
		v.reason = fmt.Sprintf("deployment %s of %s failed: %s", t.id, shortName(t.taskDef), orDefault(aws.ToString(v.ours.RolloutStateReason), "rolloutState FAILED"))
	case finished(svc, v.ours):
		v.done = true
	}
	return v
}

// finished: our PRIMARY deployment is COMPLETED (or, without rollout state,
// fully running) and every older deployment has drained.
func finished(svc *types.Service, d *types.Deployment) bool {
	state := d.RolloutState
	return (state == types.DeploymentRolloutStateCompleted || state == "") &&
		d.RunningCount == d.DesiredCount &&
		svc.RunningCount == svc.DesiredCount &&
		len(svc.Deployments) == 1
}

// otherPrimary explains why a deployment that is not ours is PRIMARY.
func otherPrimary(primary, ours *types.Deployment, t tracking) (FailureKind, string) {
	pid, ptd := aws.ToString(primary.Id), aws.ToString(primary.TaskDefinition)
	reason := strings.ToLower(aws.ToString(primary.RolloutStateReason))
	oursFailed := ours != nil && ours.RolloutState == types.DeploymentRolloutStateFailed
	why := ""
	if ours != nil && ours.RolloutStateReason != nil {
		why = " (" + aws.ToString(ours.RolloutStateReason) + ")"
	}
	switch {
	case strings.Contains(reason, "circuit breaker") || oursFailed:
		return KindCircuitBreaker, fmt.Sprintf("deployment %s was rolled back by the deployment circuit breaker to %s%s", t.id, shortName(ptd), why)
	case ptd != t.taskDef && (ptd == t.previous || olderRevision(ptd, t.taskDef)):
		return KindCircuitBreaker, fmt.Sprintf("deployment %s was rolled back to %s: the older task definition is PRIMARY again (most likely the deployment circuit breaker)%s", t.id, shortName(ptd), why)
	case ours != nil || createdAfter(primary, t.created):
		return KindReplaced, fmt.Sprintf("deployment %s was replaced by a newer deployment %s of %s: someone else updated the service during the rollout", t.id, pid, shortName(ptd))
	}
	return KindLost, fmt.Sprintf("deployment %s disappeared and deployment %s of %s is PRIMARY", t.id, pid, shortName(ptd))
}

func createdAfter(d *types.Deployment, t time.Time) bool {
	return t.IsZero() || d.CreatedAt == nil || d.CreatedAt.After(t)
}

// olderRevision: a and b are revisions of one family and a is the older.
func olderRevision(a, b string) bool {
	fa, ra, okA := splitRevision(a)
	fb, rb, okB := splitRevision(b)
	return okA && okB && fa == fb && ra < rb
}

func splitRevision(arn string) (string, int, bool) {
	short := shortName(arn)
	i := strings.LastIndex(short, ":")
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(short[i+1:])
	return short[:i], n, err == nil
}

func deploymentByID(ds []types.Deployment, id string) *types.Deployment {
	for i := range ds {
		if aws.ToString(ds[i].Id) == id {
			return &ds[i]
		}
	}
	return nil
}

func primaryDeployment(ds []types.Deployment) *types.Deployment {
	for i := range ds {
		if aws.ToString(ds[i].Status) == "PRIMARY" {
			return &ds[i]
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// followState is what Follow knows between polls.
type followState struct {
	want  map[string]string // container -> image of the release
	start time.Time         // when the release began (FollowSpec.Since)
	first bool              // the next answer is the first one
	t     tracking          // the release's deployment; id "" until found
}

// judgeFollow decides, from one DescribeServices answer and the images of
// the task definitions it lists (ARN -> container -> image), how a release
// started by someone else is doing. Until a deployment of the wanted images
// appears it only waits (the timeout bounds that); once one does, it is
// tracked and judged by judge's rules. A service found on the first answer
// already steady on those images, alone, with a deployment created before
// the release began, is unchanged: nothing was deployed, nothing awaited.
func judgeFollow(out *ecs.DescribeServicesOutput, images map[string]map[string]string, st followState) (verdict, followState, bool) {
	first := st.first
	st.first = false
	if kind, msg := serviceProblem(out, st.t.cluster, st.t.service); msg != "" {
		return verdict{kind: kind, reason: msg}, st, false
	}
	svc := &out.Services[0]
	if st.t.id == "" {
		primary := primaryDeployment(svc.Deployments)
		rel := releaseDeployment(svc.Deployments, st.want, images)
		if rel == nil {
			if primary != nil {
				st.t.previous = aws.ToString(primary.TaskDefinition)
			}
			return verdict{svc: svc, primary: primary}, st, false
		}
		if primary != nil && primary != rel {
			st.t.previous = aws.ToString(primary.TaskDefinition)
		}
		st.t.id, st.t.taskDef, st.t.created = aws.ToString(rel.Id), aws.ToString(rel.TaskDefinition), aws.ToTime(rel.CreatedAt)
		if first && rel == primary && finished(svc, rel) && !createdAfter(rel, st.start) {
			return verdict{done: true, svc: svc, ours: rel, primary: primary}, st, true
		}
	}
	return judge(out, st.t), st, false
}

// releaseDeployment is the newest deployment whose task definition runs
// every wanted image in its named container.
func releaseDeployment(ds []types.Deployment, want map[string]string, images map[string]map[string]string) *types.Deployment {
	var best *types.Deployment
	for i := range ds {
		have, ok := images[aws.ToString(ds[i].TaskDefinition)]
		if !ok || !carries(have, want) {
			continue
		}
		if best == nil || aws.ToTime(ds[i].CreatedAt).After(aws.ToTime(best.CreatedAt)) {
			best = &ds[i]
		}
	}
	return best
}

func carries(have, want map[string]string) bool {
	for name, ref := range want {
		if have[name] != ref {
			return false
		}
	}
	return true
}

// sameRevision: the deployed task-definition ARN is the wanted one, which
// may be given as an ARN, family:revision or a family (its latest).
func sameRevision(deployed, wanted string) bool {
	if deployed == wanted || shortName(deployed) == wanted {
		return true
	}
	fam, _, ok := splitRevision(deployed)
	return ok && !strings.Contains(wanted, ":") && fam == wanted
}

// startCheck is judgeStart's decision about a service a rollout is about
// to change.
type startCheck struct {
	// busy is the deployment in flight to wait for; nil when idle.
	busy *types.Deployment
	// completed is the service's revision when its PRIMARY deployment
	// COMPLETED and is alone: the only safe base and rollback target.
	// Empty when it never completed (FAILED, no PRIMARY).
	completed string
	// problem says why there is no completed revision.
	problem string
}

// judgeStart decides whether a rollout may start now: not while another
// deployment is in flight (more than one deployment, or the PRIMARY still
// IN_PROGRESS), and only on top of a revision whose deployment COMPLETED,
// which is then the rollback target.
func judgeStart(svc *types.Service) startCheck {
	primary := primaryDeployment(svc.Deployments)
	switch {
	case primary == nil:
		return startCheck{problem: "the service has no PRIMARY deployment"}
	case len(svc.Deployments) > 1 || primary.RolloutState == types.DeploymentRolloutStateInProgress:
		return startCheck{busy: primary}
	case primary.RolloutState == types.DeploymentRolloutStateFailed:
		return startCheck{problem: fmt.Sprintf("its only deployment %s of %s FAILED (%s), so that revision never completed", aws.ToString(primary.Id), shortName(aws.ToString(primary.TaskDefinition)), orDefault(aws.ToString(primary.RolloutStateReason), "no reason given"))}
	}
	return startCheck{completed: aws.ToString(primary.TaskDefinition)}
}

// judgeServiceDeployment decides from one DescribeServiceDeployments entry
// how a service deployment (any strategy: rolling, blue/green, linear,
// canary) ended: SUCCESSFUL succeeds; ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED
// and STOPPED fail with the status reason, the rollback's reason, the
// alarms that fired and the circuit breaker's count. Every other status
// (PENDING, IN_PROGRESS, STOP_REQUESTED, ROLLBACK_REQUESTED,
// ROLLBACK_IN_PROGRESS) is still under way.
func judgeServiceDeployment(sd *types.ServiceDeployment) verdict {
	arn := shortName(aws.ToString(sd.ServiceDeploymentArn))
	why := serviceDeploymentWhy(sd)
	switch sd.Status {
	case types.ServiceDeploymentStatusSuccessful:
		return verdict{done: true}
	case types.ServiceDeploymentStatusRollbackSuccessful:
		return verdict{kind: KindRolledBack, reason: fmt.Sprintf("service deployment %s was rolled back%s", arn, why)}
	case types.ServiceDeploymentStatusRollbackFailed:
		return verdict{kind: KindRollbackFailed, reason: fmt.Sprintf("service deployment %s failed and so did its rollback%s: the service may be half on each revision", arn, why)}
	case types.ServiceDeploymentStatusStopped:
		return verdict{kind: KindStopped, reason: fmt.Sprintf("service deployment %s was stopped before it finished, by someone else or by a newer deployment%s", arn, why)}
	}
	return verdict{}
}

// serviceDeploymentWhy gathers the reasons a service deployment gives:
// " (reason; rollback: reason; alarms fired: a, b; circuit breaker: n of m
// tasks failed)", or "".
func serviceDeploymentWhy(sd *types.ServiceDeployment) string {
	var parts []string
	if r := aws.ToString(sd.StatusReason); r != "" {
		parts = append(parts, r)
	}
	if rb := sd.Rollback; rb != nil && aws.ToString(rb.Reason) != "" {
		parts = append(parts, "rollback: "+aws.ToString(rb.Reason))
	}
	if a := sd.Alarms; a != nil && len(a.TriggeredAlarmNames) > 0 {
		parts = append(parts, "alarms fired: "+strings.Join(a.TriggeredAlarmNames, ", "))
	}
	if cb := sd.DeploymentCircuitBreaker; cb != nil && cb.Status == types.ServiceDeploymentRollbackMonitorsStatusTriggered {
		parts = append(parts, fmt.Sprintf("circuit breaker: %d of %d tasks failed", cb.FailureCount, cb.Threshold))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// gateState is what a service-deployment follower knows about its gate
// between polls.
type gateState struct {
	enabled bool                     // the caller gave a Gate
	decided map[string]*gateDecision // hook id -> what the gate said
	paused  map[string]string        // hook id -> the stage it paused at
}

// gateDecision is the gate's answer for one PAUSE hook.
type gateDecision struct {
	stage    string
	action   types.DeploymentLifecycleHookAction // CONTINUE or ROLLBACK
	evidence string                              // why ROLLBACK: the failing check's error
	sent     bool                                // ECS accepted the action
}

// hookStep is judgeHook's answer: what the follower does about the
// deployment's PAUSE hook on this poll.
type hookStep struct {
	hookID string
	stage  string
	// run: run the gate now, for at most budget; a budget <= 0 means the
	// hook expires too soon, and the follower rolls back without running.
	run    bool
	budget time.Duration
	// send: (re)send the decision already taken for this hook.
	send *gateDecision
	// note is a line worth logging once (e.g. paused with no gate).
	note string
}

// gateMargin is how long before a hook expires the gate must have decided,
// so the pipeline, not the hook's timeout action, has the last word.
const gateMargin = 30 * time.Second

// judgeHook decides, from one DescribeServiceDeployments entry, whether a
// deployment in progress waits at a PAUSE hook for this pipeline: a hook
// of type PAUSE AWAITING_ACTION. The first time, the gate runs, for at
// most gateTimeout and never past gateMargin before the hook expires; a
// decision ECS has not accepted yet is sent again. Without a gate the
// follower only says who the deployment waits for. A PAUSE hook whose
// own timeout action is CONTINUE is flagged: an interrupted pipeline would
// let that deployment go live untested.
func judgeHook(sd *types.ServiceDeployment, gs gateState, now time.Time, gateTimeout time.Duration) hookStep {
	if sd.Status != types.ServiceDeploymentStatusInProgress {
		return hookStep{}
	}
	h := awaitingPause(sd)
	if h == nil {
		return hookStep{}
	}
	st := hookStep{hookID: aws.ToString(h.HookId), stage: string(sd.LifecycleStage)}
	expires := ""
	if h.ExpiresAt != nil {
		expires = " at " + h.ExpiresAt.UTC().Format(time.RFC3339)
	}
	action := orDefault(string(h.TimeoutAction), string(types.DeploymentLifecycleHookActionRollback))
	if action == string(types.DeploymentLifecycleHookActionContinue) {
		st.note = fmt.Sprintf("warning: the PAUSE hook at %s times out with CONTINUE: if this pipeline stops, the new revision goes live untested; set its timeout action to ROLLBACK", st.stage)
	}
	if !gs.enabled {
		st.note = strings.TrimPrefix(st.note+"; ", "; ") + fmt.Sprintf("paused at %s (PAUSE hook %s) and this rollout has no gate: waiting for someone to call ContinueServiceDeployment; ECS takes the timeout action %s%s", st.stage, st.hookID, action, expires)
		return st
	}
	if d := gs.decided[st.hookID]; d != nil {
		if !d.sent {
			st.send = d
		}
		return st
	}
	st.run, st.budget = true, gateTimeout
	if h.ExpiresAt != nil {
		st.budget = min(st.budget, h.ExpiresAt.Sub(now)-gateMargin)
	}
	return st
}

// awaitingPause is the deployment's PAUSE hook waiting for an action.
func awaitingPause(sd *types.ServiceDeployment) *types.DeploymentLifecycleHookDetail {
	for i := range sd.LifecycleHookDetails {
		h := &sd.LifecycleHookDetails[i]
		if h.TargetType == types.DeploymentLifecycleHookTargetTypePause && h.Status == types.DeploymentLifecycleHookStatusAwaitingAction {
			return h
		}
	}
	return nil
}

// judgeGated is judgeServiceDeployment for a deployment a gate may have
// decided on. After the gate sent ROLLBACK the rollout fails whatever the
// end: with the failing check's evidence and what became of the rollback
// (ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED). A PAUSE hook that TIMED_OUT
// says the hook's own timeout action decided. A configured gate that
// never ran fails a SUCCESSFUL deployment: it went live untested.
func judgeGated(sd *types.ServiceDeployment, gs gateState) verdict {
	v := judgeServiceDeployment(sd)
	if !v.done && v.kind == "" {
		return v
	}
	arn := shortName(aws.ToString(sd.ServiceDeploymentArn))
	why := serviceDeploymentWhy(sd)
	for _, d := range gs.decided {
		if d.action != types.DeploymentLifecycleHookActionRollback {
			continue
		}
		v.reason = fmt.Sprintf("the gate at %s failed, so stevedore rolled service deployment %s back: %s", d.stage, arn, d.evidence)
		switch {
		case v.done:
			v.done, v.kind, v.rollback = false, KindGateFailed, "yet the deployment ended SUCCESSFUL: the new revision is live although its gate failed"
		case v.kind == KindRolledBack:
			v.kind, v.rollback = KindGateFailed, "the rollback succeeded (ROLLBACK_SUCCESSFUL): the previous revision serves all traffic"
		case v.kind == KindRollbackFailed:
			v.rollback = "the rollback FAILED (ROLLBACK_FAILED)" + why + ": the service may be half on each revision"
		default:
			v.rollback = "the deployment ended " + string(sd.Status) + why + " instead of rolling back"
		}
		return v
	}
	for _, h := range sd.LifecycleHookDetails {
		if h.TargetType == types.DeploymentLifecycleHookTargetTypePause && h.Status == types.DeploymentLifecycleHookStatusTimedOut && !v.done {
			stage := orDefault(gs.paused[aws.ToString(h.HookId)], "a lifecycle stage")
			v.kind = KindHookTimedOut
			v.reason = fmt.Sprintf("service deployment %s paused at %s and nobody continued it before its PAUSE hook timed out, so ECS took the timeout action %s; it ended %s%s", arn, stage, orDefault(string(h.TimeoutAction), "ROLLBACK"), sd.Status, why)
			return v
		}
	}
	if v.done && gs.enabled && len(gs.decided) == 0 {
		return verdict{kind: KindGateSkipped, reason: fmt.Sprintf("service deployment %s succeeded without pausing at a PAUSE lifecycle hook, so the gate never ran and the new revision went live untested: give the service a PAUSE hook at %s with timeout action ROLLBACK, or turn its gate off", arn, contract.GateStage)}
	}
	return v
}
