package fakeaws

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

type ecsState struct {
	clusters map[string]*ecsCluster
	families map[string][]map[string]any // family -> revisions, index = revision-1
	tags     map[string][]any            // resource ARN -> [{key, value}]
	tasks    []*ecsTask
	// revisions are the service revisions by ARN (one per deployment).
	revisions map[string]map[string]any
}

func (s *ecsState) init() {
	s.clusters = map[string]*ecsCluster{}
	s.families = map[string][]map[string]any{}
	s.tags = map[string][]any{}
	s.revisions = map[string]map[string]any{}
}

type ecsCluster struct {
	name     string
	services map[string]*ecsService
	order    []string
}

type ecsService struct {
	name, cluster, taskDef, status string
	desired                        int
	created                        time.Time
	config, network                map[string]any
	launchType                     string
	loadBalancers                  []map[string]any
	deployments                    []*ecsDeployment // PRIMARY first
	events                         []map[string]any // newest first
	history                        []*serviceDeployment
}

// serviceDeployment is what ListServiceDeployments/DescribeServiceDeployments
// show: it outlives the deployment in DescribeServices, and a circuit
// breaker rollback stays part of the service deployment it undoes.
type serviceDeployment struct {
	arn, status, reason, target string
	sources                     []string
	rollbackTo, rollbackReason  string
	created, finished           time.Time
	rollbackAt                  time.Time
	breaker                     string
	failures                    int
	strat                       *strategyRun // BLUE_GREEN, LINEAR, CANARY
	alarms, fired               []string     // monitored with rollback; gone off
}

type ecsDeployment struct {
	id, status, taskDef, rollout, reason string
	desired, running, pending, failed    int
	created, updated                     time.Time
	polls                                int
	rev                                  string // the service revision it runs
	rollbackOf                           bool   // started by the circuit breaker
	// watched: a DescribeServices poll has moved it on, so stack polls
	// leave it to that follower (which then sees every state).
	watched bool
	sd      *serviceDeployment
}

type ecsTask struct {
	arn, cluster, taskDef, group, startedBy string
	lastStatus, desired, stoppedReason      string
	containers                              []map[string]any
	created                                 time.Time
	stopped                                 time.Time
	polls                                   int
	exit                                    int
}

// BadImage makes every task that runs image fail to start, so a deployment
// of it FAILS after the settle polls and, with the circuit breaker's
// rollback on, ECS rolls the service back; reason is the stopped tasks'
// stoppedReason (default "Essential container in task exited").
func (a *AWS) BadImage(image, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if reason == "" {
		reason = "Essential container in task exited"
	}
	a.bad[image] = reason
}

// ExitCode makes one-off tasks (RunTask) exit with code when their command
// override (words joined by spaces, e.g. "alembic upgrade head") or the
// image of their first container equals match. Others exit 0.
func (a *AWS) ExitCode(match string, code int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.exitCode[match] = code
}

// SeedService creates, as the starting state, cluster (if new) and a
// steady service of one COMPLETED deployment whose task definition (family
// = service) runs images (container name -> image), with the deployment
// circuit breaker and its rollback on. It returns the task definition ARN.
func (a *AWS) SeedService(cluster, service string, images map[string]string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var containers []any
	for _, n := range sortedKeys(images) {
		containers = append(containers, map[string]any{"name": n, "image": images[n], "essential": true})
	}
	td := a.registerTaskDef(map[string]any{"family": service, "containerDefinitions": containers,
		"networkMode": "awsvpc", "requiresCompatibilities": []any{"FARGATE"}, "cpu": "256", "memory": "512"})
	arn := str(td, "taskDefinitionArn")
	s := a.createService(cluster, map[string]any{"serviceName": service, "taskDefinition": arn, "desiredCount": 2.0,
		"deploymentConfiguration": map[string]any{"deploymentCircuitBreaker": map[string]any{"enable": true, "rollback": true},
			"maximumPercent": 200.0, "minimumHealthyPercent": 100.0}})
	d := s.deployments[0]
	d.rollout, d.running, d.pending, d.reason = "COMPLETED", d.desired, 0, "ECS deployment "+d.id+" completed."
	return arn
}

// Deployment is one deployment of a fake ECS service.
type Deployment struct {
	ID, Status, RolloutState, TaskDefinition string
}

// ServiceState is a snapshot of a fake ECS service.
type ServiceState struct {
	// TaskDefinition is the service's task definition ARN; Images its
	// containers' images by container name.
	TaskDefinition string
	Images         map[string]string
	Deployments    []Deployment
	// Events are the service event messages, newest first.
	Events []string
}

