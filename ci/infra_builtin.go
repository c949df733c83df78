package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/cdkapp"
	"github.com/stevedore-ci/stevedore/pipelines/cfn"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// The built-in CDK app is stevedore's own infra/ directory. It imports
// stevedore's builtinPackages through `replace => ../` in its go.mod; the
// directory builtinSource returns carries a copy of those packages under
// .stevedore/module and a go.work whose replace points there, so it
// builds on its own wherever it is mounted (go.work replaces override
// go.mod ones).
const (
	builtinDescription = ".stevedore/description.yaml"
	builtinModule      = ".stevedore/module"
	builtinWorkspace   = "go 1.26.0\n\nuse .\n\nreplace github.com/stevedore-ci/stevedore => ./" + builtinModule + "\n"
	// builtinLabel names the built-in app in messages and summaries.
	builtinLabel = "the built-in CDK app (stevedore's infra/)"
)

// builtinPackages are the directories of stevedore's packages the built-in
// app imports, itself or through them (TestBuiltinPackagesCoverInfraDeps
// checks it against go list): only these are copied, so an edit elsewhere
// in pipelines/ does not recompile the app. pipelines/gate goes without
// its ELBv2 adapter, which needs the AWS SDK.
var builtinPackages = []string{"pipelines/appspec", "pipelines/contract", "pipelines/gate", "pipelines/internal/words"}

// builtinInfra is what the built-in app synthesizes from: the description
// stevedore loaded (defaults filled), so the app renders exactly what
// stevedore validated, and the CDK context pointing the app at it. The
// description is written into the app directory after the compile (see
// synthesize), so editing stevedore.yaml never recompiles the app.
func builtinInfra(spec *appspec.App) (description string, context map[string]string) {
	return spec.Marshal(), map[string]string{contract.ContextDescription: builtinDescription}
}

// builtinSource is the built-in app's directory, read from this module's
// own source (dagger.json includes infra/): it is there when stevedore is
// called as a remote module on a repository that has no infra/.
func builtinSource() *dagger.Directory {
	// The module's source is ci/; its parent is the repository root as
	// dagger.json's include list loads it (go.mod, go.sum, pipelines/, infra/).
	src := dag.CurrentModule().Source().Directory("..")
	module := dag.Directory().
		WithFile("go.mod", src.File("go.mod")).
		WithFile("go.sum", src.File("go.sum"))
	for _, p := range builtinPackages {
		module = module.WithDirectory(p, src.Directory(p), dagger.DirectoryWithDirectoryOpts{Exclude: []string{"elbrule"}})
	}
	return src.Directory("infra").
		WithDirectory(builtinModule, module).
		WithNewFile("go.work", builtinWorkspace)
}

// detectBuiltin plans the built-in app like a user's Go CDK app (cdkapp's
// Go path, from its own cdk.json): compiled once, cached. Its install
// layer also reads the workspace and the module copy's go.mod, so `go mod
// download` resolves the replaced module.
func (m *Stevedore) detectBuiltin(ctx context.Context) error {
	src := builtinSource()
	cdkJSON, err := src.File("cdk.json").Contents(ctx)
	if err != nil {
		return fmt.Errorf("internal: this stevedore module has no infra/cdk.json (dagger.json must include infra/): %w", err)
	}
	plan, err := cdkapp.Detect(cdkapp.Input{Dir: builtinLabel, CDKJSON: []byte(cdkJSON), Present: map[string]bool{"go.mod": true, "go.sum": true}})
	if err != nil {
		return fmt.Errorf("internal: %w", err)
	}
	plan.InstallFiles = append(plan.InstallFiles, "go.work", builtinModule+"/go.mod", builtinModule+"/go.sum")
	run := &cdkRun{plan: plan, src: src, builtin: true, install: dag.Directory()}
	for _, f := range plan.InstallFiles {
		run.install = run.install.WithFile(f, src.File(f))
	}
	m.cdkApp = run
	return nil
}

// assemblySummary says what a synthesized assembly holds: its stacks in
// deploy order and their resources per type (cdkapp.SummarizeTemplates),
// for synth and plan to print.
func assemblySummary(ctx context.Context, asm *dagger.Directory) (cdkapp.AssemblySummary, error) {
	manifest, err := asm.File("manifest.json").Contents(ctx)
	if err != nil {
		return cdkapp.AssemblySummary{}, fmt.Errorf("the cloud assembly has no manifest.json: %w", err)
	}
	stacks, err := cfn.StacksFromAssembly([]byte(manifest))
	if err != nil {
		return cdkapp.AssemblySummary{}, err
	}
	if stacks, err = cfn.Order(stacks); err != nil {
		return cdkapp.AssemblySummary{}, err
	}
	order := make([]string, len(stacks))
	templates := map[string][]byte{}
	for i, st := range stacks {
		body, err := asm.File(st.ID + ".template.json").Contents(ctx)
		if err != nil {
			return cdkapp.AssemblySummary{}, fmt.Errorf("reading the template of %s from the assembly: %w", st.StackName, err)
		}
		order[i], templates[st.StackName] = st.StackName, []byte(body)
	}
	return cdkapp.SummarizeTemplates(order, templates)
}

