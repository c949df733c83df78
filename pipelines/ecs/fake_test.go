package ecs

import (
	"github.com/stevedore-ci/stevedore/pipelines/internal/awstest"

	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// This file holds the test double: a fake clock and an httptest server
// speaking the ECS JSON 1.1 wire protocol, driven by scenario scripts.

const (
	tdPrev  = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:5"
	tdNew   = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:8"
	tdOther = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:9"
	tdMid   = "arn:aws:ecs:us-east-1:123456789012:task-definition/api:7"
	depOld  = "ecs-svc/1111111111111111111"
	depOurs = "ecs-svc/2222222222222222222"
	depBack = "ecs-svc/3333333333333333333"
	depElse = "ecs-svc/4444444444444444444"
	runArn  = "arn:aws:ecs:us-east-1:123456789012:task/prod/migrate0000000000000000000000"
	epoch   = 1735732800 // 2025-01-01T12:00:00Z, the fake clock's start
)

// fakeClock advances only when slept on, so waits take no real time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(epoch, 0).UTC()} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// dep is one deployment in a scripted service state.
type dep struct {
	id, status, td, rollout, reason   string
	running, desired, pending, failed int
	createdAt                         int // seconds after the clock's start
}

// state is one scripted DescribeServices answer.
type state struct {
	missing bool
	status  string // "" means ACTIVE
	deps    []dep
	events  []string // events that happen when this state begins
}

// scenario scripts a service. Before UpdateService the fake serves before;
// after the first UpdateService it serves states[i] during the i-th step
// (one step per poll by default, so successive polls see successive
// states; the last one stays); after a second UpdateService (a rollback)
// it serves rollback the same way.
type scenario struct {
	// prelude, if set, replaces before: its states step from the clock's
	// start like states do (someone else's deployment in flight).
	prelude  []state
	before   state
	states   []state
	rollback []state
	step     time.Duration // default DefaultPoll
	// offset shifts the script's phase: state i starts at i*step-offset.
	offset time.Duration
	// failOps makes the i-th call of an operation fail with codes[i]
	// ("" lets that call through).
	failOps map[string][]string
	// taskDef is a DescribeTaskDefinition answer (raw JSON): the revision
	// it describes is served by its ARN, and for any unknown ARN.
	taskDef string
	// defs are more revisions, by ARN: container name -> image. Each
	// container logs with awslogs to group /ecs/<family>, prefix "svc".
	defs map[string]map[string]string
	// logs are the CloudWatch Logs streams, by "group|stream": lines,
	// oldest first. A stream missing here does not exist.
	logs map[string][]string
	// stopped are the stopped tasks ListTasks/DescribeTasks report.
	stopped []map[string]any
	// run scripts the RunTask task: runFailures, or DescribeTasks answers
	// stepping like states.
	runFailures []map[string]any
	run         []map[string]any
	// serviceDeployments scripts the service-deployments API: one
	// ServiceDeployment (raw JSON fields) per step from the clock's start;
	// nil while none has started.
	serviceDeployments []map[string]any
	// noBreaker turns the deployment circuit breaker off.
	noBreaker bool
	// gate, if set, holds every DescribeServices after UpdateService until
	// it is closed.
	gate <-chan struct{}
}

// script is the per-service progress through a scenario.
type script struct {
	sc      *scenario
	updates int
	t0      time.Time
}

// fakeECS is the httptest server.
type fakeECS struct {
	t        testing.TB
	now      func() time.Time
	mu       sync.Mutex
	services map[string]*script
	calls    map[string]int
	requests map[string][]map[string]any
	runT0    time.Time
	srv      *httptest.Server
	// defs are the task definitions the fake knows, by ARN.
	defs map[string]*fakeDef
}

// fakeDef is one registered task-definition revision.
type fakeDef struct {
	td   map[string]any
	tags any
}

func newFakeECS(t testing.TB, now func() time.Time, scs map[string]*scenario) *fakeECS {
	f := &fakeECS{t: t, now: now, services: map[string]*script{}, calls: map[string]int{}, requests: map[string][]map[string]any{}}
	f.defs = map[string]*fakeDef{}
	for name, sc := range scs {
		f.services[name] = &script{sc: sc}
		f.addDefs(sc)
	}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// config is an aws.Config aimed at the fake, with instant retry backoff.
func (f *fakeECS) config() aws.Config {
	cfg := awstest.Config(f.srv.URL)
	cfg.HTTPClient = f.srv.Client()
	return cfg
}

func (f *fakeECS) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *fakeECS) bodies(op string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[op]
}

func (f *fakeECS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	const prefix = "AmazonEC2ContainerServiceV20141113."
	target := r.Header.Get("X-Amz-Target")
	if strings.HasPrefix(target, "Logs_20140328.") {
		f.serveLogs(w, r, strings.TrimPrefix(target, "Logs_20140328."))
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(target, prefix) {
		http.Error(w, "not an ECS JSON 1.1 call", http.StatusBadRequest)
		return
	}
	op := strings.TrimPrefix(target, prefix)
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.waitAtGate(op, body)
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.calls[op]
	f.calls[op]++
	f.requests[op] = append(f.requests[op], body)
	if s := f.serviceOf(body); s != nil && n < len(s.sc.failOps[op]) && s.sc.failOps[op][n] != "" {
		writeAPIError(w, s.sc.failOps[op][n], op)
		return
	}
	var out any
	switch op {
	case "DescribeServices":
		out = f.describeServices(body)
	case "UpdateService":
		out = f.updateService(body)
	case "DescribeTaskDefinition":
		def := f.lookupDef(body["taskDefinition"].(string))
		if def == nil {
			writeAPIError(w, "ClientException", op)
			return
		}
		out = map[string]any{"taskDefinition": def.td, "tags": def.tags}
	case "RegisterTaskDefinition":
		out = f.registerTaskDefinition(body)
	case "ListTaskDefinitions":
		out = f.listTaskDefinitions(body)
	case "DeregisterTaskDefinition":
		def := f.lookupDef(body["taskDefinition"].(string))
		def.td["status"] = "INACTIVE"
		out = map[string]any{"taskDefinition": def.td}
	case "ListTasks":
		var arns []any
		for _, t := range f.anyScenario().stopped {
			arns = append(arns, t["taskArn"])
		}
		out = map[string]any{"taskArns": arns}
	case "DescribeTasks":
		out = f.describeTasks(body)
	case "RunTask":
		out = f.runTask()
	case "ListServiceDeployments":
		out = map[string]any{"serviceDeployments": []any{}}
		if sd := f.currentServiceDeployment(); sd != nil {
			out = map[string]any{"serviceDeployments": []any{map[string]any{
				"serviceDeploymentArn": sd["serviceDeploymentArn"], "status": sd["status"], "createdAt": sd["createdAt"]}}}
		}
	case "DescribeServiceDeployments":
		sd := f.currentServiceDeployment()
		arn := body["serviceDeploymentArns"].([]any)[0]
		if sd == nil || sd["serviceDeploymentArn"] != arn {
			out = map[string]any{"serviceDeployments": []any{}, "failures": []any{map[string]any{"arn": arn, "reason": "MISSING"}}}
		} else {
			out = map[string]any{"serviceDeployments": []any{sd}, "failures": []any{}}
		}
	default:
		f.t.Errorf("unexpected ECS operation %s", op)
		http.Error(w, "unexpected operation", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if err := json.NewEncoder(w).Encode(out); err != nil {
		f.t.Errorf("encoding %s answer: %v", op, err)
	}
}

// waitAtGate blocks a gated service's polls without holding the lock, so
// other services go on.
func (f *fakeECS) waitAtGate(op string, body map[string]any) {
	f.mu.Lock()
	s := f.serviceOf(body)
	gated := op == "DescribeServices" && s != nil && s.sc.gate != nil && s.updates > 0
	f.mu.Unlock()
	if gated {
		<-s.sc.gate
	}
}

func writeAPIError(w http.ResponseWriter, code, op string) {
	msg := map[string]string{
		"ThrottlingException":   "Rate exceeded",
		"AccessDeniedException": "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: " + qualified(op),
		"ServerException":       "Service unavailable, try again later",
		"ClientException":       "Unable to describe task definition.",
	}[code]
	status := http.StatusBadRequest
	if code == "ServerException" {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// serviceOf finds the script a request is about (by service name, or the
// only one).
func (f *fakeECS) serviceOf(body map[string]any) *script {
	name, _ := body["service"].(string)
	if list, ok := body["services"].([]any); ok && len(list) > 0 {
		name, _ = list[0].(string)
	}
	if s, ok := f.services[name]; ok {
		return s
	}
	if len(f.services) == 1 {
		for _, s := range f.services {
			return s
		}
	}
	return nil
}

func (f *fakeECS) anyScenario() *scenario {
	for _, s := range f.services {
		return s.sc
	}
	return &scenario{}
}

// current returns the state to serve now and the events that have
// happened up to it, oldest first.
func (s *script) current(now time.Time) (state, []string) {
	if len(s.sc.prelude) > 0 {
		i := stepIndex(now.Sub(time.Unix(epoch, 0)), s.sc.step, len(s.sc.prelude))
		if s.updates == 0 {
			var events []string
			for _, st := range s.sc.prelude[:i+1] {
				events = append(events, st.events...)
			}
			return s.sc.prelude[i], events
		}
		s.sc.before = s.sc.prelude[len(s.sc.prelude)-1]
	}
	events := append([]string(nil), s.sc.before.events...)
	if s.updates == 0 {
		return s.sc.before, events
	}
	phase := s.sc.states
	if s.updates > 1 {
		for _, st := range s.sc.states {
			events = append(events, st.events...)
		}
		phase = s.sc.rollback
	}
	if len(phase) == 0 {
		return s.sc.before, events
	}
	i := stepIndex(now.Sub(s.t0)+s.sc.offset, s.sc.step, len(phase))
	for _, st := range phase[:i+1] {
		events = append(events, st.events...)
	}
	return phase[i], events
}

// stepIndex maps elapsed time to a script index; the last state stays.
func stepIndex(elapsed, step time.Duration, n int) int {
	if step <= 0 {
		step = DefaultPoll
	}
	i := int(elapsed / step)
	return max(0, min(i, n-1))
}

func (f *fakeECS) describeServices(body map[string]any) any {
	if list, _ := body["services"].([]any); len(list) > 1 {
		services, failures := []any{}, []any{}
		for _, name := range list {
			one := f.describeServices(map[string]any{"services": []any{name}}).(map[string]any)
			services = append(services, one["services"].([]any)...)
			failures = append(failures, one["failures"].([]any)...)
		}
		return map[string]any{"services": services, "failures": failures}
	}
	if list, _ := body["services"].([]any); len(list) == 1 && len(f.services) > 1 {
		if _, ok := f.services[list[0].(string)]; !ok {
			return map[string]any{"services": []any{}, "failures": []any{map[string]any{"arn": "arn:aws:ecs:us-east-1:123456789012:service/prod/" + list[0].(string), "reason": "MISSING"}}}
		}
	}
	s := f.serviceOf(body)
	if s == nil {
		return map[string]any{"services": []any{}, "failures": []any{map[string]any{"arn": "arn:aws:ecs:us-east-1:123456789012:service/prod/unknown", "reason": "MISSING"}}}
	}
	st, events := s.current(f.now())
	if st.missing {
		return map[string]any{"services": []any{}, "failures": []any{map[string]any{"arn": "arn:aws:ecs:us-east-1:123456789012:service/prod/" + f.nameOf(s), "reason": "MISSING"}}}
	}
	return map[string]any{"services": []any{f.serviceJSON(s, st, events)}, "failures": []any{}}
}

func (f *fakeECS) updateService(body map[string]any) any {
	s := f.serviceOf(body)
	s.updates++
	s.t0 = f.now()
	st, events := s.current(s.t0)
	return map[string]any{"service": f.serviceJSON(s, st, events)}
}

// startScript puts a service in its post-UpdateService phase without an
// UpdateService call (for clients, like the SDK waiter, that only poll).
func (f *fakeECS) startScript(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.services[name].updates, f.services[name].t0 = 1, f.now()
}

func (f *fakeECS) nameOf(s *script) string {
	for name, x := range f.services {
		if x == s {
			return name
		}
	}
	return ""
}

// serviceJSON renders a state as ECS would: events newest first, service
// counts summed over deployments.
func (f *fakeECS) serviceJSON(s *script, st state, events []string) map[string]any {
	name := f.nameOf(s)
	var deps []any
	running, pending, desired, td := 0, 0, 0, ""
	for _, d := range st.deps {
		m := map[string]any{
			"id": d.id, "status": d.status, "taskDefinition": d.td,
			"runningCount": d.running, "desiredCount": d.desired, "pendingCount": d.pending, "failedTasks": d.failed,
			"createdAt": epoch + d.createdAt, "launchType": "FARGATE",
		}
		if d.rollout != "" {
			m["rolloutState"] = d.rollout
		}
		if d.reason != "" {
			m["rolloutStateReason"] = d.reason
		}
		deps = append(deps, m)
		running += d.running
		pending += d.pending
		if d.status == "PRIMARY" {
			desired, td = d.desired, d.td
		}
	}
	evs := []any{}
	for i := len(events) - 1; i >= 0; i-- {
		evs = append(evs, map[string]any{"id": fmt.Sprintf("ev-%d", i), "createdAt": epoch + i, "message": fmt.Sprintf("(service %s) %s", name, events[i])})
	}
	status := st.status
	if status == "" {
		status = "ACTIVE"
	}
	return map[string]any{
		"serviceName": name, "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/" + name,
		"clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/prod", "status": status,
		"taskDefinition": td, "runningCount": running, "pendingCount": pending, "desiredCount": desired,
		"deployments": deps, "events": evs, "launchType": "FARGATE", "platformVersion": "1.4.0",
		"deploymentController":    map[string]any{"type": "ECS"},
		"deploymentConfiguration": map[string]any{"deploymentCircuitBreaker": map[string]any{"enable": !s.sc.noBreaker, "rollback": true}},
		"networkConfiguration": map[string]any{"awsvpcConfiguration": map[string]any{
			"subnets": []string{"subnet-aaa", "subnet-bbb"}, "securityGroups": []string{"sg-app"}, "assignPublicIp": "DISABLED"}},
	}
}

func (f *fakeECS) describeTasks(body map[string]any) any {
	sc := f.anyScenario()
	wanted := map[string]bool{}
	for _, a := range body["tasks"].([]any) {
		wanted[a.(string)] = true
	}
	if wanted[runArn] {
		if len(sc.run) == 0 {
			return map[string]any{"tasks": []any{}, "failures": []any{map[string]any{"arn": runArn, "reason": "MISSING"}}}
		}
		return map[string]any{"tasks": []any{sc.run[stepIndex(f.now().Sub(f.runT0), sc.step, len(sc.run))]}}
	}
	var tasks []any
	for _, t := range sc.stopped {
		if wanted[t["taskArn"].(string)] {
			tasks = append(tasks, t)
		}
	}
	return map[string]any{"tasks": tasks}
}

func (f *fakeECS) runTask() any {
	sc := f.anyScenario()
	if len(sc.runFailures) > 0 {
		return map[string]any{"tasks": []any{}, "failures": sc.runFailures}
	}
	f.runT0 = f.now()
	return map[string]any{"tasks": []any{map[string]any{"taskArn": runArn, "lastStatus": "PROVISIONING"}}}
}

// harness wires a Deployer to a fake ECS and a fake clock.
type harness struct {
	fake  *fakeECS
	clock *fakeClock
	d     *Deployer
	mu    sync.Mutex
	lines []string
}

func newHarness(t testing.TB, scs map[string]*scenario) *harness {
	h := &harness{clock: newFakeClock()}
	h.fake = newFakeECS(t, h.clock.Now, scs)
	h.d = New(h.fake.config(), WithClock(h.clock), WithLog(func(l string) {
		h.mu.Lock()
		h.lines = append(h.lines, l)
		h.mu.Unlock()
	}))
	return h
}

func (h *harness) log() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.lines, "\n")
}

// elapsed is the fake time since the clock started.
func (h *harness) elapsed() time.Duration { return h.clock.Now().Sub(time.Unix(epoch, 0)) }

// Deployment builders keep scenarios short. Every service wants 2 tasks.

// old is the deployment that ran before the rollout (tdPrev).
func old(status string, running int) dep {
	return dep{id: depOld, status: status, td: tdPrev, rollout: "COMPLETED", running: running, desired: 2, createdAt: -3600}
}

// ours is the deployment our UpdateService creates, at time 0.
func ours(td, status, rollout string, running int) dep {
	return dep{id: depOurs, status: status, td: td, rollout: rollout, running: running, desired: 2, pending: 2 - running}
}

// steady is a service at rest with one deployment.
func steady(d dep) state {
	d.status, d.rollout, d.running, d.pending = "PRIMARY", "COMPLETED", 2, 0
	return state{deps: []dep{d}}
}

func with(s state, events ...string) state {
	s.events = append(s.events, events...)
	return s
}

func deps(ds ...dep) state { return state{deps: ds} }

// addDefs loads a scenario's task definitions.
func (f *fakeECS) addDefs(sc *scenario) {
	if sc.taskDef != "" {
		var described struct {
			TaskDefinition map[string]any `json:"taskDefinition"`
			Tags           any            `json:"tags"`
		}
		if err := json.Unmarshal([]byte(sc.taskDef), &described); err != nil {
			f.t.Fatalf("scenario taskDef: %v", err)
		}
		f.defs[described.TaskDefinition["taskDefinitionArn"].(string)] = &fakeDef{td: described.TaskDefinition, tags: described.Tags}
	}
	for arn, images := range sc.defs {
		family, rev, _ := splitRevision(arn)
		var containers []any
		for _, name := range sortedKeys(images) {
			containers = append(containers, map[string]any{"name": name, "image": images[name], "essential": true,
				"logConfiguration": map[string]any{"logDriver": "awslogs", "options": map[string]any{
					"awslogs-group": "/ecs/" + family, "awslogs-region": "us-east-1", "awslogs-stream-prefix": "svc"}}})
		}
		f.defs[arn] = &fakeDef{td: map[string]any{"taskDefinitionArn": arn, "family": family, "revision": rev, "status": "ACTIVE",
			"containerDefinitions": containers, "cpu": "256", "memory": "512", "networkMode": "awsvpc"}}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// lookupDef finds a revision by ARN or family:revision; unknown ones fall
// back to a scenario's taskDef.
func (f *fakeECS) lookupDef(ref string) *fakeDef {
	for arn, def := range f.defs {
		if arn == ref || shortName(arn) == ref {
			return def
		}
	}
	for _, s := range f.services {
		if s.sc.taskDef != "" {
			var described struct {
				TaskDefinition map[string]any `json:"taskDefinition"`
				Tags           any            `json:"tags"`
			}
			json.Unmarshal([]byte(s.sc.taskDef), &described)
			return &fakeDef{td: described.TaskDefinition, tags: described.Tags}
		}
	}
	return nil
}

// registerTaskDefinition stores a new revision: the first is tdNew (api:8),
// then 9, 10, ...
func (f *fakeECS) registerTaskDefinition(body map[string]any) any {
	family := body["family"].(string)
	rev := 8
	for arn := range f.defs {
		if fam, r, ok := splitRevision(arn); ok && fam == family && r >= rev {
			rev = r + 1
		}
	}
	td := map[string]any{}
	for k, v := range body {
		if k != "tags" {
			td[k] = v
		}
	}
	arn := fmt.Sprintf("arn:aws:ecs:us-east-1:123456789012:task-definition/%s:%d", family, rev)
	td["taskDefinitionArn"], td["revision"], td["status"] = arn, rev, "ACTIVE"
	f.defs[arn] = &fakeDef{td: td, tags: body["tags"]}
	return map[string]any{"taskDefinition": td, "tags": body["tags"]}
}

// listTaskDefinitions answers familyPrefix + status + sort DESC queries.
func (f *fakeECS) listTaskDefinitions(body map[string]any) any {
	prefix, _ := body["familyPrefix"].(string)
	status, _ := body["status"].(string)
	var arns []string
	for arn, def := range f.defs {
		fam, _, _ := splitRevision(arn)
		if strings.HasPrefix(fam, prefix) && (status == "" || def.td["status"] == status) {
			arns = append(arns, arn)
		}
	}
	sort.Slice(arns, func(i, j int) bool {
		_, a, _ := splitRevision(arns[i])
		_, b, _ := splitRevision(arns[j])
		return a > b
	})
	if body["sort"] != "DESC" {
		slices.Reverse(arns)
	}
	if n, ok := body["maxResults"].(float64); ok && int(n) < len(arns) {
		arns = arns[:int(n)]
	}
	return map[string]any{"taskDefinitionArns": arns}
}

// serveLogs answers CloudWatch Logs GetLogEvents from the scenario's logs:
// the last "limit" events of the stream, oldest first.
func (f *fakeECS) serveLogs(w http.ResponseWriter, r *http.Request, op string) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || op != "GetLogEvents" {
		f.t.Errorf("unexpected CloudWatch Logs call %s (%v)", op, err)
		http.Error(w, "unexpected", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.calls[op]
	f.calls[op]++
	f.requests[op] = append(f.requests[op], body)
	sc := f.anyScenario()
	if n < len(sc.failOps[op]) && sc.failOps[op][n] != "" {
		writeAPIError(w, sc.failOps[op][n], "logs:"+op)
		return
	}
	lines, ok := sc.logs[body["logGroupName"].(string)+"|"+body["logStreamName"].(string)]
	if !ok {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "ResourceNotFoundException", "message": "The specified log stream does not exist."})
		return
	}
	if limit, ok := body["limit"].(float64); ok && int(limit) < len(lines) {
		lines = lines[len(lines)-int(limit):]
	}
	events := []any{}
	for i, l := range lines {
		events = append(events, map[string]any{"timestamp": (epoch + i) * 1000, "message": l, "ingestionTime": (epoch + i) * 1000})
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(map[string]any{"events": events, "nextForwardToken": "f/1", "nextBackwardToken": "b/1"})
}

// qualified names an operation as IAM does: ecs:Op unless already prefixed.
func qualified(op string) string {
	if strings.Contains(op, ":") {
		return op
	}
	return "ecs:" + op
}

// currentServiceDeployment is the scripted service deployment now.
func (f *fakeECS) currentServiceDeployment() map[string]any {
	sc := f.anyScenario()
	if len(sc.serviceDeployments) == 0 {
		return nil
	}
	return sc.serviceDeployments[stepIndex(f.now().Sub(time.Unix(epoch, 0))+sc.offset, sc.step, len(sc.serviceDeployments))]
}
