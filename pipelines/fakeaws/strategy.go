package fakeaws

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The lifecycle stages of a BLUE_GREEN, LINEAR or CANARY service
// deployment, in order (PRODUCTION_TRAFFIC_SHIFT repeats per step).
const (
	stageReconcile     = "RECONCILE_SERVICE"
	stagePreScaleUp    = "PRE_SCALE_UP"
	stageScaleUp       = "SCALE_UP"
	stagePostScaleUp   = "POST_SCALE_UP"
	stageTestShift     = "TEST_TRAFFIC_SHIFT"
	stagePostTestShift = "POST_TEST_TRAFFIC_SHIFT"
	stageProdShift     = "PRODUCTION_TRAFFIC_SHIFT"
	stagePostProdShift = "POST_PRODUCTION_TRAFFIC_SHIFT"
	stageBake          = "BAKE_TIME"
	stageCleanUp       = "CLEAN_UP"
)

// strategyRun is the progress of one BLUE_GREEN, LINEAR or CANARY service
// deployment; rolling ones have none.
type strategyRun struct {
	kind     string    // BLUE_GREEN, LINEAR, CANARY
	stages   []string  // the stages it goes through
	weights  []float64 // production traffic weight of the target at each stage
	at       int       // index into stages
	sourceTD string    // the task definition it replaces (rollbacks return to it)
	dep      *ecsDeployment
	hooks    []*pauseHook
	// followed: a DescribeServiceDeployments poll has moved it on; from
	// then on only those polls do.
	followed bool
	looks    int // DescribeServices polls before any such poll
	// rollbackPolls counts polls since a rollback began.
	rollbackPolls int
}

// pauseHook is a PAUSE lifecycle hook of a deployment; status is "" until
// the deployment reaches one of its stages.
type pauseHook struct {
	id, targetType, action, status string
	stages                         []string
	timeout                        time.Duration
	expires                        time.Time
}

func (r *strategyRun) stage() string { return r.stages[r.at] }

func (r *strategyRun) reached(stage string) bool {
	for i := 0; i <= r.at && i < len(r.stages); i++ {
		if r.stages[i] == stage {
			return true
		}
	}
	return false
}

func (r *strategyRun) awaiting() *pauseHook {
	for _, h := range r.hooks {
		if h.status == "AWAITING_ACTION" {
			return h
		}
	}
	return nil
}

// strategyOf is the service's deployment strategy when it is not rolling.
func strategyOf(config map[string]any) string {
	switch k := strings.ToUpper(str(config, "strategy")); k {
	case "BLUE_GREEN", "LINEAR", "CANARY":
		return k
	}
	return ""
}

// checkStrategy rejects what ECS rejects in a deployment configuration
// with lifecycle hooks: PAUSE at a traffic shift, an unknown stage or
// timeout action.
func checkStrategy(config map[string]any) *Fault {
	valid := []string{stageReconcile, stagePreScaleUp, stagePostScaleUp, stageTestShift, stagePostTestShift, stageProdShift, stagePostProdShift}
	for _, h := range list(config, "lifecycleHooks") {
		pause := strings.EqualFold(str(h, "targetType"), "PAUSE")
		for _, st := range strs(h, "lifecycleStages") {
			if !contains(valid, st) {
				return badRequest("InvalidParameterException", "Invalid lifecycle stage %s for a lifecycle hook.", st)
			}
			if pause && (st == stageTestShift || st == stageProdShift) {
				return badRequest("InvalidParameterException", "PAUSE lifecycle hooks are not supported for the %s lifecycle stage.", st)
			}
		}
		if act := str(obj(h, "timeoutConfiguration"), "action"); act != "" && act != "CONTINUE" && act != "ROLLBACK" {
			return badRequest("InvalidParameterException", "Invalid timeout action %s: valid values are CONTINUE and ROLLBACK.", act)
		}
	}
	return nil
}

func numf(m map[string]any, key string, def float64) float64 {
	switch v := m[key].(type) {
	case float64:
		return v
	case int:
		return float64(v)
	case string:
		var f float64
		if _, err := fmt.Sscan(v, &f); err == nil {
			return f
		}
	}
	return def
}

