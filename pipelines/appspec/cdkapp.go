package appspec

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

var (
	// cdkVersionPattern is an exact npm version of the aws-cdk CLI.
	cdkVersionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	// outputIDPattern is a CloudFormation output logical ID.
	outputIDPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,255}$`)
)

// ContractOutputs lists the stack outputs stevedore can read for this app:
// the fixed contract names, one <Service>ServiceName and
// <Service>DeploymentStrategy per service, and a gated service's
// <Service>TestUrl and <Service>TestRuleArn.
func (a *App) ContractOutputs() []string {
	keys := []string{contract.OutputCluster, contract.OutputHealthURL, contract.OutputFrontendBucket, contract.OutputDistribution, contract.OutputFrontendURL}
	for _, s := range a.Services {
		keys = append(keys, contract.ServiceOutput(s.Name), contract.StrategyOutput(s.Name))
		if s.Gated() {
			keys = append(keys, contract.TestURLOutput(s.Name), contract.TestRuleOutput(s.Name))
		}
	}
	return keys
}

// OutputName is the name the CDK app exports a contract output under:
// infra.outputs' mapping, or the contract name itself.
func (i *Infra) OutputName(key string) string {
	if i != nil {
		if v, ok := i.Outputs[key]; ok {
			return v
		}
	}
	return key
}

// validateCDKApp checks infra.cdkVersion and infra.outputs.
func (a *App) validateCDKApp(add func(field, format string, args ...any)) {
	in := a.Infra
	if in == nil {
		return
	}
	if in.CDKVersion != "" && !cdkVersionPattern.MatchString(in.CDKVersion) {
		add("infra.cdkVersion", "%q must be an exact aws-cdk CLI version (e.g. 2.1148.1)", in.CDKVersion)
	}
	known := a.ContractOutputs()
	for _, k := range slices.Sorted(maps.Keys(in.Outputs)) {
		if !slices.Contains(known, k) {
			add("infra.outputs", "%q is not an output stevedore reads: use one of %s", k, strings.Join(known, ", "))
		}
		if v := in.Outputs[k]; !outputIDPattern.MatchString(v) {
			add("infra.outputs."+k, "%q is not a CloudFormation output name (letters and digits)", v)
		}
	}
}
