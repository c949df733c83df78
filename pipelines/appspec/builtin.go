package appspec

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The built-in infrastructure: when `infra:` has no `dir`, stevedore renders
// the stacks itself from the keys below and the per-service keys of
// BuiltinService (inlined into Service).

// Network is `infra.network`.
type Network struct {
	// AZs is how many availability zones the VPC spans (default: 2 in dev, 3 otherwise).
	AZs int `yaml:"azs,omitempty" json:"azs,omitempty"`
	// Zones pins the zone names (needed for 3 zones when synthesizing without an account).
	Zones []string `yaml:"zones,omitempty" json:"zones,omitempty"`
	// NatGateways is the NAT gateway count; 0 means no NAT and VPC
	// endpoints instead (default: 1, 2 in prod).
	NatGateways *int `yaml:"natGateways,omitempty" json:"natGateways,omitempty"`
	// Cidr is the VPC range (default 10.0.0.0/16).
	Cidr string `yaml:"cidr,omitempty" json:"cidr,omitempty"`
}

// BuiltinService holds the keys a service has for the built-in
// infrastructure; it is inlined into Service.
type BuiltinService struct {
	// Public puts the service behind the internet-facing ALB.
	Public bool `yaml:"public,omitempty" json:"public,omitempty"`
	// Path routes this path pattern (e.g. /api/*) to the service when several are public.
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// Host routes this host name to the service when several are public.
	Host string `yaml:"host,omitempty" json:"host,omitempty"`
	// Internal is the name other services reach it by (Cloud Map DNS,
	// <internal>.<namespace>); a service is public, internal or neither (a worker).
	Internal string `yaml:"internal,omitempty" json:"internal,omitempty"`
	// CPU units (1024 = 1 vCPU; default 1024) and Memory MiB (default 2048) of a task.
	CPU    int `yaml:"cpu,omitempty" json:"cpu,omitempty"`
	Memory int `yaml:"memory,omitempty" json:"memory,omitempty"`
	// DesiredCount is the task count without autoscaling (default 1, 2 from staging on for public services).
	DesiredCount *int `yaml:"desiredCount,omitempty" json:"desiredCount,omitempty"`
	// Autoscaling tracks CPU and, for public services, requests per target.
	Autoscaling *Autoscaling `yaml:"autoscaling,omitempty" json:"autoscaling,omitempty"`
	// Sticky pins clients to a task with an application cookie.
	Sticky *Sticky `yaml:"sticky,omitempty" json:"sticky,omitempty"`
	// HealthGrace is how long new tasks may fail health checks (default 60s).
	HealthGrace string `yaml:"healthGrace,omitempty" json:"healthGrace,omitempty"`
	// HealthCommand is an in-container health check (CMD-SHELL form), for
	// services without an HTTP health path.
	HealthCommand []string `yaml:"healthCommand,omitempty" json:"healthCommand,omitempty"`
	// Secrets are environment variables read from Secrets Manager.
	Secrets map[string]SecretRef `yaml:"secrets,omitempty" json:"secrets,omitempty"`
	// Spot runs the tasks on Fargate Spot.
	Spot bool `yaml:"spot,omitempty" json:"spot,omitempty"`
	// Uses names the resources (and internal services) the service reaches;
	// each grants least privilege and injects its connection variables.
	Uses []string `yaml:"uses,omitempty" json:"uses,omitempty"`
	// Storage is the task's ephemeral storage in GiB (default Fargate's 20).
	Storage int `yaml:"storage,omitempty" json:"storage,omitempty"`
	// OneAtATime stops the old task before the new one starts (a single-writer store).
	OneAtATime bool `yaml:"oneAtATime,omitempty" json:"oneAtATime,omitempty"`
	// Stack is the stack the service goes into (default Services).
	Stack string `yaml:"stack,omitempty" json:"stack,omitempty"`
}

// Autoscaling bounds and targets of a service.
type Autoscaling struct {
	Min int `yaml:"min" json:"min"`
	Max int `yaml:"max" json:"max"`
	// CPU is the target average CPU percent (default 70).
	CPU int `yaml:"cpu,omitempty" json:"cpu,omitempty"`
	// RequestsPerTarget is the ALB request target per task (public services; 0 = off).
	RequestsPerTarget int `yaml:"requestsPerTarget,omitempty" json:"requestsPerTarget,omitempty"`
}

// Sticky is ALB application-cookie stickiness.
type Sticky struct {
	Cookie string `yaml:"cookie" json:"cookie"`
	// Duration the load balancer honours the cookie (default 1h).
	Duration string `yaml:"duration,omitempty" json:"duration,omitempty"`
}

// SecretRef is a Secrets Manager secret and, for JSON secrets, the key.
type SecretRef struct {
	Secret string `yaml:"secret" json:"secret"`
	Key    string `yaml:"key,omitempty" json:"key,omitempty"`
}