// newStrategyRun plans a deployment of a service whose strategy is kind.
func (a *AWS) newStrategyRun(s *ecsService, kind, sourceTD string, d *ecsDeployment) *strategyRun {
	r := &strategyRun{kind: kind, sourceTD: sourceTD, dep: d, at: -1} // PENDING until its first poll
	r.stages = []string{stageReconcile, stagePreScaleUp, stageScaleUp, stagePostScaleUp, stageTestShift, stagePostTestShift}
	r.weights = make([]float64, len(r.stages))
	var steps []float64
	switch kind {
	case "LINEAR":
		p := numf(obj(s.config, "linearConfiguration"), "stepPercent", 10)
		if p <= 0 {
			p = 10
		}
		for w := p; ; w += p {
			if w >= 100-1e-9 {
				steps = append(steps, 100)
				break
			}
			steps = append(steps, math.Round(w*10)/10)
		}
	case "CANARY":
		p := numf(obj(s.config, "canaryConfiguration"), "canaryPercent", 5)
		if p > 0 && p < 100 {
			steps = append(steps, p)
		}
		steps = append(steps, 100)
	default:
		steps = []float64{100}
	}
	for _, w := range steps {
		r.stages, r.weights = append(r.stages, stageProdShift), append(r.weights, w)
	}
	for _, st := range []string{stagePostProdShift, stageBake, stageCleanUp} {
		r.stages, r.weights = append(r.stages, st), append(r.weights, 100)
	}
	for _, h := range list(s.config, "lifecycleHooks") {
		tc := obj(h, "timeoutConfiguration")
		ph := &pauseHook{targetType: strings.ToUpper(orDefault(str(h, "targetType"), "AWS_LAMBDA")), stages: strs(h, "lifecycleStages"),
			action: orDefault(str(tc, "action"), "ROLLBACK"), timeout: time.Duration(num(tc, "timeoutInMinutes", 60)) * time.Minute}
		ph.id = fmt.Sprintf("ecs-pause-%s", strings.Repeat(fmt.Sprintf("%06x", a.nextID()), 7))
		r.hooks = append(r.hooks, ph)
	}
	return r
}

// stepStrategy moves a BLUE_GREEN, LINEAR or CANARY service deployment one
// poll on: one lifecycle stage, unless a PAUSE hook holds it (until
// ContinueServiceDeployment or its timeout), an alarm rolls it back, or a
// rollback runs (it ends after the settle polls).
func (a *AWS) stepStrategy(s *ecsService, sd *serviceDeployment) {
	r := sd.strat
	switch sd.status {
	case "ROLLBACK_IN_PROGRESS":
		r.rollbackPolls++
		if r.rollbackPolls >= a.settle {
			a.finishRollback(s, sd)
		}
		return
	case "PENDING":
		sd.status = "IN_PROGRESS"
		a.enterStage(s, r)
		return
	case "IN_PROGRESS":
	default:
		return
	}
	if h := r.awaiting(); h != nil {
		if a.now.Before(h.expires) {
			return
		}
		h.status = "TIMED_OUT"
		if h.action == "ROLLBACK" {
			a.startRollback(s, sd, fmt.Sprintf("Service deployment rolled back because the lifecycle hook %s timed out.", h.id))
			return
		}
	}
	if a.alarmFires(sd, r.stage()) {
		a.event(s, "(service-deployment %s) deployment failed: alarm detected.", lastSegment(sd.arn))
		a.startRollback(s, sd, alarmReason(sd))
		return
	}
	if reason := a.badReason(r.dep.taskDef); reason != "" && r.stage() == stageScaleUp {
		// The new revision's tasks fail to start: the circuit breaker rolls
		// back, or without it ECS keeps trying at SCALE_UP.
		r.dep.failed += 2
		sd.failures = r.dep.failed
		if r.dep.failed <= 10 {
			a.stoppedTask(s, r.dep, reason)
			a.stoppedTask(s, r.dep, reason)
		}
		if a.rollbackOn(s) {
			sd.breaker = "TRIGGERED"
			a.startRollback(s, sd, "ECS deployment circuit breaker: tasks failed to start.")
		}
		return
	}
	if r.at == len(r.stages)-1 {
		a.finishStrategy(s, sd)
		return
	}
	a.enterStage(s, r)
}

// enterStage moves r to its next stage; a PAUSE hook of that stage starts
// waiting.
func (a *AWS) enterStage(s *ecsService, r *strategyRun) {
	r.at++
	now := a.tick()
	switch r.stage() {
	case stageScaleUp:
		if a.badReason(r.dep.taskDef) == "" {
			r.dep.running, r.dep.pending = r.dep.desired, 0
		}
	case stageCleanUp:
		for _, o := range s.deployments {
			if o != r.dep {
				o.running, o.desired = 0, 0
			}
		}
	}
	r.dep.updated = now
	for _, h := range r.hooks {
		if h.status == "" && contains(h.stages, r.stage()) {
			if h.targetType != "PAUSE" {
				h.status = "SUCCEEDED" // other hook targets are not run: they succeed
				continue
			}
			h.status, h.expires = "AWAITING_ACTION", now.Add(h.timeout)
		}
	}
}

