package appspec

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/stevedore-ci/stevedore/pipelines/internal/words"
)

// LocalResource is a resource (of the built-in infrastructure or of
// local.resources) that the local target starts itself (a stand-in),
// bound to the services that use it under the same variable names as the
// built-in infrastructure sets on AWS.
type LocalResource struct {
	Name, Type string
	// Host is the service-binding alias the app's containers reach it by.
	Host string
	Port int
	// Env is what a service using it gets (envPrefix applied).
	Env map[string]string
	// Database, User, Password configure a postgres stand-in (a throwaway
	// local password, not a secret).
	Database, User, Password string
	// Lacks lists the described extensions the stand-in cannot provide
	// (Debian bookworm ships PostgreSQL 15 with contrib, no pgvector).
	Lacks []string
}

// bookwormExtensions are the extensions of Debian bookworm's postgresql-15
// (the contrib modules); anything else is reported as lacking locally.
var bookwormExtensions = []string{
	"adminpack", "amcheck", "autoinc", "bloom", "btree_gin", "btree_gist", "citext", "cube", "dblink",
	"dict_int", "dict_xsyn", "earthdistance", "file_fdw", "fuzzystrmatch", "hstore", "insert_username",
	"intagg", "intarray", "isn", "lo", "ltree", "moddatetime", "old_snapshot", "pageinspect",
	"pg_buffercache", "pg_freespacemap", "pg_prewarm", "pg_stat_statements", "pg_surgery", "pg_trgm",
	"pg_visibility", "pg_walinspect", "pgcrypto", "pgrowlocks", "pgstattuple", "plpgsql", "postgres_fdw",
	"refint", "seg", "sslinfo", "tablefunc", "tcn", "tsm_system_rows", "tsm_system_time", "unaccent", "uuid-ossp", "xml2",
}

// localPassword is the postgres stand-in's password: local, throwaway.
const localPassword = "stevedore-local"

// Local is `local:`, for an app with its own CDK app or no infrastructure:
// the stand-ins the local target starts and what each service reaches.
// The built-in infrastructure says this with infra.resources and each
// service's uses and internal; the AWS target ignores local.
type Local struct {
	// Resources are the stand-ins by name, with the keys of
	// infra.resources; only the types postgres and redis.
	Resources StandIns `yaml:"resources,omitempty" json:"resources,omitempty"`
	// Uses lists, by service name, the stand-ins and other services
	// (bound by their name) the service reaches.
	Uses map[string][]string `yaml:"uses,omitempty" json:"uses,omitempty"`
}

// StandIns is `local.resources`, decoded as infra.resources is.
type StandIns Resources

// UnmarshalYAML decodes `local.resources` (decodeResources).
func (s *StandIns) UnmarshalYAML(node *yaml.Node) error {
	out, err := decodeResources(node, "local.resources")
	*s = StandIns(out)
	return err
}

// ownLocal reports whether the local section describes the local
// target's stand-ins: an app with its own CDK app or no infrastructure
// (with the built-in infrastructure it is an error, and ignored).
func (a *App) ownLocal() bool {
	return a.Local != nil && !a.Builtin()
}

// usesResources are the resources `uses` entries name: infra.resources
// of the built-in infrastructure, or local.resources.
func (a *App) usesResources() Resources {
	switch {
	case a.Builtin():
		return a.Infra.Resources
	case a.ownLocal():
		return Resources(a.Local.Resources)
	}
	return nil
}

// usedService is the service a `uses` entry names other than a resource:
// by service name in local.uses, by internal name in a service's uses.
func (a *App) usedService(name string) *Service {
	for i := range a.Services {
		t := &a.Services[i]
		if a.ownLocal() && t.Name == name || a.Builtin() && t.Internal != "" && t.Internal == name {
			return t
		}
	}
	return nil
}

// LocalUses lists what the service reaches on the local target, in order:
// its local.uses entry, or its uses with the built-in infrastructure.
func (a *App) LocalUses(service string) []string {
	if a.ownLocal() {
		return a.Local.Uses[service]
	}
	if s, err := a.Service(service); err == nil && a.Builtin() {
		return s.Uses
	}
	return nil
}

// LocalResources lists the stand-ins the local target starts (postgres
// and redis resources, sorted by name) and the resources it cannot
// emulate ("name (type)"), which the report lists as "not emulated
// locally": those of local.resources, or of the built-in infrastructure.
func (a *App) LocalResources() (local []LocalResource, notEmulated []string) {
	resources := a.usesResources()
	for _, name := range slices.Sorted(maps.Keys(resources)) {
		r := resources[name]
		p := r.EnvPrefix
		host := "res-" + name
		switch r.Type {
		case TypePostgres:
			def := strings.ReplaceAll(a.Name, "-", "_")
			db, user := orString(r.Postgres.Database, def), orString(r.Postgres.Username, def)
			lr := LocalResource{Name: name, Type: r.Type, Host: host, Port: 5432, Database: db, User: user, Password: localPassword,
				Env: map[string]string{p + "DB_HOST": host, p + "DB_PORT": "5432", p + "DB_NAME": db, p + "DB_USER": user, p + "DB_PASSWORD": localPassword}}
			if len(r.Postgres.Extensions) > 0 {
				lr.Env[p+"DB_EXTENSIONS"] = strings.Join(r.Postgres.Extensions, ",")
			}
			for _, e := range r.Postgres.Extensions {
				if !slices.Contains(bookwormExtensions, e) {
					lr.Lacks = append(lr.Lacks, e)
				}
			}
			local = append(local, lr)
		case TypeRedis:
			// Locally without TLS: redis:// even where AWS uses rediss://.
			local = append(local, LocalResource{Name: name, Type: r.Type, Host: host, Port: 6379,
				Env: map[string]string{p + "REDIS_HOST": host, p + "REDIS_PORT": "6379", p + "REDIS_URL": "redis://" + host + ":" + strconv.Itoa(6379) + "/0"}})
		default:
			notEmulated = append(notEmulated, name+" ("+r.Type+")")
		}
	}
	return local, notEmulated
}

