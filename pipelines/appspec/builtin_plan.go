package appspec

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// Removal choices of the built-in infrastructure's stateful resources.
const (
	RemovalDestroy  = "destroy"
	RemovalSnapshot = "snapshot"
	RemovalRetain   = "retain"
)

// preset holds what an environment base decides when the description is silent.
type preset struct {
	azs, nat, desired               int
	dbClass                         string
	storage, maxStorage, backupDays int
	multiAz                         bool
	dbRemoval, removal              string
	nodeType                        string
	nodes, snapshotDays, logDays    int
	deletionProtection              bool
}

// presets follow the guides: dev small and disposable, staging shaped like
// prod but smaller, prod Multi-AZ and retained.
var presets = map[string]preset{
	"dev": {azs: 2, nat: 1, desired: 1, dbClass: "t4g.micro", storage: 20, maxStorage: 50, backupDays: 1,
		dbRemoval: RemovalDestroy, removal: RemovalDestroy, nodeType: "cache.t4g.micro", nodes: 1, logDays: 7},
	"staging": {azs: 3, nat: 1, desired: 2, dbClass: "t4g.small", storage: 50, maxStorage: 200, backupDays: 7,
		dbRemoval: RemovalSnapshot, removal: RemovalDestroy, nodeType: "cache.t4g.small", nodes: 2, snapshotDays: 1, logDays: 30},
	"prod": {azs: 3, nat: 2, desired: 2, dbClass: "t4g.medium", storage: 100, maxStorage: 500, backupDays: 30, multiAz: true,
		dbRemoval: RemovalRetain, removal: RemovalRetain, nodeType: "cache.t4g.medium", nodes: 2, snapshotDays: 5, logDays: 90, deletionProtection: true},
}

// Plan is the built-in infrastructure of one environment with every
// default and override resolved: what infra/ renders, nothing left to decide.
type Plan struct {
	App         string
	Env         Env
	StackPrefix string
	Network     PlanNetwork
	// Services in deploy order: internal services first, then the others in file order.
	Services []PlanService
	// Resources sorted by name.
	Resources []PlanResource
	// Frontend is set when the app has a frontend: section.
	Frontend   *InfraFrontend
	Monitoring *Monitoring
	// Removal applies to tables, buckets, user pools, logs; DataRemoval to postgres and redis.
	Removal, DataRemoval string
	DeletionProtection   bool
	LogRetentionDays     int
}

// PlanNetwork is the resolved network; Endpoints means no NAT.
type PlanNetwork struct {
	AZs         int
	Zones       []string
	NatGateways int
	Cidr        string
	Endpoints   bool
}

// PlanService is a service with its sizes for the environment.
type PlanService struct {
	Name, Container, Repository string
	Port                        int
	Health                      string
	Public                      bool
	Path, Host, Internal        string
	CPU, Memory, DesiredCount   int
	// Autoscaling is nil when the service does not scale.
	Autoscaling   *Autoscaling
	StickyCookie  string
	StickyFor     time.Duration
	HealthGrace   time.Duration
	HealthCommand []string
	Env           map[string]string
	Secrets       map[string]SecretRef
	Spot          bool
	Uses          []string
	Storage       int
	OneAtATime    bool
	Stack         string
	// Deployment is nil for a service without deployment keys (ECS rolling).
	Deployment *PlanDeployment `json:",omitempty"`
}

// PlanDeployment is a service's resolved deployment: the ECS strategy and
// its settings, the alarms that roll back and the gate's PAUSE hook.
type PlanDeployment struct {
	// Strategy is one of contract.Strategies.
	Strategy string
	// Bake keeps both revisions after the last shift (0: ECS's default);
	// StepBake and CanaryBake wait between the shifts. Whole minutes.
	Bake, StepBake, CanaryBake time.Duration
	// StepPercent (linear) and CanaryPercent (canary) are shares of
	// production traffic.
	StepPercent, CanaryPercent float64
	// Alarms are CloudWatch alarm names that roll the deployment back.
	Alarms []string
	// Gate adds the PAUSE hook and the test listener rule.
	Gate bool
	// LoadBalanced: the service is behind the ALB, so the strategy shifts
	// its listener rules (a gated service always is).
	LoadBalanced bool
}