// finishStrategy ends a deployment SUCCESSFUL: the service runs its target
// revision alone, steady.
func (a *AWS) finishStrategy(s *ecsService, sd *serviceDeployment) {
	d := sd.strat.dep
	d.updated = a.tick()
	d.rollout, d.running, d.pending, d.reason = "COMPLETED", d.desired, 0, "ECS deployment "+d.id+" completed."
	sd.status, sd.finished, sd.breaker = "SUCCESSFUL", d.updated, "MONITORING_COMPLETE"
	s.deployments, s.taskDef = []*ecsDeployment{d}, d.taskDef
	a.event(s, "(deployment %s) deployment completed.", d.id)
	a.event(s, "has reached a steady state.")
}

// startRollback sends production and test traffic back to the source
// revision; the rollback ends after the settle polls.
func (a *AWS) startRollback(s *ecsService, sd *serviceDeployment, reason string) {
	r := sd.strat
	now := a.tick()
	sd.status, sd.rollbackReason, sd.rollbackAt = "ROLLBACK_IN_PROGRESS", reason, now
	if len(sd.sources) > 0 {
		sd.rollbackTo = sd.sources[0]
	}
	r.rollbackPolls = 0
	r.dep.rollout, r.dep.reason, r.dep.updated = "FAILED", reason, now
	back := &ecsDeployment{id: fmt.Sprintf("ecs-svc/%019d", 1000000000000000000+a.nextID()), status: "PRIMARY", taskDef: r.sourceTD,
		rollout: "IN_PROGRESS", reason: "ECS deployment in progress: rolling back to the previous service revision.", desired: s.desired,
		running: s.desired, created: now, updated: now, rollbackOf: true, watched: true, sd: sd, rev: sd.rollbackTo}
	rest := []*ecsDeployment{back}
	for _, o := range s.deployments {
		if o.taskDef != r.sourceTD || o == r.dep { // the source's tasks serve again as the rollback's
			o.status = "ACTIVE"
			rest = append(rest, o)
		}
	}
	s.deployments = rest
	s.taskDef = r.sourceTD
	a.event(s, "(service-deployment %s) rolling back to the previous service revision: %s", lastSegment(sd.arn), reason)
}

// finishRollback ends a rollback ROLLBACK_SUCCESSFUL (the service steady
// on the source revision) or, as scripted with FailRollback,
// ROLLBACK_FAILED.
func (a *AWS) finishRollback(s *ecsService, sd *serviceDeployment) {
	now := a.tick()
	sd.finished = now
	back := s.deployments[0]
	if back.sd != sd { // a newer deployment took over meanwhile: it owns the service
		sd.status, sd.reason = "ROLLBACK_SUCCESSFUL", "Service deployment rolled back to the previous service revision: "+sd.rollbackReason
		return
	}
	if reason, ok := a.failRollback[s.cluster+"/"+s.name]; ok {
		delete(a.failRollback, s.cluster+"/"+s.name)
		sd.status, sd.reason = "ROLLBACK_FAILED", reason
		back.rollout, back.reason, back.updated = "FAILED", reason, now
		a.event(s, "(service-deployment %s) rollback failed: %s", lastSegment(sd.arn), reason)
		return
	}
	sd.status, sd.reason = "ROLLBACK_SUCCESSFUL", "Service deployment rolled back to the previous service revision: "+sd.rollbackReason
	back.rollout, back.reason, back.updated, back.pending = "COMPLETED", "ECS deployment "+back.id+" completed.", now, 0
	s.deployments, s.taskDef = []*ecsDeployment{back}, back.taskDef
	a.event(s, "(deployment %s) deployment completed.", back.id)
	a.event(s, "has reached a steady state.")
}

