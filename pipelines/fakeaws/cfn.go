package fakeaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"
)

type cfnState struct {
	stacks map[string]*stack
	order  []string
}

func (s *cfnState) init() { s.stacks = map[string]*stack{} }

type stack struct {
	name, id, status, reason string
	template                 map[string]any    // applied template, nil before the first apply
	body                     string            // its text, for GetTemplate
	params                   map[string]string // resolved values, for Ref
	// given are the values as given (an SSM-typed parameter's is the SSM
	// parameter name), what UsePreviousValue reuses.
	given            map[string]string
	outputs          []map[string]any
	resources        map[string]*resource // by logical ID
	changeSets       []*changeSet
	events           []map[string]any // newest first
	created, updated time.Time
	// Set while an execution is under way: the services CloudFormation
	// waits on, and what to restore if they fail.
	waiting  []*ecsService
	previous *snapshot
	changes  []string // logical IDs being changed, for their events
	creating bool
}

type snapshot struct {
	template  map[string]any
	body      string
	outputs   []map[string]any
	resources map[string]*resource
}

type resource struct {
	typ, physical string
	props         map[string]any // resolved properties
	attrs         map[string]string
}

type changeSet struct {
	name, id, typ, status, exec, reason string
	body                                string
	template                            map[string]any
	params                              map[string]string
	changes                             []any
	created                             time.Time
}

// StackSeed is a stack as a test's starting state, without a template.
type StackSeed struct {
	Name string
	// Status defaults to CREATE_COMPLETE; Reason is its StackStatusReason.
	Status, Reason string
	// Outputs are the stack outputs, key -> value.
	Outputs map[string]string
}

// SeedStack adds a stack with outputs (and no resources), or replaces one.
func (a *AWS) SeedStack(s StackSeed) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.newStack(s.Name)
	st.status, st.reason = orDefault(s.Status, "CREATE_COMPLETE"), s.Reason
	for _, k := range sortedKeys(s.Outputs) {
		st.outputs = append(st.outputs, map[string]any{"OutputKey": k, "OutputValue": s.Outputs[k]})
	}
}

// ApplyTemplate does what `cdk deploy` of templateJSON to stack would:
// creates or updates the stack through a change set, executes it, and waits
// until the stack has settled: its ECS resources are applied to the fake
// ECS and the service deployments they start run to their end (completed,
// or failed and rolled back). It returns an error, as `cdk deploy` fails,
// when the stack ends rolled back or failed. A template without changes is
// a no-op. The CloudFormation calls the CDK CLI would make are recorded.
func (a *AWS) ApplyTemplate(stackName, templateJSON string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	st, err := a.startTemplate(stackName, templateJSON)
	if err != nil || st == nil {
		return err
	}
	for i := 0; i < 10*(a.settle+1) || (i < 1000 && st.strategic()); i++ {
		a.settleStack(st, advanceAll)
	}
	if !strings.HasSuffix(st.status, "_COMPLETE") || strings.Contains(st.status, "ROLLBACK") {
		return fmt.Errorf("stack %s: %s: %s", st.name, st.status, st.reason)
	}
	return nil
}

// StartTemplate is ApplyTemplate without the wait, like ExecuteChangeSet:
// it returns once the template is applied, with the stack *_IN_PROGRESS
// while the service deployments it started run. Those move on with
// DescribeServices polls (so a follower sees every state) and, for a
// service nobody has polled yet, with DescribeStacks polls. WaitStack
// waits for the end without moving anything on, as `cdk deploy` waits
// while stevedore follows the services.
func (a *AWS) StartTemplate(stackName, templateJSON string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, err := a.startTemplate(stackName, templateJSON)
	return err
}

