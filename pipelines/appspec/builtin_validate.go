package appspec

import (
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
)

var (
	stackPattern     = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,30}$`)
	constructPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,62}$`)
	envVarPattern    = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	envPrefixPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*_$`)
	dnsLabelPattern  = regexp.MustCompile(`^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)
	hostPattern      = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$`)
	zonePattern      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$`)
	sqlNamePattern   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,62}$`)
	extensionPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	dbClassPattern   = regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z0-9]+$`)
	cacheNodePattern = regexp.MustCompile(`^cache\.[a-z][a-z0-9]*\.[a-z0-9]+$`)
	versionPattern   = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	attrPattern      = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,255}$`)
	emailPattern     = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	acmPattern       = regexp.MustCompile(`^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$`)
	secretPattern    = regexp.MustCompile(`^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[\w/+=.@-]+|[\w/+=.@-]{1,512})$`)
)

// fargateMemory lists the memory sizes (MiB) Fargate accepts per CPU value.
var fargateMemory = map[int][2]int{
	256: {512, 2048}, 512: {1024, 4096}, 1024: {2048, 8192}, 2048: {4096, 16384},
	4096: {8192, 30720}, 8192: {16384, 61440}, 16384: {32768, 122880},
}

// postgresVersions are the RDS PostgreSQL major versions the constructs know.
var postgresVersions = []string{"13", "14", "15", "16", "17"}

// serviceUsesBuiltin reports whether a service sets any built-in key.
func serviceUsesBuiltin(s Service) bool {
	return !builtinUnset(s.BuiltinService)
}

// validateBuiltin checks the built-in infrastructure description: the
// `infra:` keys and every service's built-in keys, cross-references
// (uses, websocket service, overrides) included.
func (a *App) validateBuiltin(add func(field, format string, args ...any)) {
	in := a.Infra
	if in == nil {
		return
	}
	if !a.Builtin() {
		var extra []string
		for _, key := range []struct {
			name string
			set  bool
		}{
			{"stackPrefix", in.StackPrefix != ""}, {"network", in.Network != nil}, {"resources", len(in.Resources) > 0},
			{"frontend", in.Frontend != nil}, {"monitoring", in.Monitoring != nil}, {"overrides", len(in.Overrides) > 0},
		} {
			if key.set {
				extra = append(extra, "infra."+key.name)
			}
		}
		standIns := len(in.Resources) > 0
		for _, s := range a.Services {
			if serviceUsesBuiltin(s) {
				extra = append(extra, "services["+s.Name+"]")
			}
			standIns = standIns || len(s.Uses) > 0
		}
		if len(extra) > 0 {
			hint := ""
			if standIns {
				hint = " (local postgres and redis stand-ins for your CDK app's databases are local.resources and local.uses)"
			}
			add("infra.dir", "names your own CDK app, but %s describe the built-in infrastructure (public, cpu, uses, resources, ...): remove infra.dir to use the built-in one, or those keys%s", strings.Join(extra, ", "), hint)
		}
		return
	}
	if in.App != "" && in.App != a.Name {
		add("infra.app", "is only for your own CDK app (infra.dir); the built-in infrastructure uses name")
	}
	if len(in.Context) > 0 {
		add("infra.context", "is only for your own CDK app (infra.dir); the built-in infrastructure is described by the keys under infra")
	}
	if in.StackPrefix != "" && !stackPattern.MatchString(in.StackPrefix) {
		add("infra.stackPrefix", "%q must start with an upper-case letter, letters and digits only (e.g. CAO)", in.StackPrefix)
	}
	if n := in.Network; n != nil {
		validateNetwork(add, "infra.network", n)
	}
	a.validateBuiltinServices(add)
	a.validateResources(add)
	if f := in.Frontend; f != nil {
		if a.Frontend == nil {
			add("infra.frontend", "configures the CloudFront distribution of the frontend, but there is no frontend: section describing the site")
		}
		if (f.Domain == "") != (f.CertificateArn == "") {
			add("infra.frontend", "domain and certificateArn go together (the certificate must cover the domain)")
		}
		if f.Domain != "" && !hostPattern.MatchString(f.Domain) {
			add("infra.frontend.domain", "%q is not a DNS name (e.g. app.example.com)", f.Domain)
		}
		if f.CertificateArn != "" && !acmPattern.MatchString(f.CertificateArn) {
			add("infra.frontend.certificateArn", "%q is not an ACM certificate ARN in us-east-1 (CloudFront only uses us-east-1 certificates)", f.CertificateArn)
		}
	}
	if m := in.Monitoring; m != nil && m.Email != "" && !emailPattern.MatchString(m.Email) {
		add("infra.monitoring.email", "%q is not an email address", m.Email)
	}
	a.validateOverrides(add)
}

func validateNetwork(add func(field, format string, args ...any), f string, n *Network) {
	if n.AZs != 0 && (n.AZs < 2 || n.AZs > 6) {
		add(f+".azs", "must be between 2 and 6 (got %d): the databases need two zones", n.AZs)
	}
	if len(n.Zones) > 0 {
		if len(n.Zones) < 2 {
			add(f+".zones", "lists one zone: list at least two (e.g. [eu-west-1a, eu-west-1b])")
		}
		if n.AZs != 0 && n.AZs != len(n.Zones) {
			add(f+".zones", "lists %d zones but azs is %d", len(n.Zones), n.AZs)
		}
		for _, z := range n.Zones {
			if !zonePattern.MatchString(z) {
				add(f+".zones", "%q is not an availability zone (e.g. eu-west-1a)", z)
			}
		}
	}
	if n.NatGateways != nil {
		azs := max(n.AZs, len(n.Zones))
		if *n.NatGateways < 0 || (azs > 0 && *n.NatGateways > azs) {
			add(f+".natGateways", "must be between 0 (VPC endpoints, no NAT) and the number of zones (got %d)", *n.NatGateways)
		}
	}
	if n.Cidr != "" {
		p, err := netip.ParsePrefix(n.Cidr)
		switch {
		case err != nil || !p.Addr().Is4():
			add(f+".cidr", "%q is not an IPv4 CIDR (e.g. 10.0.0.0/16)", n.Cidr)
		case p.Bits() < 16 || p.Bits() > 20:
			add(f+".cidr", "%q: the prefix must be /16 to /20 (three /24 subnet tiers per zone)", n.Cidr)
		case p.Masked() != p:
			add(f+".cidr", "%q has host bits set: use %s", n.Cidr, p.Masked())
		}
	}
}

// validDuration checks a Go duration such as 60s, 1h30m within bounds.
func validDuration(add func(field, format string, args ...any), f, v string, lo, hi time.Duration) {
	if v == "" {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		add(f, "%q is not a duration (e.g. 60s, 5m, 1h)", v)
		return
	}
	if d < lo || d > hi {
		add(f, "%s must be between %s and %s", v, shortDuration(lo), shortDuration(hi))
	}
}

// shortDuration writes 1m rather than 1m0s, 2h rather than 2h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func validateSize(add func(field, format string, args ...any), f string, cpu, memory int) {
	if cpu == 0 && memory == 0 {
		return
	}
	if cpu == 0 {
		cpu = DefaultCPU
	}
	mem, ok := fargateMemory[cpu]
	if !ok {
		add(f+".cpu", "%d is not a Fargate CPU size (256, 512, 1024, 2048, 4096, 8192, 16384)", cpu)
		return
	}
	if memory != 0 && (memory < mem[0] || memory > mem[1] || memory%1024 != 0 && memory != 512) {
		add(f+".memory", "%d MiB does not fit cpu %d: Fargate takes %d to %d MiB in 1024 MiB steps", memory, cpu, mem[0], mem[1])
	}
}

func validateAutoscaling(add func(field, format string, args ...any), f string, as *Autoscaling, public bool) {
	if as == nil {
		return
	}
	if as.Min < 0 || as.Max < 1 || as.Max < as.Min {
		add(f, "min %d and max %d must satisfy 0 <= min <= max, max >= 1", as.Min, as.Max)
	}
	if as.CPU != 0 && (as.CPU < 10 || as.CPU > 95) {
		add(f+".cpu", "target %d %% must be between 10 and 95", as.CPU)
	}
	if as.RequestsPerTarget < 0 {
		add(f+".requestsPerTarget", "must be positive (got %d)", as.RequestsPerTarget)
	}
	if as.RequestsPerTarget > 0 && !public {
		add(f+".requestsPerTarget", "needs a public service (it tracks the ALB target group)")
	}
}

func (a *App) validateBuiltinServices(add func(field, format string, args ...any)) {
	var public []Service
	internal := map[string]string{}
	for _, s := range a.Services {
		f := "services[" + s.Name + "]"
		b := s.BuiltinService
		if b.Public {
			public = append(public, s)
			if s.Health == "" {
				add(f+".health", "required for a public service: the path the ALB health check asks (e.g. /health)")
			}
		}
		if b.Public && b.Internal != "" {
			add(f+".internal", "a service is public (behind the ALB) or internal (reached by name), not both")
		}
		if !b.Public && (b.Path != "" || b.Host != "") {
			add(f+".path", "path and host route ALB traffic: set public: true or remove them")
		}
		if b.Path != "" && (!strings.HasPrefix(b.Path, "/") || strings.ContainsAny(b.Path, " ?#")) {
			add(f+".path", "%q must be an URL path pattern starting with / (e.g. /api/*)", b.Path)
		}
		if b.Host != "" && !hostPattern.MatchString(b.Host) {
			add(f+".host", "%q is not a host name (e.g. api.example.com)", b.Host)
		}
		if b.Internal != "" {
			if !dnsLabelPattern.MatchString(b.Internal) {
				add(f+".internal", "%q must be a DNS label (lowercase letters, digits, dashes)", b.Internal)
			} else if other, dup := internal[b.Internal]; dup {
				add(f+".internal", "%q is already the name of service %s", b.Internal, other)
			}
			internal[b.Internal] = s.Name
		}
		validateSize(add, f, b.CPU, b.Memory)
		if b.DesiredCount != nil && *b.DesiredCount < 0 {
			add(f+".desiredCount", "must be 0 or more (got %d)", *b.DesiredCount)
		}
		validateAutoscaling(add, f+".autoscaling", b.Autoscaling, b.Public)
		if st := b.Sticky; st != nil {
			if !b.Public {
				add(f+".sticky", "stickiness is an ALB setting: the service must be public")
			}
			if st.Cookie == "" || strings.HasPrefix(st.Cookie, "AWSALB") || strings.ContainsAny(st.Cookie, " ;,=") {
				add(f+".sticky.cookie", "%q must be the application's cookie name (not empty, not AWSALB*, no spaces ; , =)", st.Cookie)
			}
			validDuration(add, f+".sticky.duration", st.Duration, time.Second, 7*24*time.Hour)
		}
		validDuration(add, f+".healthGrace", b.HealthGrace, 0, 2*time.Hour)
		if len(b.HealthCommand) > 0 && b.HealthCommand[0] != "CMD" && b.HealthCommand[0] != "CMD-SHELL" {
			add(f+".healthCommand", "must start with CMD or CMD-SHELL (e.g. [CMD-SHELL, \"curl -f http://localhost/ || exit 1\"])")
		}
		for _, k := range slices.Sorted(maps.Keys(b.Secrets)) {
			ref := b.Secrets[k]
			if !envVarPattern.MatchString(k) {
				add(f+".secrets."+k, "is not an environment variable name (upper case, digits, _)")
			}
			if !secretPattern.MatchString(ref.Secret) {
				add(f+".secrets."+k+".secret", "%q must be a Secrets Manager secret name or ARN", ref.Secret)
			}
			if _, clash := s.Env[k]; clash {
				add(f+".secrets."+k, "is also set in env: keep one")
			}
		}
		if b.Storage != 0 && (b.Storage < 21 || b.Storage > 200) {
			add(f+".storage", "ephemeral storage must be 21 to 200 GiB (got %d; leave it out for the default 20)", b.Storage)
		}
		if b.Stack != "" && !stackPattern.MatchString(b.Stack) {
			add(f+".stack", "%q must start with an upper-case letter, letters and digits only (e.g. Backend)", b.Stack)
		}
		a.validateUses(add, f+".uses", s, s.Uses)
	}
	if len(public) > 1 {
		routes := map[string]string{}
		defaults := 0
		for _, s := range public {
			key := s.Host + s.Path
			if key == "" {
				defaults++
			} else if other, dup := routes[key]; dup {
				add("services["+s.Name+"].path", "host/path %q routes to %s already", key, other)
			}
			routes[key] = s.Name
		}
		if defaults > 1 {
			add("services", "%d public services have neither path nor host: give all but one a path (e.g. /api/*) or a host", defaults)
		}
	}
}

// validateUses checks that every name in uses (the list at field) is a
// resource or a service the service may reach (usesResources,
// usedService), and that the variables they inject do not collide.
func (a *App) validateUses(add func(field, format string, args ...any), field string, s Service, uses []string) {
	injected := map[string]string{}
	for k := range s.Env {
		injected[k] = "env"
	}
	for k := range s.Secrets {
		injected[k] = "secrets"
	}
	resources := a.usesResources()
	for _, u := range uses {
		if r, ok := resources[u]; ok && r.Type == TypeWebSocket && a.Builtin() {
			add(field, "%q is a websocket API: it grants its own service (websocket.service) the callback rights, remove it from uses", u)
			continue
		}
		vars, ok := a.usedVariables(u)
		switch {
		case !ok && a.ownLocal():
			add(field, "%q is neither a resource under local.resources (%s) nor a service (%s)",
				u, strings.Join(slices.Sorted(maps.Keys(resources)), ", "), strings.Join(a.ServiceNames(), ", "))
			continue
		case !ok:
			add(field, "%q is neither a resource under infra.resources (%s) nor an internal service (%s)",
				u, strings.Join(slices.Sorted(maps.Keys(resources)), ", "), strings.Join(a.internalNames(), ", "))
			continue
		}
		if t := a.usedService(u); t != nil && t.Name == s.Name {
			add(field, "%q is the service itself", u)
			continue
		}
		for _, v := range vars {
			if by, clash := injected[v]; clash {
				add(field, "%q sets %s, which %s sets too: give one of the resources an envPrefix (e.g. %s_)", u, v, by, strings.ToUpper(strings.ReplaceAll(u, "-", "_")))
				break
			}
		}
		for _, v := range vars {
			injected[v] = u
		}
	}
}

// internalNames lists the internal service names.
func (a *App) internalNames() []string {
	var names []string
	for _, s := range a.Services {
		if s.Internal != "" {
			names = append(names, s.Internal)
		}
	}
	return names
}

func (a *App) validateResources(add func(field, format string, args ...any)) {
	publicServices := map[string]bool{}
	for _, s := range a.Services {
		publicServices[s.Name] = s.Public
	}
	internal := a.internalNames()
	for _, name := range slices.Sorted(maps.Keys(a.Infra.Resources)) {
		r := a.Infra.Resources[name]
		f := "infra.resources." + name
		validateResourceName(add, f, name, r)
		if slices.Contains(internal, name) {
			add(f, "%q is also the internal name of a service: uses could not tell them apart", name)
		}
		if !slices.Contains(ResourceTypes, r.Type) {
			add(f+".type", "%q is not one of %s", r.Type, strings.Join(ResourceTypes, ", "))
			continue
		}
		switch r.Type {
		case TypePostgres:
			validatePostgres(add, f, r.Postgres)
		case TypeRedis:
			validateRedis(add, f, r.Redis)
		case TypeDynamoDB:
			d := r.DynamoDB
			if d.PartitionKey == "" {
				add(f+".partitionKey", "required: the table's partition key attribute (e.g. sessionId)")
			}
			for k, v := range map[string]string{"partitionKey": d.PartitionKey, "sortKey": d.SortKey, "ttl": d.TTL} {
				if v != "" && !attrPattern.MatchString(v) {
					add(f+"."+k, "%q is not a DynamoDB attribute name", v)
				}
			}
		case TypeCognito:
			if c := r.Cognito; c.PasswordLength != 0 && (c.PasswordLength < 8 || c.PasswordLength > 99) {
				add(f+".passwordLength", "must be 8 to 99 (got %d)", c.PasswordLength)
			}
		case TypeWebSocket:
			w := r.WebSocket
			if !publicServices[w.Service] {
				add(f+".service", "%q is not a public service: the WebSocket API forwards to a service behind the ALB", w.Service)
			}
			for _, k := range slices.Sorted(maps.Keys(w.Routes)) {
				if !strings.HasPrefix(w.Routes[k], "/") {
					add(f+".routes."+k, "%q must be a path on the service starting with /", w.Routes[k])
				}
			}
		}
	}
}

// validateResourceName checks the name of a resource (at f) and the keys
// every type has.
func validateResourceName(add func(field, format string, args ...any), f, name string, r Resource) {
	if !namePattern.MatchString(name) {
		add(f, "%q must be lowercase letters, digits and dashes", name)
	}
	if r.Stack != "" && !stackPattern.MatchString(r.Stack) {
		add(f+".stack", "%q must start with an upper-case letter, letters and digits only (e.g. Database)", r.Stack)
	}
	if r.ID != "" && !constructPattern.MatchString(r.ID) {
		add(f+".id", "%q must be letters and digits, starting with a letter", r.ID)
	}
	if r.EnvPrefix != "" && !envPrefixPattern.MatchString(r.EnvPrefix) {
		add(f+".envPrefix", "%q must be upper case and end with _ (e.g. SESSIONS_)", r.EnvPrefix)
	}
}

func validatePostgres(add func(field, format string, args ...any), f string, p *Postgres) {
	if p.Version != "" && !slices.Contains(postgresVersions, p.Version) {
		add(f+".version", "%q is not a supported PostgreSQL major version (%s)", p.Version, strings.Join(postgresVersions, ", "))
	}
	validateDBClass(add, f+".instanceClass", p.InstanceClass)
	validateStorage(add, f, p.Storage, p.MaxStorage, p.BackupDays)
	for k, v := range map[string]string{"database": p.Database, "username": p.Username} {
		if v != "" && !sqlNamePattern.MatchString(v) {
			add(f+"."+k, "%q must be letters, digits and _, starting with a letter", v)
		}
	}
	if slices.Contains([]string{"postgres", "rdsadmin", "admin"}, p.Username) {
		add(f+".username", "%q is reserved by RDS: pick another (default: the app name)", p.Username)
	}
	for _, e := range p.Extensions {
		if !extensionPattern.MatchString(e) {
			add(f+".extensions", "%q is not an extension name (e.g. vector)", e)
		}
	}
}

func validateDBClass(add func(field, format string, args ...any), f, v string) {
	if v == "" {
		return
	}
	if strings.HasPrefix(v, "db.") {
		add(f, "%q: leave out the db. prefix (e.g. t4g.medium)", v)
	} else if !dbClassPattern.MatchString(v) {
		add(f, "%q is not an instance class (e.g. t4g.medium)", v)
	}
}

func validateStorage(add func(field, format string, args ...any), f string, storage, maxStorage, backups int) {
	if storage != 0 && (storage < 20 || storage > 65536) {
		add(f+".storage", "must be 20 to 65536 GiB (got %d)", storage)
	}
	if maxStorage != 0 && maxStorage < storage {
		add(f+".maxStorage", "%d GiB is below storage %d GiB", maxStorage, storage)
	}
	if backups < 0 || backups > 35 {
		add(f+".backupDays", "must be 0 to 35 (got %d)", backups)
	}
}

func validateRedis(add func(field, format string, args ...any), f string, r *Redis) {
	if r.Version != "" && !versionPattern.MatchString(r.Version) {
		add(f+".version", "%q is not an engine version (e.g. 7.1)", r.Version)
	}
	validateNode(add, f, r.NodeType, r.Nodes, r.SnapshotDays)
}

func validateNode(add func(field, format string, args ...any), f, nodeType string, nodes int, snapshots *int) {
	if nodeType != "" && !cacheNodePattern.MatchString(nodeType) {
		add(f+".nodeType", "%q is not a cache node type (e.g. cache.t4g.medium)", nodeType)
	}
	if nodes < 0 || nodes > 6 {
		add(f+".nodes", "must be 1 to 6 (primary and replicas; got %d)", nodes)
	}
	if snapshots != nil && (*snapshots < 0 || *snapshots > 35) {
		add(f+".snapshotDays", "must be 0 to 35 (got %d)", *snapshots)
	}
}

func (a *App) validateOverrides(add func(field, format string, args ...any)) {
	for _, env := range slices.Sorted(maps.Keys(a.Infra.Overrides)) {
		o := a.Infra.Overrides[env]
		f := "infra.overrides." + env
		if _, err := a.Env(env); err != nil {
			add(f, "%q is neither a preset (%s) nor a declared environment: declare it under environments: first", env, strings.Join(a.EnvNames(), ", "))
		}
		if o.Network != nil {
			validateNetwork(add, f+".network", o.Network)
		}
		for _, name := range slices.Sorted(maps.Keys(o.Services)) {
			so := o.Services[name]
			sf := f + ".services." + name
			svc, err := a.Service(name)
			if err != nil {
				add(sf, "%q is not one of the services (%s)", name, strings.Join(a.ServiceNames(), ", "))
				continue
			}
			cpu, mem := so.CPU, so.Memory
			if cpu == 0 {
				cpu = svc.CPU
			}
			if mem != 0 || so.CPU != 0 {
				validateSize(add, sf, cpu, mem)
			}
			if so.DesiredCount != nil && *so.DesiredCount < 0 {
				add(sf+".desiredCount", "must be 0 or more (got %d)", *so.DesiredCount)
			}
			validateAutoscaling(add, sf+".autoscaling", so.Autoscaling, svc.Public)
		}
		for _, name := range slices.Sorted(maps.Keys(o.Resources)) {
			ro := o.Resources[name]
			rf := f + ".resources." + name
			r, ok := a.Infra.Resources[name]
			if !ok {
				add(rf, "%q is not one of infra.resources (%s)", name, strings.Join(slices.Sorted(maps.Keys(a.Infra.Resources)), ", "))
				continue
			}
			pg := ro.InstanceClass != "" || ro.Storage != 0 || ro.MaxStorage != 0 || ro.BackupDays != 0
			rd := ro.NodeType != "" || ro.Nodes != 0 || ro.SnapshotDays != nil
			switch {
			case pg && r.Type != TypePostgres:
				add(rf, "instanceClass, storage, maxStorage and backupDays size a postgres resource, %s is %s", name, r.Type)
			case rd && r.Type != TypeRedis:
				add(rf, "nodeType, nodes and snapshotDays size a redis resource, %s is %s", name, r.Type)
			case ro.MultiAz != nil && r.Type != TypePostgres && r.Type != TypeRedis:
				add(rf+".multiAz", "only postgres and redis resources are multi-AZ, %s is %s", name, r.Type)
			}
			validateDBClass(add, rf+".instanceClass", ro.InstanceClass)
			validateStorage(add, rf, ro.Storage, ro.MaxStorage, ro.BackupDays)
			validateNode(add, rf, ro.NodeType, ro.Nodes, ro.SnapshotDays)
		}
	}
}

// usedVariables lists the environment variables a `uses` entry injects,
// and whether the name exists.
func (a *App) usedVariables(name string) ([]string, bool) {
	if r, ok := a.usesResources()[name]; ok {
		vars := ResourceVariables(r.Type)
		for i := range vars {
			vars[i] = r.EnvPrefix + vars[i]
		}
		return vars, true
	}
	if a.usedService(name) != nil {
		return []string{InternalURLVariable(name)}, true
	}
	return nil, false
}

// ResourceVariables are the environment variables a resource of a type
// injects into the services that use it (before its envPrefix).
func ResourceVariables(typ string) []string {
	switch typ {
	case TypePostgres:
		return []string{"DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "DB_EXTENSIONS"}
	case TypeRedis:
		return []string{"REDIS_HOST", "REDIS_PORT", "REDIS_URL"}
	case TypeDynamoDB:
		return []string{"DYNAMODB_TABLE"}
	case TypeCognito:
		return []string{"USER_POOL_ID", "USER_POOL_CLIENT_ID", "IDENTITY_POOL_ID"}
	case TypeBucket:
		return []string{"BUCKET_NAME"}
	}
	return nil
}

// InternalURLVariable is the variable holding an internal service's URL
// (QDRANT_URL for qdrant).
func InternalURLVariable(internal string) string {
	return strings.ToUpper(strings.ReplaceAll(internal, "-", "_")) + "_URL"
}

// builtinUnset reports whether a BuiltinService is entirely unset.
func builtinUnset(b BuiltinService) bool {
	return !b.Public && b.Path == "" && b.Host == "" && b.Internal == "" && b.CPU == 0 && b.Memory == 0 &&
		b.DesiredCount == nil && b.Autoscaling == nil && b.Sticky == nil && b.HealthGrace == "" && len(b.HealthCommand) == 0 &&
		len(b.Secrets) == 0 && !b.Spot && len(b.Uses) == 0 && b.Storage == 0 && !b.OneAtATime && b.Stack == ""
}

// DefaultCPU and DefaultMemory size a task the description does not size.
const (
	DefaultCPU    = 1024
	DefaultMemory = 2048
)
