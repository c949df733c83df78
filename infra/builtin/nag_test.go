package builtin

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// nagFindings synthesizes a context with cdk-nag's AwsSolutions checks and
// returns "stack: rule (path)" for every error or warning they report.
func nagFindings(t *testing.T, name string, c map[string]string) []string {
	t.Helper()
	outdir := filepath.Join(synthRoot, "nag-"+name)
	appCtx := map[string]any{}
	for k, v := range c {
		appCtx[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: &outdir, Context: &appCtx})
	stacks, err := FromContext(app, func(k string) (string, bool) { v, ok := c[k]; return v, ok }, nil)
	if err != nil {
		t.Fatal(err)
	}
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(false)}), nil)
	app.Synth(nil)
	var out []string
	for _, st := range stacks {
		ann := assertions.Annotations_FromStack(st)
		for _, level := range []string{"error", "warning"} {
			var msgs *[]*cxapi.SynthesisMessage
			if level == "error" {
				msgs = ann.FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			} else {
				msgs = ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			}
			for _, m := range *msgs {
				rule := fmt.Sprint(m.Entry.Data)
				if i := strings.Index(rule, ":"); i > 0 {
					rule = rule[:i]
				}
				out = append(out, fmt.Sprintf("%s %s: %s %s", level, *st.StackName(), rule, *m.Id))
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestAwsSolutions(t *testing.T) {
	for name, c := range map[string]map[string]string{
		// commander's backend is on the listener's default route, with the
		// WebSocket API, and deploys blue/green through the gate.
		"commander": commanderContext("prod"),
		"cao":       caoContext("prod"),
		"shop":      ctx(shopDescription, "qa"),
		// One service per deployment strategy, with gates.
		"strategies": strategiesContext(),
	} {
		t.Run(name, func(t *testing.T) {
			for _, f := range nagFindings(t, name, c) {
				t.Error(f)
			}
		})
	}
}

// TestSuppressionsAreWrittenDown checks the reasons reach the template,
// where cdk-nag (and a reader) finds them, merged per resource.
func TestSuppressionsAreWrittenDown(t *testing.T) {
	s := synth(t, commanderContext("prod"))
	raw := s.raw["CommanderDatabaseStack-prod"]["Resources"].(map[string]any)["Postgres9DC8BB04"].(map[string]any)
	got := js(raw["Metadata"])
	for _, want := range []string{`"id":"AwsSolutions-RDS11"`, `"id":"AwsSolutions-SMG4"`, reasonDefaultPort} {
		if !strings.Contains(got, want) {
			t.Errorf("metadata %s lacks %s", got, want)
		}
	}
	// prod is multi-AZ and protected: those rules are followed, not suppressed.
	if strings.Contains(got, "AwsSolutions-RDS3") || strings.Contains(got, "AwsSolutions-RDS10") {
		t.Errorf("prod suppresses multi-AZ or deletion protection: %s", got)
	}
}
