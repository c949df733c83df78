package config

// Prod follows the guides: 2–10 tasks of 1 vCPU / 2 GB, Qdrant 2 vCPU / 4 GB,
// db.t4g.medium Multi-AZ, two Redis nodes, two NAT gateways, and every
// stateful resource retained.
var Prod = register(Env{
	Name:                       "prod",
	DesiredCount:               2,
	MinTasks:                   2,
	MaxTasks:                   10,
	CPU:                        1024,
	MemoryMiB:                  2048,
	QdrantCPU:                  2048,
	QdrantMemoryMiB:            4096,
	MaxAZs:                     3,
	NATGateways:                2,
	DBInstanceType:             "t4g.medium",
	DBAllocatedStorageGiB:      100,
	DBMaxAllocatedStorageGiB:   500,
	MultiAZ:                    true,
	BackupRetentionDays:        30,
	DBRemoval:                  RemovalRetain,
	RedisNodeType:              "cache.t4g.medium",
	RedisNodes:                 2,
	RedisSnapshotRetentionDays: 5,
	LogRetentionDays:           90,
	Removal:                    RemovalRetain,
	DeletionProtection:         true,
})