// ECS's defaults for linear and canary (what the CDK documents), written
// into the plan so the template says what the deployment does.
const (
	DefaultStepPercent   = 10.0
	DefaultStepBake      = 6 * time.Minute
	DefaultCanaryPercent = 5.0
	DefaultCanaryBake    = 10 * time.Minute
)

// ShiftsTraffic reports whether ECS shifts listener rules for the
// deployment (a strategy other than rolling on a service behind the ALB).
func (d *PlanDeployment) ShiftsTraffic() bool {
	return d != nil && d.Strategy != contract.StrategyRolling && d.LoadBalanced
}

// Wait is how long the deployment waits by design: the linear steps'
// bakes (one per step), the canary's bake and the final bake.
func (d *PlanDeployment) Wait() time.Duration {
	if d == nil {
		return 0
	}
	wait := d.Bake + d.CanaryBake
	if d.StepPercent > 0 {
		wait += d.StepBake * time.Duration(math.Ceil(100/d.StepPercent))
	}
	return wait
}

// planDeployment resolves a service's deployment keys (validated), nil
// when it has none.
func planDeployment(s Service) *PlanDeployment {
	d := s.Deployment
	if d == nil {
		return nil
	}
	minutes := func(v string) time.Duration {
		m, _ := time.ParseDuration(v)
		return m
	}
	pd := &PlanDeployment{
		Strategy: s.StrategyOf(), Bake: minutes(d.Bake), Alarms: slices.Clone(d.Alarms),
		Gate: d.Gate, LoadBalanced: s.Public,
	}
	switch pd.Strategy {
	case contract.StrategyLinear:
		pd.StepPercent, pd.StepBake = DefaultStepPercent, DefaultStepBake
		if d.StepPercent != 0 {
			pd.StepPercent = d.StepPercent
		}
		if d.StepBake != "" {
			pd.StepBake = minutes(d.StepBake)
		}
	case contract.StrategyCanary:
		pd.CanaryPercent, pd.CanaryBake = DefaultCanaryPercent, DefaultCanaryBake
		if d.CanaryPercent != 0 {
			pd.CanaryPercent = d.CanaryPercent
		}
		if d.CanaryBake != "" {
			pd.CanaryBake = minutes(d.CanaryBake)
		}
	}
	return pd
}

// PlanResource is a resource with every option resolved for the environment.
type PlanResource struct {
	Name, Type, Stack, ID, EnvPrefix string

	Postgres  *Postgres
	Redis     *Redis
	DynamoDB  *DynamoDB
	Cognito   *Cognito
	WebSocket *WebSocket
	Bucket    *Bucket
}

// Default stacks of each concern.
const (
	StackNetwork    = "Network"
	StackServices   = "Services"
	StackFrontend   = "Frontend"
	StackMonitoring = "Monitoring"
)

// defaultStack is the stack a resource type goes into.
var defaultStack = map[string]string{
	TypePostgres: "Database", TypeRedis: "Cache", TypeDynamoDB: "Data",
	TypeCognito: "Auth", TypeWebSocket: "WebSocket", TypeBucket: "Data",
}

// DefaultWebSocketRoutes forward every WebSocket event to the service.
var DefaultWebSocketRoutes = map[string]string{"$connect": "/ws/connect", "$disconnect": "/ws/disconnect", "$default": "/ws/message"}

