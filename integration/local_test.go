//go:build integration

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// localCommander is the commander backend and qdrant with no infra
// section (the code path of an app with its own CDK app): local: gives
// the local target a postgres and a redis stand-in, and the backend, which
// reads DATABASE_URL, gets it built from the stand-in's variables.
const localCommander = `name: commander
services:
  - name: backend
    context: examples/commander/backend
    buildArgs: {BASE_IMAGE: debian:bookworm-slim, INSTALL: apt}
    port: 8000
    health: /health
    env:
      DATABASE_URL: postgresql+psycopg2://${DB_USER}:${DB_PASSWORD}@${DB_HOST}:${DB_PORT}/${DB_NAME}
    deployment:
      gate: true
      smoke:
        - {path: /conversations, status: 200}     # the table the migration made is readable
        - {path: /vectors, body: '"collections"'} # qdrant answers through QDRANT_URL
  - name: qdrant
    context: examples/commander/qdrant
    port: 6333
migrate:
  service: backend
  command: [alembic, upgrade, head]
local:
  resources:
    db: {type: postgres, database: commander, username: commander, extensions: [vector]}
    cache: {type: redis}
  uses:
    backend: [db, cache, qdrant]
`

// An app without the built-in infrastructure gets its stand-ins from
// local: the alembic migration creates its table in the postgres stand-in
// through DATABASE_URL built from ${DB_*}, the backend is healthy from
// that database and reaches qdrant by its name, and the report names the
// stand-ins. An undefined ${NAME} fails before any step.
func TestLocalSectionDeploysCommander(t *testing.T) {
	src := copyTree(t, "examples/commander/backend", "examples/commander/qdrant")
	if err := os.WriteFile(filepath.Join(src, "stevedore.yaml"), []byte(localCommander), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustDagger(t, nil, "call", "--source", src, "deploy", "--format", "json")
	status, got := localSteps(t, r.stdout)
	if status != "succeeded" {
		t.Fatalf("deploy status %q:\n%s", status, r.stdout)
	}
	standIns := "cache → local redis stand-in res-cache:6379; db → local postgres stand-in res-db:5432 (lacks extension vector)"
	for step, wants := range map[string][]string{
		"migrate":         {"ok: `alembic upgrade head` exited 0", standIns},
		"rollout:backend": {"gate passed: health /health: 200 after ", "smoke GET /vectors: 200 after ", "qdrant → local service qdrant (QDRANT_URL=http://qdrant:6333)", standIns},
		"verify":          {`http://backend:8000/health → {"status":"healthy","database":"postgresql"`},
	} {
		assertContains(t, step, got[step], wants...)
	}

	// The plan says the same before anything runs; the migration runs
	// before qdrant starts.
	plan := mustDagger(t, nil, "call", "--source", src, "plan")
	assertContains(t, "plan", plan.stdout,
		"would run `alembic upgrade head` in the new backend image, bound to "+strings.ReplaceAll(standIns, ";", ",")+";",
		"would start, bound to "+strings.ReplaceAll(standIns, ";", ",")+", qdrant → local service qdrant; the gate would check health /health")

	edit(t, src, "stevedore.yaml", "${DB_NAME}", "${DB_NAME}?sslmode=${DB_SSLMODE}")
	bad := dagger(t, nil, "call", "--source", src, "plan")
	if bad.err == nil {
		t.Fatalf("a reference to a variable nothing sets was accepted:\n%s", bad.stdout)
	}
	assertContains(t, "error", bad.stderr, "services[backend].env.DATABASE_URL: ${DB_SSLMODE} is not set on the local target: backend gets ")
}

// serve starts a service as the local target does: bound to its stand-ins
// and the services it uses, its migration run first against them. From a
// client container, the backend answers from the table alembic created
// and reaches qdrant through QDRANT_URL.
func TestServeRunsTheMigrationWithItsStandIns(t *testing.T) {
	src := copyTree(t, "examples/commander/backend", "examples/commander/qdrant")
	if err := os.WriteFile(filepath.Join(src, "stevedore.yaml"), []byte(localCommander), 0o644); err != nil {
		t.Fatal(err)
	}
	client := `import urllib.request as u; [print(p, u.urlopen("http://backend:8000" + p, timeout=60).read().decode()) for p in ("/health", "/conversations", "/vectors")]`
	r := mustDagger(t, nil, "-c", fmt.Sprintf(`container | from python:3.11-slim | with-service-binding backend $(stevedore --source=$(host | directory %s) | serve --service backend) | with-exec -- python3 -c '%s' | stdout`, src, client))
	assertContains(t, "client output", r.stdout,
		`/health {"status":"healthy","database":"postgresql"`,
		"/conversations []", // a missing table is a 500, which urlopen raises
		`/vectors {"qdrant":"http://qdrant:6333"`)
}
