// Package config holds everything the CDK app decides before any construct
// exists: the per-environment sizes, the parsing and validation of the CDK
// context, and the physical names shared between the app stacks and the
// GitHub deploy role. It imports no jsii code, so it is tested in milliseconds.
package config

import "sort"

// Removal says what CloudFormation does with a stateful resource when it
// leaves the template or the stack is destroyed.
type Removal string

// The removal choices an environment can make.
const (
	// RemovalDestroy deletes the resource (dev data is disposable).
	RemovalDestroy Removal = "destroy"
	// RemovalSnapshot takes a final snapshot, then deletes (RDS, ElastiCache).
	RemovalSnapshot Removal = "snapshot"
	// RemovalRetain leaves the resource in the account (production data).
	RemovalRetain Removal = "retain"
)

// Env is the sizing of one environment, shared by both apps: the same
// knobs the commander guide keeps in config/dev.ts, staging.ts and prod.ts.
type Env struct {
	// Name is dev, staging or prod.
	Name string

	// DesiredCount is the initial task count of the public-facing service.
	DesiredCount int
	// MinTasks and MaxTasks bound the service autoscaling.
	MinTasks, MaxTasks int
	// CPU (units, 1024 = 1 vCPU) and MemoryMiB size each backend task.
	CPU, MemoryMiB int
	// QdrantCPU and QdrantMemoryMiB size the Qdrant task (commander only).
	QdrantCPU, QdrantMemoryMiB int

	// MaxAZs is how many availability zones the VPC spreads over.
	MaxAZs int
	// NATGateways is how many NAT gateways the VPC gets (ignored with vpcEndpoints=true).
	NATGateways int

	// DBInstanceType is the RDS instance type without the db. prefix (t4g.medium).
	DBInstanceType string
	// DBAllocatedStorageGiB and DBMaxAllocatedStorageGiB bound RDS storage autoscaling.
	DBAllocatedStorageGiB, DBMaxAllocatedStorageGiB int
	// MultiAZ turns on RDS Multi-AZ.
	MultiAZ bool
	// BackupRetentionDays is the RDS automated backup retention.
	BackupRetentionDays int
	// DBRemoval is the removal policy of the RDS instance.
	DBRemoval Removal

	// RedisNodeType is the ElastiCache node type.
	RedisNodeType string
	// RedisNodes is the number of cache nodes (primary + replicas); more than
	// one turns on automatic failover and Multi-AZ.
	RedisNodes int
	// RedisSnapshotRetentionDays keeps daily Redis snapshots (0 = none).
	RedisSnapshotRetentionDays int

	// LogRetentionDays is the CloudWatch Logs retention of every log group.
	LogRetentionDays int
	// Removal is the removal policy of the other stateful resources
	// (DynamoDB, S3, Cognito, ECR, log groups, ElastiCache).
	Removal Removal
	// DeletionProtection turns on deletion protection where AWS offers it.
	DeletionProtection bool
}

// envs is filled by dev.go, staging.go and prod.go.
var envs = map[string]Env{}

func register(e Env) Env {
	envs[e.Name] = e
	return e
}

// ForEnv returns the sizing of the named environment and whether it exists.
func ForEnv(name string) (Env, bool) {
	e, ok := envs[name]
	return e, ok
}

// EnvNames lists the valid environment names, sorted.
func EnvNames() []string {
	names := make([]string, 0, len(envs))
	for n := range envs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
