package appspec

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// LocalResource is a resource of the built-in infrastructure that the
// local target starts itself (a stand-in), bound to the services that use
// it under the same variable names as on AWS.
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

// LocalResources lists the stand-ins the local target starts (postgres
// and redis resources, sorted by name) and the resources it cannot
// emulate ("name (type)"), which the report lists as "not emulated locally".
func (a *App) LocalResources() (local []LocalResource, notEmulated []string) {
	if !a.Builtin() {
		return nil, nil
	}
	for _, name := range slices.Sorted(maps.Keys(a.Infra.Resources)) {
		r := a.Infra.Resources[name]
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

// LocalLinks lists the internal services the service uses, in its uses
// order.
func (a *App) LocalLinks(service string) []LocalLink {
	s, err := a.Service(service)
	if err != nil || !a.Builtin() {
		return nil
	}
	var out []LocalLink
	for _, u := range s.Uses {
		for _, t := range a.Services {
			if t.Internal == u {
				out = append(out, LocalLink{Service: t.Name, Host: u, Var: InternalURLVariable(u), URL: "http://" + u + ":" + strconv.Itoa(t.Port)})
			}
		}
	}
	return out
}
