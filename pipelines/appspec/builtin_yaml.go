package appspec

import (
	"reflect"
	"regexp"

	"github.com/stevedore-ci/stevedore/pipelines/gate"
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

// inTypeRef finds the Go type yaml.v3 names in an unknown-key error.
var inTypeRef = regexp.MustCompile(`in type [A-Za-z0-9_.]+`)
