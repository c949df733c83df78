// Package appspec reads and validates stevedore.yaml, the small file a team
// keeps in its repository to tell stevedore what to build, test and ship: the
// backend service images, the static frontend and the CDK app.
package appspec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultFile is where stevedore looks for the app description.
const DefaultFile = "stevedore.yaml"

// App is the whole description. Paths are relative to the source directory
// handed to stevedore (normally the repository root).
type App struct {
	// Name of the app: the prefix of image repositories and the report title.
	Name string `yaml:"name" json:"name"`
	// Services are the container images of the backend (API, workers,
	// sidecars such as a vector database). At least one.
	Services []Service `yaml:"services" json:"services"`
	// Frontend is the static site, if any.
	Frontend *Frontend `yaml:"frontend,omitempty" json:"frontend,omitempty"`
	// Infra is the CDK app, if any.
	Infra *Infra `yaml:"infra,omitempty" json:"infra,omitempty"`
	// Migrate is a one-off command run with the new backend image before
	// the rollout (e.g. `alembic upgrade head`).
	Migrate *Migrate `yaml:"migrate,omitempty" json:"migrate,omitempty"`
	// Environments declares environments beyond the dev, staging and prod
	// presets, and where each one lives (see Environment).
	Environments map[string]Environment `yaml:"environments,omitempty" json:"environments,omitempty"`
	// Local describes the local target's stand-ins when the app brings
	// its own CDK app or has no infra (see Local).
	Local *Local `yaml:"local,omitempty" json:"local,omitempty"`
}

// Service is one container image.
type Service struct {
	Name string `yaml:"name" json:"name"`
	// Context is the docker build context directory.
	Context string `yaml:"context" json:"context"`
	// Dockerfile path (relative to the source root). Default: Dockerfile in
	// the context.
	Dockerfile string `yaml:"dockerfile,omitempty" json:"dockerfile,omitempty"`
	// Target stage of a multi-stage Dockerfile.
	Target string `yaml:"target,omitempty" json:"target,omitempty"`
	// BuildArgs passed to the Dockerfile (base images are build args so
	// teams can pin their own).
	BuildArgs map[string]string `yaml:"buildArgs,omitempty" json:"buildArgs,omitempty"`
	// Port the container listens on.
	Port int `yaml:"port" json:"port"`
	// Health is the HTTP path answering 200 when the service is healthy.
	// Empty means the service has no HTTP health check (checked by TCP).
	Health string `yaml:"health,omitempty" json:"health,omitempty"`
	// Env is set when stevedore runs the service itself (local target).
	Env map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
	// Repository is the image repository name (default <app>-<service>).
	Repository string `yaml:"repository,omitempty" json:"repository,omitempty"`
	// Container is the container name in the ECS task definition (default
	// the service name); ECS is the ECS service this image rolls out to.
	Container string `yaml:"container,omitempty" json:"container,omitempty"`
	// Test describes how to run this service's tests.
	Test *Test `yaml:"test,omitempty" json:"test,omitempty"`
	// Deployment is the ECS strategy and the pipeline gate (deployment.go).
	Deployment *Deployment `yaml:"deployment,omitempty" json:"deployment,omitempty"`
	// BuiltinService holds the keys of the built-in infrastructure (builtin.go).
	BuiltinService `yaml:",inline"`
}

// Test runs a command in one of three containers, exactly one chosen: a
// toolchain image with the context copied to /src (Image), a stage of the
// service's Dockerfile (Stage) or the service's own image as the build step
// builds it (ServiceImage). In the last two the command runs in the
// image's WORKDIR, as its USER, with the image's files only, unless Mount
// copies the context over the WORKDIR.
type Test struct {
	Image string `yaml:"image,omitempty" json:"image,omitempty"`
	// Stage of the service's Dockerfile, built with the service's build args.
	Stage string `yaml:"stage,omitempty" json:"stage,omitempty"`
	// ServiceImage runs the command in the service's image itself.
	ServiceImage bool `yaml:"serviceImage,omitempty" json:"serviceImage,omitempty"`
	// Mount copies the context over the WORKDIR of the stage or service
	// image (e.g. for a tests/ directory the Dockerfile does not copy).
	Mount   bool   `yaml:"mount,omitempty" json:"mount,omitempty"`
	Command string `yaml:"command" json:"command"`
	// Cache selects the cache volumes to mount: go, npm, pip or none.
	Cache string `yaml:"cache,omitempty" json:"cache,omitempty"`
}

// TestTarget is the Dockerfile stage the tests of s run in when they run in
// a built image: test.stage, or the service's own target for its image.
func (s *Service) TestTarget() string {
	if s.Test != nil && s.Test.Stage != "" {
		return s.Test.Stage
	}
	return s.Target
}