// synthSummary is the synth step's report summary: the total for the
// app and environment, then one line per stack (assemblySummary). The
// stack names are said here only: the step's stack artifacts are for
// scripts (steps.KindStack).
func synthSummary(ctx context.Context, in *infraInputs, asm *dagger.Directory, stacks []string) string {
	summary, err := assemblySummary(ctx, asm)
	if err != nil {
		return fmt.Sprintf("%d stacks for %s/%s (no resource summary: %v)", len(stacks), in.app, in.env, err)
	}
	return fmt.Sprintf("%s for %s/%s:\n%s", summary.Heading(), in.app, in.env, strings.TrimRight(summary.String(), "\n"))
}

// postgresStandIn initializes a PostgreSQL cluster on first start, with
// the database and owner of the resource, then runs the server.
const postgresStandIn = `set -e
PG=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
D=/var/lib/stevedore-pg
if [ -n "$STANDIN_LACKS" ]; then
  echo "stevedore: the local postgres lacks the extension(s) $STANDIN_LACKS (Debian bookworm has none of them): CREATE EXTENSION will fail or be skipped" >&2
fi
mkdir -p "$D" /var/run/postgresql && chown postgres "$D" /var/run/postgresql
su postgres -s /bin/sh -c "$PG/initdb -D $D --auth=trust >/dev/null"
# Initialised over the socket only: the port opens (and Dagger lets the
# clients start) once the database and its owner exist.
su postgres -s /bin/sh -c "$PG/pg_ctl -D $D -w -o \"-c listen_addresses=''\" -l /tmp/pg-init.log start >/dev/null"
psql -v ON_ERROR_STOP=1 -q -U postgres -h /var/run/postgresql -v u="$STANDIN_USER" -v p="$STANDIN_PASSWORD" -v d="$STANDIN_DB" <<'SQL'
CREATE USER :"u" PASSWORD :'p';
CREATE DATABASE :"d" OWNER :"u";
SQL
su postgres -s /bin/sh -c "$PG/pg_ctl -D $D -w stop >/dev/null"
echo "listen_addresses='*'" >> "$D/postgresql.conf"
echo "host all all 0.0.0.0/0 md5" >> "$D/pg_hba.conf"
exec su postgres -s /bin/sh -c "exec $PG/postgres -D $D"
`

// localStandIn is the local target's stand-in for a postgres or redis
// resource, built from a Debian image (bookworm: PostgreSQL 15 and Redis
// from apt, the packages cached in the image layers).
func localStandIn(image string, r appspec.LocalResource) *dagger.Service {
	base := dag.Container().From(image)
	if r.Type == appspec.TypePostgres {
		return base.
			WithExec([]string{"sh", "-c", "apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql >/dev/null && rm -rf /var/lib/apt/lists/*"}).
			WithNewFile("/usr/local/bin/stevedore-postgres", postgresStandIn).
			WithEnvVariable("STANDIN_DB", r.Database).
			WithEnvVariable("STANDIN_USER", r.User).
			WithEnvVariable("STANDIN_PASSWORD", r.Password).
			WithEnvVariable("STANDIN_LACKS", strings.Join(r.Lacks, ",")).
			WithExposedPort(r.Port).
			AsService(dagger.ContainerAsServiceOpts{Args: []string{"sh", "/usr/local/bin/stevedore-postgres"}})
	}
	return base.
		WithExec([]string{"sh", "-c", "apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server >/dev/null && rm -rf /var/lib/apt/lists/*"}).
		WithExposedPort(r.Port).
		AsService(dagger.ContainerAsServiceOpts{Args: []string{"redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--save", "", "--appendonly", "no"}})
}

// withLocalResources binds the stand-ins of the resources a service uses
// (appspec.LocalResources, LocalUses: of the built-in infrastructure or of
// local:) to its container under their host names and sets the same
// variables the built-in infrastructure sets on AWS. It returns the
// resources the service uses that have no stand-in, for the report ("not
// emulated locally").
func withLocalResources(ctr *dagger.Container, spec *appspec.App, service, image string) (*dagger.Container, []string) {
	local, notEmulated := spec.LocalResources()
	var missing []string
	for _, u := range spec.LocalUses(service) {
		for _, r := range local {
			if r.Name != u {
				continue
			}
			ctr = ctr.WithServiceBinding(r.Host, localStandIn(image, r))
			for _, k := range slices.Sorted(maps.Keys(r.Env)) {
				ctr = ctr.WithEnvVariable(k, r.Env[k])
			}
		}
		for _, n := range notEmulated {
			if strings.HasPrefix(n, u+" (") {
				missing = append(missing, n)
			}
		}
	}
	return ctr, missing
}
