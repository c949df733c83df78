package fakeaws

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// resolver evaluates a template's intrinsic functions against a stack.
type resolver struct {
	a         *AWS
	st        *stack
	tpl       map[string]any
	resources map[string]*resource
	exports   map[string]string
}

type noValue struct{}

// templateError is a template problem, worded as CloudFormation words it.
func templateError(format string, args ...any) error {
	return badRequest("ValidationError", format, args...)
}

func (r *resolver) ref(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return r.a.region, nil
	case "AWS::AccountId":
		return r.a.account, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::StackName":
		return r.st.name, nil
	case "AWS::StackId":
		return r.st.id, nil
	case "AWS::NoValue":
		return noValue{}, nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	}
	if v, ok := r.st.params[name]; ok {
		return v, nil
	}
	if res := r.resources[name]; res != nil {
		return res.physical, nil
	}
	return nil, templateError("Template format error: Unresolved resource dependencies [%s] in the Resources block of the template", name)
}

func (r *resolver) getAtt(logical, attr string) (any, error) {
	res := r.resources[logical]
	if res == nil {
		return nil, templateError("Template error: instance of Fn::GetAtt references undefined resource %s", logical)
	}
	if v, ok := res.attrs[attr]; ok {
		return v, nil
	}
	return res.physical + "." + attr, nil
}

var subVar = regexp.MustCompile(`\$\{([^}]+)\}`)

// resolve evaluates v; a noValue result means "drop this property".
func (r *resolver) resolve(v any) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if _, drop := rv.(noValue); !drop {
				out = append(out, rv)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for fn, arg := range x {
				if fn == "Ref" || strings.HasPrefix(fn, "Fn::") {
					return r.intrinsic(fn, arg)
				}
			}
		}
		out := map[string]any{}
		for k, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if _, drop := rv.(noValue); !drop {
				out[k] = rv
			}
		}
		return out, nil
	}
	return v, nil
}

func (r *resolver) intrinsic(fn string, arg any) (any, error) {
	args, _ := arg.([]any)
	switch fn {
	case "Ref":
		s, _ := arg.(string)
		return r.ref(s)
	case "Fn::GetAtt":
		if s, ok := arg.(string); ok {
			l, at, _ := strings.Cut(s, ".")
			return r.getAtt(l, at)
		}
		if len(args) == 2 {
			return r.getAtt(fmt.Sprint(args[0]), fmt.Sprint(args[1]))
		}
	case "Fn::Join":
		if len(args) == 2 {
			items, err := r.resolve(args[1])
			if err != nil {
				return nil, err
			}
			var parts []string
			l, _ := items.([]any)
			for _, it := range l {
				parts = append(parts, fmt.Sprint(it))
			}
			return strings.Join(parts, fmt.Sprint(args[0])), nil
		}
	case "Fn::Sub":
		text, vars := "", map[string]any{}
		if s, ok := arg.(string); ok {
			text = s
		} else if len(args) == 2 {
			text, _ = args[0].(string)
			vars, _ = args[1].(map[string]any)
		}
		var firstErr error
		out := subVar.ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			var v any
			var err error
			if val, ok := vars[name]; ok {
				v, err = r.resolve(val)
			} else if l, at, ok := strings.Cut(name, "."); ok && !strings.HasPrefix(name, "AWS::") {
				v, err = r.getAtt(l, at)
			} else {
				v, err = r.ref(name)
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
			return fmt.Sprint(v)
		})
		return out, firstErr
	case "Fn::Select":
		if len(args) == 2 {
			l, err := r.resolve(args[1])
			if err != nil {
				return nil, err
			}
			items, _ := l.([]any)
			i := num(map[string]any{"i": args[0]}, "i", -1)
			if i >= 0 && i < len(items) {
				return items[i], nil
			}
			return nil, templateError("Template error: Fn::Select cannot select nonexistent value at index %d", i)
		}
	case "Fn::Split":
		if len(args) == 2 {
			s, err := r.resolve(args[1])
			if err != nil {
				return nil, err
			}
			var out []any
			for _, p := range strings.Split(fmt.Sprint(s), fmt.Sprint(args[0])) {
				out = append(out, p)
			}
			return out, nil
		}
	case "Fn::ImportValue":
		n, err := r.resolve(arg)
		if err != nil {
			return nil, err
		}
		if v, ok := r.exports[fmt.Sprint(n)]; ok {
			return v, nil
		}
		return nil, templateError("No export named %v found", n)
	case "Fn::Base64":
		s, err := r.resolve(arg)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(fmt.Sprint(s))), nil
	case "Fn::GetAZs":
		return []any{r.a.region + "a", r.a.region + "b", r.a.region + "c"}, nil
	case "Fn::FindInMap":
		if len(args) == 3 {
			keys := make([]string, 3)
			for i, k := range args {
				v, err := r.resolve(k)
				if err != nil {
					return nil, err
				}
				keys[i] = fmt.Sprint(v)
			}
			return obj(obj(obj(r.tpl, "Mappings"), keys[0]), keys[1])[keys[2]], nil
		}
	case "Fn::If":
		if len(args) == 3 {
			ok, err := r.condition(fmt.Sprint(args[0]))
			if err != nil {
				return nil, err
			}
			if ok {
				return r.resolve(args[1])
			}
			return r.resolve(args[2])
		}
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Fn::Contains":
		return r.test(map[string]any{fn: arg})
	}
	return nil, templateError("Template error: fakeaws cannot evaluate %s %v", fn, arg)
}

