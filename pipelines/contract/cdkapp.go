package contract

// ContextEnvBase is the context key holding the preset an environment is
// based on (dev, staging or prod; stevedore.yaml environments.<name>.base),
// so a CDK app can size pr-123 like dev and eu-prod like prod. stevedore
// sets it with env; OwnedKey refuses it in --context.
const ContextEnvBase = "envBase"

// OwnedKey is Owned plus ContextEnvBase.
func OwnedKey(key string) bool { return Owned(key) || key == ContextEnvBase }