// InfraFrontend is `infra.frontend`: the CloudFront distribution in front
// of the frontend bucket. The site itself is `frontend:`.
type InfraFrontend struct {
	// Domain is an optional custom domain (needs CertificateArn, in us-east-1).
	Domain         string `yaml:"domain,omitempty" json:"domain,omitempty"`
	CertificateArn string `yaml:"certificateArn,omitempty" json:"certificateArn,omitempty"`
}

// Monitoring is `infra.monitoring`: dashboard, 5xx and unhealthy-host
// alarms of the public services, and the SNS topic they notify.
type Monitoring struct {
	Email string `yaml:"email,omitempty" json:"email,omitempty"`
}

// Override is one entry of `infra.overrides`, keyed by an environment name
// or a preset (which applies to every environment with that base; an exact
// name wins over its preset).
type Override struct {
	Network            *Network                    `yaml:"network,omitempty" json:"network,omitempty"`
	Services           map[string]ServiceOverride  `yaml:"services,omitempty" json:"services,omitempty"`
	Resources          map[string]ResourceOverride `yaml:"resources,omitempty" json:"resources,omitempty"`
	MultiAz            *bool                       `yaml:"multiAz,omitempty" json:"multiAz,omitempty"`
	DeletionProtection *bool                       `yaml:"deletionProtection,omitempty" json:"deletionProtection,omitempty"`
}

// ServiceOverride changes a service's size in one environment.
type ServiceOverride struct {
	CPU          int          `yaml:"cpu,omitempty" json:"cpu,omitempty"`
	Memory       int          `yaml:"memory,omitempty" json:"memory,omitempty"`
	DesiredCount *int         `yaml:"desiredCount,omitempty" json:"desiredCount,omitempty"`
	Autoscaling  *Autoscaling `yaml:"autoscaling,omitempty" json:"autoscaling,omitempty"`
	Spot         *bool        `yaml:"spot,omitempty" json:"spot,omitempty"`
	// Env adds or replaces environment variables in this environment.
	Env map[string]string `yaml:"env,omitempty" json:"env,omitempty"`
}

// ResourceOverride changes a resource's size in one environment.
type ResourceOverride struct {
	InstanceClass string `yaml:"instanceClass,omitempty" json:"instanceClass,omitempty"`
	Storage       int    `yaml:"storage,omitempty" json:"storage,omitempty"`
	MaxStorage    int    `yaml:"maxStorage,omitempty" json:"maxStorage,omitempty"`
	BackupDays    int    `yaml:"backupDays,omitempty" json:"backupDays,omitempty"`
	NodeType      string `yaml:"nodeType,omitempty" json:"nodeType,omitempty"`
	Nodes         int    `yaml:"nodes,omitempty" json:"nodes,omitempty"`
	SnapshotDays  *int   `yaml:"snapshotDays,omitempty" json:"snapshotDays,omitempty"`
	MultiAz       *bool  `yaml:"multiAz,omitempty" json:"multiAz,omitempty"`
}

// Resource types of `infra.resources`.
const (
	TypePostgres  = "postgres"
	TypeRedis     = "redis"
	TypeDynamoDB  = "dynamodb"
	TypeCognito   = "cognito"
	TypeWebSocket = "websocket"
	TypeBucket    = "bucket"
)

// ResourceTypes lists the resource types in documentation order.
var ResourceTypes = []string{TypePostgres, TypeRedis, TypeDynamoDB, TypeCognito, TypeWebSocket, TypeBucket}

// Resource is one entry of `infra.resources`: the keys every type has,
// plus the options of its type (exactly one of the pointers is set).
type Resource struct {
	// Type is one of ResourceTypes.
	Type string `yaml:"type" json:"type"`
	// Stack is the stack it goes into (default per type: Database, Cache,
	// Data, Auth, WebSocket, Data).
	Stack string `yaml:"stack,omitempty" json:"stack,omitempty"`
	// ID is the construct id inside its stack (default: the name in
	// PascalCase). Set it to adopt an existing stack's logical IDs.
	ID string `yaml:"id,omitempty" json:"id,omitempty"`
	// EnvPrefix prefixes the connection variables injected into the
	// services using it (needed when one service uses two of a type).
	EnvPrefix string `yaml:"envPrefix,omitempty" json:"envPrefix,omitempty"`

	Postgres  *Postgres  `yaml:"-" json:"postgres,omitempty"`
	Redis     *Redis     `yaml:"-" json:"redis,omitempty"`
	DynamoDB  *DynamoDB  `yaml:"-" json:"dynamodb,omitempty"`
	Cognito   *Cognito   `yaml:"-" json:"cognito,omitempty"`
	WebSocket *WebSocket `yaml:"-" json:"websocket,omitempty"`
	Bucket    *Bucket    `yaml:"-" json:"bucket,omitempty"`
}

