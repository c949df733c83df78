package builtin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// violations reads cdk.out/validation-report.json and returns "rule: description"
// per violation; the report lists only plugins that found something.
func violations(t *testing.T, outdir string) []string {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(outdir, "validation-report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		PluginReports []struct {
			Violations []struct {
				RuleName    string `json:"ruleName"`
				Description string `json:"description"`
			} `json:"violations"`
		} `json:"pluginReports"`
	}
	if err := json.Unmarshal(body, &report); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range report.PluginReports {
		for _, v := range r.Violations {
			out = append(out, v.RuleName+": "+v.Description)
		}
	}
	return out
}

// synthValidated synthesizes a context with CDK's CloudFormation
// validation plugin (the rules `cdk synth` applies by default) and
// returns the cloud assembly directory.
func synthValidated(t *testing.T, name string, c map[string]string) string {
	t.Helper()
	outdir := filepath.Join(synthRoot, "validated-"+name)
	appCtx := map[string]any{}
	for k, v := range c {
		appCtx[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: &outdir, Context: &appCtx})
	awscdk.Validations_Of(app).AddPlugins(awscdk.NewCloudFormationValidatePlugin(nil))
	if _, err := FromContext(app, func(k string) (string, bool) { v, ok := c[k]; return v, ok }, nil); err != nil {
		t.Fatal(err)
	}
	app.Synth(nil)
	return outdir
}

// TestTemplatesPassCloudFormationValidation runs the validation over the
// largest descriptions: commander with the deploy role, and the shop.
func TestTemplatesPassCloudFormationValidation(t *testing.T) {
	for name, c := range map[string]map[string]string{
		"commander": commanderContext("prod", "githubRepo", "acme/shop"),
		"shop":      ctx(shopDescription, "qa"),
	} {
		t.Run(name, func(t *testing.T) {
			for _, v := range violations(t, synthValidated(t, name, c)) {
				t.Error(v)
			}
		})
	}
}

// TestValidationCatchesBadTemplates proves the check above can fail: a
// bucket with a property CloudFormation does not know is reported.
func TestValidationCatchesBadTemplates(t *testing.T) {
	outdir := filepath.Join(synthRoot, "bad")
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: &outdir})
	awscdk.Validations_Of(app).AddPlugins(awscdk.NewCloudFormationValidatePlugin(nil))
	stack := awscdk.NewStack(app, jsii.String("Bad"), nil)
	awscdk.NewCfnResource(stack, jsii.String("Bucket"), &awscdk.CfnResourceProps{
		Type:       jsii.String("AWS::S3::Bucket"),
		Properties: &map[string]any{"NoSuchProperty": true},
	})
	app.Synth(nil)
	got := violations(t, outdir)
	if len(got) != 1 || !strings.HasPrefix(got[0], "F3002:") {
		t.Errorf("violations = %v, want the unknown property (F3002)", got)
	}
}