// condition evaluates a named condition of the template.
func (r *resolver) condition(name string) (bool, error) {
	c, ok := obj(r.tpl, "Conditions")[name]
	if !ok {
		return false, templateError("Template error: unresolved condition dependency %s", name)
	}
	return r.test(c)
}

// test evaluates a condition expression.
func (r *resolver) test(c any) (bool, error) {
	m, _ := c.(map[string]any)
	if cond, ok := m["Condition"].(string); ok && len(m) == 1 {
		return r.condition(cond)
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Fn::Equals":
			if len(args) == 2 {
				x, err := r.resolve(args[0])
				if err != nil {
					return false, err
				}
				y, err := r.resolve(args[1])
				return fmt.Sprint(x) == fmt.Sprint(y), err
			}
		case "Fn::Not":
			if len(args) == 1 {
				v, err := r.test(args[0])
				return !v, err
			}
		case "Fn::And", "Fn::Or":
			all, anyTrue := true, false
			for _, e := range args {
				v, err := r.test(e)
				if err != nil {
					return false, err
				}
				all, anyTrue = all && v, anyTrue || v
			}
			if fn == "Fn::And" {
				return all, nil
			}
			return anyTrue, nil
		case "Fn::Contains":
			if len(args) == 2 {
				l, err := r.resolve(args[0])
				if err != nil {
					return false, err
				}
				v, err := r.resolve(args[1])
				items, _ := l.([]any)
				for _, it := range items {
					if fmt.Sprint(it) == fmt.Sprint(v) {
						return true, err
					}
				}
				return false, err
			}
		}
	}
	return false, templateError("Template error: fakeaws cannot evaluate condition %v", c)
}

// deps are the logical IDs v refers to.
func deps(v any, out map[string]bool) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			deps(e, out)
		}
	case map[string]any:
		for k, e := range x {
			switch k {
			case "Ref":
				if s, ok := e.(string); ok {
					out[s] = true
				}
			case "Fn::GetAtt":
				if s, ok := e.(string); ok {
					l, _, _ := strings.Cut(s, ".")
					out[l] = true
				} else if l, ok := e.([]any); ok && len(l) > 0 {
					out[fmt.Sprint(l[0])] = true
				}
			case "Fn::Sub":
				s, _ := e.(string)
				var vars map[string]any
				if l, ok := e.([]any); ok && len(l) > 0 {
					s, _ = l[0].(string)
					if len(l) > 1 {
						vars, _ = l[1].(map[string]any)
					}
				}
				for _, m := range subVar.FindAllStringSubmatch(s, -1) {
					if _, local := vars[m[1]]; local || strings.HasPrefix(m[1], "!") {
						continue
					}
					l, _, _ := strings.Cut(m[1], ".")
					out[l] = true
				}
			}
			deps(e, out)
		}
	}
}