// Frontend is a static site built with npm (or any command).
type Frontend struct {
	Dir     string `yaml:"dir" json:"dir"`
	Image   string `yaml:"image,omitempty" json:"image,omitempty"`
	Install string `yaml:"install,omitempty" json:"install,omitempty"`
	Build   string `yaml:"build,omitempty" json:"build,omitempty"`
	Test    string `yaml:"test,omitempty" json:"test,omitempty"`
	// Output is the directory the build writes, relative to Dir.
	Output string `yaml:"output,omitempty" json:"output,omitempty"`
	// Dockerfile of the image serving the built site (local target).
	Dockerfile string `yaml:"dockerfile,omitempty" json:"dockerfile,omitempty"`
	// Env is set during the build (e.g. public API URLs).
	Env map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
}

// Infra is the CDK app.
type Infra struct {
	// Dir is the CDK app's directory; empty for the built-in
	// infrastructure (Marshal then writes no dir).
	Dir string `yaml:"dir,omitempty" json:"dir"`
	// App is the `app` context value the CDK app selects stacks with.
	App string `yaml:"app,omitempty" json:"app,omitempty"`
	// Context is extra `-c key=value` context for every synth/deploy.
	Context map[string]string `yaml:"context,omitempty" json:"context,omitempty"`
	// CDKVersion is the aws-cdk CLI version when the app has no aws-cdk
	// dependency of its own (default: the pinned one).
	CDKVersion string `yaml:"cdkVersion,omitempty" json:"cdkVersion,omitempty"`
	// Outputs maps a contract output (e.g. ClusterName) to the name the
	// CDK app exports it under, when that differs.
	Outputs map[string]string `yaml:"outputs,omitempty" json:"outputs,omitempty"`

	// The built-in infrastructure (no Dir), see builtin.go.
	// StackPrefix starts every stack name (default: the app name in PascalCase).
	StackPrefix string              `yaml:"stackPrefix,omitempty" json:"stackPrefix,omitempty"`
	Network     *Network            `yaml:"network,omitempty" json:"network,omitempty"`
	Resources   Resources           `yaml:"resources,omitempty" json:"resources,omitempty"`
	Frontend    *InfraFrontend      `yaml:"frontend,omitempty" json:"frontend,omitempty"`
	Monitoring  *Monitoring         `yaml:"monitoring,omitempty" json:"monitoring,omitempty"`
	Overrides   map[string]Override `yaml:"overrides,omitempty" json:"overrides,omitempty"`
}

// Migrate is a pre-rollout one-off task.
type Migrate struct {
	Service string   `yaml:"service" json:"service"`
	Command []string `yaml:"command" json:"command"`
}

// Parse reads a description, rejecting unknown keys, then fills defaults and
// validates it. name is used in error messages (usually the file path).
// Wrong types, unknown keys and semantic problems come in one round; a
// field whose value had the wrong type is not reported a second time for
// being empty.
func Parse(name string, data []byte) (*App, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var app App
	err := dec.Decode(&app)
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s is empty: describe at least one service (see the README, section stevedore.yaml)", name)
	}
	var typeErr *yaml.TypeError
	if err != nil && !errors.As(err, &typeErr) {
		return nil, fmt.Errorf("%s is not a valid app description: %s", name, friendlyYAMLError(err))
	}
	app.Defaults()
	var problems []string
	skip, noRequired := map[string]bool{}, map[string]bool{}
	structural := false // e.g. a key given twice: the rest may not be decoded
	if typeErr != nil {
		fields := fieldsByLine(data)
		for _, e := range typeErr.Errors {
			if u := unknownRef.FindStringSubmatch(e); u != nil {
				// A misspelled key: say where, and do not also call the
				// key it was meant to be missing.
				f, key := fields[u[1]], u[2]
				switch {
				case f == "":
					f = key
				case f != key && !strings.HasSuffix(f, "."+key):
					f += "." + key // the key sits in a one-line {…} mapping
				}
				parent := ""
				if i := strings.LastIndexByte(f, '.'); i >= 0 {
					parent = f[:i]
				}
				noRequired[parent] = true
				msg := friendlyYAMLError(errors.New(e))
				if _, rest, ok := strings.Cut(msg, " not found "); ok {
					msg = "unknown key " + rest
				}
				problems = append(problems, fmt.Sprintf("%s: %s (line %s)", f, msg, u[1]))
				continue
			}
			m := typeRef.FindStringSubmatch(e)
			f, ok := "", false
			if m != nil {
				f, ok = fields[m[1]]
			}
			if !ok {
				problems = append(problems, friendlyYAMLError(errors.New(e)))
				if m == nil {
					structural = true
				}
				continue
			}
			skip[f] = true
			what := m[3]
			if what == "" {
				what = "a " + map[string]string{"seq": "list", "map": "mapping"}[m[2]]
			}
			problems = append(problems, fmt.Sprintf("%s: %s %s (line %s)", f, what, expected(m[4]), m[1]))
		}
	}
	if structural {
		return nil, fmt.Errorf("%s: invalid app description:\n  - %s", name, strings.Join(problems, "\n  - "))
	}
	for _, p := range app.problems() {
		field, msg, _ := strings.Cut(p, ": ")
		parent, key := "", field
		if i := strings.LastIndexByte(field, '.'); i >= 0 {
			parent, key = field[:i], field[i+1:]
		}
		if k, ok := followsFrom[key]; ok && skip[parent+"."+k] {
			continue // e.g. "gateTimeout: set, but gate is off" when gate's value was mistyped
		}
		if !underAny(field, skip) && !(noRequired[parent] && strings.HasPrefix(msg, "required")) && !(noRequired[""] && !strings.Contains(field, ".") && strings.Contains(msg, "required")) {
			problems = append(problems, p)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: invalid app description:\n  - %s", name, strings.Join(problems, "\n  - "))
	}
	return &app, nil
}

