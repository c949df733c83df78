package awstarget

import (
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// An app that exports its outputs under its own names (infra.outputs) is
// read under the contract's names.
func TestContractNames(t *testing.T) {
	app := testApp()
	app.Infra = &appspec.Infra{Dir: "cdk", Outputs: map[string]string{contract.OutputCluster: "EcsCluster", contract.ServiceOutput("backend"): "ApiService"}}
	tg := &Target{App: app}
	got := tg.contractNames(map[string]string{"EcsCluster": "shop", "ApiService": "shop-api", "Other": "x"})
	if got[contract.OutputCluster] != "shop" || got["BackendServiceName"] != "shop-api" || got["Other"] != "x" {
		t.Fatalf("got %v", got)
	}
	if _, ok := got[contract.OutputHealthURL]; ok {
		t.Fatal("an output the stacks do not export must stay missing")
	}
	plain := (&Target{App: testApp()}).contractNames(map[string]string{"ClusterName": "c"})
	if plain["ClusterName"] != "c" || len(plain) != 1 {
		t.Fatalf("without a mapping: %v", plain)
	}
}
