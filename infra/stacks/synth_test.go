package stacks

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
)

// Digest-pinned references used across the tests.
const (
	testAccount = "123456789012"
	testRegion  = "us-east-1"
	caoImage    = testAccount + ".dkr.ecr.us-east-1.amazonaws.com/cao-server@sha256:1111111111111111111111111111111111111111111111111111111111111111"
	cmdBackend  = testAccount + ".dkr.ecr.us-east-1.amazonaws.com/commander-ai-backend@sha256:2222222222222222222222222222222222222222222222222222222222222222"
	cmdQdrant   = "qdrant/qdrant@sha256:3333333333333333333333333333333333333333333333333333333333333333"
	cmdQdrantEC = testAccount + ".dkr.ecr.us-east-1.amazonaws.com/commander-ai-qdrant@sha256:4444444444444444444444444444444444444444444444444444444444444444"
)

// synthesized is one app synthesized once and shared by every test that
// asks for the same context: jsii makes each synth cost seconds.
type synthesized struct {
	// names lists the stacks in Build order.
	names []string
	// templates are the CDK assertion views, by stack name.
	templates map[string]assertions.Template
	// raw are the same templates decoded in Go, for checks that walk them.
	raw map[string]map[string]any
	// outdir is the cloud assembly directory.
	outdir string
}

var (
	synthMu    sync.Mutex
	synthCache = map[string]*synthesized{}
	synthRoot  string
)

// testEnv is the environment the jsii child process needs: the CloudFormation
// validation plugin costs ~10 s per synth (only
// TestTemplatesPassCloudFormationValidation turns it on, explicitly), and
// the end-of-life banner of the host's Node 20 is noise here.
var testEnv = map[string]string{
	"CDK_VALIDATION": "false",
	"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}

func TestMain(m *testing.M) {
	// jsii prepares its child's environment while the awscdk packages
	// initialize, before TestMain runs: set it by re-executing once.
	reexecWith(testEnv)
	dir, err := os.MkdirTemp("", "infra-synth-")
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

// synthOptions tweak one synthesis beyond its context.
type synthOptions struct {
	// envAware pins account and region (as CDK_DEFAULT_* would).
	envAware bool
	// validate runs the CloudFormation validation plugin.
	validate bool
}

// synth synthesizes the app for ctx once and returns the shared result.
func synth(t *testing.T, ctx map[string]string) *synthesized {
	t.Helper()
	return synthWith(t, ctx, synthOptions{})
}

func synthWith(t *testing.T, ctx map[string]string, opts synthOptions) *synthesized {
	t.Helper()
	key := cacheKey(ctx, opts)
	synthMu.Lock()
	defer synthMu.Unlock()
	if s, ok := synthCache[key]; ok {
		return s
	}
	settings, err := config.Parse(config.MapLookup(ctx))
	if err != nil {
		t.Fatalf("context %v: %v", ctx, err)
	}
	appCtx := map[string]any{}
	for k, v := range ctx {
		appCtx[k] = v
	}
	var env *awscdk.Environment
	if opts.envAware {
		env = &awscdk.Environment{Account: jsii.String(testAccount), Region: jsii.String(testRegion)}
		// What cdk.context.json holds after the CLI's availability zone lookup.
		appCtx[fmt.Sprintf("availability-zones:account=%s:region=%s", testAccount, testRegion)] = []string{"us-east-1a", "us-east-1b", "us-east-1c"}
	}
	outdir := filepath.Join(synthRoot, fmt.Sprint(len(synthCache)))
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: &outdir, Context: &appCtx})
	if opts.validate {
		awscdk.Validations_Of(app).AddPlugins(awscdk.NewCloudFormationValidatePlugin(nil))
	}
	built := Build(app, settings, env)
	app.Synth(nil)

	s := &synthesized{templates: map[string]assertions.Template{}, raw: map[string]map[string]any{}, outdir: outdir}
	for _, st := range built {
		name := *st.StackName()
		body, err := os.ReadFile(filepath.Join(outdir, name+".template.json"))
		if err != nil {
			t.Fatalf("template of %s: %v", name, err)
		}
		var raw map[string]any
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("template of %s: %v", name, err)
		}
		s.names = append(s.names, name)
		s.raw[name] = raw
		s.templates[name] = assertions.Template_FromString(jsii.String(string(body)), nil)
	}
	synthCache[key] = s
	return s
}

func cacheKey(ctx map[string]string, opts synthOptions) string {
	keys := make([]string, 0, len(ctx))
	for k, v := range ctx {
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	return fmt.Sprintf("%s|%v", strings.Join(keys, ","), opts)
}

// template returns the assertion view of a stack or fails the test.
func (s *synthesized) template(t *testing.T, stack string) checked {
	t.Helper()
	tmpl, ok := s.templates[stack]
	if !ok {
		t.Fatalf("stack %s not synthesized (have %v)", stack, s.names)
	}
	return checked{t: t, tmpl: tmpl}
}

// checked runs CDK assertions, turning their panics into test errors so
// one failed assertion does not abort the whole (shared) test binary.
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

// noProps asserts no resource of typ has these properties.
func (c checked) noProps(typ string, props map[string]any) {
	c.t.Helper()
	c.run(func() { c.tmpl.ResourcePropertiesCountIs(&typ, &props, jsii.Number(0)) })
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

// only returns the single resource of a type, failing when there are more or none.
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

// resource returns the whole resource entry (DeletionPolicy included).
func (s *synthesized) resource(t *testing.T, stack, id string) map[string]any {
	t.Helper()
	r, ok := s.raw[stack]["Resources"].(map[string]any)[id]
	if !ok {
		t.Fatalf("%s: no resource %s", stack, id)
	}
	return r.(map[string]any)
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

// js renders a value as JSON, to compare structures and search strings in them.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// getAtt is the CloudFormation reference to an attribute of a resource.
func getAtt(id, attr string) map[string]any {
	return map[string]any{"Fn::GetAtt": []any{id, attr}}
}

// obj builds a jsii-friendly map for assertion patterns.
func obj(kv map[string]any) *map[string]any {
	return &kv
}

// like matches an object containing at least kv.
func like(kv map[string]any) any {
	return assertions.Match_ObjectLike(&kv)
}

// arrayWith matches an array containing the items in order.
func arrayWith(items ...any) any {
	return assertions.Match_ArrayWith(&items)
}

// regexp matches a string against a regular expression.
func regexp(pattern string) any {
	return assertions.Match_StringLikeRegexp(&pattern)
}