// startTemplate creates and executes a change set of templateJSON, as the
// CDK CLI does: its calls (CreateChangeSet, then ExecuteChangeSet, or
// DeleteChangeSet when nothing changes) are recorded and can be failed
// with Fail like any other. It returns a nil stack when nothing changes.
func (a *AWS) startTemplate(stackName, templateJSON string) (*stack, error) {
	typ := "UPDATE"
	if st := a.cfn.stacks[stackName]; st == nil || st.status == "REVIEW_IN_PROGRESS" {
		typ = "CREATE"
	}
	in := map[string]any{"StackName": stackName, "ChangeSetName": fmt.Sprintf("cdk-deploy-change-set-%d", a.nextID()),
		"ChangeSetType": typ, "TemplateBody": templateJSON}
	cdkCall := func(op string) *Fault {
		a.record("cloudformation", op, "", map[string]any{"StackName": stackName, "ChangeSetName": in["ChangeSetName"], "TemplateBody": templateJSON})
		return a.takeFault("cloudformation", op)
	}
	if f := cdkCall("CreateChangeSet"); f != nil {
		return nil, f
	}
	cs, f := a.createChangeSet(in)
	if f != nil {
		return nil, f
	}
	st := a.cfn.stacks[stackName]
	if cs.status == "FAILED" {
		if !strings.Contains(cs.reason, "didn't contain changes") {
			return nil, fmt.Errorf("change set failed: %s", cs.reason)
		}
		if f := cdkCall("DeleteChangeSet"); f != nil {
			return nil, f
		}
		st.changeSets = removeChangeSet(st.changeSets, cs)
		return nil, nil
	}
	if f := cdkCall("ExecuteChangeSet"); f != nil {
		return nil, f
	}
	return st, a.executeChangeSet(st, cs)
}