// Service returns the state of a service; ok is false when it does not exist.
func (a *AWS) Service(cluster, service string) (ServiceState, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.findService(cluster, service)
	if s == nil {
		return ServiceState{}, false
	}
	st := ServiceState{TaskDefinition: s.taskDef, Images: a.imagesOf(s.taskDef)}
	for _, d := range s.deployments {
		st.Deployments = append(st.Deployments, Deployment{ID: d.id, Status: d.status, RolloutState: d.rollout, TaskDefinition: d.taskDef})
	}
	for _, e := range s.events {
		st.Events = append(st.Events, str(e, "message"))
	}
	return st, true
}

// TaskDefinitions lists the ARNs of every revision registered, in order.
func (a *AWS) TaskDefinitions() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, f := range sortedKeys(a.ecs.families) {
		for _, td := range a.ecs.families[f] {
			out = append(out, str(td, "taskDefinitionArn"))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lastSegment(s string) string { return s[strings.LastIndex(s, "/")+1:] }

func clusterName(ref string) string {
	if ref == "" {
		return "default"
	}
	return lastSegment(ref)
}

func (a *AWS) cluster(ref string) *ecsCluster {
	name := clusterName(ref)
	c := a.ecs.clusters[name]
	if c == nil {
		c = &ecsCluster{name: name, services: map[string]*ecsService{}}
		a.ecs.clusters[name] = c
	}
	return c
}

func (a *AWS) findService(cluster, ref string) *ecsService {
	c := a.ecs.clusters[clusterName(cluster)]
	if c == nil {
		return nil
	}
	return c.services[lastSegment(ref)]
}

// taskDef resolves "family", "family:rev" or an ARN; nil if unknown.
func (a *AWS) taskDef(ref string) map[string]any {
	family, rev, hasRev := strings.Cut(lastSegment(ref), ":")
	revs := a.ecs.families[family]
	if !hasRev {
		for i := len(revs) - 1; i >= 0; i-- {
			if str(revs[i], "status") == "ACTIVE" {
				return revs[i]
			}
		}
		return nil
	}
	n := 0
	fmt.Sscan(rev, &n)
	if n < 1 || n > len(revs) {
		return nil
	}
	return revs[n-1]
}

func (a *AWS) imagesOf(tdARN string) map[string]string {
	out := map[string]string{}
	for _, c := range list(a.taskDef(tdARN), "containerDefinitions") {
		out[str(c, "name")] = str(c, "image")
	}
	return out
}

// badReason is why tasks of a task definition fail, "" if they run.
func (a *AWS) badReason(tdARN string) string {
	for _, img := range a.imagesOf(tdARN) {
		if r, ok := a.bad[img]; ok {
			return r
		}
	}
	return ""
}

func (a *AWS) registerTaskDef(in map[string]any) map[string]any {
	family := str(in, "family")
	td := clone(in)
	delete(td, "tags")
	rev := len(a.ecs.families[family]) + 1
	arn := a.arnOf("ecs", fmt.Sprintf("task-definition/%s:%d", family, rev))
	td["taskDefinitionArn"], td["revision"], td["status"] = arn, rev, "ACTIVE"
	td["registeredAt"], td["compatibilities"] = epoch(a.tick()), []any{"EC2", "FARGATE"}
	a.ecs.families[family] = append(a.ecs.families[family], td)
	if tags, ok := in["tags"].([]any); ok {
		a.ecs.tags[arn] = clone(tags)
	}
	return td
}

func (a *AWS) serviceARN(s *ecsService) string {
	return a.arnOf("ecs", "service/"+s.cluster+"/"+s.name)
}

func (a *AWS) event(s *ecsService, format string, args ...any) {
	msg := fmt.Sprintf("(service %s) ", s.name) + fmt.Sprintf(format, args...)
	s.events = append([]map[string]any{{"id": fmt.Sprintf("ev-%d", a.nextID()), "createdAt": epoch(a.tick()), "message": msg}}, s.events...)
}

// deploy starts a new PRIMARY deployment of td; the others become ACTIVE.
// rollbackTo is the deployment a circuit-breaker rollback returns to, ""
// for an ordinary deployment.
func (a *AWS) deploy(s *ecsService, td, rollbackTo string) *ecsDeployment {
	rollback := rollbackTo != ""
	source, sourceRev := s.taskDef, "" // what serves: the latest completed deployment
	for _, d := range s.deployments {
		if d.rollout == "COMPLETED" || (d.rollbackOf && d.rollout == "IN_PROGRESS") {
			source, sourceRev = d.taskDef, d.rev
			break
		}
	}
	for _, d := range s.deployments {
		d.status = "ACTIVE"
	}
	now := a.tick()
	d := &ecsDeployment{id: fmt.Sprintf("ecs-svc/%019d", 1000000000000000000+a.nextID()), status: "PRIMARY", taskDef: td,
		rollout: "IN_PROGRESS", reason: "ECS deployment in progress.", desired: s.desired, pending: s.desired,
		created: now, updated: now, rollbackOf: rollback}
	if rollback {
		d.reason = "ECS deployment circuit breaker: rolling back to deploymentId " + rollbackTo + "."
	}
	rev := a.serviceRevision(s, td, now)
	d.rev = rev
	if rollback && len(s.deployments) > 0 && s.deployments[0].sd != nil {
		d.sd = s.deployments[0].sd
		d.sd.status, d.sd.rollbackTo, d.sd.rollbackReason = "ROLLBACK_IN_PROGRESS", rev, "ECS deployment circuit breaker: tasks failed to start."
		d.sd.rollbackAt, d.sd.finished = now, time.Time{}
		d.sd.breaker = "TRIGGERED"
	} else {
		var sources []string
		for _, o := range s.deployments {
			if o.sd != nil {
				sources = append(sources, o.sd.target)
				if o.sd.status == "IN_PROGRESS" || o.sd.status == "PENDING" {
					o.sd.status, o.sd.reason, o.sd.finished = "STOPPED", "ECS deployment stopped: a newer deployment replaced it.", now
				}
			}
		}
		d.sd = &serviceDeployment{arn: a.arnOf("ecs", fmt.Sprintf("service-deployment/%s/%s/%019d", s.cluster, s.name, a.nextID())),
			status: "IN_PROGRESS", target: rev, sources: sources, created: now, breaker: "MONITORING"}
		if kind := strategyOf(s.config); kind != "" && sourceRev != "" {
			d.sd.sources = []string{sourceRev}
			d.sd.strat, d.sd.status = a.newStrategyRun(s, kind, source, d), "PENDING"
		}
		if al := obj(s.config, "alarms"); flag(al, "enable") && flag(al, "rollback") {
			d.sd.alarms = strs(al, "alarmNames")
		}
		s.history = append(s.history, d.sd)
	}
	s.deployments = append([]*ecsDeployment{d}, s.deployments...)
	s.taskDef = td
	a.event(s, "has started %d tasks: (task %s).", s.desired, strings.TrimPrefix(d.id, "ecs-svc/"))
	return d
}

// serviceRevision records the revision a deployment rolls out.
func (a *AWS) serviceRevision(s *ecsService, td string, now time.Time) string {
	arn := a.arnOf("ecs", fmt.Sprintf("service-revision/%s/%s/%019d", s.cluster, s.name, a.nextID()))
	var images []any
	for _, n := range sortedKeys(a.imagesOf(td)) {
		img := a.imagesOf(td)[n]
		m := map[string]any{"containerName": n, "image": img}
		if _, digest, ok := strings.Cut(img, "@"); ok {
			m["imageDigest"] = digest
		}
		images = append(images, m)
	}
	a.ecs.revisions[arn] = map[string]any{"serviceRevisionArn": arn, "serviceArn": a.serviceARN(s),
		"clusterArn": a.arnOf("ecs", "cluster/"+s.cluster), "taskDefinition": td, "containerImages": images,
		"launchType": s.launchType, "createdAt": epoch(now)}
	return arn
}

func (a *AWS) serviceDeploymentJSON(s *ecsService, sd *serviceDeployment, brief bool) map[string]any {
	m := map[string]any{"serviceDeploymentArn": sd.arn, "serviceArn": a.serviceARN(s), "clusterArn": a.arnOf("ecs", "cluster/"+s.cluster),
		"status": sd.status, "createdAt": epoch(sd.created), "startedAt": epoch(sd.created)}
	if sd.reason != "" {
		m["statusReason"] = sd.reason
	}
	if !sd.finished.IsZero() {
		m["finishedAt"] = epoch(sd.finished)
	}
	if brief {
		m["targetServiceRevisionArn"] = sd.target
		return m
	}
	m["targetServiceRevision"] = map[string]any{"arn": sd.target, "requestedTaskCount": s.desired}
	var sources []any
	for _, r := range sd.sources {
		sources = append(sources, map[string]any{"arn": r})
	}
	m["sourceServiceRevisions"] = sources
	m["deploymentConfiguration"] = s.config
	m["deploymentCircuitBreaker"] = map[string]any{"status": sd.breaker, "failureCount": sd.failures, "threshold": 10}
	if sd.rollbackTo != "" {
		m["rollback"] = map[string]any{"reason": sd.rollbackReason, "serviceRevisionArn": sd.rollbackTo, "startedAt": epoch(sd.rollbackAt)}
	}
	if al := alarmsJSON(sd); al != nil {
		m["alarms"] = al
	}
	if sd.strat != nil {
		a.strategyJSON(s, sd, m)
	}
	return m
}

func (a *AWS) createService(cluster string, in map[string]any) *ecsService {
	c := a.cluster(cluster)
	s := &ecsService{name: str(in, "serviceName"), cluster: c.name, status: "ACTIVE", desired: num(in, "desiredCount", 1),
		created: a.tick(), config: obj(in, "deploymentConfiguration"), network: obj(in, "networkConfiguration"),
		launchType: str(in, "launchType"), loadBalancers: list(in, "loadBalancers")}
	if s.config == nil { // ECS's defaults: no circuit breaker
		s.config = map[string]any{"deploymentCircuitBreaker": map[string]any{"enable": false, "rollback": false},
			"maximumPercent": 200, "minimumHealthyPercent": 100}
	}
	if s.launchType == "" {
		s.launchType = "FARGATE"
	}
	td := a.taskDef(str(in, "taskDefinition"))
	c.services[s.name] = s
	c.order = append(c.order, s.name)
	a.deploy(s, str(td, "taskDefinitionArn"), "")
	return s
}

func (a *AWS) breakerOn(s *ecsService) bool {
	return flag(obj(s.config, "deploymentCircuitBreaker"), "enable")
}

func (a *AWS) rollbackOn(s *ecsService) bool {
	return a.breakerOn(s) && flag(obj(s.config, "deploymentCircuitBreaker"), "rollback")
}

// advance moves the service's PRIMARY deployment one poll on: after the
// settle polls it completes (older deployments drain), or, for a bad
// image, fails and is rolled back when the circuit breaker says so.
func (a *AWS) advance(s *ecsService) {
	if len(s.deployments) == 0 {
		return
	}
	d := s.deployments[0]
	if d.sd != nil && d.sd.strat != nil {
		// DescribeServiceDeployments polls drive it once one came; before
		// that, DescribeServices polls from the second on (one look, such
		// as an already-on check, moves nothing). Stack polls never do.
		if r := d.sd.strat; !r.followed {
			if r.looks++; r.looks > 1 {
				a.stepStrategy(s, d.sd)
			}
		}
		return
	}
	if d.rollout != "IN_PROGRESS" {
		return
	}
	d.polls++
	if d.sd != nil && !d.rollbackOf && a.alarmFires(d.sd, "") {
		a.alarmRollback(s, d)
		return
	}
	if d.polls < a.settle {
		return
	}
	d.updated = a.tick()
	if reason := a.badReason(d.taskDef); reason != "" && !a.breakerOn(s) {
		// Without the circuit breaker ECS keeps replacing the tasks: the
		// deployment stays IN_PROGRESS while failed tasks pile up.
		d.failed += 2
		if d.failed <= 10 {
			a.stoppedTask(s, d, reason)
			a.stoppedTask(s, d, reason)
		}
		a.event(s, "has started %d tasks: (task %s).", s.desired, fmt.Sprintf("%032x", a.nextID()))
		return
	} else if reason != "" {
		d.rollout, d.reason, d.failed, d.pending = "FAILED", "ECS deployment circuit breaker: tasks failed to start.", d.desired, 0
		if d.sd != nil {
			d.sd.failures = d.desired
			d.sd.status, d.sd.reason, d.sd.finished, d.sd.breaker = "STOPPED", d.reason, d.updated, "TRIGGERED"
		}
		for range 2 {
			a.stoppedTask(s, d, reason)
		}
		a.event(s, "deployment %s deployment failed: tasks failed to start.", d.id)
		var back *ecsDeployment
		for _, o := range s.deployments[1:] {
			if o.rollout == "COMPLETED" {
				back = o
			}
		}
		if back != nil && a.rollbackOn(s) {
			a.event(s, "rolling back to deployment %s.", back.id)
			s.deployments = removeDeployment(s.deployments, back)
			a.deploy(s, back.taskDef, back.id)
			s.deployments[0].running = back.running
		}
		return
	}
	d.rollout, d.running, d.pending = "COMPLETED", d.desired, 0
	if !d.rollbackOf {
		d.reason = "ECS deployment " + d.id + " completed."
	}
	if d.sd != nil {
		d.sd.finished = d.updated
		if d.rollbackOf {
			d.sd.status, d.sd.reason = "ROLLBACK_SUCCESSFUL", "ECS deployment circuit breaker: rolled back to the previous service revision."
			if d.sd.breaker != "TRIGGERED" { // an alarm or StopServiceDeployment rolled it back
				d.sd.reason = "Service deployment rolled back to the previous service revision: " + d.sd.rollbackReason
			}
		} else {
			d.sd.status, d.sd.breaker = "SUCCESSFUL", "MONITORING_COMPLETE"
		}
	}
	s.deployments = s.deployments[:1]
	a.event(s, "(deployment %s) deployment completed.", d.id)
	a.event(s, "has reached a steady state.")
}

// alarmRollback fails a rolling deployment whose alarm went off and rolls
// the service back to the last completed deployment, as ECS does with the
// alarms' rollback on.
func (a *AWS) alarmRollback(s *ecsService, d *ecsDeployment) {
	d.updated = a.tick()
	d.rollout, d.reason, d.pending = "FAILED", "ECS deployment "+d.id+" failed: alarm(s) detected: "+strings.Join(d.sd.fired, ", ")+".", 0
	a.event(s, "(deployment %s) deployment failed: alarm detected.", d.id)
	var back *ecsDeployment
	for _, o := range s.deployments[1:] {
		if o.rollout == "COMPLETED" {
			back = o
		}
	}
	if back == nil {
		d.sd.status, d.sd.reason, d.sd.finished = "STOPPED", d.reason, d.updated
		return
	}
	sd := d.sd
	a.event(s, "rolling back to deployment %s.", back.id)
	s.deployments = removeDeployment(s.deployments, back)
	a.deploy(s, back.taskDef, back.id)
	s.deployments[0].running = back.running
	s.deployments[0].reason = "ECS deployment " + d.id + " failed: alarm(s) detected: rolling back to deploymentId " + back.id + "."
	sd.rollbackReason, sd.breaker = alarmReason(sd), "MONITORING"
}

func removeDeployment(ds []*ecsDeployment, x *ecsDeployment) []*ecsDeployment {
	var out []*ecsDeployment
	for _, d := range ds {
		if d != x {
			out = append(out, d)
		}
	}
	return out
}

func (a *AWS) stoppedTask(s *ecsService, d *ecsDeployment, reason string) {
	t := &ecsTask{arn: a.arnOf("ecs", fmt.Sprintf("task/%s/%032x", s.cluster, a.nextID())), cluster: s.cluster,
		taskDef: d.taskDef, group: "service:" + s.name, startedBy: d.id, lastStatus: "STOPPED", desired: "STOPPED",
		stoppedReason: reason, created: a.tick(), stopped: a.tick(), exit: 1}
	for name, img := range a.imagesOf(d.taskDef) {
		t.containers = append(t.containers, map[string]any{"name": name, "image": img, "lastStatus": "STOPPED", "exitCode": 1, "reason": reason})
	}
	a.ecs.tasks = append(a.ecs.tasks, t)
}

func (a *AWS) serviceJSON(s *ecsService) map[string]any {
	var deps []any
	running, pending := 0, 0
	for _, d := range s.deployments {
		deps = append(deps, map[string]any{"id": d.id, "status": d.status, "taskDefinition": d.taskDef,
			"rolloutState": d.rollout, "rolloutStateReason": d.reason, "desiredCount": d.desired,
			"runningCount": d.running, "pendingCount": d.pending, "failedTasks": d.failed,
			"createdAt": epoch(d.created), "updatedAt": epoch(d.updated), "launchType": s.launchType})
		running += d.running
		pending += d.pending
	}
	events := []any{}
	for i, e := range s.events {
		if i == 100 {
			break
		}
		events = append(events, e)
	}
	return map[string]any{"serviceName": s.name, "serviceArn": a.serviceARN(s), "clusterArn": a.arnOf("ecs", "cluster/"+s.cluster),
		"status": s.status, "taskDefinition": s.taskDef, "desiredCount": s.desired, "runningCount": running, "pendingCount": pending,
		"deployments": deps, "events": events, "launchType": s.launchType, "createdAt": epoch(s.created),
		"deploymentController": map[string]any{"type": "ECS"}, "deploymentConfiguration": s.config, "networkConfiguration": s.network,
		"currentServiceDeployment": a.currentServiceDeployment(s)}
}

func (a *AWS) currentServiceDeployment(s *ecsService) any {
	if len(s.deployments) == 0 || s.deployments[0].sd == nil {
		return nil
	}
	return s.deployments[0].sd.arn
}

func (a *AWS) taskJSON(t *ecsTask) map[string]any {
	m := map[string]any{"taskArn": t.arn, "clusterArn": a.arnOf("ecs", "cluster/"+t.cluster), "taskDefinitionArn": t.taskDef,
		"group": t.group, "startedBy": t.startedBy, "lastStatus": t.lastStatus, "desiredStatus": t.desired,
		"containers": t.containers, "createdAt": epoch(t.created), "launchType": "FARGATE"}
	if t.lastStatus == "STOPPED" {
		m["stoppedReason"], m["stoppedAt"], m["stopCode"] = t.stoppedReason, epoch(t.stopped), "EssentialContainerExited"
	}
	return m
}

func serviceNotFound(name string) *Fault {
	return badRequest("ServiceNotFoundException", "Service not found: %s", name)
}

func (a *AWS) ecsOp(op string, in map[string]any) (any, *Fault) {
	cluster := str(in, "cluster")
	switch op {
	case "CreateCluster":
		c := a.cluster(str(in, "clusterName"))
		return map[string]any{"cluster": map[string]any{"clusterName": c.name, "clusterArn": a.arnOf("ecs", "cluster/"+c.name), "status": "ACTIVE"}}, nil
	case "DescribeClusters":
		var out, failures []any
		for _, ref := range strs(in, "clusters") {
			if c := a.ecs.clusters[clusterName(ref)]; c != nil {
				out = append(out, map[string]any{"clusterName": c.name, "clusterArn": a.arnOf("ecs", "cluster/"+c.name), "status": "ACTIVE", "activeServicesCount": len(c.services)})
			} else {
				failures = append(failures, map[string]any{"arn": ref, "reason": "MISSING"})
			}
		}
		return map[string]any{"clusters": out, "failures": failures}, nil
	case "RegisterTaskDefinition":
		if str(in, "family") == "" || len(list(in, "containerDefinitions")) == 0 {
			return nil, badRequest("ClientException", "Task definition needs a family and at least one container definition.")
		}
		td := a.registerTaskDef(in)
		return map[string]any{"taskDefinition": td, "tags": a.ecs.tags[str(td, "taskDefinitionArn")]}, nil
	case "DescribeTaskDefinition":
		td := a.taskDef(str(in, "taskDefinition"))
		if td == nil {
			return nil, badRequest("ClientException", "Unable to describe task definition.")
		}
		out := map[string]any{"taskDefinition": td}
		if len(strs(in, "include")) > 0 {
			out["tags"] = a.ecs.tags[str(td, "taskDefinitionArn")]
		}
		return out, nil
	case "ListTaskDefinitions":
		var arns []string
		status := str(in, "status")
		if status == "" {
			status = "ACTIVE"
		}
		for _, f := range sortedKeys(a.ecs.families) {
			if p := str(in, "familyPrefix"); p != "" && !strings.HasPrefix(f, p) {
				continue
			}
			for _, td := range a.ecs.families[f] {
				if status == "ALL" || str(td, "status") == status {
					arns = append(arns, str(td, "taskDefinitionArn"))
				}
			}
		}
		if str(in, "sort") == "DESC" {
			for i, j := 0, len(arns)-1; i < j; i, j = i+1, j-1 {
				arns[i], arns[j] = arns[j], arns[i]
			}
		}
		return map[string]any{"taskDefinitionArns": arns}, nil
	case "DeregisterTaskDefinition":
		td := a.taskDef(str(in, "taskDefinition"))
		if td == nil {
			return nil, badRequest("ClientException", "The specified task definition does not exist.")
		}
		td["status"] = "INACTIVE"
		return map[string]any{"taskDefinition": td}, nil
	case "TagResource":
		arn := str(in, "resourceArn")
		for _, t := range list(in, "tags") {
			tags := a.ecs.tags[arn][:0:0]
			for _, old := range a.ecs.tags[arn] {
				if str(old.(map[string]any), "key") != str(t, "key") {
					tags = append(tags, old)
				}
			}
			a.ecs.tags[arn] = append(tags, t)
		}
		return nil, nil
	case "ListTagsForResource":
		return map[string]any{"tags": a.ecs.tags[str(in, "resourceArn")]}, nil
	case "CreateService":
		if a.ecs.clusters[clusterName(cluster)] == nil {
			return nil, badRequest("ClusterNotFoundException", "Cluster not found.")
		}
		if a.findService(cluster, str(in, "serviceName")) != nil {
			return nil, badRequest("InvalidParameterException", "Creation of service was not idempotent.")
		}
		if a.taskDef(str(in, "taskDefinition")) == nil {
			return nil, badRequest("ClientException", "TaskDefinition not found.")
		}
		if f := checkStrategy(obj(in, "deploymentConfiguration")); f != nil {
			return nil, f
		}
		return map[string]any{"service": a.serviceJSON(a.createService(cluster, in))}, nil
	case "UpdateService":
		s := a.findService(cluster, str(in, "service"))
		if s == nil {
			return nil, serviceNotFound(str(in, "service"))
		}
		if _, ok := in["desiredCount"]; ok {
			s.desired = num(in, "desiredCount", s.desired)
		}
		if f := checkStrategy(obj(in, "deploymentConfiguration")); f != nil {
			return nil, f
		}
		if c := obj(in, "deploymentConfiguration"); c != nil {
			s.config = c
		}
		if _, ok := in["loadBalancers"]; ok {
			s.loadBalancers = list(in, "loadBalancers")
		}
		td := s.taskDef
		if ref := str(in, "taskDefinition"); ref != "" {
			t := a.taskDef(ref)
			if t == nil {
				return nil, badRequest("ClientException", "TaskDefinition not found.")
			}
			td = str(t, "taskDefinitionArn")
		}
		if td != s.taskDef || flag(in, "forceNewDeployment") {
			a.deploy(s, td, "")
		}
		return map[string]any{"service": a.serviceJSON(s)}, nil
	case "DeleteService":
		s := a.findService(cluster, str(in, "service"))
		if s == nil {
			return nil, serviceNotFound(str(in, "service"))
		}
		s.status = "INACTIVE"
		delete(a.ecs.clusters[s.cluster].services, s.name)
		return map[string]any{"service": a.serviceJSON(s)}, nil
	case "DescribeServices":
		var out, failures []any
		for _, ref := range strs(in, "services") {
			s := a.findService(cluster, ref)
			if s == nil {
				failures = append(failures, map[string]any{"arn": a.arnOf("ecs", "service/"+clusterName(cluster)+"/"+lastSegment(ref)), "reason": "MISSING"})
				continue
			}
			a.advance(s)
			if len(s.deployments) > 0 {
				s.deployments[0].watched = true
			}
			for _, st := range a.cfn.stacks {
				if slices.Contains(st.waiting, s) {
					a.settleStack(st, advanceNone)
				}
			}
			out = append(out, a.serviceJSON(s))
		}
		return map[string]any{"services": out, "failures": failures}, nil
	case "ListServices":
		var arns []string
		if c := a.ecs.clusters[clusterName(cluster)]; c != nil {
			for _, n := range c.order {
				if s := c.services[n]; s != nil {
					arns = append(arns, a.serviceARN(s))
				}
			}
		}
		return map[string]any{"serviceArns": arns}, nil
	case "ListServiceDeployments":
		s := a.findService(cluster, str(in, "service"))
		if s == nil {
			return nil, serviceNotFound(str(in, "service"))
		}
		wanted := strs(in, "status")
		after, before := numf(obj(in, "createdAt"), "after", math.Inf(-1)), numf(obj(in, "createdAt"), "before", math.Inf(1))
		out := []any{}
		for i := len(s.history) - 1; i >= 0; i-- {
			sd := s.history[i]
			if c := epoch(sd.created); c < after || c > before {
				continue
			}
			if len(wanted) == 0 || contains(wanted, sd.status) {
				out = append(out, a.serviceDeploymentJSON(s, sd, true))
			}
		}
		return map[string]any{"serviceDeployments": out}, nil
	case "DescribeServiceDeployments":
		out, failures := []any{}, []any{}
		for _, arn := range strs(in, "serviceDeploymentArns") {
			s, sd := a.findServiceDeployment(arn)
			if sd == nil {
				failures = append(failures, map[string]any{"arn": arn, "reason": "MISSING"})
				continue
			}
			if sd.strat != nil {
				sd.strat.followed = true
				a.stepStrategy(s, sd)
				for _, st := range a.cfn.stacks {
					if slices.Contains(st.waiting, s) {
						a.settleStack(st, advanceNone)
					}
				}
			}
			out = append(out, a.serviceDeploymentJSON(s, sd, false))
		}
		return map[string]any{"serviceDeployments": out, "failures": failures}, nil
	case "ContinueServiceDeployment":
		return a.continueDeployment(in)
	case "StopServiceDeployment":
		return a.stopDeployment(str(in, "serviceDeploymentArn"), str(in, "stopType"))
	case "DescribeServiceRevisions":
		out, failures := []any{}, []any{}
		for _, arn := range strs(in, "serviceRevisionArns") {
			if r := a.ecs.revisions[arn]; r != nil {
				out = append(out, r)
			} else {
				failures = append(failures, map[string]any{"arn": arn, "reason": "MISSING"})
			}
		}
		return map[string]any{"serviceRevisions": out, "failures": failures}, nil
	case "RunTask":
		return a.runTask(cluster, in)
	case "DescribeTasks":
		var out, failures []any
		for _, ref := range strs(in, "tasks") {
			t := a.findTask(ref)
			if t == nil {
				failures = append(failures, map[string]any{"arn": ref, "reason": "MISSING"})
				continue
			}
			a.advanceTask(t)
			out = append(out, a.taskJSON(t))
		}
		return map[string]any{"tasks": out, "failures": failures}, nil
	case "ListTasks":
		var arns []string
		for _, t := range a.ecs.tasks {
			fam, _, _ := strings.Cut(lastSegment(t.taskDef), ":")
			switch {
			case t.cluster != clusterName(cluster),
				str(in, "family") != "" && str(in, "family") != fam,
				str(in, "serviceName") != "" && t.group != "service:"+str(in, "serviceName"),
				str(in, "startedBy") != "" && t.startedBy != str(in, "startedBy"),
				t.desired != orDefault(str(in, "desiredStatus"), "RUNNING"):
				continue
			}
			arns = append(arns, t.arn)
		}
		return map[string]any{"taskArns": arns}, nil
	case "StopTask":
		t := a.findTask(str(in, "task"))
		if t == nil {
			return nil, badRequest("InvalidParameterException", "The referenced task was not found.")
		}
		t.lastStatus, t.desired, t.stoppedReason, t.stopped = "STOPPED", "STOPPED", orDefault(str(in, "reason"), "Task stopped by user"), a.tick()
		return map[string]any{"task": a.taskJSON(t)}, nil
	}
	return nil, a.unknownOp("ecs", op)
}

func (a *AWS) findServiceDeployment(arn string) (*ecsService, *serviceDeployment) {
	for _, c := range a.ecs.clusters {
		for _, s := range c.services {
			for _, sd := range s.history {
				if sd.arn == arn {
					return s, sd
				}
			}
		}
	}
	return nil, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (a *AWS) findTask(ref string) *ecsTask {
	for _, t := range a.ecs.tasks {
		if t.arn == ref || lastSegment(t.arn) == lastSegment(ref) {
			return t
		}
	}
	return nil
}

// runTask starts a one-off task: PROVISIONING, RUNNING after the first
// DescribeTasks, STOPPED with its exit code after the settle polls.
func (a *AWS) runTask(cluster string, in map[string]any) (any, *Fault) {
	td := a.taskDef(str(in, "taskDefinition"))
	if td == nil {
		return nil, badRequest("ClientException", "TaskDefinition not found.")
	}
	if a.ecs.clusters[clusterName(cluster)] == nil {
		return nil, badRequest("ClusterNotFoundException", "Cluster not found.")
	}
	commands := map[string]string{}
	for _, o := range list(obj(in, "overrides"), "containerOverrides") {
		commands[str(o, "name")] = strings.Join(strs(o, "command"), " ")
	}
	var tasks []any
	for range max(1, num(in, "count", 1)) {
		t := &ecsTask{arn: a.arnOf("ecs", fmt.Sprintf("task/%s/%032x", clusterName(cluster), a.nextID())), cluster: clusterName(cluster),
			taskDef: str(td, "taskDefinitionArn"), group: orDefault(str(in, "group"), "family:"+str(td, "family")),
			startedBy: str(in, "startedBy"), lastStatus: "PROVISIONING", desired: "RUNNING", created: a.tick()}
		for i, c := range list(td, "containerDefinitions") {
			name, img := str(c, "name"), str(c, "image")
			cmd := commands[name]
			if cmd == "" {
				cmd = strings.Join(strs(c, "command"), " ")
			}
			code, ok := a.exitCode[cmd]
			if !ok && i == 0 {
				code = a.exitCode[img]
			}
			if code != 0 {
				t.exit = code
			}
			t.containers = append(t.containers, map[string]any{"name": name, "image": img, "lastStatus": "PENDING"})
		}
		a.ecs.tasks = append(a.ecs.tasks, t)
		tasks = append(tasks, a.taskJSON(t))
	}
	return map[string]any{"tasks": tasks, "failures": []any{}}, nil
}

func (a *AWS) advanceTask(t *ecsTask) {
	if t.lastStatus == "STOPPED" {
		return
	}
	t.polls++
	t.lastStatus = "RUNNING"
	for _, c := range t.containers {
		c["lastStatus"] = "RUNNING"
	}
	if t.polls < a.settle {
		return
	}
	t.lastStatus, t.desired, t.stopped, t.stoppedReason = "STOPPED", "STOPPED", a.tick(), "Essential container in task exited"
	bad := a.badReason(t.taskDef)
	if bad != "" {
		t.stoppedReason = bad
	}
	for _, c := range t.containers {
		c["lastStatus"] = "STOPPED"
		if bad == "" {
			c["exitCode"] = t.exit
		} else {
			c["reason"] = bad // the container never ran: no exit code
		}
	}
}
