package appspec

import (
	"strings"
	"testing"
)

func TestCDKAppFields(t *testing.T) {
	base := "name: notes\nservices: [{name: notes, context: svc, port: 8080}]\ninfra:\n  dir: cdk\n"
	for _, tc := range []struct {
		yaml, want string
	}{
		{"  cdkVersion: 2.1148.1\n  outputs: {ClusterName: EcsCluster, NotesServiceName: Svc}\n", ""},
		{"  cdkVersion: latest\n", `infra.cdkVersion: "latest" must be an exact aws-cdk CLI version`},
		{"  outputs: {BackendServiceName: X}\n", `infra.outputs: "BackendServiceName" is not an output stevedore reads: use one of ClusterName, HealthUrl, FrontendBucketName, DistributionId, FrontendUrl, NotesServiceName`},
		{"  outputs: {ClusterName: my-cluster}\n", `infra.outputs.ClusterName: "my-cluster" is not a CloudFormation output name`},
		{"  context: {envBase: prod}\n", `infra.context: "envBase" is set by stevedore itself`},
	} {
		app, err := Parse("stevedore.yaml", []byte(base+tc.yaml))
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.yaml, err)
			} else if got := app.Infra.OutputName("ClusterName"); got != "EcsCluster" {
				t.Errorf("OutputName(ClusterName) = %q", got)
			} else if got := app.Infra.OutputName("HealthUrl"); got != "HealthUrl" {
				t.Errorf("an unmapped output keeps its contract name, got %q", got)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want %q", tc.yaml, err, tc.want)
		}
	}
}
