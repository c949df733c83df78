package appspec

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlLine finds the "line N: " prefix of the decoder's messages.
var yamlLine = regexp.MustCompile(`^line (\d+): `)

// fieldLines maps each line of a YAML document to the field path written
// on it, in the form Validate uses (services[backend].port,
// infra.resources.db.storage), so a decoder message can name its field.
func fieldLines(data []byte) map[int]string {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil
	}
	out := map[int]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				out[k.Line] = p
				if v.Line != k.Line {
					out[v.Line] = p
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				p := path + "[" + strconv.Itoa(i) + "]"
				if item.Kind == yaml.MappingNode {
					for j := 0; j+1 < len(item.Content); j += 2 {
						if item.Content[j].Value == "name" && item.Content[j+1].Value != "" {
							p = path + "[" + item.Content[j+1].Value + "]"
						}
					}
				}
				if _, ok := out[item.Line]; !ok || item.Kind != yaml.MappingNode {
					out[item.Line] = p
				}
				walk(item, p)
			}
		}
	}
	walk(doc.Content[0], "")
	return out
}

// decodeProblems turns the decoder's type errors into problem lines that
// start with the field they are about, and returns those fields.
func decodeProblems(data []byte, te *yaml.TypeError) (problems []string, fields map[string]bool) {
	lines := fieldLines(data)
	fields = map[string]bool{}
	for _, e := range te.Errors {
		msg := friendlyYAMLError(fmt.Errorf("%s", e))
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			if f, ok := lines[n]; ok && !strings.HasPrefix(msg[len(m[0]):], "infra.resources.") {
				fields[f] = true
				msg = f + " (line " + m[1] + "): " + msg[len(m[0]):]
			}
		}
		problems = append(problems, msg)
	}
	return problems, fields
}

// withDecodeProblems merges the decoder's problems with Validate's,
// dropping validation problems about a field whose value did not decode
// (its zero value would be reported a second time).
func withDecodeProblems(data []byte, te *yaml.TypeError, verr error) error {
	problems, fields := decodeProblems(data, te)
	if verr != nil {
		body := strings.TrimPrefix(verr.Error(), "invalid app description:\n  - ")
		for _, p := range strings.Split(body, "\n  - ") {
			field, _, _ := strings.Cut(p, ": ")
			if !fields[field] {
				problems = append(problems, p)
			}
		}
	}
	return fmt.Errorf("invalid app description:\n  - %s", strings.Join(problems, "\n  - "))
}

// builtinTypes are the types of the built-in infrastructure keys, for the
// "known keys" hint of an unknown key.
var builtinTypes = []reflect.Type{
	reflect.TypeOf(Network{}), reflect.TypeOf(Autoscaling{}), reflect.TypeOf(Sticky{}),
	reflect.TypeOf(SecretRef{}), reflect.TypeOf(InfraFrontend{}), reflect.TypeOf(Monitoring{}),
	reflect.TypeOf(Override{}), reflect.TypeOf(ServiceOverride{}), reflect.TypeOf(ResourceOverride{}),
}

// builtinKnownKeys replaces "in type appspec.X" with the keys X has.
func builtinKnownKeys(msg string) string {
	for _, t := range builtinTypes {
		msg = strings.ReplaceAll(msg, "in type appspec."+t.Name(), "(known keys: "+strings.Join(yamlKeys(t), ", ")+")")
	}
	return msg
}

// The built-in keys of a service and of infra, for the known-keys hints.
var (
	builtinServiceKeys = strings.Join(yamlKeys(reflect.TypeOf(BuiltinService{})), ", ")
	builtinInfraKeys   = "stackPrefix, network, resources, frontend, monitoring, overrides"
)
