package config

// Staging mirrors production's shape (2–10 tasks, replicated Redis) at a
// smaller size, keeps a final database snapshot and destroys the rest.
var Staging = register(Env{
	Name:                       "staging",
	DesiredCount:               2,
	MinTasks:                   2,
	MaxTasks:                   10,
	CPU:                        1024,
	MemoryMiB:                  2048,
	QdrantCPU:                  1024,
	QdrantMemoryMiB:            2048,
	MaxAZs:                     3,
	NATGateways:                1,
	DBInstanceType:             "t4g.small",
	DBAllocatedStorageGiB:      50,
	DBMaxAllocatedStorageGiB:   200,
	MultiAZ:                    false,
	BackupRetentionDays:        7,
	DBRemoval:                  RemovalSnapshot,
	RedisNodeType:              "cache.t4g.small",
	RedisNodes:                 2,
	RedisSnapshotRetentionDays: 1,
	LogRetentionDays:           30,
	Removal:                    RemovalDestroy,
	DeletionProtection:         false,
})
