package appspec

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// Environment is one entry of `environments:`: what a deploy to that name
// means. dev, staging and prod exist without an entry; any other name
// (qa, pr-123, eu-prod) is declared here, or is taken as a dev-like
// environment when it matches a pattern entry such as `pr-*`.
type Environment struct {
	// Base is the preset (dev, staging or prod) whose sizes and defaults
	// the environment takes. Default: the environment's own name when it is
	// a preset, dev otherwise.
	Base string `yaml:"base,omitempty" json:"base,omitempty"`
	// Protected environments refuse destroy (and other irreversible steps)
	// unless forced. Default: true when the base is prod.
	Protected *bool `yaml:"protected,omitempty" json:"protected,omitempty"`
	// Account is the 12-digit AWS account the environment lives in; the
	// credentials in use are checked against it before any side effect.
	Account string `yaml:"account,omitempty" json:"account,omitempty"`
	// Region of the environment (default: the region of with-aws).
	Region string `yaml:"region,omitempty" json:"region,omitempty"`
	// Role is the IAM role ARN assumed from with-aws's credentials.
	Role string `yaml:"role,omitempty" json:"role,omitempty"`
}

// Env is an environment with every default resolved.
type Env struct {
	Name      string
	Base      string
	Protected bool
	Account   string
	Region    string
	Role      string
}

// Env resolves an environment name: a preset, a declared entry, or a match
// of a declared pattern (a key ending in *, e.g. pr-*). Any other name is
// refused with the list of what exists, so a typo never deploys a new
// environment.
func (a *App) Env(name string) (Env, error) {
	if err := contract.ValidateEnv(name); err != nil {
		return Env{}, err
	}
	e, ok := a.Environments[name]
	if !ok {
		for _, k := range slices.Sorted(maps.Keys(a.Environments)) {
			if prefix, isPattern := strings.CutSuffix(k, "*"); isPattern && strings.HasPrefix(name, prefix) {
				e, ok = a.Environments[k], true
				break
			}
		}
	}
	if !ok && !contract.IsPreset(name) {
		return Env{}, fmt.Errorf("unknown environment %q: use one of %s, or declare it under environments: in stevedore.yaml (e.g. %s: {base: staging})",
			name, strings.Join(a.EnvNames(), ", "), name)
	}
	out := Env{Name: name, Base: e.Base, Account: e.Account, Region: e.Region, Role: e.Role}
	if out.Base == "" {
		out.Base = "dev"
		if contract.IsPreset(name) {
			out.Base = name
		}
	}
	out.Protected = out.Base == "prod"
	if e.Protected != nil {
		out.Protected = *e.Protected
	}
	return out, nil
}

// EnvNames lists the presets and the declared environments (patterns as
// written), sorted after the presets.
func (a *App) EnvNames() []string {
	names := slices.Clone(contract.Presets)
	for _, k := range slices.Sorted(maps.Keys(a.Environments)) {
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	return names
}

// validateEnvironments adds one problem per bad field of `environments:`.
func (a *App) validateEnvironments(add func(field, format string, args ...any)) {
	for _, k := range slices.Sorted(maps.Keys(a.Environments)) {
		e := a.Environments[k]
		f := "environments." + k
		name := strings.TrimSuffix(k, "*")
		if strings.HasSuffix(k, "*") {
			name += "x" // a pattern must still give valid names
		}
		if err := contract.ValidateEnv(name); err != nil {
			add(f, "%q is not a valid environment name or pattern (lowercase letters, digits, dashes; a pattern ends in *, e.g. pr-*)", k)
		}
		if e.Base != "" && !contract.IsPreset(e.Base) {
			add(f+".base", "%q is not one of %s", e.Base, strings.Join(contract.Presets, ", "))
		}
		if e.Account != "" {
			if err := contract.ValidateAccount(e.Account); err != nil {
				add(f+".account", "%v", err)
			}
		}
		if e.Region != "" {
			if err := contract.ValidateRegion(e.Region); err != nil {
				add(f+".region", "%v", err)
			}
		}
		if e.Role != "" {
			if acct, err := contract.RoleAccount(e.Role); err != nil {
				add(f+".role", "%v", err)
			} else if e.Account != "" && acct != e.Account {
				add(f+".role", "the role is in account %s, not in the environment's account %s", acct, e.Account)
			}
		}
	}
}