// LocalLink is an internal service another service uses, as the local
// target binds it: by its internal name, under the variable the built-in
// infrastructure sets on AWS (InternalURLVariable).
type LocalLink struct {
	// Service is the used service's name, Host its internal name.
	Service, Host string
	// Var and URL are what the using service gets, e.g.
	// QDRANT_URL=http://qdrant:6333.
	Var, URL string
}

// LocalLinks lists the other services the service uses, in its uses
// order.
func (a *App) LocalLinks(service string) []LocalLink {
	var out []LocalLink
	for _, u := range a.LocalUses(service) {
		if t := a.usedService(u); t != nil {
			out = append(out, LocalLink{Service: t.Name, Host: u, Var: InternalURLVariable(u), URL: "http://" + u + ":" + strconv.Itoa(t.Port)})
		}
	}
	return out
}

// localVariables are the variables the local target sets on the service
// from what it uses (each stand-in's and each used service's), and PORT.
func (a *App) localVariables(service string) map[string]string {
	vars := map[string]string{}
	if s, err := a.Service(service); err == nil {
		vars["PORT"] = strconv.Itoa(s.Port)
	}
	uses := a.LocalUses(service)
	local, _ := a.LocalResources()
	for _, r := range local {
		if slices.Contains(uses, r.Name) {
			maps.Copy(vars, r.Env)
		}
	}
	for _, ln := range a.LocalLinks(service) {
		vars[ln.Var] = ln.URL
	}
	return vars
}

// envReference is a ${NAME} reference in an env value.
var envReference = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// LocalService is the named service as the local target runs it: a copy
// whose env is LocalEnv's.
func (a *App) LocalService(name string) (*Service, error) {
	s, err := a.Service(name)
	if err != nil {
		return nil, err
	}
	local := *s
	local.Env = a.LocalEnv(s.Name)
	return &local, nil
}

// LocalEnv is the service's env as the local target sets it: with a local
// section, each ${NAME} replaced by the value of the variable NAME the
// local target sets from what the service uses (e.g. ${DB_HOST} by
// res-db); validation rejects any other ${NAME}. Without one, env as
// written (with the built-in infrastructure env is set on ECS as well,
// where nothing would replace a reference).
func (a *App) LocalEnv(service string) map[string]string {
	s, err := a.Service(service)
	if err != nil {
		return nil
	}
	if !a.ownLocal() {
		return s.Env
	}
	vars := a.localVariables(service)
	out := make(map[string]string, len(s.Env))
	for k, v := range s.Env {
		out[k] = envReference.ReplaceAllStringFunc(v, func(ref string) string {
			if val, ok := vars[ref[2:len(ref)-1]]; ok {
				return val
			}
			return ref
		})
	}
	return out
}

// validateLocal checks the local section: only without the built-in
// infrastructure, stand-ins of the types the local target emulates, uses
// naming services, stand-ins and other services, and every ${NAME} of
// those services' env set by what they use.
func (a *App) validateLocal(add func(field, format string, args ...any)) {
	if a.Local == nil {
		return
	}
	if a.Builtin() {
		add("local", "the built-in infrastructure's resources and uses already give the local target its stand-ins: remove local")
		return
	}
	for _, name := range slices.Sorted(maps.Keys(a.Local.Resources)) {
		r := a.Local.Resources[name]
		f := "local.resources." + name
		validateResourceName(add, f, name, r)
		if _, err := a.Service(name); err == nil {
			add(f, "%q is also the name of a service: local.uses could not tell them apart", name)
		}
		switch r.Type {
		case TypePostgres:
			validatePostgres(add, f, r.Postgres)
		case TypeRedis:
			validateRedis(add, f, r.Redis)
		default:
			add(f+".type", "%q is not emulated locally; only postgres and redis", r.Type)
		}
	}
	badUses := map[string]bool{} // their ${NAME} would only repeat the problem
	for _, name := range slices.Sorted(maps.Keys(a.Local.Uses)) {
		s, err := a.Service(name)
		if err != nil {
			add("local.uses."+name, "%q is not one of the services (%s)", name, strings.Join(a.ServiceNames(), ", "))
			continue
		}
		a.validateUses(func(field, format string, args ...any) {
			badUses[name] = true
			add(field, format, args...)
		}, "local.uses."+name, *s, a.Local.Uses[name])
	}
	for _, s := range a.Services {
		if badUses[s.Name] {
			continue
		}
		vars := a.localVariables(s.Name)
		names := slices.Sorted(maps.Keys(vars))
		for _, k := range slices.Sorted(maps.Keys(s.Env)) {
			for _, ref := range envReference.FindAllStringSubmatch(s.Env[k], -1) {
				if _, ok := vars[ref[1]]; ok {
					continue
				}
				fix := fmt.Sprintf("add what sets %s to local.uses.%s", ref[1], s.Name)
				if near := words.Closest(ref[1], names); near != "" {
					fix = "did you mean ${" + near + "}?"
				}
				add("services["+s.Name+"].env."+k, "%s is not set on the local target: %s gets %s (%s)", ref[0], s.Name, strings.Join(names, ", "), fix)
			}
		}
	}
}