// followsFrom names, by key, the sibling key whose value its problems
// follow from: they are not reported when that value had the wrong type.
var followsFrom = map[string]string{"gateTimeout": "gate", "smoke": "gate", "smokeCommand": "gate"}

// unknownRef picks line and key out of a yaml.v3 unknown-field error.
var unknownRef = regexp.MustCompile(`^line (\d+): field (\S+) not found`)

// typeRef picks line, value and Go type out of a yaml.v3 type error.
var typeRef = regexp.MustCompile(`^line (\d+): cannot unmarshal !!(\w+)(?: (.*))? into (\S+)$`)

// expected says in YAML words what a Go type wants.
func expected(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"):
		return "must be a whole number"
	case goType == "bool":
		return "must be true or false"
	case strings.HasPrefix(goType, "[]"):
		return "must be a list"
	case strings.HasPrefix(goType, "map["):
		return "must be a mapping of KEY: VALUE"
	case goType == "string":
		return "must be a single value"
	}
	return "must be a mapping of its keys"
}

// underAny reports whether field is one of fields or inside one of them.
func underAny(field string, fields map[string]bool) bool {
	for f := range fields {
		if field == f || strings.HasPrefix(field, f+".") || strings.HasPrefix(field, f+"[") {
			return true
		}
	}
	return false
}

// fieldsByLine maps the line of each value to its field name as Validate
// spells it (services[<name>].port, infra.dir, …).
func fieldsByLine(data []byte) map[string]string {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	out := map[string]string{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		line := strconv.Itoa(n.Line)
		if _, taken := out[line]; !taken || n.Kind != yaml.ScalarNode {
			out[line] = path // a list or mapping owns its first line
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i].Value
				p := key
				if path != "" {
					p = path + "." + key
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				id := strconv.Itoa(i)
				if item.Kind == yaml.MappingNode {
					for j := 0; j+1 < len(item.Content); j += 2 {
						if item.Content[j].Value == "name" && item.Content[j+1].Value != "" {
							id = item.Content[j+1].Value
						}
					}
				}
				walk(item, fmt.Sprintf("%s[%s]", path, id))
			}
		}
	}
	walk(root.Content[0], "")
	return out
}

func friendlyYAMLError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	// "field foo not found in type appspec.Service" -> say which keys
	// exist, and which one a typo likely meant.
	msg = unknownField.ReplaceAllStringFunc(msg, func(m string) string {
		sub := unknownField.FindStringSubmatch(m)
		t, ok := descriptionTypes[sub[2]]
		if !ok {
			return m
		}
		return "field " + sub[1] + " not found " + knownKeys(sub[1], yamlKeys(t))
	})
	return strings.ReplaceAll(msg, "\n  ", "; ")
}

// Service returns the named service, or the only one when name is empty.
func (a *App) Service(name string) (*Service, error) {
	if name == "" {
		if len(a.Services) == 1 {
			return &a.Services[0], nil
		}
		return nil, fmt.Errorf("the app has %d services (%s): name one with --service", len(a.Services), strings.Join(a.ServiceNames(), ", "))
	}
	for i := range a.Services {
		if a.Services[i].Name == name {
			return &a.Services[i], nil
		}
	}
	return nil, fmt.Errorf("no service named %q: the app has %s", name, strings.Join(a.ServiceNames(), ", "))
}

// ServiceNames lists service names in file order.
func (a *App) ServiceNames() []string {
	names := make([]string, len(a.Services))
	for i, s := range a.Services {
		names[i] = s.Name
	}
	return names
}

// Marshal renders the description as YAML (defaults filled in).
func (a *App) Marshal() string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	_ = enc.Encode(a)
	return buf.String()
}
