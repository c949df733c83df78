package config

import (
	"strings"
	"testing"
)

func TestEnvSizes(t *testing.T) {
	if got := strings.Join(EnvNames(), ","); got != "dev,prod,staging" {
		t.Fatalf("envs = %s", got)
	}
	for _, name := range EnvNames() {
		e, _ := ForEnv(name)
		t.Run(name, func(t *testing.T) {
			if e.MinTasks < 1 || e.MinTasks > e.DesiredCount || e.DesiredCount > e.MaxTasks {
				t.Errorf("tasks min %d desired %d max %d are not ordered", e.MinTasks, e.DesiredCount, e.MaxTasks)
			}
			// Only RDS and ElastiCache can snapshot on delete; S3, DynamoDB, ECR and logs cannot.
			if e.Removal == RemovalSnapshot {
				t.Errorf("Removal is %s, which most resources reject", e.Removal)
			}
			if e.DBAllocatedStorageGiB > e.DBMaxAllocatedStorageGiB {
				t.Errorf("storage %d > max %d", e.DBAllocatedStorageGiB, e.DBMaxAllocatedStorageGiB)
			}
			if e.MaxAZs < 2 || e.NATGateways < 1 || e.NATGateways > e.MaxAZs {
				t.Errorf("azs %d, nat %d", e.MaxAZs, e.NATGateways)
			}
			// Fargate accepts these memory sizes for the CPU values the envs use.
			for _, size := range [][2]int{{e.CPU, e.MemoryMiB}, {e.QdrantCPU, e.QdrantMemoryMiB}} {
				if size[1] < 2*size[0] || size[1] > 8*size[0] {
					t.Errorf("cpu %d with memory %d is not a Fargate size", size[0], size[1])
				}
			}
		})
	}
	prod, _ := ForEnv("prod")
	dev, _ := ForEnv("dev")
	if !prod.MultiAZ || prod.Removal != RemovalRetain || prod.DBRemoval != RemovalRetain || !prod.DeletionProtection || prod.RedisNodes < 2 {
		t.Errorf("prod does not retain and replicate: %+v", prod)
	}
	if dev.MultiAZ || dev.Removal != RemovalDestroy || dev.DeletionProtection {
		t.Errorf("dev is not disposable: %+v", dev)
	}
	if prod.MinTasks != 2 || prod.MaxTasks != 10 || prod.CPU != 1024 || prod.MemoryMiB != 2048 {
		t.Errorf("prod is not the guides' 2–10 tasks of 1 vCPU / 2 GB: %+v", prod)
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{StackName(CAO, "Network", "dev"), "CAONetworkStack-dev"},
		{StackName(Commander, "WebSocket", "prod"), "CommanderWebSocketStack-prod"},
		{GithubStackName("staging"), "StevedoreGithubDeployStack-staging"},
		{ClusterName(Commander, "prod"), "commander-prod"},
		{TaskFamily(CAO, "dev", CAO.Services[0]), "cao-dev-backend"},
		{LogGroupName("dev", CAO.Services[0]), "/ecs/cao-server/dev"},
		{RolePath(CAO, "prod"), "/stevedore/cao/prod/"},
		{ServiceDiscoveryNamespace(Commander, "dev"), "commander-dev.internal"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	// S3 bucket names stop at 63 characters: the longest app, env and region must fit.
	if n := len(FrontendBucketName(Commander, "staging", "123456789012", "ap-southeast-5")); n > 63 {
		t.Errorf("longest bucket name has %d characters", n)
	}
}
