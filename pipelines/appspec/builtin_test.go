package appspec

import (
	"encoding/json"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
)

func TestBuiltinDescriptionParses(t *testing.T) {
	app, err := Parse("shop.yaml", mustRead(t, "testdata/shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !app.Builtin() {
		t.Fatal("infra without dir is not the built-in infrastructure")
	}
	api, _ := app.Service("api")
	if !api.Public || api.Path != "/api/*" || api.Autoscaling.RequestsPerTarget != 500 || api.Secrets["STRIPE_KEY"].Key != "api_key" {
		t.Errorf("api = %+v", api.BuiltinService)
	}
	db := app.Infra.Resources["db"]
	if db.Type != TypePostgres || db.Postgres == nil || db.Postgres.Version != "16" || db.Postgres.Extensions[0] != "pg_trgm" {
		t.Errorf("db = %+v %+v", db, db.Postgres)
	}
	if c := app.Infra.Resources["carts"].DynamoDB; c == nil || c.PartitionKey != "cartId" || c.TTL != "expiresAt" {
		t.Errorf("carts = %+v", c)
	}
	if *app.Infra.Network.NatGateways != 0 {
		t.Errorf("natGateways = %d", *app.Infra.Network.NatGateways)
	}
	// Marshal writes the resources back flat, and they parse again.
	again, err := Parse("again", []byte(app.Marshal()))
	if err != nil {
		t.Fatalf("marshalled description does not parse: %v\n%s", err, app.Marshal())
	}
	if again.Infra.Resources["cache"].Redis == nil || *again.Infra.Resources["cache"].Redis.Tls != true {
		t.Errorf("cache after a round trip = %+v", again.Infra.Resources["cache"])
	}
}

// base is a valid built-in description the bad cases below break in one place.
const base = `name: shop
services:
  - name: api
    context: api
    port: 8080
    health: /health
    public: true
    uses: [db]
  - name: search
    context: search
    port: 7700
    internal: search
infra:
  resources:
    db: {type: postgres}
`

func TestBuiltinDescriptionErrors(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace old with new in base ("" old appends new)
		want     string
	}{
		{"unknown resource type", "{type: postgres}", "{type: mysql}", "infra.resources.db.type: \"mysql\" is not one of postgres, redis, dynamodb, cognito, websocket, bucket"},
		{"option of another type", "{type: postgres}", "{type: postgres, ttl: expiresAt}", "infra.resources.db.ttl is not a postgres option (known keys: type, stack, id, envPrefix, version"},
		{"unknown infra key", "", "  nework: {azs: 2}\n", "infra.nework: unknown key (did you mean network?) (known keys: dir, app, context, cdkVersion, outputs, stackPrefix, network"},
		{"unknown network key", "", "  network: {nat: 0}\n", "infra.network.nat: unknown key (known keys: azs, zones, natGateways, cidr) (line 16)"},
		{"unknown service key", "    internal: search\n", "    internal: search\n    replicas: 2\n", "services[search].replicas: unknown key"},
		{"wrong type", "    port: 7700\n", "    port: 7700\n    cpu: lots\n", "services[search].cpu: `lots` must be a whole number (line 12)"},
		{"wrong type in resource", "{type: postgres}", "{type: postgres, storage: big}", "cannot unmarshal !!str `big` into int (in infra.resources.db)"},
		{"uses names nothing", "uses: [db]", "uses: [dbs]", "services[api].uses: \"dbs\" is neither a resource under infra.resources (db) nor an internal service (search)"},
		{"uses itself", "    internal: search\n", "    internal: search\n    uses: [search]\n", "services[search].uses: \"search\" is the service itself"},
		{"public and internal", "    public: true\n", "    public: true\n    internal: api\n", "services[api].internal: a service is public (behind the ALB) or internal"},
		{"public without health", "    health: /health\n", "", "services[api].health: required for a public service"},
		{"two default routes", "    internal: search\n", "    public: true\n    health: /h\n", "services: 2 public services have neither path nor host"},
		{"path on private service", "    internal: search\n", "    internal: search\n    path: /s/*\n", "services[search].path: path and host route ALB traffic"},
		{"fargate size", "    public: true\n", "    public: true\n    cpu: 1024\n    memory: 512\n", "services[api].memory: 512 MiB does not fit cpu 1024"},
		{"bad cpu", "    public: true\n", "    public: true\n    cpu: 1000\n", "services[api].cpu: 1000 is not a Fargate CPU size"},
		{"autoscaling bounds", "    public: true\n", "    public: true\n    autoscaling: {min: 5, max: 2}\n", "services[api].autoscaling: min 5 and max 2"},
		{"requests on internal", "    internal: search\n", "    internal: search\n    autoscaling: {min: 1, max: 2, requestsPerTarget: 10}\n", "services[search].autoscaling.requestsPerTarget: needs a public service"},
		{"sticky duration", "    public: true\n", "    public: true\n    sticky: {cookie: s, duration: forever}\n", "services[api].sticky.duration: \"forever\" is not a duration"},
		{"sticky on internal", "    internal: search\n", "    internal: search\n    sticky: {cookie: s}\n", "services[search].sticky: stickiness is an ALB setting"},
		{"secret env name", "    public: true\n", "    public: true\n    secrets: {openai-key: {secret: x}}\n", "services[api].secrets.openai-key: is not an environment variable name"},
		{"secret without name", "    public: true\n", "    public: true\n    secrets: {KEY: {key: k}}\n", "services[api].secrets.KEY.secret: \"\" must be a Secrets Manager secret name or ARN"},
		{"env collides with resource", "    public: true\n", "    public: true\n    env: {DB_HOST: localhost}\n", "services[api].uses: \"db\" sets DB_HOST, which env sets too"},
		{"two postgres in one service", "uses: [db]", "uses: [db, db2]", "services[api].uses: \"db2\" sets DB_HOST, which db sets too: give one of the resources an envPrefix"},
		{"postgres version", "{type: postgres}", "{type: postgres, version: \"9\"}", "infra.resources.db.version: \"9\" is not a supported PostgreSQL major version"},
		{"db prefix", "{type: postgres}", "{type: postgres, instanceClass: db.t4g.micro}", "infra.resources.db.instanceClass: \"db.t4g.micro\": leave out the db. prefix"},
		{"storage bounds", "{type: postgres}", "{type: postgres, storage: 100, maxStorage: 50}", "infra.resources.db.maxStorage: 50 GiB is below storage 100 GiB"},
		{"reserved user", "{type: postgres}", "{type: postgres, username: postgres}", "infra.resources.db.username: \"postgres\" is reserved by RDS"},
		{"dynamodb key", "{type: postgres}\n", "{type: postgres}\n    t: {type: dynamodb}\n", "infra.resources.t.partitionKey: required"},
		{"redis nodes", "{type: postgres}\n", "{type: postgres}\n    c: {type: redis, nodes: 9}\n", "infra.resources.c.nodes: must be 1 to 6"},
		{"websocket to internal", "{type: postgres}\n", "{type: postgres}\n    ws: {type: websocket, service: search}\n", "infra.resources.ws.service: \"search\" is not a public service"},
		{"websocket in uses", "{type: postgres}\n", "{type: postgres}\n    ws: {type: websocket, service: api}\n", ""},
		{"resource named like internal", "{type: postgres}\n", "{type: postgres}\n    search: {type: bucket}\n", "infra.resources.search: \"search\" is also the internal name of a service"},
		{"cidr", "", "  network: {cidr: 10.0.0.1/16}\n", "infra.network.cidr: \"10.0.0.1/16\" has host bits set: use 10.0.0.0/16"},
		{"nat above zones", "", "  network: {azs: 2, natGateways: 3}\n", "infra.network.natGateways: must be between 0"},
		{"one zone", "", "  network: {zones: [eu-west-1a]}\n", "infra.network.zones: lists one zone"},
		{"frontend without site", "", "  frontend: {}\n", "infra.frontend: configures the CloudFront distribution of the frontend, but there is no frontend: section"},
		{"monitoring email", "", "  monitoring: {email: ops}\n", "infra.monitoring.email: \"ops\" is not an email address"},
		{"override of unknown env", "", "  overrides: {qa: {multiAz: true}}\n", "infra.overrides.qa: \"qa\" is neither a preset"},
		{"override of unknown service", "", "  overrides: {prod: {services: {web: {cpu: 2048}}}}\n", "infra.overrides.prod.services.web: \"web\" is not one of the services (api, search)"},
		{"override of unknown resource", "", "  overrides: {prod: {resources: {cache: {nodes: 2}}}}\n", "infra.overrides.prod.resources.cache: \"cache\" is not one of infra.resources (db)"},
		{"override of another type", "", "  overrides: {prod: {resources: {db: {nodes: 2}}}}\n", "infra.overrides.prod.resources.db: nodeType, nodes and snapshotDays size a redis resource, db is postgres"},
		{"builtin keys with dir", "infra:\n", "infra:\n  dir: cdk\n", "infra.dir: names your own CDK app, but infra.resources, services[api], services[search] describe the built-in infrastructure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := base + tt.new
			if tt.old != "" {
				if !strings.Contains(base, tt.old) {
					t.Fatalf("base has no %q", tt.old)
				}
				doc = strings.Replace(base, tt.old, tt.new, 1)
			}
			if tt.name == "websocket in uses" {
				doc = strings.Replace(doc, "uses: [db]", "uses: [db, ws]", 1)
				tt.want = "services[api].uses: \"ws\" is a websocket API"
			}
			if tt.name == "two postgres in one service" {
				doc += "    db2: {type: postgres}\n"
			}
			wantOneProblem(t, doc, tt.want)
		})
	}
}