// checkRules evaluates the template's Rules assertions (the CDK's
// CheckBootstrapVersion), as CloudFormation does before a change set.
func (a *AWS) checkRules(st *stack, tpl map[string]any, params map[string]string) *Fault {
	saved := st.params
	st.params = params
	defer func() { st.params = saved }()
	r := &resolver{a: a, st: st, tpl: tpl, resources: st.resources}
	for _, name := range sortedKeys(obj(tpl, "Rules")) {
		for _, as := range list(obj(obj(tpl, "Rules"), name), "Assertions") {
			ok, err := r.test(as["Assert"])
			if err != nil {
				return badRequest("ValidationError", "%s", err.Error())
			}
			if !ok {
				return badRequest("ValidationError", "%s", orDefault(str(as, "AssertDescription"), "Rule "+name+" failed"))
			}
		}
	}
	return nil
}

// applyTemplate makes the stack's resources what tpl describes, applying
// ECS, S3, CloudFront, SSM and Secrets Manager resources to the fake; other
// types get a generated physical ID only.
func (a *AWS) applyTemplate(st *stack, tpl map[string]any, body string) error {
	r := &resolver{a: a, st: st, tpl: tpl, resources: map[string]*resource{}, exports: a.exports()}
	defs := obj(tpl, "Resources")
	pending := map[string]bool{}
	for l, d := range defs {
		dm, _ := d.(map[string]any)
		if str(dm, "Type") == "AWS::CDK::Metadata" {
			continue
		}
		if c := str(dm, "Condition"); c != "" {
			if ok, err := r.condition(c); err != nil {
				return err
			} else if !ok {
				continue
			}
		}
		pending[l] = true
	}
	for len(pending) > 0 {
		progress := false
		for _, logical := range sortedKeys(pending) {
			def := defs[logical].(map[string]any)
			need := map[string]bool{}
			deps(def["Properties"], need)
			for _, d := range strs(def, "DependsOn") {
				need[d] = true
			}
			if s, ok := def["DependsOn"].(string); ok {
				need[s] = true
			}
			ready := true
			for d := range need {
				if pending[d] && d != logical {
					ready = false
				}
			}
			if !ready {
				continue
			}
			props, err := r.resolve(obj(def, "Properties"))
			if err != nil {
				return err
			}
			pm, _ := props.(map[string]any)
			if pm == nil {
				pm = map[string]any{}
			}
			res, err := a.applyResource(st, logical, str(def, "Type"), pm, st.resources[logical])
			if err != nil {
				return err
			}
			r.resources[logical] = res
			delete(pending, logical)
			progress = true
		}
		if !progress {
			return templateError("Template format error: circular dependency between resources %v", sortedKeys(pending))
		}
	}
	for logical, old := range st.resources {
		if r.resources[logical] == nil && old.typ == "AWS::ECS::Service" {
			if c := a.ecs.clusters[old.attrs["Cluster"]]; c != nil {
				delete(c.services, old.attrs["Name"])
			}
		}
		if r.resources[logical] == nil && old.typ == "AWS::ElasticLoadBalancingV2::ListenerRule" {
			delete(a.elb.rules, old.physical)
		}
	}
	var outputs []map[string]any
	for _, k := range sortedKeys(obj(tpl, "Outputs")) {
		o := obj(obj(tpl, "Outputs"), k)
		if c := str(o, "Condition"); c != "" {
			if ok, _ := r.condition(c); !ok {
				continue
			}
		}
		v, err := r.resolve(o["Value"])
		if err != nil {
			return err
		}
		out := map[string]any{"OutputKey": k, "OutputValue": fmt.Sprint(v)}
		if d := str(o, "Description"); d != "" {
			out["Description"] = d
		}
		if e := obj(o, "Export"); e != nil {
			n, err := r.resolve(e["Name"])
			if err != nil {
				return err
			}
			out["ExportName"] = fmt.Sprint(n)
		}
		outputs = append(outputs, out)
	}
	st.template, st.body, st.resources, st.outputs = tpl, body, r.resources, outputs
	return nil
}