// Postgres is an RDS PostgreSQL instance with generated credentials.
type Postgres struct {
	// Version is the major version (default 16).
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
	// InstanceClass without the db. prefix (default t4g.micro, t4g.small in staging, t4g.medium in prod).
	InstanceClass string `yaml:"instanceClass,omitempty" json:"instanceClass,omitempty"`
	MultiAz       *bool  `yaml:"multiAz,omitempty" json:"multiAz,omitempty"`
	// Storage and MaxStorage (GiB) bound storage autoscaling.
	Storage    int `yaml:"storage,omitempty" json:"storage,omitempty"`
	MaxStorage int `yaml:"maxStorage,omitempty" json:"maxStorage,omitempty"`
	BackupDays int `yaml:"backupDays,omitempty" json:"backupDays,omitempty"`
	// Database and Username (default: the app name, dashes as underscores).
	Database string `yaml:"database,omitempty" json:"database,omitempty"`
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	// Extensions are enabled with CREATE EXTENSION by the migration;
	// vector is also preloaded (shared_preload_libraries).
	Extensions []string `yaml:"extensions,omitempty" json:"extensions,omitempty"`
}

// Redis is an ElastiCache replication group, encrypted at rest.
type Redis struct {
	// Version is the engine version (default 7.1).
	Version  string `yaml:"version,omitempty" json:"version,omitempty"`
	NodeType string `yaml:"nodeType,omitempty" json:"nodeType,omitempty"`
	// Nodes is primary + replicas (default 1, 2 from staging on); more than one turns on failover.
	Nodes int `yaml:"nodes,omitempty" json:"nodes,omitempty"`
	// Tls encrypts in transit; clients use rediss:// (default true).
	Tls          *bool `yaml:"tls,omitempty" json:"tls,omitempty"`
	SnapshotDays *int  `yaml:"snapshotDays,omitempty" json:"snapshotDays,omitempty"`
}

// DynamoDB is an on-demand table.
type DynamoDB struct {
	PartitionKey string `yaml:"partitionKey" json:"partitionKey"`
	SortKey      string `yaml:"sortKey,omitempty" json:"sortKey,omitempty"`
	// TTL is the expiry attribute (optional).
	TTL string `yaml:"ttl,omitempty" json:"ttl,omitempty"`
	// PointInTimeRecovery (default true).
	PointInTimeRecovery *bool `yaml:"pointInTimeRecovery,omitempty" json:"pointInTimeRecovery,omitempty"`
}

// Cognito is a user pool, its app client and an identity pool.
type Cognito struct {
	// PasswordLength is the minimum password length (default 12; lower,
	// upper, digits and symbols always required).
	PasswordLength int `yaml:"passwordLength,omitempty" json:"passwordLength,omitempty"`
	// ThreatProtection enforces adaptive authentication (Plus plan; default true).
	ThreatProtection *bool `yaml:"threatProtection,omitempty" json:"threatProtection,omitempty"`
	// SelfSignUp lets users register themselves (default false).
	SelfSignUp bool `yaml:"selfSignUp,omitempty" json:"selfSignUp,omitempty"`
	// IdentityPool adds a federated identity pool (default true).
	IdentityPool *bool `yaml:"identityPool,omitempty" json:"identityPool,omitempty"`
}

// WebSocket is an API Gateway v2 WebSocket API forwarding to a public service.
type WebSocket struct {
	// Service receives the events over HTTP through the ALB.
	Service string `yaml:"service" json:"service"`
	// Routes maps route keys to the service's paths (default $connect
	// /ws/connect, $disconnect /ws/disconnect, $default /ws/message).
	Routes map[string]string `yaml:"routes,omitempty" json:"routes,omitempty"`
}

// Bucket is a private, encrypted S3 bucket.
type Bucket struct {
	Versioned bool `yaml:"versioned,omitempty" json:"versioned,omitempty"`
}

// Resources is `infra.resources`, by name.
type Resources map[string]Resource

// commonResourceKeys are the keys every resource type accepts.
var commonResourceKeys = yamlKeys(reflect.TypeOf(Resource{}))

// resourceOptions returns a new options value for a type, or nil.
func resourceOptions(typ string) any {
	switch typ {
	case TypePostgres:
		return &Postgres{}
	case TypeRedis:
		return &Redis{}
	case TypeDynamoDB:
		return &DynamoDB{}
	case TypeCognito:
		return &Cognito{}
	case TypeWebSocket:
		return &WebSocket{}
	case TypeBucket:
		return &Bucket{}
	}
	return nil
}

