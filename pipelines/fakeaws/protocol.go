package fakeaws

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// handler runs one operation on decoded input; the caller holds a.mu.
type handler func(a *AWS, op string, in map[string]any) (any, *Fault)

// jsonServices are the AWS JSON 1.0/1.1 services by signing name; the
// operation is what follows the last "." of X-Amz-Target.
var jsonServices = map[string]handler{
	"ecr":            (*AWS).ecrOp,
	"ecs":            (*AWS).ecsOp,
	"ssm":            (*AWS).ssmOp,
	"secretsmanager": (*AWS).secretsOp,
	"logs":           (*AWS).logsOp,
	"dynamodb":       (*AWS).dynamoOp,
}

// abandoned reports whether the client gave up on the request before its
// body arrived (a cancelled context): AWS never sees such a call, so the
// fake neither records nor answers it.
func abandoned(r *http.Request, err error) bool {
	return err != nil && (r.Context().Err() != nil || errors.Is(err, io.ErrUnexpectedEOF))
}

// serveJSON answers an AWS JSON protocol request.
func (a *AWS) serveJSON(w http.ResponseWriter, r *http.Request, svc string) {
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndex(target, ".")+1:]
	raw, err := io.ReadAll(r.Body)
	if abandoned(r, err) {
		return
	}
	in := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &in); err != nil {
			a.t.Errorf("fakeaws: %s:%s body is not JSON: %v", svc, op, err)
		}
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/x-amz-json-1.1"
	}
	out, f := a.call(svc, op, accessKey(r), in, jsonServices[svc])
	w.Header().Set("Content-Type", ct)
	if f != nil {
		w.Header().Set("X-Amzn-Errortype", f.Code)
		w.WriteHeader(f.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": f.Code, "message": f.Message})
		return
	}
	if out == nil {
		out = map[string]any{}
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		a.t.Errorf("fakeaws: %s:%s response: %v", svc, op, err)
	}
}

// call records the call, then answers the scripted fault or runs h.
func (a *AWS) call(svc, op, key string, in map[string]any, h handler) (any, *Fault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.record(svc, op, key, clone(in))
	if f := a.takeFault(svc, op); f != nil {
		return nil, f
	}
	return h(a, op, in)
}

// unknownOp is the answer to an operation the fake does not simulate; it
// also fails the test, so a gap in the fake never passes for success.
func (a *AWS) unknownOp(svc, op string) *Fault {
	a.t.Errorf("fakeaws: %s:%s is not simulated", svc, op)
	return apiError(http.StatusNotImplemented, "NotImplemented", "fakeaws does not simulate %s:%s", svc, op)
}

var queryServices = map[string]struct {
	xmlns string
	h     handler
}{
	"cloudformation": {"http://cloudformation.amazonaws.com/doc/2010-05-15/", (*AWS).cfnOp},
	"sts":            {"https://sts.amazonaws.com/doc/2011-06-15/", (*AWS).stsOp},
	// ELBv2's signing name.
	"elasticloadbalancing": {"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/", (*AWS).elbOp},
}

// serveQuery answers an AWS query protocol request (form POST, XML reply).
func (a *AWS) serveQuery(w http.ResponseWriter, r *http.Request, svc string) {
	if err := r.ParseForm(); err != nil {
		if abandoned(r, err) {
			return
		}
		a.t.Errorf("fakeaws: %s form: %v", svc, err)
	}
	op := r.PostForm.Get("Action")
	in := decodeForm(r.PostForm)
	delete(in, "Action")
	delete(in, "Version")
	qs := queryServices[svc]
	out, f := a.call(svc, op, accessKey(r), in, qs.h)
	w.Header().Set("Content-Type", "text/xml")
	if f != nil {
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>fake-request</RequestId></ErrorResponse>`,
			qs.xmlns, f.Code, html.EscapeString(f.Message))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<%sResponse xmlns="%s"><%sResult>`, op, qs.xmlns, op)
	writeXMLValue(&b, out)
	fmt.Fprintf(&b, `</%sResult><ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></%sResponse>`, op, op)
	_, _ = io.WriteString(w, b.String())
}

// decodeForm nests a query-protocol form: "A.member.1.B=x" becomes
// {"A": [{"B": "x"}]}; "entry" maps are treated like member lists.
func decodeForm(form map[string][]string) map[string]any {
	root := map[string]any{}
	for key, vals := range form {
		parts := strings.Split(key, ".")
		cur := root
		for i := 0; i < len(parts); i++ {
			p := parts[i]
			if (p == "member" || p == "entry") && i+1 < len(parts) {
				i++
				p = "#" + fmt.Sprintf("%08s", parts[i])
			}
			if i == len(parts)-1 {
				cur[p] = vals[0]
				break
			}
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[p] = next
			}
			cur = next
		}
	}
	return listify(root).(map[string]any)
}

// listify turns maps keyed "#<index>" into lists, depth first.
func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	indexed := len(m) > 0
	for k, x := range m {
		m[k] = listify(x)
		if !strings.HasPrefix(k, "#") {
			indexed = false
		}
	}
	if !indexed {
		return m
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}

// writeXMLValue writes v as query-protocol XML: map keys become elements,
// list items <member> elements.
func writeXMLValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if x[k] == nil {
				continue
			}
			fmt.Fprintf(b, "<%s>", k)
			writeXMLValue(b, x[k])
			fmt.Fprintf(b, "</%s>", k)
		}
	case []any:
		for _, e := range x {
			b.WriteString("<member>")
			writeXMLValue(b, e)
			b.WriteString("</member>")
		}
	case []map[string]any:
		for _, e := range x {
			b.WriteString("<member>")
			writeXMLValue(b, e)
			b.WriteString("</member>")
		}
	case []string:
		for _, e := range x {
			b.WriteString("<member>" + html.EscapeString(e) + "</member>")
		}
	case string:
		_ = xml.EscapeText(b, []byte(x))
	case time.Time:
		b.WriteString(x.UTC().Format("2006-01-02T15:04:05.000Z"))
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	default:
		fmt.Fprint(b, x)
	}
}
