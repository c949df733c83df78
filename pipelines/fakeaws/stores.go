package fakeaws

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// SSM Parameter Store.

type parameter struct {
	name, value, typ string
	version          int
	modified         time.Time
}

// PutParameter sets an SSM parameter, e.g. the CDK bootstrap version
// "/cdk-bootstrap/hnb659fds/version" = "21" that preflight and change sets
// read.
func (a *AWS) PutParameter(name, value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.putParameter(name, value, "String")
}

// Parameter is the value of an SSM parameter; ok is false if it is missing.
func (a *AWS) Parameter(name string) (value string, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if p := a.ssm[name]; p != nil {
		return p.value, true
	}
	return "", false
}

func (a *AWS) putParameter(name, value, typ string) *parameter {
	p := a.ssm[name]
	if p == nil {
		p = &parameter{name: name}
		a.ssm[name] = p
	}
	p.value, p.typ, p.modified = value, orDefault(typ, "String"), a.tick()
	p.version++
	return p
}

func (a *AWS) parameterJSON(p *parameter) map[string]any {
	return map[string]any{"Name": p.name, "Type": p.typ, "Value": p.value, "Version": p.version,
		"LastModifiedDate": epoch(p.modified), "ARN": a.arnOf("ssm", "parameter/"+strings.TrimPrefix(p.name, "/")), "DataType": "text"}
}

func parameterNotFound() *Fault { return badRequest("ParameterNotFound", "") }

