package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"

	"github.com/stevedore-ci/stevedore/infra/config"
)

// buildCommander adds commander.ai's eight stacks in deploy order.
func buildCommander(scope constructs.Construct, s config.Settings, env *awscdk.Environment) []awscdk.Stack {
	net := NewCommanderNetwork(scope, s, env)
	db := NewCommanderDatabase(scope, s, env, net)
	redis := NewCommanderCache(scope, s, env, net)
	qdrant := NewCommanderQdrant(scope, s, env, net)
	backend := NewCommanderBackend(scope, s, env, net, db, redis, qdrant)
	site := NewFrontend(scope, s, env)
	ws := NewCommanderWebSocket(scope, s, env, backend)
	mon := NewCommanderMonitoring(scope, s, env, CommanderMonitoringProps{Backend: backend, Qdrant: qdrant, DB: db, Redis: redis})
	return []awscdk.Stack{
		net.Stack, awscdk.Stack_Of(db), awscdk.Stack_Of(redis), qdrant.Stack,
		backend.Stack, awscdk.Stack_Of(site.Bucket), ws, mon,
	}
}
