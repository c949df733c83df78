package fakeaws

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// elbState holds the listener rules (ELBv2) and the load balancer front's
// scripted answers.
type elbState struct {
	rules    map[string]*elbRule // by rule ARN
	handlers map[string]http.Handler
	split    int // requests the front split by production weight
	frontURL string
}

func (s *elbState) init() {
	s.rules = map[string]*elbRule{}
	s.handlers = map[string]http.Handler{}
}

type elbRule struct {
	arn, listener, priority string
	conditions, actions     []any // as the API shows them (PascalCase)
}

// putRule creates (arn "") or replaces a listener rule from
// AWS::ElasticLoadBalancingV2::ListenerRule properties; it returns the ARN.
func (a *AWS) putRule(arn string, props map[string]any) string {
	listener := str(props, "ListenerArn")
	if arn == "" {
		id := fmt.Sprintf("%016x", a.nextID()*7919)
		if strings.Contains(listener, ":listener/") {
			arn = strings.Replace(listener, ":listener/", ":listener-rule/", 1) + "/" + id
		} else {
			arn = a.arnOf("elasticloadbalancing", "listener-rule/app/fake/0000000000000000/0000000000000000/"+id)
		}
	}
	conds, _ := clone(props["Conditions"]).([]any)
	acts, _ := clone(props["Actions"]).([]any)
	a.elb.rules[arn] = &elbRule{arn: arn, listener: listener, priority: fmt.Sprint(props["Priority"]), conditions: conds, actions: acts}
	return arn
}

func (r *elbRule) json() map[string]any {
	return map[string]any{"RuleArn": r.arn, "Priority": r.priority, "IsDefault": false,
		"Conditions": orEmpty(r.conditions), "Actions": orEmpty(r.actions)}
}

func orEmpty(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func ruleNotFound() *Fault {
	return badRequest("RuleNotFound", "One or more rules not found")
}

// elbOp answers the ELBv2 operations: DescribeRules and ModifyRule.
func (a *AWS) elbOp(op string, in map[string]any) (any, *Fault) {
	switch op {
	case "DescribeRules":
		var out []any
		if arns := strs(in, "RuleArns"); len(arns) > 0 {
			for _, arn := range arns {
				r := a.elb.rules[arn]
				if r == nil {
					return nil, ruleNotFound()
				}
				out = append(out, r.json())
			}
		} else if l := str(in, "ListenerArn"); l != "" {
			for _, arn := range sortedKeys(a.elb.rules) {
				if r := a.elb.rules[arn]; r.listener == l {
					out = append(out, r.json())
				}
			}
		} else {
			return nil, badRequest("ValidationError", "Either a listener ARN or rule ARNs must be specified")
		}
		return map[string]any{"Rules": orEmpty(out)}, nil
	case "ModifyRule":
		r := a.elb.rules[str(in, "RuleArn")]
		if r == nil {
			return nil, ruleNotFound()
		}
		conds, hasConds := in["Conditions"].([]any)
		if hasConds {
			for _, c := range conds {
				if f := checkCondition(c.(map[string]any)); f != nil {
					return nil, f
				}
			}
			r.conditions = clone(conds)
		}
		if acts, ok := in["Actions"].([]any); ok {
			r.actions = clone(acts)
		}
		return map[string]any{"Rules": []any{r.json()}}, nil
	}
	return nil, a.unknownOp("elasticloadbalancing", op)
}

// checkCondition rejects a rule condition the way ELBv2 does.
func checkCondition(c map[string]any) *Fault {
	field := str(c, "Field")
	switch field {
	case "http-header":
		h := obj(c, "HttpHeaderConfig")
		if str(h, "HttpHeaderName") == "" || len(strs(h, "Values")) == 0 {
			return badRequest("ValidationError", "An http-header condition needs HttpHeaderConfig with an HttpHeaderName and at least one value")
		}
	case "host-header", "path-pattern", "http-request-method", "query-string", "source-ip":
	case "":
		return badRequest("ValidationError", "A condition must have a Field")
	default:
		return badRequest("ValidationError", "Condition field '%s' is not supported", field)
	}
	return nil
}

// Rule is a listener rule's state, for assertions.
type Rule struct {
	ARN, Priority string
	// Header is the http-header condition's header name and values.
	Header       string
	HeaderValues []string
}

// Rule returns the listener rule with that ARN; ok is false when it does
// not exist.
func (a *AWS) Rule(arn string) (Rule, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.elb.rules[arn]
	if r == nil {
		return Rule{}, false
	}
	out := Rule{ARN: r.arn, Priority: r.priority}
	for _, c := range r.conditions {
		if cm, _ := c.(map[string]any); str(cm, "Field") == "http-header" {
			out.Header, out.HeaderValues = str(obj(cm, "HttpHeaderConfig"), "HttpHeaderName"), strs(obj(cm, "HttpHeaderConfig"), "Values")
		}
	}
	return out, true
}

// LoadBalancerURL is the base URL of the load balancer front: an HTTP
// server that answers as the services behind the listener rules would
// (see SetRevisionHandler).
func (a *AWS) LoadBalancerURL() string { return a.elb.frontURL }

// SetRevisionHandler makes h answer the front's requests routed to a
// revision whose task definition runs image (a container image exactly as
// in the task definition, e.g. "repo/api@sha256:…"). Without one a
// revision answers 200 "ok" on every path.
func (a *AWS) SetRevisionHandler(image string, h http.Handler) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.elb.handlers[image] = h
}