func (a *AWS) ssmOp(op string, in map[string]any) (any, *Fault) {
	name := str(in, "Name")
	switch op {
	case "GetParameter":
		p := a.ssm[name]
		if p == nil {
			return nil, parameterNotFound()
		}
		return map[string]any{"Parameter": a.parameterJSON(p)}, nil
	case "GetParameters":
		params, invalid := []any{}, []string{}
		for _, n := range strs(in, "Names") {
			if p := a.ssm[n]; p != nil {
				params = append(params, a.parameterJSON(p))
			} else {
				invalid = append(invalid, n)
			}
		}
		return map[string]any{"Parameters": params, "InvalidParameters": invalid}, nil
	case "PutParameter":
		if a.ssm[name] != nil && !flag(in, "Overwrite") {
			return nil, badRequest("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
		}
		p := a.putParameter(name, str(in, "Value"), str(in, "Type"))
		return map[string]any{"Version": p.version, "Tier": "Standard"}, nil
	case "DeleteParameter":
		if a.ssm[name] == nil {
			return nil, parameterNotFound()
		}
		delete(a.ssm, name)
		return nil, nil
	case "GetParametersByPath":
		path := strings.TrimSuffix(str(in, "Path"), "/") + "/"
		params := []any{}
		for _, n := range sortedKeys(a.ssm) {
			rest, ok := strings.CutPrefix(n, path)
			if ok && (flag(in, "Recursive") || !strings.Contains(rest, "/")) {
				params = append(params, a.parameterJSON(a.ssm[n]))
			}
		}
		return map[string]any{"Parameters": params}, nil
	}
	return nil, a.unknownOp("ssm", op)
}

// Secrets Manager.

type secret struct {
	name, arn, value string
	created          time.Time
}

// PutSecret creates (or sets) a Secrets Manager secret and returns its ARN.
func (a *AWS) PutSecret(name, value string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.putSecret(name, value)
}

func (a *AWS) putSecret(name, value string) string {
	s := a.sec[name]
	if s == nil {
		s = &secret{name: name, created: a.tick(), arn: a.arnOf("secretsmanager", fmt.Sprintf("secret:%s-%06X", name, a.nextID()*48271%0xFFFFFF))}
		a.sec[name] = s
	}
	s.value = value
	return s.arn
}

// findSecret resolves a SecretId: name, ARN, or ARN without its suffix.
func (a *AWS) findSecret(id string) *secret {
	for _, s := range a.sec {
		if s.name == id || s.arn == id || strings.HasPrefix(s.arn, id+"-") {
			return s
		}
	}
	return nil
}

func (a *AWS) secretsOp(op string, in map[string]any) (any, *Fault) {
	if op == "CreateSecret" {
		if a.sec[str(in, "Name")] != nil {
			return nil, badRequest("ResourceExistsException", "The operation failed because the secret %s already exists.", str(in, "Name"))
		}
		arn := a.putSecret(str(in, "Name"), str(in, "SecretString"))
		return map[string]any{"ARN": arn, "Name": str(in, "Name"), "VersionId": "v1"}, nil
	}
	if op == "ListSecrets" {
		var out []any
		for _, n := range sortedKeys(a.sec) {
			out = append(out, map[string]any{"ARN": a.sec[n].arn, "Name": n, "CreatedDate": epoch(a.sec[n].created)})
		}
		return map[string]any{"SecretList": out}, nil
	}
	s := a.findSecret(str(in, "SecretId"))
	if s == nil {
		return nil, badRequest("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	}
	switch op {
	case "DescribeSecret":
		return map[string]any{"ARN": s.arn, "Name": s.name, "CreatedDate": epoch(s.created),
			"VersionIdsToStages": map[string]any{"v1": []string{"AWSCURRENT"}}}, nil
	case "GetSecretValue":
		return map[string]any{"ARN": s.arn, "Name": s.name, "SecretString": s.value, "VersionId": "v1",
			"VersionStages": []string{"AWSCURRENT"}, "CreatedDate": epoch(s.created)}, nil
	}
	return nil, a.unknownOp("secretsmanager", op)
}

// CloudWatch Logs.

// LogEvent is one log line of a stream.
type LogEvent struct {
	Time    time.Time
	Message string
}

// LogLines appends lines to a log stream (group and stream are created as
// needed), one second apart on the fake clock.
func (a *AWS) LogLines(group, stream string, lines ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	k := group + "\x00" + stream
	for _, l := range lines {
		a.logs[k] = append(a.logs[k], LogEvent{Time: a.tick(), Message: l})
	}
}

func (a *AWS) logsOp(op string, in map[string]any) (any, *Fault) {
	group := str(in, "logGroupName")
	groupKnown := false
	for k := range a.logs {
		if strings.HasPrefix(k, group+"\x00") {
			groupKnown = true
		}
	}
	if !groupKnown && (op == "GetLogEvents" || op == "FilterLogEvents") {
		return nil, badRequest("ResourceNotFoundException", "The specified log group does not exist.")
	}
	switch op {
	case "GetLogEvents":
		evs, ok := a.logs[group+"\x00"+str(in, "logStreamName")]
		if !ok {
			return nil, badRequest("ResourceNotFoundException", "The specified log stream does not exist.")
		}
		limit := num(in, "limit", 10000)
		if len(evs) > limit {
			if flag(in, "startFromHead") {
				evs = evs[:limit]
			} else {
				evs = evs[len(evs)-limit:]
			}
		}
		out := []any{}
		for _, e := range evs {
			out = append(out, map[string]any{"timestamp": e.Time.UnixMilli(), "message": e.Message, "ingestionTime": e.Time.UnixMilli()})
		}
		token := fmt.Sprintf("f/%d", len(evs))
		return map[string]any{"events": out, "nextForwardToken": token, "nextBackwardToken": "b/0"}, nil
	case "FilterLogEvents":
		streams := strs(in, "logStreamNames")
		pattern := strings.Trim(str(in, "filterPattern"), `"`)
		var out []map[string]any
		var searched []any
		for k, evs := range a.logs {
			g, s, _ := strings.Cut(k, "\x00")
			if g != group || (len(streams) > 0 && !contains(streams, s)) || (str(in, "logStreamNamePrefix") != "" && !strings.HasPrefix(s, str(in, "logStreamNamePrefix"))) {
				continue
			}
			searched = append(searched, map[string]any{"logStreamName": s, "searchedCompletely": true})
			for i, e := range evs {
				ms := e.Time.UnixMilli()
				if (in["startTime"] != nil && ms < int64(num(in, "startTime", 0))) || (in["endTime"] != nil && ms > int64(num(in, "endTime", 0))) || !strings.Contains(e.Message, pattern) {
					continue
				}
				out = append(out, map[string]any{"logStreamName": s, "timestamp": ms, "message": e.Message, "ingestionTime": ms, "eventId": fmt.Sprintf("%s-%d", s, i)})
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i]["timestamp"].(int64) < out[j]["timestamp"].(int64) })
		if l := num(in, "limit", 10000); len(out) > l {
			out = out[:l]
		}
		return map[string]any{"events": out, "searchedLogStreams": searched}, nil
	}
	return nil, a.unknownOp("logs", op)
}

// DynamoDB, enough for a lock item.

type ddbTable struct {
	keys  []string
	items map[string]map[string]any
}

// CreateTable adds a DynamoDB table keyed by the attributes keys (partition
// key first).
func (a *AWS) CreateTable(name string, keys ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ddb[name] = &ddbTable{keys: keys, items: map[string]map[string]any{}}
}

// Item is a DynamoDB item of a table by its key attributes (as AttributeValue
// JSON, e.g. {"id": {"S": "lock"}}); nil if absent.
func (a *AWS) Item(table string, key map[string]any) map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.ddb[table]
	if t == nil {
		return nil
	}
	return clone(t.items[t.keyOf(key)])
}

func (t *ddbTable) keyOf(item map[string]any) string {
	parts := make([]any, len(t.keys))
	for i, k := range t.keys {
		parts[i] = item[k]
	}
	b, _ := json.Marshal(parts)
	return string(b)
}

var (
	condExists = regexp.MustCompile(`^attribute_(not_)?exists\(\s*([#\w.]+)\s*\)$`)
	condEquals = regexp.MustCompile(`^([#\w.]+)\s*(=|<>)\s*(:\w+)$`)
	condAnd    = regexp.MustCompile(`(?i)\s+AND\s+`)
)

// condition evaluates the subset of ConditionExpression a lock needs:
// attribute_exists, attribute_not_exists, = and <>, joined by AND.
func condition(expr string, in, item map[string]any) (bool, *Fault) {
	if strings.TrimSpace(expr) == "" {
		return true, nil
	}
	names, values := obj(in, "ExpressionAttributeNames"), obj(in, "ExpressionAttributeValues")
	attr := func(n string) string {
		if v, ok := names[n].(string); ok {
			return v
		}
		return n
	}
	for _, c := range condAnd.Split(strings.TrimSpace(expr), -1) {
		c = strings.TrimSpace(c)
		for strings.HasPrefix(c, "(") && strings.HasSuffix(c, ")") {
			c = strings.TrimSpace(c[1 : len(c)-1])
		}
		if m := condExists.FindStringSubmatch(c); m != nil {
			_, has := item[attr(m[2])]
			if has == (m[1] == "not_") {
				return false, nil
			}
			continue
		}
		if m := condEquals.FindStringSubmatch(c); m != nil {
			eq := fmt.Sprint(item[attr(m[1])]) == fmt.Sprint(values[m[3]])
			if eq != (m[2] == "=") {
				return false, nil
			}
			continue
		}
		return false, badRequest("ValidationException", "Invalid ConditionExpression: fakeaws cannot evaluate %q", c)
	}
	return true, nil
}

func (a *AWS) dynamoOp(op string, in map[string]any) (any, *Fault) {
	if op == "CreateTable" {
		var keys []string
		for _, k := range list(in, "KeySchema") {
			keys = append(keys, str(k, "AttributeName"))
		}
		a.ddb[str(in, "TableName")] = &ddbTable{keys: keys, items: map[string]map[string]any{}}
		return map[string]any{"TableDescription": map[string]any{"TableName": str(in, "TableName"), "TableStatus": "ACTIVE"}}, nil
	}
	t := a.ddb[str(in, "TableName")]
	if t == nil {
		return nil, badRequest("ResourceNotFoundException", "Requested resource not found")
	}
	item := obj(in, "Item")
	if item == nil {
		item = obj(in, "Key")
	}
	k := t.keyOf(item)
	switch op {
	case "GetItem":
		if cur := t.items[k]; cur != nil {
			return map[string]any{"Item": cur}, nil
		}
		return map[string]any{}, nil
	case "PutItem", "DeleteItem":
		ok, f := condition(str(in, "ConditionExpression"), in, t.items[k])
		if f != nil {
			return nil, f
		}
		if !ok {
			return nil, badRequest("ConditionalCheckFailedException", "The conditional request failed")
		}
		if op == "PutItem" {
			t.items[k] = clone(item)
		} else {
			delete(t.items, k)
		}
		return map[string]any{}, nil
	}
	return nil, a.unknownOp("dynamodb", op)
}