// BuiltinPlan resolves the built-in infrastructure for an environment:
// the preset of its base, then the overrides of that preset, then those
// of the environment's own name.
func (a *App) BuiltinPlan(envName string) (*Plan, error) {
	if !a.Builtin() {
		return nil, fmt.Errorf("the app does not use the built-in infrastructure (infra.dir is %q)", a.infraDir())
	}
	env, err := a.Env(envName)
	if err != nil {
		return nil, err
	}
	pr := presets[env.Base]
	in := a.Infra
	var layers []Override
	if o, ok := in.Overrides[env.Base]; ok && env.Base != env.Name {
		layers = append(layers, o)
	}
	if o, ok := in.Overrides[env.Name]; ok {
		layers = append(layers, o)
	}

	p := &Plan{
		App: a.Name, Env: env, StackPrefix: in.StackPrefix,
		Removal: pr.removal, DataRemoval: pr.dbRemoval, DeletionProtection: pr.deletionProtection,
		LogRetentionDays: pr.logDays, Frontend: in.Frontend, Monitoring: in.Monitoring,
	}
	if p.StackPrefix == "" {
		p.StackPrefix = contract.Pascal(a.Name)
	}
	if a.Frontend != nil && p.Frontend == nil {
		p.Frontend = &InfraFrontend{}
	}
	if a.Frontend == nil {
		p.Frontend = nil
	}
	p.Network = PlanNetwork{AZs: pr.azs, NatGateways: pr.nat, Cidr: "10.0.0.0/16"}
	nets := []*Network{in.Network}
	multiAz := pr.multiAz
	for _, o := range layers {
		nets = append(nets, o.Network)
		if o.MultiAz != nil {
			multiAz = *o.MultiAz
		}
		if o.DeletionProtection != nil {
			p.DeletionProtection = *o.DeletionProtection
		}
	}
	for _, n := range nets {
		if n == nil {
			continue
		}
		if n.AZs != 0 {
			p.Network.AZs = n.AZs
		}
		if len(n.Zones) > 0 {
			p.Network.Zones, p.Network.AZs = n.Zones, len(n.Zones)
		}
		if n.NatGateways != nil {
			p.Network.NatGateways = *n.NatGateways
		}
		if n.Cidr != "" {
			p.Network.Cidr = n.Cidr
		}
	}
	p.Network.NatGateways = min(p.Network.NatGateways, p.Network.AZs)
	p.Network.Endpoints = p.Network.NatGateways == 0

	for _, s := range a.Services {
		p.Services = append(p.Services, planService(s, pr, layers))
	}
	slices.SortStableFunc(p.Services, func(x, y PlanService) int {
		return boolRank(x.Internal == "") - boolRank(y.Internal == "")
	})
	for _, name := range slices.Sorted(maps.Keys(in.Resources)) {
		p.Resources = append(p.Resources, planResource(a, name, in.Resources[name], pr, multiAz, layers))
	}
	return p, nil
}