// strategyJSON adds what a BLUE_GREEN, LINEAR or CANARY deployment shows
// in DescribeServiceDeployments: its stage, traffic weights, hooks, alarms.
func (a *AWS) strategyJSON(s *ecsService, sd *serviceDeployment, m map[string]any) {
	r := sd.strat
	prod, test := 0.0, 0.0
	if r.at >= 0 {
		m["lifecycleStage"], prod = r.stage(), r.weights[r.at]
	}
	if r.reached(stageTestShift) {
		test = 100
	}
	if strings.HasPrefix(sd.status, "ROLLBACK") {
		prod, test = 0, 0
	}
	t := m["targetServiceRevision"].(map[string]any)
	t["requestedProductionTrafficWeight"], t["requestedTestTrafficWeight"] = prod, test
	t["runningTaskCount"], t["pendingTaskCount"] = r.dep.running, r.dep.pending
	for _, src := range list(m, "sourceServiceRevisions") {
		src["requestedProductionTrafficWeight"], src["requestedTestTrafficWeight"] = 100-prod, 100-test
		src["requestedTaskCount"], src["runningTaskCount"] = s.desired, s.desired
		if r.reached(stageCleanUp) && sd.status == "SUCCESSFUL" {
			src["requestedTaskCount"], src["runningTaskCount"] = 0, 0
		}
	}
	var hooks []any
	for _, h := range r.hooks {
		if h.status == "" {
			continue
		}
		hm := map[string]any{"hookId": h.id, "targetType": h.targetType, "status": h.status, "timeoutAction": h.action, "lifecycleStages": h.stages}
		if !h.expires.IsZero() {
			hm["expiresAt"] = epoch(h.expires)
		}
		hooks = append(hooks, hm)
	}
	if hooks != nil {
		m["lifecycleHookDetails"] = hooks
	}
}

// alarmFires: does an alarm the deployment monitors go off now, at stage
// ("" for a rolling deployment, which only FireAlarm(alarm, "") reaches)?
// It is recorded as triggered.
func (a *AWS) alarmFires(sd *serviceDeployment, stage string) bool {
	for _, alarm := range sd.alarms {
		if at, ok := a.alarmAt[alarm]; ok && (at == "" || at == stage) {
			delete(a.alarmAt, alarm)
			sd.fired = append(sd.fired, alarm)
			return true
		}
	}
	return false
}

func alarmReason(sd *serviceDeployment) string {
	return fmt.Sprintf("Rolling back service deployment because CloudWatch alarm(s) %s went into ALARM state.", strings.Join(sd.fired, ", "))
}

// alarmsJSON is the service deployment's Alarms, nil without any.
func alarmsJSON(sd *serviceDeployment) map[string]any {
	if len(sd.alarms) == 0 {
		return nil
	}
	status := "MONITORING"
	switch {
	case len(sd.fired) > 0:
		status = "TRIGGERED"
	case sd.status == "SUCCESSFUL":
		status = "MONITORING_COMPLETE"
	}
	al := map[string]any{"alarmNames": sd.alarms, "status": status}
	if len(sd.fired) > 0 {
		al["triggeredAlarmNames"] = sd.fired
	}
	return al
}

// continueDeployment is ContinueServiceDeployment.
func (a *AWS) continueDeployment(in map[string]any) (any, *Fault) {
	arn := str(in, "serviceDeploymentArn")
	s, sd := a.findServiceDeployment(arn)
	if sd == nil {
		return nil, badRequest("ServiceDeploymentNotFoundException", "The service deployment %s does not exist.", arn)
	}
	id := str(in, "hookId")
	var h *pauseHook
	if sd.strat != nil {
		for _, x := range sd.strat.hooks {
			if x.id == id {
				h = x
			}
		}
	}
	if h == nil {
		return nil, badRequest("InvalidParameterException", "The lifecycle hook %s was not found in service deployment %s.", id, arn)
	}
	if sd.status != "IN_PROGRESS" || h.status != "AWAITING_ACTION" {
		return nil, badRequest("ConflictException", "The service deployment %s is not paused at lifecycle hook %s: the hook is %s and the deployment %s.", arn, id, orDefault(h.status, "not reached"), sd.status)
	}
	switch act := orDefault(str(in, "action"), "CONTINUE"); act {
	case "CONTINUE":
		h.status = "SUCCEEDED"
	case "ROLLBACK":
		h.status = "FAILED"
		a.startRollback(s, sd, fmt.Sprintf("Service deployment rolled back by ContinueServiceDeployment with action ROLLBACK at lifecycle hook %s.", id))
	default:
		return nil, badRequest("InvalidParameterException", "Invalid action %s: valid values are CONTINUE and ROLLBACK.", act)
	}
	return map[string]any{"serviceDeploymentArn": arn}, nil
}

