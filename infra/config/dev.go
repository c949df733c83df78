package config

// Dev is small and disposable: one task, one NAT, single-AZ database, data
// destroyed with the stack.
var Dev = register(Env{
	Name:                       "dev",
	DesiredCount:               1,
	MinTasks:                   1,
	MaxTasks:                   2,
	CPU:                        1024,
	MemoryMiB:                  2048,
	QdrantCPU:                  1024,
	QdrantMemoryMiB:            2048,
	MaxAZs:                     2,
	NATGateways:                1,
	DBInstanceType:             "t4g.micro",
	DBAllocatedStorageGiB:      20,
	DBMaxAllocatedStorageGiB:   50,
	MultiAZ:                    false,
	BackupRetentionDays:        1,
	DBRemoval:                  RemovalDestroy,
	RedisNodeType:              "cache.t4g.micro",
	RedisNodes:                 1,
	RedisSnapshotRetentionDays: 0,
	LogRetentionDays:           7,
	Removal:                    RemovalDestroy,
	DeletionProtection:         false,
})