// wantOneProblem parses doc and wants exactly one problem, containing want.
func wantOneProblem(t *testing.T, doc, want string) {
	t.Helper()
	_, err := Parse("stevedore.yaml", []byte(doc))
	if err == nil {
		t.Fatalf("accepted:\n%s", doc)
	}
	msg := err.Error()
	if !strings.Contains(msg, want) {
		t.Errorf("error does not contain %q:\n%s", want, msg)
	}
	if n := strings.Count(msg, "\n  - "); n != 1 {
		t.Errorf("%d problems, want exactly one:\n%s", n, msg)
	}
}

func TestBuiltinProblemsInOneRound(t *testing.T) {
	doc := strings.Replace(base, "uses: [db]", "uses: [nope]\n    cpu: lots", 1) + "  network: {azs: 9}\n"
	_, err := Parse("stevedore.yaml", []byte(doc))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"services[api].cpu: `lots` must be a whole number (line 9)", `services[api].uses: "nope"`, "infra.network.azs: must be between 2 and 6"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%s", want, err)
		}
	}
}

func TestBuiltinPlan(t *testing.T) {
	app, err := Parse("shop.yaml", mustRead(t, "testdata/shop.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	qa, err := app.BuiltinPlan("qa")
	if err != nil {
		t.Fatal(err)
	}
	if qa.Env.Base != "staging" || qa.StackPrefix != "Shop" || qa.DataRemoval != RemovalSnapshot || qa.LogRetentionDays != 30 {
		t.Errorf("qa plan = %+v", qa)
	}
	if qa.Network.AZs != 2 || !qa.Network.Endpoints || qa.Network.Cidr != "10.20.0.0/16" {
		t.Errorf("network = %+v", qa.Network)
	}
	if got := []string{qa.Services[0].Name, qa.Services[1].Name, qa.Services[2].Name}; strings.Join(got, ",") != "search,api,worker" {
		t.Errorf("service order = %v, want internal services first", got)
	}
	api := qa.Services[1]
	// The qa override replaces the bounds and the desired count, keeps the targets.
	if api.DesiredCount != 1 || api.Autoscaling.Min != 1 || api.Autoscaling.Max != 2 || api.Autoscaling.CPU != 60 || api.Autoscaling.RequestsPerTarget != 500 {
		t.Errorf("api in qa = %+v %+v", api, api.Autoscaling)
	}
	db := planResourceNamed(qa, "db")
	if db.Postgres.InstanceClass != "t4g.micro" || db.Postgres.Storage != 50 || *db.Postgres.MultiAz || db.Postgres.Database != "shop" || db.Stack != "Database" || db.ID != "Db" {
		t.Errorf("db in qa = %+v %+v", db, db.Postgres)
	}
	prod, _ := app.BuiltinPlan("prod")
	pdb := planResourceNamed(prod, "db")
	papi := prod.Services[1]
	if pdb.Postgres.InstanceClass != "t4g.medium" || !*pdb.Postgres.MultiAz || papi.DesiredCount != 2 || papi.Autoscaling.Max != 6 || !prod.DeletionProtection {
		t.Errorf("prod = %+v %+v %+v", prod, pdb.Postgres, papi)
	}
	if got := strings.Join(qa.Stacks(), ","); got != "ShopNetworkStack-qa,ShopDatabaseStack-qa,ShopCacheStack-qa,ShopDataStack-qa,ShopServicesStack-qa,ShopFrontendStack-qa,ShopMonitoringStack-qa" {
		t.Errorf("stacks = %s", got)
	}
	if _, err := app.BuiltinPlan("pr-1"); err == nil || !strings.Contains(err.Error(), `unknown environment "pr-1"`) {
		t.Errorf("undeclared environment: %v", err)
	}
}

func TestReferenceDescriptionsParse(t *testing.T) {
	for _, p := range []string{"../../stevedore.yaml", "../../examples/commander/stevedore.yaml"} {
		app, err := Parse(p, mustRead(t, p))
		if err != nil {
			t.Fatal(err)
		}
		if !app.Builtin() {
			t.Errorf("%s does not use the built-in infrastructure", p)
		}
		// Every path it names exists (the sample apps are beside it).
		err = app.CheckFiles(func(f string, dir bool) (bool, error) {
			fi, err := os.Stat(path.Join("../..", f))
			if err != nil {
				return false, nil
			}
			return fi.IsDir() == dir, nil
		}, DefaultFrontendDF)
		if err != nil {
			t.Error(err)
		}
		// What ci hands the CDK app (Marshal) parses to the same plan.
		again, err := Parse(p, []byte(app.Marshal()))
		if err != nil {
			t.Fatalf("%s after Marshal: %v", p, err)
		}
		a, _ := app.BuiltinPlan("prod")
		b, _ := again.BuiltinPlan("prod")
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if len(a.Resources) == 0 || string(ja) != string(jb) {
			t.Errorf("%s: the plan changes through Marshal", p)
		}
	}
}

func planResourceNamed(p *Plan, name string) PlanResource {
	for _, r := range p.Resources {
		if r.Name == name {
			return r
		}
	}
	return PlanResource{}
}

func TestLocalResources(t *testing.T) {
	app, err := Parse("commander", mustRead(t, "../../examples/commander/stevedore.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	local, missing := app.LocalResources()
	if len(local) != 2 || local[0].Name != "postgres" || local[1].Name != "redis" {
		t.Fatalf("local = %+v", local)
	}
	pg := local[0]
	if pg.Env["DB_HOST"] != "res-postgres" || pg.Env["DB_NAME"] != "commander_ai" || pg.Env["DB_USER"] != "commander" || pg.Env["DB_EXTENSIONS"] != "vector" {
		t.Errorf("postgres env = %v", pg.Env)
	}
	if strings.Join(pg.Lacks, ",") != "vector" {
		t.Errorf("lacks = %v, want vector (bookworm has no pgvector)", pg.Lacks)
	}
	if local[1].Env["REDIS_URL"] != "redis://res-redis:6379/0" {
		t.Errorf("redis env = %v", local[1].Env)
	}
	if strings.Join(missing, ",") != "websocket (websocket)" {
		t.Errorf("not emulated = %v", missing)
	}
	want := []LocalLink{{Service: "qdrant", Host: "qdrant", Var: "QDRANT_URL", URL: "http://qdrant:6333"}}
	if got := app.LocalLinks("backend"); !slices.Equal(got, want) {
		t.Errorf("backend's local links = %+v, want %+v", got, want)
	}
	if got := app.LocalLinks("qdrant"); len(got) != 0 {
		t.Errorf("qdrant uses no internal service, links = %+v", got)
	}
	shop, _ := Parse("shop", mustRead(t, "testdata/shop.yaml"))
	sl, sm := shop.LocalResources()
	if len(sl[1].Lacks) != 0 || strings.Join(sm, ",") != "carts (dynamodb)" {
		t.Errorf("shop: %+v %v (pg_trgm is in bookworm's contrib)", sl, sm)
	}
}