// stopDeployment is StopServiceDeployment (ROLLBACK, the default, or ABORT).
func (a *AWS) stopDeployment(arn, stopType string) (any, *Fault) {
	s, sd := a.findServiceDeployment(arn)
	if sd == nil {
		return nil, badRequest("ServiceDeploymentNotFoundException", "The service deployment %s does not exist.", arn)
	}
	if sd.status != "IN_PROGRESS" && sd.status != "PENDING" {
		return nil, badRequest("ConflictException", "The service deployment %s is %s: only a PENDING or IN_PROGRESS service deployment can be stopped.", arn, sd.status)
	}
	stopType = orDefault(stopType, "ROLLBACK")
	switch stopType {
	case "ROLLBACK":
		if sd.strat != nil {
			if h := sd.strat.awaiting(); h != nil {
				h.status = "FAILED"
			}
			a.startRollback(s, sd, "Service deployment rolled back because of a StopServiceDeployment request.")
			break
		}
		var back *ecsDeployment
		for _, o := range s.deployments[1:] {
			if o.rollout == "COMPLETED" {
				back = o
			}
		}
		if back == nil {
			return nil, badRequest("ConflictException", "The service deployment %s has no previous service revision to roll back to.", arn)
		}
		s.deployments = removeDeployment(s.deployments, back)
		a.deploy(s, back.taskDef, back.id)
		s.deployments[0].running = back.running
		s.deployments[0].reason = "ECS deployment rolling back to deploymentId " + back.id + " on a StopServiceDeployment request."
		sd.rollbackReason, sd.breaker = "Service deployment rolled back because of a StopServiceDeployment request.", "MONITORING"
	case "ABORT":
		now := a.tick()
		sd.status, sd.reason, sd.finished = "STOPPED", "Service deployment stopped because of a StopServiceDeployment request.", now
		if sd.strat != nil {
			if h := sd.strat.awaiting(); h != nil {
				h.status = "FAILED"
			}
		}
		for _, d := range s.deployments {
			if d.sd == sd && d.rollout == "IN_PROGRESS" {
				d.rollout, d.reason, d.updated = "FAILED", sd.reason, now
			}
		}
	default:
		return nil, badRequest("InvalidParameterException", "Invalid stopType %s: valid values are ROLLBACK and ABORT.", stopType)
	}
	return map[string]any{"serviceDeploymentArn": arn}, nil
}

// inFlight is the service's latest service deployment while it runs.
func (s *ecsService) inFlight() *serviceDeployment {
	for i := len(s.history) - 1; i >= 0; i-- {
		sd := s.history[i]
		if sd.status == "IN_PROGRESS" || sd.status == "PENDING" || sd.status == "ROLLBACK_IN_PROGRESS" {
			return sd
		}
	}
	return nil
}

// FireAlarm makes CloudWatch alarm go into ALARM when a BLUE_GREEN, LINEAR
// or CANARY deployment that monitors it (DeploymentConfiguration.Alarms
// with Enable and Rollback) is at stage (e.g. "BAKE_TIME"; "" for its next
// poll; only "" reaches a rolling deployment, at its next DescribeServices
// poll): the
// deployment rolls back, its Alarms show the alarm in TriggeredAlarmNames
// and its Rollback.Reason names it. It fires once.
func (a *AWS) FireAlarm(alarm, stage string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alarmAt[alarm] = stage
}

// FailRollback makes the next rollback of the service's BLUE_GREEN, LINEAR
// or CANARY deployment end ROLLBACK_FAILED with reason (default "ECS was
// unable to roll back: tasks of the previous service revision failed to
// start.").
func (a *AWS) FailRollback(cluster, service, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failRollback[clusterName(cluster)+"/"+service] = orDefault(reason, "ECS was unable to roll back: tasks of the previous service revision failed to start.")
}

// StopDeployment is someone else calling StopServiceDeployment (stopType
// "ROLLBACK" or "ABORT") on the service's deployment in flight; it is not
// recorded as a call. It fails when no deployment is in flight.
func (a *AWS) StopDeployment(cluster, service, stopType string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.findService(cluster, service)
	if s == nil {
		return fmt.Errorf("fakeaws: no service %s in cluster %s", service, clusterName(cluster))
	}
	sd := s.inFlight()
	if sd == nil {
		return fmt.Errorf("fakeaws: service %s has no service deployment in flight", service)
	}
	if _, f := a.stopDeployment(sd.arn, stopType); f != nil {
		return f
	}
	return nil
}

// Redeploy is someone else forcing a new deployment of the service's
// current task definition (UpdateService forceNewDeployment); it is not
// recorded as a call. A service deployment in flight ends STOPPED,
// replaced by the new one.
func (a *AWS) Redeploy(cluster, service string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.findService(cluster, service)
	if s == nil {
		return fmt.Errorf("fakeaws: no service %s in cluster %s", service, clusterName(cluster))
	}
	a.deploy(s, s.taskDef, "")
	return nil
}

// Advance moves the fake clock on by d, e.g. past a PAUSE hook's ExpiresAt:
// the next poll of that deployment takes the hook's timeout action.
func (a *AWS) Advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(d)
}

// Now is the fake clock's time (the timestamps the fake answers carry).
func (a *AWS) Now() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}