func (a *AWS) generatedName(st *stack, logical string) string {
	return fmt.Sprintf("%s-%s-%07X", st.name, logical, a.nextID()*7919)
}

// applyResource creates or updates one resource; old is what the stack had.
func (a *AWS) applyResource(st *stack, logical, typ string, props map[string]any, old *resource) (*resource, error) {
	unchanged := old != nil && old.typ == typ && reflect.DeepEqual(old.props, props)
	if unchanged {
		return old, nil
	}
	res := &resource{typ: typ, props: props, attrs: map[string]string{}}
	if old != nil && old.typ == typ {
		res.physical = old.physical
		for k, v := range old.attrs {
			res.attrs[k] = v
		}
	}
	status := "CREATE_IN_PROGRESS"
	if old != nil {
		status = "UPDATE_IN_PROGRESS"
	}
	switch typ {
	case "AWS::ECS::Cluster":
		name := str(props, "ClusterName")
		if name == "" {
			name = orDefault(res.physical, a.generatedName(st, logical))
		}
		a.cluster(name)
		res.physical, res.attrs["Arn"] = name, a.arnOf("ecs", "cluster/"+name)
	case "AWS::ECS::TaskDefinition":
		in := camel(props).(map[string]any)
		if str(in, "family") == "" {
			in["family"] = st.name + logical
		}
		td := a.registerTaskDef(in)
		res.physical = str(td, "taskDefinitionArn")
		res.attrs["TaskDefinitionArn"] = res.physical
	case "AWS::ECS::Service":
		cluster := clusterName(str(props, "Cluster"))
		name := str(props, "ServiceName")
		if name == "" {
			name = orDefault(res.attrs["Name"], a.generatedName(st, logical))
		}
		td := a.taskDef(str(props, "TaskDefinition"))
		if td == nil {
			return nil, templateError("Resource handler returned message: \"TaskDefinition not found: %s\"", str(props, "TaskDefinition"))
		}
		in := camel(props).(map[string]any)
		in["serviceName"], in["taskDefinition"] = name, str(td, "taskDefinitionArn")
		if _, ok := in["desiredCount"]; !ok {
			in["desiredCount"] = 1.0
		}
		if f := checkStrategy(obj(in, "deploymentConfiguration")); f != nil {
			return nil, templateError("Resource handler returned message: \"%s\"", f.Message)
		}
		s := a.findService(cluster, name)
		if s == nil {
			s = a.createService(cluster, in)
			st.waiting = append(st.waiting, s)
		} else {
			s.desired = num(in, "desiredCount", s.desired)
			if c := obj(in, "deploymentConfiguration"); c != nil {
				s.config = c
			}
			s.loadBalancers = list(in, "loadBalancers")
			if s.taskDef != str(td, "taskDefinitionArn") {
				a.deploy(s, str(td, "taskDefinitionArn"), "")
				st.waiting = append(st.waiting, s)
			}
		}
		res.physical = a.serviceARN(s)
		res.attrs["Name"], res.attrs["ServiceArn"], res.attrs["Cluster"] = s.name, res.physical, s.cluster
	case "AWS::S3::Bucket":
		name := str(props, "BucketName")
		if name == "" {
			name = orDefault(res.physical, strings.ToLower(a.generatedName(st, logical)))
		}
		a.s3.bucket(name)
		res.physical = name
		res.attrs["Arn"], res.attrs["DomainName"] = "arn:aws:s3:::"+name, name+".s3.amazonaws.com"
		res.attrs["RegionalDomainName"] = name + ".s3." + a.region + ".amazonaws.com"
		res.attrs["WebsiteURL"] = "http://" + name + ".s3-website-" + a.region + ".amazonaws.com"
	case "AWS::CloudFront::Distribution":
		if res.physical == "" {
			res.physical = fmt.Sprintf("E%012X", a.nextID()*104729)
		}
		a.cf.distributions[res.physical] = true
		res.attrs["Id"], res.attrs["DomainName"] = res.physical, strings.ToLower(res.physical)+".cloudfront.net"
	case "AWS::SSM::Parameter":
		name := orDefault(str(props, "Name"), orDefault(res.physical, "CFN-"+a.generatedName(st, logical)))
		a.putParameter(name, str(props, "Value"), str(props, "Type"))
		res.physical = name
	case "AWS::SecretsManager::Secret":
		name := orDefault(str(props, "Name"), orDefault(res.attrs["Name"], logical+"-"+fmt.Sprintf("%x", a.nextID())))
		res.physical = a.putSecret(name, orDefault(str(props, "SecretString"), "generated-secret"))
		res.attrs["Name"] = name
	case "AWS::ElasticLoadBalancingV2::Listener":
		if res.physical == "" {
			lb := str(props, "LoadBalancerArn")
			id := fmt.Sprintf("%016x", a.nextID()*104729)
			if strings.Contains(lb, ":loadbalancer/") {
				res.physical = strings.Replace(lb, ":loadbalancer/", ":listener/", 1) + "/" + id
			} else {
				res.physical = a.arnOf("elasticloadbalancing", "listener/app/fake/0000000000000000/"+id)
			}
		}
		res.attrs["ListenerArn"] = res.physical
	case "AWS::ElasticLoadBalancingV2::TargetGroup":
		if res.physical == "" {
			n := a.nextID()
			name := orDefault(str(props, "Name"), fmt.Sprintf("%.24s-%d", logical, n))
			res.attrs["TargetGroupName"], res.attrs["TargetGroupFullName"] = name, fmt.Sprintf("targetgroup/%s/%016x", name, n)
			res.physical = a.arnOf("elasticloadbalancing", res.attrs["TargetGroupFullName"])
		}
		res.attrs["TargetGroupArn"] = res.physical
	case "AWS::ElasticLoadBalancingV2::ListenerRule":
		res.physical = a.putRule(res.physical, props)
		res.attrs["RuleArn"] = res.physical
	case "AWS::ElasticLoadBalancingV2::LoadBalancer":
		if res.physical == "" {
			n := a.nextID()
			res.physical = a.arnOf("elasticloadbalancing", fmt.Sprintf("loadbalancer/app/%s-%d/%016x", logical, n, n))
			res.attrs["DNSName"] = fmt.Sprintf("%s-%d.%s.elb.amazonaws.com", strings.ToLower(logical), n, a.region)
			res.attrs["LoadBalancerFullName"] = fmt.Sprintf("app/%s-%d/%016x", logical, n, n)
		}
	default:
		if res.physical == "" {
			res.physical = a.generatedName(st, logical)
		}
		res.attrs["Arn"] = res.physical
	}
	a.stackEvent(st, logical, res.physical, typ, status, "")
	return res, nil
}

// camel turns CloudFormation's PascalCase property names into the API's
// camelCase, recursively ("ContainerDefinitions" -> "containerDefinitions").
func camel(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			r, n := utf8.DecodeRuneInString(k)
			out[string(unicode.ToLower(r))+k[n:]] = camel(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = camel(e)
		}
		return out
	}
	return v
}
