package appspec

import (
	"reflect"
	"strings"
)

// builtinTypes are the types of the built-in infrastructure keys, for the
// "known keys" hint of an unknown key.
var builtinTypes = []reflect.Type{
	reflect.TypeOf(Network{}), reflect.TypeOf(Autoscaling{}), reflect.TypeOf(Sticky{}),
	reflect.TypeOf(SecretRef{}), reflect.TypeOf(InfraFrontend{}), reflect.TypeOf(Monitoring{}),
	reflect.TypeOf(Override{}), reflect.TypeOf(ServiceOverride{}), reflect.TypeOf(ResourceOverride{}),
}

// builtinKnownKeys replaces "in type appspec.X" with the keys X has.
func builtinKnownKeys(msg string) string {
	for _, t := range builtinTypes {
		msg = strings.ReplaceAll(msg, "in type appspec."+t.Name(), "(known keys: "+strings.Join(yamlKeys(t), ", ")+")")
	}
	return msg
}

// The built-in keys of a service and of infra, for the known-keys hints.
var (
	builtinServiceKeys = strings.Join(yamlKeys(reflect.TypeOf(BuiltinService{})), ", ")
	builtinInfraKeys   = "stackPrefix, network, resources, frontend, monitoring, overrides"
)