func (a *App) infraDir() string {
	if a.Infra == nil {
		return ""
	}
	return a.Infra.Dir
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

func planService(s Service, pr preset, layers []Override) PlanService {
	b := s.BuiltinService
	ps := PlanService{
		Name: s.Name, Container: s.Container, Repository: s.Repository, Port: s.Port, Health: s.Health,
		Public: b.Public, Path: b.Path, Host: b.Host, Internal: b.Internal,
		CPU: b.CPU, Memory: b.Memory, HealthCommand: b.HealthCommand, Env: maps.Clone(s.Env),
		Secrets: b.Secrets, Spot: b.Spot, Uses: b.Uses, Storage: b.Storage, OneAtATime: b.OneAtATime, Stack: b.Stack,
		HealthGrace: 60 * time.Second, Deployment: planDeployment(s),
	}
	if ps.CPU == 0 {
		ps.CPU = DefaultCPU
	}
	if ps.Memory == 0 {
		ps.Memory = max(DefaultMemory, 2*ps.CPU)
	}
	if ps.Stack == "" {
		ps.Stack = StackServices
	}
	if b.HealthGrace != "" {
		ps.HealthGrace, _ = time.ParseDuration(b.HealthGrace)
	}
	if st := b.Sticky; st != nil {
		ps.StickyCookie, ps.StickyFor = st.Cookie, time.Hour
		if st.Duration != "" {
			ps.StickyFor, _ = time.ParseDuration(st.Duration)
		}
	}
	if b.Autoscaling != nil {
		as := *b.Autoscaling
		ps.Autoscaling = &as
	}
	desired := b.DesiredCount
	for _, o := range layers {
		so, ok := o.Services[s.Name]
		if !ok {
			continue
		}
		if so.CPU != 0 {
			ps.CPU = so.CPU
		}
		if so.Memory != 0 {
			ps.Memory = so.Memory
		}
		if so.DesiredCount != nil {
			desired = so.DesiredCount
		}
		if so.Autoscaling != nil {
			as := *so.Autoscaling
			if ps.Autoscaling != nil {
				// Bounds from the override, targets kept unless it sets them.
				as.CPU = cmp(as.CPU, ps.Autoscaling.CPU)
				as.RequestsPerTarget = cmp(as.RequestsPerTarget, ps.Autoscaling.RequestsPerTarget)
			}
			ps.Autoscaling = &as
		}
		if so.Spot != nil {
			ps.Spot = *so.Spot
		}
		if len(so.Env) > 0 {
			if ps.Env == nil {
				ps.Env = map[string]string{}
			}
			maps.Copy(ps.Env, so.Env)
		}
	}
	if ps.Autoscaling != nil && ps.Autoscaling.CPU == 0 {
		ps.Autoscaling.CPU = 70
	}
	switch {
	case desired != nil:
		ps.DesiredCount = *desired
	case b.Public:
		ps.DesiredCount = pr.desired
	default:
		ps.DesiredCount = 1
	}
	if as := ps.Autoscaling; as != nil && desired == nil {
		ps.DesiredCount = min(max(ps.DesiredCount, as.Min), as.Max)
	}
	return ps
}

// cmp returns v, or fallback when v is zero.
func cmp(v, fallback int) int {
	if v == 0 {
		return fallback
	}
	return v
}

func planResource(a *App, name string, r Resource, pr preset, multiAz bool, layers []Override) PlanResource {
	out := PlanResource{Name: name, Type: r.Type, Stack: r.Stack, ID: r.ID, EnvPrefix: r.EnvPrefix}
	if out.Stack == "" {
		out.Stack = defaultStack[r.Type]
	}
	if out.ID == "" {
		out.ID = contract.Pascal(name)
	}
	var ovs []ResourceOverride
	for _, o := range layers {
		if ro, ok := o.Resources[name]; ok {
			ovs = append(ovs, ro)
		}
	}
	switch r.Type {
	case TypePostgres:
		pg := *r.Postgres
		pg.Version = orString(pg.Version, "16")
		pg.InstanceClass = orString(pg.InstanceClass, pr.dbClass)
		pg.Storage = cmp(pg.Storage, pr.storage)
		pg.MaxStorage = cmp(pg.MaxStorage, max(pr.maxStorage, pg.Storage))
		pg.BackupDays = cmp(pg.BackupDays, pr.backupDays)
		def := strings.ReplaceAll(a.Name, "-", "_")
		pg.Database = orString(pg.Database, def)
		pg.Username = orString(pg.Username, def)
		ma := multiAz
		if pg.MultiAz != nil {
			ma = *pg.MultiAz
		}
		for _, o := range ovs {
			pg.InstanceClass = orString(o.InstanceClass, pg.InstanceClass)
			pg.Storage = cmp(o.Storage, pg.Storage)
			pg.MaxStorage = cmp(o.MaxStorage, max(pg.MaxStorage, pg.Storage))
			pg.BackupDays = cmp(o.BackupDays, pg.BackupDays)
			if o.MultiAz != nil {
				ma = *o.MultiAz
			}
		}
		pg.MultiAz = &ma
		out.Postgres = &pg
	case TypeRedis:
		rd := *r.Redis
		rd.Version = orString(rd.Version, "7.1")
		rd.NodeType = orString(rd.NodeType, pr.nodeType)
		rd.Nodes = cmp(rd.Nodes, pr.nodes)
		snap := pr.snapshotDays
		if rd.SnapshotDays != nil {
			snap = *rd.SnapshotDays
		}
		if rd.Tls == nil {
			rd.Tls = ptr(true)
		}
		for _, o := range ovs {
			rd.NodeType = orString(o.NodeType, rd.NodeType)
			rd.Nodes = cmp(o.Nodes, rd.Nodes)
			if o.SnapshotDays != nil {
				snap = *o.SnapshotDays
			}
			if o.MultiAz != nil && !*o.MultiAz {
				rd.Nodes = 1
			}
		}
		rd.SnapshotDays = &snap
		out.Redis = &rd
	case TypeDynamoDB:
		d := *r.DynamoDB
		if d.PointInTimeRecovery == nil {
			d.PointInTimeRecovery = ptr(true)
		}
		out.DynamoDB = &d
	case TypeCognito:
		c := *r.Cognito
		c.PasswordLength = cmp(c.PasswordLength, 12)
		if c.ThreatProtection == nil {
			c.ThreatProtection = ptr(true)
		}
		if c.IdentityPool == nil {
			c.IdentityPool = ptr(true)
		}
		out.Cognito = &c
	case TypeWebSocket:
		w := *r.WebSocket
		if len(w.Routes) == 0 {
			w.Routes = DefaultWebSocketRoutes
		}
		out.WebSocket = &w
	case TypeBucket:
		bk := *r.Bucket
		out.Bucket = &bk
	}
	return out
}

func orString(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}

func ptr[T any](v T) *T { return &v }

// StackName is the CloudFormation stack name of a concern:
// <prefix><stack>Stack-<env>, e.g. CAONetworkStack-dev.
func (p *Plan) StackName(stack string) string {
	return p.StackPrefix + stack + "Stack-" + p.Env.Name
}

// ClusterName is the ECS cluster of the app in the environment (cao-dev).
func (p *Plan) ClusterName() string { return p.App + "-" + p.Env.Name }

// TaskFamily is the task definition family of a service (cao-dev-backend).
func (p *Plan) TaskFamily(service string) string { return p.App + "-" + p.Env.Name + "-" + service }

// RolePath is the IAM path of every task and execution role of the app in
// the environment, so the deploy role can pass them by one pattern.
func (p *Plan) RolePath() string { return "/stevedore/" + p.App + "/" + p.Env.Name + "/" }

// Namespace is the private DNS namespace of the internal services.
func (p *Plan) Namespace() string { return p.App + "-" + p.Env.Name + ".internal" }

// FrontendBucketName is the site bucket (account and region may be tokens).
func (p *Plan) FrontendBucketName(account, region string) string {
	return fmt.Sprintf("%s-%s-frontend-%s-%s", p.App, p.Env.Name, account, region)
}

// Stacks lists the plan's stack names in deploy order: network, auth,
// data, services, frontend, websocket, monitoring.
func (p *Plan) Stacks() []string {
	var kinds []string
	addKind := func(k string) {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	addKind(StackNetwork)
	for _, typ := range []string{TypeCognito, TypePostgres, TypeRedis, TypeDynamoDB, TypeBucket} {
		for _, r := range p.Resources {
			if r.Type == typ {
				addKind(r.Stack)
			}
		}
	}
	for _, s := range p.Services {
		addKind(s.Stack)
	}
	if p.Frontend != nil {
		addKind(StackFrontend)
	}
	for _, r := range p.Resources {
		if r.Type == TypeWebSocket {
			addKind(r.Stack)
		}
	}
	if p.Monitoring != nil {
		addKind(StackMonitoring)
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = p.StackName(k)
	}
	return names
}