// WaitStack blocks until the stack is no longer *_IN_PROGRESS (the
// DescribeServices polls of a follower move its deployments on) or ctx
// ends, and returns its status; the error is the one `cdk deploy` would
// give for a stack that ended rolled back or failed.
func (a *AWS) WaitStack(ctx context.Context, name string) (string, error) {
	for {
		a.mu.Lock()
		st := a.cfn.stacks[name]
		status, reason := "", ""
		if st != nil {
			status, reason = st.status, st.reason
		}
		a.mu.Unlock()
		switch {
		case st == nil:
			return "", fmt.Errorf("stack %s does not exist", name)
		case strings.HasSuffix(status, "_IN_PROGRESS") && status != "REVIEW_IN_PROGRESS":
		case strings.Contains(status, "ROLLBACK") || strings.HasSuffix(status, "_FAILED"):
			return status, fmt.Errorf("stack %s: %s: %s", name, status, reason)
		default:
			return status, nil
		}
		select {
		case <-ctx.Done():
			return status, ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// StackStatus is the status of a stack, "" when it does not exist. It
// moves nothing on.
func (a *AWS) StackStatus(name string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st := a.cfn.stacks[name]; st != nil {
		a.settleStack(st, advanceNone)
		return st.status
	}
	return ""
}

func (a *AWS) newStack(name string) *stack {
	st := &stack{name: name, id: a.arnOf("cloudformation", fmt.Sprintf("stack/%s/%08x-fake", name, a.nextID())),
		resources: map[string]*resource{}, params: map[string]string{}, created: a.tick()}
	if _, ok := a.cfn.stacks[name]; !ok {
		a.cfn.order = append(a.cfn.order, name)
	}
	a.cfn.stacks[name] = st
	return st
}

func stackMissing(name string) *Fault {
	return badRequest("ValidationError", "Stack with id %s does not exist", name)
}

func (a *AWS) stackByRef(ref string) *stack {
	for _, st := range a.cfn.stacks {
		if st.name == ref || st.id == ref {
			return st
		}
	}
	return nil
}

func (a *AWS) cfnOp(op string, in map[string]any) (any, *Fault) {
	name := str(in, "StackName")
	st := a.stackByRef(name)
	switch op {
	case "DescribeStacks":
		var out []any
		if name == "" {
			for _, n := range a.cfn.order {
				if s := a.cfn.stacks[n]; s != nil {
					a.settleStack(s, advanceUnwatched)
					out = append(out, a.stackJSON(s))
				}
			}
			return map[string]any{"Stacks": out}, nil
		}
		if st == nil {
			return nil, stackMissing(name)
		}
		a.settleStack(st, advanceUnwatched)
		return map[string]any{"Stacks": []any{a.stackJSON(st)}}, nil
	case "DescribeStackEvents":
		if st == nil {
			return nil, stackMissing(name)
		}
		a.settleStack(st, advanceUnwatched)
		return map[string]any{"StackEvents": st.events}, nil
	case "GetTemplate":
		if st == nil {
			return nil, stackMissing(name)
		}
		if cs := st.changeSet(str(in, "ChangeSetName")); cs != nil {
			return map[string]any{"TemplateBody": cs.body, "StagesAvailable": []string{"Original"}}, nil
		}
		return map[string]any{"TemplateBody": st.body, "StagesAvailable": []string{"Original", "Processed"}}, nil
	case "CreateChangeSet":
		cs, f := a.createChangeSet(in)
		if f != nil {
			return nil, f
		}
		return map[string]any{"Id": cs.id, "StackId": a.cfn.stacks[name].id}, nil
	case "CreateStack", "UpdateStack":
		if op == "CreateStack" {
			in["ChangeSetType"] = "CREATE"
		}
		in["ChangeSetName"] = fmt.Sprintf("%s-%d", strings.ToLower(op), a.nextID())
		cs, f := a.createChangeSet(in)
		if f != nil {
			return nil, f
		}
		if cs.status == "FAILED" {
			if strings.Contains(cs.reason, "didn't contain changes") {
				return nil, badRequest("ValidationError", "No updates are to be performed.")
			}
			return nil, badRequest("ValidationError", "%s", cs.reason)
		}
		st = a.cfn.stacks[name]
		if err := a.executeChangeSet(st, cs); err != nil {
			return nil, badRequest("ValidationError", "%s", err.Error())
		}
		return map[string]any{"StackId": st.id}, nil
	case "DescribeChangeSet", "ExecuteChangeSet", "DeleteChangeSet":
		cs, st := a.findChangeSet(str(in, "ChangeSetName"), name)
		if cs == nil {
			return nil, badRequest("ChangeSetNotFound", "ChangeSet [%s] does not exist", str(in, "ChangeSetName"))
		}
		switch op {
		case "DescribeChangeSet":
			return a.changeSetJSON(st, cs), nil
		case "DeleteChangeSet":
			st.changeSets = removeChangeSet(st.changeSets, cs)
			return nil, nil
		}
		if cs.exec != "AVAILABLE" {
			return nil, badRequest("InvalidChangeSetStatus", "ChangeSet [%s] cannot be executed in its current status of [%s]", cs.id, cs.exec)
		}
		if err := a.executeChangeSet(st, cs); err != nil {
			return nil, badRequest("ValidationError", "%s", err.Error())
		}
		return nil, nil
	case "ListChangeSets":
		if st == nil {
			return nil, stackMissing(name)
		}
		var out []any
		for _, cs := range st.changeSets {
			out = append(out, map[string]any{"ChangeSetId": cs.id, "ChangeSetName": cs.name, "StackId": st.id, "StackName": st.name,
				"Status": cs.status, "ExecutionStatus": cs.exec, "StatusReason": cs.reason, "CreationTime": cs.created})
		}
		return map[string]any{"Summaries": out}, nil
	case "DeleteStack":
		if st != nil {
			a.deleteStack(st)
		}
		return nil, nil
	case "DescribeStackResources", "ListStackResources":
		if st == nil {
			return nil, stackMissing(name)
		}
		var out []any
		for _, l := range sortedKeys(st.resources) {
			r := st.resources[l]
			m := map[string]any{"LogicalResourceId": l, "PhysicalResourceId": r.physical, "ResourceType": r.typ,
				"ResourceStatus": "CREATE_COMPLETE"}
			if op == "ListStackResources" {
				m["LastUpdatedTimestamp"] = st.updated
			} else {
				m["StackName"], m["StackId"], m["Timestamp"] = st.name, st.id, st.updated
			}
			out = append(out, m)
		}
		if op == "ListStackResources" {
			return map[string]any{"StackResourceSummaries": out}, nil
		}
		return map[string]any{"StackResources": out}, nil
	case "ListStacks":
		var out []any
		for _, n := range a.cfn.order {
			if s := a.cfn.stacks[n]; s != nil {
				out = append(out, map[string]any{"StackName": s.name, "StackId": s.id, "StackStatus": s.status, "CreationTime": s.created})
			}
		}
		return map[string]any{"StackSummaries": out}, nil
	}
	return nil, a.unknownOp("cloudformation", op)
}

func (st *stack) changeSet(ref string) *changeSet {
	for _, cs := range st.changeSets {
		if ref != "" && (cs.name == ref || cs.id == ref) {
			return cs
		}
	}
	return nil
}

func (a *AWS) findChangeSet(ref, stackRef string) (*changeSet, *stack) {
	for _, st := range a.cfn.stacks {
		if stackRef != "" && st.name != stackRef && st.id != stackRef {
			continue
		}
		if cs := st.changeSet(ref); cs != nil {
			return cs, st
		}
	}
	return nil, nil
}

func removeChangeSet(l []*changeSet, x *changeSet) []*changeSet {
	var out []*changeSet
	for _, c := range l {
		if c != x {
			out = append(out, c)
		}
	}
	return out
}

func (a *AWS) stackJSON(st *stack) map[string]any {
	m := map[string]any{"StackName": st.name, "StackId": st.id, "StackStatus": st.status, "CreationTime": st.created,
		"Outputs": st.outputs, "Capabilities": []string{"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPANSION"}}
	if st.reason != "" {
		m["StackStatusReason"] = st.reason
	}
	if !st.updated.IsZero() {
		m["LastUpdatedTime"] = st.updated
	}
	var params []any
	for _, k := range sortedKeys(st.params) {
		p := map[string]any{"ParameterKey": k, "ParameterValue": st.params[k]}
		if v, ok := st.given[k]; ok && v != st.params[k] {
			p["ParameterValue"], p["ResolvedValue"] = v, st.params[k] // SSM-typed
		}
		params = append(params, p)
	}
	m["Parameters"] = params
	return m
}

func (a *AWS) changeSetJSON(st *stack, cs *changeSet) map[string]any {
	var params []any
	for _, k := range sortedKeys(cs.params) {
		params = append(params, map[string]any{"ParameterKey": k, "ParameterValue": cs.params[k]})
	}
	return map[string]any{"ChangeSetName": cs.name, "ChangeSetId": cs.id, "StackId": st.id, "StackName": st.name,
		"Status": cs.status, "ExecutionStatus": cs.exec, "StatusReason": cs.reason, "Changes": cs.changes,
		"CreationTime": cs.created, "Parameters": params, "Capabilities": []string{"CAPABILITY_IAM"}}
}

func (a *AWS) stackEvent(st *stack, logical, physical, typ, status, reason string) {
	e := map[string]any{"StackId": st.id, "StackName": st.name, "EventId": fmt.Sprintf("%s-%d", logical, a.nextID()),
		"LogicalResourceId": logical, "PhysicalResourceId": physical, "ResourceType": typ,
		"Timestamp": a.tick(), "ResourceStatus": status}
	if reason != "" {
		e["ResourceStatusReason"] = reason
	}
	st.events = append([]map[string]any{e}, st.events...)
}

// templateText reads TemplateBody, or TemplateURL from the fake S3.
func (a *AWS) templateText(in map[string]any) (string, *Fault) {
	if body := str(in, "TemplateBody"); body != "" {
		return body, nil
	}
	raw := str(in, "TemplateURL")
	if raw == "" {
		return "", badRequest("ValidationError", "Either Template URL or Template Body must be specified.")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", badRequest("ValidationError", "TemplateURL must be a supported URL.")
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if h, _, ok := strings.Cut(u.Host, ".s3"); ok && h != "" && !strings.HasPrefix(u.Host, "s3") {
		bucket, key = h, strings.TrimPrefix(u.Path, "/")
	}
	if o := a.s3.buckets[bucket][key]; o != nil {
		return string(o.body), nil
	}
	return "", badRequest("ValidationError", "S3 error: Access Denied (the template %s is not in the fake S3)", raw)
}

// createChangeSet computes the changes of a template against the stack.
func (a *AWS) createChangeSet(in map[string]any) (*changeSet, *Fault) {
	name, typ := str(in, "StackName"), orDefault(str(in, "ChangeSetType"), "UPDATE")
	st := a.stackByRef(name)
	switch {
	case typ == "CREATE" && st != nil && st.status != "REVIEW_IN_PROGRESS":
		return nil, badRequest("AlreadyExistsException", "Stack [%s] already exists", name)
	case typ == "UPDATE" && (st == nil || st.status == "REVIEW_IN_PROGRESS"):
		return nil, badRequest("ValidationError", "Stack [%s] does not exist", name)
	case typ == "UPDATE" && (strings.HasSuffix(st.status, "_IN_PROGRESS") || st.status == "ROLLBACK_COMPLETE" || st.status == "ROLLBACK_FAILED"):
		return nil, badRequest("ValidationError", "Stack:%s is in %s state and can not be updated.", st.id, st.status)
	}
	body, f := a.templateText(in)
	if f != nil {
		return nil, f
	}
	var tpl map[string]any
	if err := json.Unmarshal([]byte(body), &tpl); err != nil {
		return nil, badRequest("ValidationError", "Template format error: JSON not well-formed. (%v)", err)
	}
	if f := checkRefs(tpl); f != nil {
		return nil, f
	}
	if st == nil {
		st = a.newStack(name)
		st.status = "REVIEW_IN_PROGRESS"
	}
	csName := str(in, "ChangeSetName")
	if st.changeSet(csName) != nil {
		return nil, badRequest("AlreadyExistsException", "ChangeSet %s already exists", csName)
	}
	cs := &changeSet{name: csName, typ: typ, body: body, template: tpl, created: a.tick(), status: "CREATE_COMPLETE", exec: "AVAILABLE",
		id: a.arnOf("cloudformation", fmt.Sprintf("changeSet/%s/%08x-fake", csName, a.nextID())), params: map[string]string{}}
	for _, p := range list(in, "Parameters") {
		if str(p, "UsePreviousValue") == "true" {
			cs.params[str(p, "ParameterKey")] = st.given[str(p, "ParameterKey")]
		} else {
			cs.params[str(p, "ParameterKey")] = str(p, "ParameterValue")
		}
	}
	params, _, f := a.parameters(tpl, cs.params)
	if f == nil {
		f = a.checkRules(st, tpl, params)
	}
	if f != nil {
		if st.status == "REVIEW_IN_PROGRESS" && len(st.changeSets) == 0 {
			a.deleteStack(st) // nothing was created after all
		}
		return nil, f
	}
	st.changeSets = append(st.changeSets, cs)
	cs.changes = diffTemplates(st, tpl)
	if len(cs.changes) == 0 && reflect.DeepEqual(outputsOf(st.template), outputsOf(tpl)) && typ == "UPDATE" {
		cs.status, cs.exec = "FAILED", "UNAVAILABLE"
		cs.reason = "The submitted information didn't contain changes. Submit different information to create a change set."
	}
	return cs, nil
}

func outputsOf(tpl map[string]any) any { return tpl["Outputs"] }

// checkRefs refuses a template whose Ref, Fn::GetAtt or Fn::Sub names
// nothing it declares, as CloudFormation validates before a change set.
func checkRefs(tpl map[string]any) *Fault {
	if len(obj(tpl, "Resources")) == 0 {
		return badRequest("ValidationError", "Template format error: At least one Resources member must be defined.")
	}
	refs := map[string]bool{}
	deps(tpl["Resources"], refs)
	deps(tpl["Outputs"], refs)
	var missing []string
	for _, r := range sortedKeys(refs) {
		_, isRes := obj(tpl, "Resources")[r]
		_, isParam := obj(tpl, "Parameters")[r]
		if !isRes && !isParam && !strings.HasPrefix(r, "AWS::") {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return badRequest("ValidationError", "Template format error: Unresolved resource dependencies [%s] in the Resources block of the template", strings.Join(missing, ", "))
	}
	return nil
}

// replaceProps are the properties whose change replaces a resource, for the
// types whose replacement matters (stateful ones and immutable ones).
var replaceProps = map[string][]string{
	"AWS::RDS::DBInstance":               {"DBInstanceIdentifier", "DBName", "Engine", "StorageEncrypted", "KmsKeyId", "DBSubnetGroupName", "CharacterSetName"},
	"AWS::RDS::DBCluster":                {"DBClusterIdentifier", "DatabaseName", "Engine", "StorageEncrypted", "KmsKeyId", "DBSubnetGroupName"},
	"AWS::DynamoDB::Table":               {"TableName", "KeySchema", "LocalSecondaryIndexes"},
	"AWS::DynamoDB::GlobalTable":         {"TableName", "KeySchema", "LocalSecondaryIndexes"},
	"AWS::Cognito::UserPool":             {"UserPoolName", "AliasAttributes", "UsernameAttributes", "UsernameConfiguration", "Schema"},
	"AWS::S3::Bucket":                    {"BucketName", "ObjectLockEnabled"},
	"AWS::ElastiCache::CacheCluster":     {"ClusterName", "Engine", "CacheSubnetGroupName", "Port", "NumCacheNodes"},
	"AWS::ElastiCache::ReplicationGroup": {"ReplicationGroupId", "Engine", "CacheSubnetGroupName", "Port"},
	"AWS::SecretsManager::Secret":        {"Name"},
	"AWS::ECS::Cluster":                  {"ClusterName"},
	"AWS::ECS::Service":                  {"ServiceName", "Cluster", "LaunchType"},
	"AWS::EFS::FileSystem":               {"Encrypted", "KmsKeyId", "PerformanceMode"},
}

// diffTemplates lists the resource changes as DescribeChangeSet shows them.
func diffTemplates(st *stack, tpl map[string]any) []any {
	oldRes, newRes := obj(st.template, "Resources"), obj(tpl, "Resources")
	var changes []any
	change := func(action, logical, typ, replacement string, details []any) {
		rc := map[string]any{"Action": action, "LogicalResourceId": logical, "ResourceType": typ}
		if r := st.resources[logical]; r != nil {
			rc["PhysicalResourceId"] = r.physical
		}
		if action == "Modify" {
			rc["Replacement"], rc["Scope"], rc["Details"] = replacement, []string{"Properties"}, details
		}
		changes = append(changes, map[string]any{"Type": "Resource", "ResourceChange": rc})
	}
	// Resources that get a new physical ID change whoever refers to them.
	replaced := map[string]bool{}
	for _, logical := range sortedKeys(newRes) {
		n := newRes[logical].(map[string]any)
		o, ok := oldRes[logical].(map[string]any)
		if !ok || str(o, "Type") != str(n, "Type") {
			replaced[logical] = true
			continue
		}
		for _, p := range unionKeys(obj(o, "Properties"), obj(n, "Properties")) {
			if !reflect.DeepEqual(obj(o, "Properties")[p], obj(n, "Properties")[p]) && (str(n, "Type") == "AWS::ECS::TaskDefinition" || contains(replaceProps[str(n, "Type")], p)) {
				replaced[logical] = true
			}
		}
	}
	for _, logical := range sortedKeys(newRes) {
		n := newRes[logical].(map[string]any)
		typ := str(n, "Type")
		if typ == "AWS::CDK::Metadata" {
			continue
		}
		o, ok := oldRes[logical].(map[string]any)
		switch {
		case !ok:
			change("Add", logical, typ, "", nil)
		case str(o, "Type") != typ:
			change("Modify", logical, typ, "True", nil)
		default:
			replacement, details := "False", []any{}
			op, np := obj(o, "Properties"), obj(n, "Properties")
			for _, p := range unionKeys(op, np) {
				if reflect.DeepEqual(op[p], np[p]) {
					continue
				}
				recreate := "Never"
				if typ == "AWS::ECS::TaskDefinition" || contains(replaceProps[typ], p) {
					recreate, replacement = "Always", "True"
				}
				details = append(details, map[string]any{"Target": map[string]any{"Attribute": "Properties", "Name": p, "RequiresRecreation": recreate},
					"Evaluation": "Static", "ChangeSource": "DirectModification"})
			}
			for _, p := range sortedKeys(np) {
				refs := map[string]bool{}
				deps(np[p], refs)
				for _, r := range sortedKeys(refs) {
					if !replaced[r] || !reflect.DeepEqual(op[p], np[p]) {
						continue
					}
					recreate := "Never"
					if contains(replaceProps[typ], p) {
						recreate, replacement = "Always", "Conditional"
					}
					details = append(details, map[string]any{"Target": map[string]any{"Attribute": "Properties", "Name": p, "RequiresRecreation": recreate},
						"Evaluation": "Dynamic", "ChangeSource": "ResourceReference", "CausingEntity": r})
				}
			}
			if len(details) > 0 {
				change("Modify", logical, typ, replacement, details)
			}
		}
	}
	for _, logical := range sortedKeys(oldRes) {
		if _, ok := newRes[logical]; !ok {
			if typ := str(oldRes[logical].(map[string]any), "Type"); typ != "AWS::CDK::Metadata" {
				change("Remove", logical, typ, "", nil)
			}
		}
	}
	return changes
}

func unionKeys(a, b map[string]any) []string {
	m := map[string]any{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return sortedKeys(m)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// parameters resolves the template's parameters: given values, defaults,
// and SSM-typed ones (the CDK BootstrapVersion) from the fake SSM. values
// are the inputs with the defaults filled in, before SSM resolution.
func (a *AWS) parameters(tpl map[string]any, given map[string]string) (out, values map[string]string, f *Fault) {
	out, values = map[string]string{}, map[string]string{}
	for _, k := range sortedKeys(obj(tpl, "Parameters")) {
		p := obj(obj(tpl, "Parameters"), k)
		v, ok := given[k]
		if d, has := p["Default"]; !ok && has {
			v, ok = fmt.Sprint(d), true
		}
		if !ok {
			return nil, nil, badRequest("ValidationError", "Parameters: [%s] must have values", k)
		}
		values[k] = v
		if strings.HasPrefix(str(p, "Type"), "AWS::SSM::Parameter::Value") {
			param := a.ssm[v]
			if param == nil {
				return nil, nil, badRequest("ValidationError", "Unable to fetch parameters [%s] from parameter store for this account.", v)
			}
			v = param.value
		}
		out[k] = v
	}
	return out, values, nil
}

// executeChangeSet applies cs: the stack goes *_IN_PROGRESS and completes
// when the ECS services it changed have settled.
func (a *AWS) executeChangeSet(st *stack, cs *changeSet) error {
	params, given, f := a.parameters(cs.template, cs.params)
	if f != nil {
		return f
	}
	st.creating = st.template == nil
	st.previous = &snapshot{template: st.template, body: st.body, outputs: st.outputs, resources: st.resources}
	st.changes = nil
	for _, c := range cs.changes {
		st.changes = append(st.changes, str(obj(c.(map[string]any), "ResourceChange"), "LogicalResourceId"))
	}
	phase := "UPDATE"
	if st.creating {
		phase = "CREATE"
	}
	st.status, st.reason, st.updated = phase+"_IN_PROGRESS", "User Initiated", a.tick()
	a.stackEvent(st, st.name, st.id, "AWS::CloudFormation::Stack", st.status, "User Initiated")
	for _, c := range st.changeSets {
		if c != cs {
			c.exec = "OBSOLETE"
		}
	}
	cs.exec = "EXECUTE_IN_PROGRESS"
	st.params, st.given = params, given
	if err := a.applyTemplate(st, cs.template, cs.body); err != nil {
		st.status, st.reason = phase+"_FAILED", err.Error()
		var f *Fault
		if errors.As(err, &f) {
			st.reason = f.Message
		}
		cs.exec = "EXECUTE_FAILED"
		return nil
	}
	return nil
}

// How far settleStack moves the stack's service deployments on.
const (
	advanceNone      = iota // only look
	advanceUnwatched        // those no DescribeServices poll has moved yet
	advanceAll              // all: ApplyTemplate passes time itself
)

// settleStack finishes an execution once its services have settled: all
// COMPLETED, or one failed (then the stack rolls back to what it had). A
// DescribeStacks poll moves a deployment on only until a DescribeServices
// poll has: from then on the follower's polls drive it, so it sees every
// state.
func (a *AWS) settleStack(st *stack, mode int) {
	if !strings.HasSuffix(st.status, "_IN_PROGRESS") || st.status == "REVIEW_IN_PROGRESS" {
		return
	}
	var failed *ecsService
	done := true
	for _, s := range st.waiting {
		if len(s.deployments) == 0 {
			continue
		}
		if sd := s.deployments[0].sd; sd != nil && sd.strat != nil {
			// Only polls of the service move a strategy deployment, so its
			// follower sees every stage; ApplyTemplate passes time itself:
			// a PAUSE hook nobody answers times out.
			if mode == advanceAll {
				if h := sd.strat.awaiting(); h != nil && a.now.Before(h.expires) {
					a.now = h.expires
				}
				a.stepStrategy(s, sd)
			}
		} else if mode == advanceAll || (mode == advanceUnwatched && !s.deployments[0].watched) {
			a.advance(s)
		}
		d := s.deployments[0]
		if d.sd != nil && d.sd.strat != nil {
			switch d.sd.status {
			case "SUCCESSFUL":
			case "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "STOPPED":
				failed = s
			default:
				done = false
			}
			continue
		}
		switch {
		case d.rollout == "FAILED" || d.rollbackOf:
			failed = s
		case d.rollout != "COMPLETED":
			done = false
		}
	}
	phase := strings.TrimSuffix(st.status, "_IN_PROGRESS")
	for _, cs := range st.changeSets {
		if cs.exec == "EXECUTE_IN_PROGRESS" {
			cs.exec = "EXECUTE_COMPLETE"
		}
	}
	switch {
	case failed != nil:
		logical := st.resourceOf(failed)
		reason := "Resource handler returned message: \"Error occurred during operation 'ECS Deployment Circuit Breaker was triggered'.\""
		if sd := failed.deployments[0].sd; sd != nil && sd.strat != nil {
			reason = fmt.Sprintf("Resource handler returned message: \"Error occurred during operation 'ECS service deployment %s ended %s: %s'.\"",
				lastSegment(sd.arn), sd.status, orDefault(sd.rollbackReason, sd.reason))
		} else if sd != nil && len(sd.fired) > 0 {
			reason = fmt.Sprintf("Resource handler returned message: \"Error occurred during operation 'ECS Deployment alarms were triggered: %s'.\"", strings.Join(sd.fired, ", "))
		}
		a.stackEvent(st, logical, a.serviceARN(failed), "AWS::ECS::Service", phase+"_FAILED", reason)
		p := st.previous
		st.template, st.body, st.outputs, st.resources = p.template, p.body, p.outputs, p.resources
		if st.creating {
			st.status = "ROLLBACK_COMPLETE"
			for _, s := range st.waiting {
				delete(a.ecs.clusters[s.cluster].services, s.name)
			}
		} else {
			st.status = "UPDATE_ROLLBACK_COMPLETE"
			// CloudFormation puts back the task definitions it had; ECS
			// did so already where its circuit breaker rolled back.
			for l, r := range p.resources {
				s := a.findService(r.attrs["Cluster"], r.attrs["Name"])
				if td := str(r.props, "TaskDefinition"); r.typ == "AWS::ECS::Service" && s != nil && slices.Contains(st.waiting, s) && s.taskDef != td && td != "" {
					a.stackEvent(st, l, r.physical, r.typ, "UPDATE_IN_PROGRESS", "")
					a.deploy(s, td, "")
				}
			}
		}
		st.reason = "The following resource(s) failed to " + strings.ToLower(phase) + ": [" + logical + "]. "
		a.stackEvent(st, st.name, st.id, "AWS::CloudFormation::Stack", st.status, "")
	case done:
		for _, logical := range st.changes {
			if r := st.resources[logical]; r != nil {
				a.stackEvent(st, logical, r.physical, r.typ, phase+"_COMPLETE", "")
			}
		}
		st.status, st.reason = phase+"_COMPLETE", ""
		a.stackEvent(st, st.name, st.id, "AWS::CloudFormation::Stack", st.status, "")
	default:
		return
	}
	st.waiting, st.previous, st.changes = nil, nil, nil
}

// strategic: the stack is still waiting for a BLUE_GREEN, LINEAR or
// CANARY service deployment, which takes more polls than a rolling one.
func (st *stack) strategic() bool {
	if !strings.HasSuffix(st.status, "_IN_PROGRESS") {
		return false
	}
	for _, s := range st.waiting {
		if len(s.deployments) > 0 && s.deployments[0].sd != nil && s.deployments[0].sd.strat != nil {
			return true
		}
	}
	return false
}

func (st *stack) resourceOf(s *ecsService) string {
	for logical, r := range st.resources {
		if r.typ == "AWS::ECS::Service" && r.attrs["Name"] == s.name {
			return logical
		}
	}
	return s.name
}

func (a *AWS) deleteStack(st *stack) {
	for _, r := range st.resources {
		if r.typ == "AWS::ECS::Service" {
			if c := a.ecs.clusters[r.attrs["Cluster"]]; c != nil {
				delete(c.services, r.attrs["Name"])
			}
		}
	}
	st.status = "DELETE_COMPLETE"
	a.stackEvent(st, st.name, st.id, "AWS::CloudFormation::Stack", "DELETE_COMPLETE", "")
	delete(a.cfn.stacks, st.name)
	for i, n := range a.cfn.order {
		if n == st.name {
			a.cfn.order = append(a.cfn.order[:i], a.cfn.order[i+1:]...)
			break
		}
	}
}

// exports are the exported outputs of every stack, for Fn::ImportValue.
func (a *AWS) exports() map[string]string {
	out := map[string]string{}
	for _, st := range a.cfn.stacks {
		for _, o := range st.outputs {
			if n := str(o, "ExportName"); n != "" {
				out[n] = str(o, "OutputValue")
			}
		}
	}
	return out
}