// options returns the type's options struct (nil for an unknown type).
func (r Resource) options() any {
	switch r.Type {
	case TypePostgres:
		return r.Postgres
	case TypeRedis:
		return r.Redis
	case TypeDynamoDB:
		return r.DynamoDB
	case TypeCognito:
		return r.Cognito
	case TypeWebSocket:
		return r.WebSocket
	case TypeBucket:
		return r.Bucket
	}
	return nil
}

func (r *Resource) setOptions(o any) {
	switch v := o.(type) {
	case *Postgres:
		r.Postgres = v
	case *Redis:
		r.Redis = v
	case *DynamoDB:
		r.DynamoDB = v
	case *Cognito:
		r.Cognito = v
	case *WebSocket:
		r.WebSocket = v
	case *Bucket:
		r.Bucket = v
	}
}

// UnmarshalYAML decodes `infra.resources` (decodeResources).
func (rs *Resources) UnmarshalYAML(node *yaml.Node) error {
	out, err := decodeResources(node, "infra.resources")
	*rs = out
	return err
}

// decodeResources decodes each resource of the mapping at path (e.g.
// infra.resources) by its type, rejecting keys that type does not have.
// Problems are returned as a *yaml.TypeError so the decoder keeps going
// and reports everything at once.
func decodeResources(node *yaml.Node, path string) (Resources, error) {
	if node.Kind != yaml.MappingNode {
		return nil, &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s must be a map of name: {type: ...}", node.Line, path)}}
	}
	out := Resources{}
	var problems []string
	for i := 0; i+1 < len(node.Content); i += 2 {
		name, body := node.Content[i].Value, node.Content[i+1]
		field := path + "." + name
		if body.Kind != yaml.MappingNode {
			problems = append(problems, fmt.Sprintf("line %d: %s must be a map with a type (%s)", body.Line, field, strings.Join(ResourceTypes, ", ")))
			continue
		}
		var r Resource
		for j := 0; j+1 < len(body.Content); j += 2 {
			if body.Content[j].Value == "type" {
				r.Type = body.Content[j+1].Value
			}
		}
		opts := resourceOptions(r.Type)
		var typeKeys []string
		if opts != nil {
			typeKeys = yamlKeys(reflect.TypeOf(opts).Elem())
		}
		// Only the common keys are decoded into r; the type's keys into opts.
		common := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: body.Line, Column: body.Column}
		typed := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: body.Line, Column: body.Column}
		for j := 0; j+1 < len(body.Content); j += 2 {
			k := body.Content[j]
			switch {
			case slices.Contains(commonResourceKeys, k.Value):
				common.Content = append(common.Content, k, body.Content[j+1])
			case slices.Contains(typeKeys, k.Value):
				typed.Content = append(typed.Content, k, body.Content[j+1])
			case opts == nil:
				// The unknown type is reported by Validate; its keys cannot be checked.
			default:
				problems = append(problems, fmt.Sprintf("line %d: %s.%s is not a %s option %s",
					k.Line, field, k.Value, r.Type, knownKeys(k.Value, append(slices.Clone(commonResourceKeys), typeKeys...))))
			}
		}
		if err := common.Decode(&r); err != nil {
			problems = append(problems, typeErrors(err, field)...)
		}
		if opts != nil {
			if err := typed.Decode(opts); err != nil {
				problems = append(problems, typeErrors(err, field)...)
			}
			r.setOptions(opts)
		}
		out[name] = r
	}
	if len(problems) > 0 {
		return out, &yaml.TypeError{Errors: problems}
	}
	return out, nil
}

// MarshalYAML writes a resource back flat: type, common keys, options.
func (r Resource) MarshalYAML() (any, error) {
	m := map[string]any{"type": r.Type}
	for k, v := range map[string]string{"stack": r.Stack, "id": r.ID, "envPrefix": r.EnvPrefix} {
		if v != "" {
			m[k] = v
		}
	}
	if o := r.options(); o != nil && !reflect.ValueOf(o).IsNil() {
		b, err := yaml.Marshal(o)
		if err != nil {
			return nil, err
		}
		var opts map[string]any
		if err := yaml.Unmarshal(b, &opts); err != nil {
			return nil, err
		}
		maps.Copy(m, opts)
	}
	return m, nil
}

// typeErrors turns a decode error into problem lines naming the field.
func typeErrors(err error, field string) []string {
	te, ok := err.(*yaml.TypeError)
	if !ok {
		return []string{field + ": " + err.Error()}
	}
	out := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		out[i] = e + " (in " + field + ")"
	}
	return out
}

// yamlKeys lists the yaml keys of a struct type, in field order.
func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		tag := t.Field(i).Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			keys = append(keys, yamlKeys(t.Field(i).Type)...)
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		keys = append(keys, name)
	}
	return keys
}

// Builtin reports whether the app uses the built-in infrastructure (an
// `infra:` section without `dir`).
func (a *App) Builtin() bool {
	return a.Infra != nil && a.Infra.Dir == ""
}
