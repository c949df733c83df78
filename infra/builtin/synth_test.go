package builtin

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Descriptions and digest-pinned images used across the tests.
const (
	caoDescription       = "../../stevedore.yaml"
	commanderDescription = "../../examples/commander/stevedore.yaml"
	shopDescription      = "../../pipelines/appspec/testdata/shop.yaml"

	testAccount = "123456789012"
	testRegion  = "us-east-1"
	caoImage    = testAccount + ".dkr.ecr.us-east-1.amazonaws.com/cao-server@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	cmdBackend  = testAccount + ".dkr.ecr.us-east-1.amazonaws.com/commander-ai-backend@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	cmdQdrant   = "qdrant/qdrant@sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

// synthesized is one description synthesized once and shared by every
// test asking for the same context: jsii makes each synth cost seconds.
type synthesized struct {
	names     []string
	templates map[string]assertions.Template
	raw       map[string]map[string]any
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*synthesized{}
	synthRoot  string
)

// testEnv turns off the CloudFormation validation plugin (~10 s a synth)
// and the Node end-of-life banner in the jsii child.
var testEnv = map[string]string{
	"CDK_VALIDATION": "false",
	"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}

func TestMain(m *testing.M) {
	reexecWith(testEnv)
	dir, err := os.MkdirTemp("", "infra-builtin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	synthRoot = dir
	code := m.Run()
	jsii.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

// ctx is the CDK context for a description, an environment and extra key/value pairs.
func ctx(description, env string, extra ...string) map[string]string {
	c := map[string]string{"stevedore:description": description, "env": env}
	switch description {
	case caoDescription:
		c["image.backend"] = caoImage
	case commanderDescription:
		c["image.backend"], c["image.qdrant"] = cmdBackend, cmdQdrant
	case shopDescription:
		for _, s := range []string{"api", "worker", "search"} {
			c["image."+s] = testAccount + ".dkr.ecr.us-east-1.amazonaws.com/shop-" + s + "@sha256:" + strings.Repeat("5", 64)
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		c[extra[i]] = extra[i+1]
	}
	return c
}

// synth synthesizes the generic app for a context once, environment-agnostic.
func synth(t *testing.T, c map[string]string) *synthesized {
	t.Helper()
	return synthWith(t, c, false)
}

// synthWith synthesizes once per context; envAware pins account and
// region as CDK_DEFAULT_* would.
func synthWith(t *testing.T, c map[string]string, envAware bool) *synthesized {
	t.Helper()
	keys := []string{fmt.Sprint(envAware)}
	for k, v := range c {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	key := strings.Join(keys, ",")
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[key]; ok {
		return s
	}
	outdir := filepath.Join(synthRoot, fmt.Sprint(len(synthCache)))
	appCtx := map[string]any{}
	for k, v := range c {
		appCtx[k] = v
	}
	var env *awscdk.Environment
	if envAware {
		env = &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(testRegion)}
		// What cdk.context.json holds after the CLI's availability zone lookup.
		appCtx[fmt.Sprintf("availability-zones:account=%s:region=%s", testAccount, testRegion)] = []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: &outdir, Context: &appCtx})
	stacks, err := FromContext(app, func(k string) (string, bool) { v, ok := c[k]; return v, ok }, env)
	if err != nil {
		t.Fatalf("context %v: %v", c, err)
	}
	app.Synth(nil)
	s := &synthesized{templates: map[string]assertions.Template{}, raw: map[string]map[string]any{}}
	for _, st := range stacks {
		name := *st.StackName()
		body, err := os.ReadFile(filepath.Join(outdir, name+".template.json"))
		if err != nil {
			t.Fatalf("template of %s: %v", name, err)
		}
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatal(err)
		}
		s.names = append(s.names, name)
		s.raw[name] = raw
		s.templates[name] = assertions.Template_FromString(jsii.String(string(body)), nil)
	}
	synthCache[key] = s
	return s
}

// template returns the assertion view of a stack.
func (s *synthesized) template(t *testing.T, stack string) checked {
	t.Helper()
	tmpl, ok := s.templates[stack]
	if !ok {
		t.Fatalf("stack %s not synthesized (have %v)", stack, s.names)
	}
	return checked{t: t, tmpl: tmpl}
}

// checked turns CDK assertion panics into test errors.
type checked struct {
	t    *testing.T
	tmpl assertions.Template
}

func (c checked) run(assert func()) {
	c.t.Helper()
	defer func() {
		if r := recover(); r != nil {
			c.t.Errorf("%v", r)
		}
	}()
	assert()
}

// props asserts a resource of typ has (at least) these properties.
func (c checked) props(typ string, props map[string]any) {
	c.t.Helper()
	c.run(func() { c.tmpl.HasResourceProperties(&typ, &props) })
}

// resource asserts a resource of typ matches (DeletionPolicy and Properties).
func (c checked) resource(typ string, props map[string]any) {
	c.t.Helper()
	c.run(func() { c.tmpl.HasResource(&typ, &props) })
}

// count asserts how many resources of typ there are.
func (c checked) count(typ string, n int) {
	c.t.Helper()
	c.run(func() { c.tmpl.ResourceCountIs(&typ, jsii.Number(float64(n))) })
}

// resources returns the logical IDs and properties of every resource of a type.
func (s *synthesized) resources(t *testing.T, stack, typ string) map[string]map[string]any {
	t.Helper()
	raw, ok := s.raw[stack]
	if !ok {
		t.Fatalf("stack %s not synthesized (have %v)", stack, s.names)
	}
	out := map[string]map[string]any{}
	for id, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			props, _ := res["Properties"].(map[string]any)
			if props == nil {
				props = map[string]any{}
			}
			out[id] = props
		}
	}
	return out
}

// only returns the single resource of a type.
func (s *synthesized) only(t *testing.T, stack, typ string) (string, map[string]any) {
	t.Helper()
	all := s.resources(t, stack, typ)
	if len(all) != 1 {
		t.Fatalf("%s: want exactly one %s, got %d", stack, typ, len(all))
	}
	for id, props := range all {
		return id, props
	}
	return "", nil
}

// outputs returns the output values of a stack by key.
func (s *synthesized) outputs(t *testing.T, stack string) map[string]any {
	t.Helper()
	out := map[string]any{}
	if o, ok := s.raw[stack]["Outputs"].(map[string]any); ok {
		for k, v := range o {
			out[k] = v.(map[string]any)["Value"]
		}
	}
	return out
}

// idBy returns the logical ID of the resource of typ whose property equals value.
func (s *synthesized) idBy(t *testing.T, stack, typ, prop string, value any) string {
	t.Helper()
	for id, props := range s.resources(t, stack, typ) {
		if fmt.Sprint(props[prop]) == fmt.Sprint(value) {
			return id
		}
	}
	t.Fatalf("%s: no %s with %s=%v", stack, typ, prop, value)
	return ""
}

// js renders a value as JSON.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

func like(kv map[string]any) any { return assertions.Match_ObjectLike(&kv) }

func arrayWith(items ...any) any { return assertions.Match_ArrayWith(&items) }

func matching(pattern string) any { return assertions.Match_StringLikeRegexp(&pattern) }

// caoContext is the CAO description (root stevedore.yaml) in env.
func caoContext(env string, extra ...string) map[string]string {
	return ctx(caoDescription, env, extra...)
}

// commanderContext is the commander.ai description in env.
func commanderContext(env string, extra ...string) map[string]string {
	return ctx(commanderDescription, env, extra...)
}

// variant writes a copy of a description with old replaced by new and
// returns its path (for options the reference descriptions do not set).
func variant(description, old, new string) string {
	body, err := os.ReadFile(description)
	if err != nil || !strings.Contains(string(body), old) {
		panic(fmt.Sprintf("%s has no %q: %v", description, old, err))
	}
	h := fnv.New64a()
	h.Write([]byte(description + "\x00" + old + "\x00" + new))
	path := filepath.Join(synthRoot, fmt.Sprintf("variant-%x.yaml", h.Sum64()))
	if err := os.WriteFile(path, []byte(strings.Replace(string(body), old, new, 1)), 0o644); err != nil {
		panic(err)
	}
	return path
}
