package appspec

import (
	"reflect"
	"regexp"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/gate"
	"github.com/stevedore-ci/stevedore/pipelines/internal/words"
)

// builtinTypes are the types of the built-in infrastructure keys, for the
// "known keys" hint of an unknown key.
var builtinTypes = []reflect.Type{
	reflect.TypeOf(Network{}), reflect.TypeOf(Autoscaling{}), reflect.TypeOf(Sticky{}),
	reflect.TypeOf(SecretRef{}), reflect.TypeOf(InfraFrontend{}), reflect.TypeOf(Monitoring{}),
	reflect.TypeOf(Override{}), reflect.TypeOf(ServiceOverride{}), reflect.TypeOf(ResourceOverride{}),
}

// descriptionTypes are the types of stevedore.yaml's mappings by their Go
// name ("appspec.Service"), whose keys an unknown-key error lists.
var descriptionTypes = func() map[string]reflect.Type {
	types := append([]reflect.Type{
		reflect.TypeOf(App{}), reflect.TypeOf(Environment{}), reflect.TypeOf(Service{}), reflect.TypeOf(Test{}),
		reflect.TypeOf(Frontend{}), reflect.TypeOf(Infra{}), reflect.TypeOf(Migrate{}), reflect.TypeOf(Local{}),
		reflect.TypeOf(Deployment{}), reflect.TypeOf(SmokeCommand{}), reflect.TypeOf(gate.Smoke{}),
	}, builtinTypes...)
	out := map[string]reflect.Type{}
	for _, t := range types {
		out[t.String()] = t
	}
	return out
}()

// unknownField finds the key and the Go type yaml.v3 names in an
// unknown-key error.
var unknownField = regexp.MustCompile(`field (\S+) not found in type ([A-Za-z0-9_.]+)`)

// knownKeys is the hint after an unknown key: the key it likely meant, if
// one is near, and every key the mapping has.
func knownKeys(key string, keys []string) string {
	hint := "(known keys: " + strings.Join(keys, ", ") + ")"
	if near := words.Closest(key, keys); near != "" {
		hint = "(did you mean " + near + "?) " + hint
	}
	return hint
}
