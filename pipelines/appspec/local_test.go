package appspec

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// localBase is commander with its own CDK app: local: gives the local
// target a postgres and a redis stand-in and binds qdrant by its name.
const localBase = `name: commander
services:
  - name: backend
    context: backend
    port: 8000
    env:
      DATABASE_URL: postgresql://${DB_USER}:${DB_PASSWORD}@${DB_HOST}:${DB_PORT}/${DB_NAME}
      LISTEN: 0.0.0.0:${PORT}
      LITERAL: $HOME and ${ costs $5
  - name: qdrant
    context: qdrant
    port: 6333
infra:
  dir: infra
local:
  resources:
    db: {type: postgres, database: commander, username: commander, extensions: [vector]}
    cache: {type: redis, envPrefix: CACHE_}
  uses:
    backend: [db, cache, qdrant]
`

func TestLocalSection(t *testing.T) {
	noInfra := strings.Replace(localBase, "infra:\n  dir: infra\n", "", 1)
	for name, doc := range map[string]string{"own CDK app": localBase, "no infra": noInfra} {
		t.Run(name, func(t *testing.T) {
			app, err := Parse("stevedore.yaml", []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			local, missing := app.LocalResources()
			if len(local) != 2 || local[0].Name != "cache" || local[1].Name != "db" || len(missing) != 0 {
				t.Fatalf("local = %+v, not emulated = %v", local, missing)
			}
			if got := local[0].Env; got["CACHE_REDIS_URL"] != "redis://res-cache:6379/0" || local[0].Host != "res-cache" {
				t.Errorf("cache = %+v", local[0])
			}
			db := local[1]
			if db.Host != "res-db" || db.Port != 5432 || db.Database != "commander" || db.User != "commander" || strings.Join(db.Lacks, ",") != "vector" {
				t.Errorf("db = %+v", db)
			}
			if got := app.LocalUses("backend"); !slices.Equal(got, []string{"db", "cache", "qdrant"}) {
				t.Errorf("backend uses %v", got)
			}
			if got := app.LocalUses("qdrant"); len(got) != 0 {
				t.Errorf("qdrant uses %v, want nothing", got)
			}
			want := []LocalLink{{Service: "qdrant", Host: "qdrant", Var: "QDRANT_URL", URL: "http://qdrant:6333"}}
			if got := app.LocalLinks("backend"); !slices.Equal(got, want) {
				t.Errorf("links = %+v, want %+v", got, want)
			}
			env := app.LocalEnv("backend")
			for k, v := range map[string]string{
				"DATABASE_URL": "postgresql://commander:stevedore-local@res-db:5432/commander",
				"LISTEN":       "0.0.0.0:8000",
				"LITERAL":      "$HOME and ${ costs $5", // only ${NAME} of a set variable is replaced
			} {
				if env[k] != v {
					t.Errorf("env %s = %q, want %q", k, env[k], v)
				}
			}
			s, err := app.LocalService("backend")
			if err != nil || !maps.Equal(s.Env, env) || s.Port != app.Services[0].Port {
				t.Errorf("LocalService = %+v, %v; want the backend with env %v", s, err, env)
			}
			if app.Services[0].Env["LISTEN"] != "0.0.0.0:${PORT}" {
				t.Errorf("the description itself changed: %v", app.Services[0].Env)
			}
		})
	}
}

// Without local: nothing is bound for an app with its own CDK app, and
// the built-in infrastructure's env stays as written (it is set on ECS
// too, where no one would replace a reference).
func TestLocalEnvOnlyWithLocal(t *testing.T) {
	doc := strings.Replace(localBase, localBase[strings.Index(localBase, "local:"):], "", 1)
	doc = strings.Replace(doc, "      LITERAL: $HOME and ${ costs $5\n", "", 1)
	app, err := Parse("stevedore.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := app.LocalResources(); len(l) != 0 || len(app.LocalUses("backend")) != 0 || len(app.LocalLinks("backend")) != 0 {
		t.Errorf("own CDK app without local: stand-ins %v, uses %v", l, app.LocalUses("backend"))
	}
	if got := app.LocalEnv("backend")["LISTEN"]; got != "0.0.0.0:${PORT}" {
		t.Errorf("LISTEN = %q, want it as written", got)
	}
	builtin := strings.Replace(base, "    health: /health\n", "    health: /health\n    env: {DSN: \"host=${DB_HOST}\"}\n", 1)
	b, err := Parse("stevedore.yaml", []byte(builtin))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.LocalEnv("api")["DSN"]; got != "host=${DB_HOST}" {
		t.Errorf("built-in DSN = %q, want it as written", got)
	}
	if got := b.LocalUses("api"); !slices.Equal(got, []string{"db"}) {
		t.Errorf("built-in api uses %v", got)
	}
}

func TestLocalErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old with new in localBase ("" old appends new)
		want     string
	}{
		{"with the built-in infrastructure", "infra:\n  dir: infra\n", "infra:\n  resources: {}\n",
			"local: the built-in infrastructure's resources and uses already give the local target its stand-ins: remove local"},
		{"dynamodb", "    cache: {type: redis, envPrefix: CACHE_}\n", "    cache: {type: redis, envPrefix: CACHE_}\n    carts: {type: dynamodb, partitionKey: id}\n",
			`local.resources.carts.type: "dynamodb" is not emulated locally; only postgres and redis`},
		{"unknown type", "{type: redis, envPrefix: CACHE_}", "{type: memcached, envPrefix: CACHE_}",
			`local.resources.cache.type: "memcached" is not emulated locally; only postgres and redis`},
		{"uses of an unknown service", "    backend: [db, cache, qdrant]\n", "    backend: [db, cache, qdrant]\n    worker: [db]\n",
			`local.uses.worker: "worker" is not one of the services (backend, qdrant)`},
		{"uses of an unknown resource", "[db, cache, qdrant]", "[db, cache, qdrant, search]",
			`local.uses.backend: "search" is neither a resource under local.resources (cache, db) nor a service (backend, qdrant)`},
		{"uses itself", "    backend: [db, cache, qdrant]\n", "    backend: [db, cache, qdrant]\n    qdrant: [qdrant]\n",
			`local.uses.qdrant: "qdrant" is the service itself`},
		{"two of a type without envPrefix", "{type: redis, envPrefix: CACHE_}", "{type: redis}\n    sessions: {type: redis}",
			""}, // set below
		{"env sets what uses sets", "      LISTEN: 0.0.0.0:${PORT}\n", "      LISTEN: 0.0.0.0:${PORT}\n      QDRANT_URL: http://localhost:6333\n",
			`local.uses.backend: "qdrant" sets QDRANT_URL, which env sets too`},
		{"resource named like a service", "    cache: {type: redis, envPrefix: CACHE_}\n", "    cache: {type: redis, envPrefix: CACHE_}\n    qdrant: {type: redis, envPrefix: Q_}\n",
			`local.resources.qdrant: "qdrant" is also the name of a service: local.uses could not tell them apart`},
		{"bad envPrefix", "envPrefix: CACHE_", "envPrefix: cache", `local.resources.cache.envPrefix: "cache" must be upper case and end with _`},
		{"bad database name", "database: commander,", "database: commander-db,", `local.resources.db.database: "commander-db" must be letters, digits and _`},
		{"option of another type", "{type: redis, envPrefix: CACHE_}", "{type: redis, envPrefix: CACHE_, extensions: [vector]}",
			"local.resources.cache.extensions is not a redis option (known keys: type, stack, id, envPrefix, version"},
		{"unknown key", "", "  standIns: true\n", "local.standIns: unknown key (known keys: resources, uses)"},
		{"undefined reference", "${DB_NAME}", "${DB_NAME}?sslmode=${SSL_MODE}",
			"services[backend].env.DATABASE_URL: ${SSL_MODE} is not set on the local target: backend gets CACHE_REDIS_HOST, CACHE_REDIS_PORT, CACHE_REDIS_URL, DB_EXTENSIONS, DB_HOST, DB_NAME, DB_PASSWORD, DB_PORT, DB_USER, PORT, QDRANT_URL (add what sets SSL_MODE to local.uses.backend)"},
		{"mistyped reference", "${DB_NAME}", "${DB_NAM}",
			"services[backend].env.DATABASE_URL: ${DB_NAM} is not set on the local target: backend gets CACHE_REDIS_HOST, CACHE_REDIS_PORT, CACHE_REDIS_URL, DB_EXTENSIONS, DB_HOST, DB_NAME, DB_PASSWORD, DB_PORT, DB_USER, PORT, QDRANT_URL (did you mean ${DB_NAME}?)"},
		// The wrong uses entry alone: not also every ${DB_*} it would have set.
		{"mistyped uses entry", "[db, cache, qdrant]", "[dbx, cache, qdrant]",
			`local.uses.backend: "dbx" is neither a resource under local.resources (cache, db) nor a service (backend, qdrant)`},
		{"reference to what another service uses", "    port: 6333\n", "    port: 6333\n    env: {DSN: \"host=${DB_HOST}\"}\n",
			"services[qdrant].env.DSN: ${DB_HOST} is not set on the local target: qdrant gets PORT (add what sets DB_HOST to local.uses.qdrant)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := localBase + tt.new
			if tt.old != "" {
				if !strings.Contains(localBase, tt.old) {
					t.Fatalf("localBase has no %q", tt.old)
				}
				doc = strings.Replace(localBase, tt.old, tt.new, 1)
			}
			if tt.name == "two of a type without envPrefix" {
				doc = strings.Replace(doc, "[db, cache, qdrant]", "[db, cache, sessions, qdrant]", 1)
				tt.want = `local.uses.backend: "sessions" sets REDIS_HOST, which cache sets too: give one of the resources an envPrefix`
			}
			wantOneProblem(t, doc, tt.want)
		})
	}
}

// The hint of an own CDK app with built-in keys points at local: when
// they describe stand-ins.
func TestOwnCDKAppWithResourcesPointsAtLocal(t *testing.T) {
	doc := strings.Replace(localBase, "    port: 6333\n", "    port: 6333\n    uses: [db]\n", 1)
	wantOneProblem(t, doc, "infra.dir: names your own CDK app, but services[qdrant] describe the built-in infrastructure (public, cpu, uses, resources, ...): remove infra.dir to use the built-in one, or those keys (local postgres and redis stand-ins for your CDK app's databases are local.resources and local.uses)")
	app, err := Parse("stevedore.yaml", []byte(localBase))
	if err != nil {
		t.Fatal(err)
	}
	// The description prints with local: and parses again.
	again, err := Parse("again", []byte(app.Marshal()))
	if err != nil {
		t.Fatalf("marshalled description does not parse: %v\n%s", err, app.Marshal())
	}
	if got := slices.Sorted(maps.Keys(again.Local.Resources)); !slices.Equal(got, []string{"cache", "db"}) || again.Local.Resources["db"].Postgres.Database != "commander" {
		t.Errorf("local after a round trip = %+v", again.Local)
	}
}