// RevisionHeader is the response header the front adds with the task
// definition ARN of the revision that answered.
const RevisionHeader = "X-Fakeaws-Task-Definition"

// serveFront routes a request as the listener rules do, by priority: a
// rule's conditions must all match (host-header only when the request's
// Host is a name, not the front's own address). A service's test rule sends to the service's new
// revision while its deployment is in or past TEST_TRAFFIC_SHIFT, its
// production rule to the serving revision (during a production traffic
// shift, a share of requests as the weight says, deterministically).
func (a *AWS) serveFront(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	td, why := a.route(r)
	var h http.Handler
	if td != "" {
		images := a.imagesOf(td)
		for _, n := range sortedKeys(images) {
			if x := a.elb.handlers[images[n]]; x != nil && h == nil {
				h = x
			}
		}
	}
	a.mu.Unlock()
	if td == "" {
		http.Error(w, "fakeaws load balancer: "+why, http.StatusServiceUnavailable)
		return
	}
	w.Header().Set(RevisionHeader, td)
	if h == nil {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok")
		return
	}
	h.ServeHTTP(w, r)
}

// route is the task definition that answers r, or "" and why none does.
func (a *AWS) route(r *http.Request) (string, string) {
	rules := make([]*elbRule, 0, len(a.elb.rules))
	for _, x := range a.elb.rules {
		rules = append(rules, x)
	}
	sort.Slice(rules, func(i, j int) bool {
		pi, pj := num(map[string]any{"p": rules[i].priority}, "p", 50000), num(map[string]any{"p": rules[j].priority}, "p", 50000)
		if pi != pj {
			return pi < pj
		}
		return rules[i].arn < rules[j].arn
	})
	var fronted []*ecsService
	for _, c := range a.ecs.clusters {
		for _, n := range c.order {
			if s := c.services[n]; s != nil && len(s.loadBalancers) > 0 {
				fronted = append(fronted, s)
			}
		}
	}
	for _, rule := range rules {
		if !ruleMatches(rule, r) {
			continue
		}
		for _, s := range fronted {
			for _, lb := range s.loadBalancers {
				adv := obj(lb, "advancedConfiguration")
				switch rule.arn {
				case str(adv, "testListenerRule"):
					return a.revisionOf(s, true), ""
				case str(adv, "productionListenerRule"):
					return a.revisionOf(s, false), ""
				}
			}
		}
	}
	if len(fronted) == 1 {
		return a.revisionOf(fronted[0], false), ""
	}
	return "", fmt.Sprintf("no listener rule of a service matches %s %s", r.Method, r.URL.Path)
}

// revisionOf is the task definition that serves s's test (or production)
// traffic now.
func (a *AWS) revisionOf(s *ecsService, test bool) string {
	sd := s.inFlight()
	if sd == nil || sd.strat == nil || sd.status == "ROLLBACK_IN_PROGRESS" {
		return s.taskDef
	}
	run := sd.strat
	if run.at < 0 {
		return run.sourceTD
	}
	if test {
		if run.reached(stageTestShift) {
			return run.dep.taskDef
		}
		return run.sourceTD
	}
	w := run.weights[run.at]
	a.elb.split++
	if float64(a.elb.split%100) < w {
		return run.dep.taskDef
	}
	return run.sourceTD
}

func ruleMatches(rule *elbRule, r *http.Request) bool {
	for _, c := range rule.conditions {
		cm, _ := c.(map[string]any)
		switch str(cm, "Field") {
		case "http-header":
			h := obj(cm, "HttpHeaderConfig")
			if !anyMatch(strs(h, "Values"), r.Header.Values(str(h, "HttpHeaderName")), true) {
				return false
			}
		case "path-pattern":
			vals := strs(obj(cm, "PathPatternConfig"), "Values")
			if len(vals) == 0 {
				vals = strs(cm, "Values")
			}
			if !anyMatch(vals, []string{r.URL.Path}, false) {
				return false
			}
		case "host-header":
			// Requests to the front's own address (127.0.0.1:port) match
			// every host; a test picks a service by setting req.Host.
			host := r.Host
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			vals := strs(obj(cm, "HostHeaderConfig"), "Values")
			if len(vals) == 0 {
				vals = strs(cm, "Values")
			}
			if net.ParseIP(host) == nil && host != "localhost" && !anyMatch(vals, []string{host}, true) {
				return false
			}
		case "http-request-method":
			if !anyMatch(strs(obj(cm, "HttpRequestMethodConfig"), "Values"), []string{r.Method}, false) {
				return false
			}
		}
	}
	return true
}

// anyMatch: does one of got match one of the patterns (* and ? wildcards)?
func anyMatch(patterns, got []string, fold bool) bool {
	for _, p := range patterns {
		for _, g := range got {
			if fold {
				p, g = strings.ToLower(p), strings.ToLower(g)
			}
			re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(p)) + "$"
			if ok, _ := regexp.MatchString(re, g); ok {
				return true
			}
		}
	}
	return false
}
