package builtin

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

func TestCommanderStackNames(t *testing.T) {
	want := []string{
		"CommanderNetworkStack-staging", "CommanderDatabaseStack-staging", "CommanderCacheStack-staging",
		"CommanderQdrantStack-staging", "CommanderBackendStack-staging", "CommanderFrontendStack-staging",
		"CommanderWebSocketStack-staging", "CommanderMonitoringStack-staging",
	}
	got := synth(t, commanderContext("staging")).names
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("stacks = %v, want %v", got, want)
	}
}

func TestCommanderNetwork(t *testing.T) {
	tests := []struct {
		env  string
		nats int
	}{{"dev", 1}, {"prod", 2}}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			s := synth(t, commanderContext(tt.env))
			stack := "CommanderNetworkStack-" + tt.env
			tmpl := s.template(t, stack)
			tmpl.count("AWS::EC2::NatGateway", tt.nats)
			for _, tier := range []string{"Public", "Private", "Isolated"} {
				tmpl.props("AWS::EC2::Subnet", map[string]any{
					"Tags": arrayWith(map[string]any{"Key": "aws-cdk:subnet-name", "Value": tier}),
				})
			}
			sg := func(desc string) string { return s.idBy(t, stack, "AWS::EC2::SecurityGroup", "GroupDescription", desc) }
			alb, backend := sg("commander load balancer"), sg("commander backend tasks")
			assertWebFromAnywhere(t, s, stack, alb)
			assertOnlyFrom(t, s, stack, backend, alb, 8000)
			assertOnlyFrom(t, s, stack, sg("commander qdrant tasks"), backend, 6333)
			assertOnlyFrom(t, s, stack, sg("commander postgres (postgres)"), backend, 5432)
			assertOnlyFrom(t, s, stack, sg("commander redis (redis)"), backend, 6379)
			assertNoEgress(t, s, stack, sg("commander postgres (postgres)"))
			assertNoEgress(t, s, stack, sg("commander redis (redis)"))
			if s.outputs(t, stack)["VpcId"] == nil {
				t.Error("VpcId output missing")
			}
		})
	}
}

func TestCommanderDatabase(t *testing.T) {
	tests := []struct {
		env, class, deletion string
		multiAZ              bool
		backups              int
	}{
		{"dev", "db.t4g.micro", "Delete", false, 1},
		{"staging", "db.t4g.small", "Snapshot", false, 7},
		{"prod", "db.t4g.medium", "Retain", true, 30},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			s := synth(t, commanderContext(tt.env))
			stack := "CommanderDatabaseStack-" + tt.env
			tmpl := s.template(t, stack)
			tmpl.props("AWS::RDS::DBParameterGroup", map[string]any{
				"Family": "postgres16", "Parameters": map[string]any{"shared_preload_libraries": "vector"},
			})
			tmpl.resource("AWS::RDS::DBInstance", map[string]any{
				"DeletionPolicy": tt.deletion,
				"Properties": like(map[string]any{
					"Engine":                "postgres",
					"EngineVersion":         matching(`^16(\.|$)`),
					"DBInstanceClass":       tt.class,
					"MultiAZ":               tt.multiAZ,
					"StorageEncrypted":      true,
					"PubliclyAccessible":    false,
					"BackupRetentionPeriod": tt.backups,
					"DBName":                "commander_ai",
					"DBParameterGroupName":  map[string]any{"Ref": matching("^PostgresParameterGroup")},
				}),
			})
			tmpl.props("AWS::RDS::DBSubnetGroup", map[string]any{
				"SubnetIds": assertions.Match_Not(arrayWith(map[string]any{"Fn::ImportValue": matching("Private|Public")})),
			})
			tmpl.props("AWS::RDS::DBSubnetGroup", map[string]any{
				"SubnetIds": arrayWith(map[string]any{"Fn::ImportValue": matching("VpcIsolatedSubnet1")}),
			})
			tmpl.props("AWS::SecretsManager::Secret", map[string]any{
				"GenerateSecretString": like(map[string]any{"SecretStringTemplate": `{"username":"commander"}`, "GenerateStringKey": "password"}),
			})
			out := s.outputs(t, stack)
			if out["PostgresEndpoint"] == nil || out["PostgresSecretArn"] == nil {
				t.Errorf("outputs = %s, want PostgresEndpoint and PostgresSecretArn", js(out))
			}
		})
	}
}

func TestCommanderCache(t *testing.T) {
	tests := []struct {
		env      string
		nodes    int
		failover bool
	}{{"dev", 1, false}, {"prod", 2, true}}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			s := synth(t, commanderContext(tt.env))
			stack := "CommanderCacheStack-" + tt.env
			s.template(t, stack).props("AWS::ElastiCache::ReplicationGroup", map[string]any{
				"Engine":                   "redis",
				"EngineVersion":            "7.1",
				"TransitEncryptionEnabled": true,
				"AtRestEncryptionEnabled":  true,
				"NumCacheClusters":         tt.nodes,
				"AutomaticFailoverEnabled": tt.failover,
				"MultiAZEnabled":           tt.failover,
			})
			if s.outputs(t, stack)["RedisEndpoint"] == nil {
				t.Error("RedisEndpoint output missing")
			}
		})
	}
}

func TestCommanderQdrant(t *testing.T) {
	s := synth(t, commanderContext("dev"))
	const stack = "CommanderQdrantStack-dev"
	tmpl := s.template(t, stack)
	_, td := s.only(t, stack, "AWS::ECS::TaskDefinition")
	c := td["ContainerDefinitions"].([]any)[0].(map[string]any)
	if c["Image"] != cmdQdrant || td["Family"] != "commander-dev-qdrant" {
		t.Errorf("image/family = %v/%v", c["Image"], td["Family"])
	}
	if !strings.Contains(js(c["HealthCheck"]), "6333") {
		t.Errorf("health check = %s, want a probe of 6333", js(c["HealthCheck"]))
	}
	tmpl.props("AWS::ServiceDiscovery::PrivateDnsNamespace", map[string]any{"Name": "commander-dev.internal"})
	tmpl.props("AWS::ServiceDiscovery::Service", map[string]any{
		"Name": "qdrant", "DnsConfig": like(map[string]any{"DnsRecords": []any{map[string]any{"TTL": 10, "Type": "A"}}}),
	})
	tmpl.props("AWS::ECS::Service", map[string]any{
		"LoadBalancers":                 assertions.Match_Absent(),
		"ServiceRegistries":             arrayWith(like(map[string]any{})),
		"HealthCheckGracePeriodSeconds": 60,
		"DeploymentConfiguration": like(map[string]any{
			"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true},
			"MinimumHealthyPercent":    0,
			"MaximumPercent":           100,
		}),
	})
	// An image outside ECR gets no repository and no pull grant.
	tmpl.count("AWS::ECR::Repository", 0)
	out := s.outputs(t, stack)
	assertServiceOutputs(t, out, "Qdrant", "commander-dev-qdrant")
	if out["QdrantUrl"] != "http://qdrant.commander-dev.internal:6333" {
		t.Errorf("QdrantUrl = %v", out["QdrantUrl"])
	}
}

func TestCommanderBackend(t *testing.T) {
	s := synth(t, commanderContext("dev"))
	const stack = "CommanderBackendStack-dev"
	tmpl := s.template(t, stack)
	_, td := s.only(t, stack, "AWS::ECS::TaskDefinition")
	c := td["ContainerDefinitions"].([]any)[0].(map[string]any)
	if c["Image"] != cmdBackend {
		t.Errorf("image = %v, want %s", c["Image"], cmdBackend)
	}
	env := containerEnv(c)
	if _, ok := env["DATABASE_URL"]; ok {
		t.Error("DATABASE_URL is set: the password must only come as a secret")
	}
	for name, frag := range map[string]string{
		"DB_HOST":     "Endpoint",
		"DB_PORT":     "Endpoint",
		"DB_NAME":     "commander_ai",
		"DB_USER":     "commander",
		"REDIS_URL":   "rediss://",
		"QDRANT_URL":  "http://qdrant.commander-dev.internal:6333",
		"ENVIRONMENT": "development",
	} {
		if !strings.Contains(env[name], frag) {
			t.Errorf("%s = %s, want it to contain %s", name, env[name], frag)
		}
	}
	for name, value := range env {
		if strings.Contains(strings.ToLower(value), "password") || strings.Contains(value, "SecretString") {
			t.Errorf("environment %s carries a secret: %s", name, value)
		}
	}
	secrets := map[string]string{}
	for _, sec := range c["Secrets"].([]any) {
		kv := sec.(map[string]any)
		secrets[kv["Name"].(string)] = js(kv["ValueFrom"])
	}
	for name, frags := range map[string][]string{
		"DB_PASSWORD":    {"PostgresSecret", ":password::"},
		"OPENAI_API_KEY": {"secret:commander-ai/openai", ":api_key::"},
		"TAVILY_API_KEY": {"secret:commander-ai/tavily", ":api_key::"},
		"SECRET_KEY":     {"secret:commander-ai/jwt-secret", ":secret_key::"},
	} {
		for _, frag := range frags {
			if !strings.Contains(secrets[name], frag) {
				t.Errorf("secret %s = %s, want it to contain %s", name, secrets[name], frag)
			}
		}
	}
	tmpl.props("AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{"Port": 8000, "HealthCheckPath": "/health"})
	tmpl.props("AWS::ECS::Service", map[string]any{
		"DeploymentConfiguration": like(map[string]any{
			"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true},
			"MinimumHealthyPercent":    100,
			"MaximumPercent":           200,
		}),
		"HealthCheckGracePeriodSeconds": 60,
	})
	tmpl.props("AWS::ApplicationAutoScaling::ScalingPolicy", map[string]any{
		"TargetTrackingScalingPolicyConfiguration": like(map[string]any{
			"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
			"TargetValue":                   70,
		}),
	})
	out := s.outputs(t, stack)
	assertServiceOutputs(t, out, "Backend", "commander-dev-backend")
	for _, key := range []string{"LoadBalancerDNS", "HealthUrl"} {
		if out[key] == nil {
			t.Errorf("output %s missing", key)
		}
	}
}

func TestCommanderWebSocket(t *testing.T) {
	s := synth(t, commanderContext("dev"))
	const stack = "CommanderWebSocketStack-dev"
	tmpl := s.template(t, stack)
	tmpl.props("AWS::ApiGatewayV2::Api", map[string]any{"ProtocolType": "WEBSOCKET"})
	tmpl.props("AWS::ApiGatewayV2::Stage", map[string]any{"StageName": "dev", "AutoDeploy": true})
	integrations := s.resources(t, stack, "AWS::ApiGatewayV2::Integration")
	routes := s.resources(t, stack, "AWS::ApiGatewayV2::Route")
	want := map[string]string{"$connect": "/ws/connect", "$disconnect": "/ws/disconnect", "$default": "/ws/message"}
	if len(routes) != len(want) {
		t.Fatalf("%d routes, want %d", len(routes), len(want))
	}
	for _, r := range routes {
		key := r["RouteKey"].(string)
		target := js(r["Target"])
		var found bool
		for id, in := range integrations {
			if !strings.Contains(target, `"Ref":"`+id+`"`) {
				continue
			}
			found = true
			uri := js(in["IntegrationUri"])
			if in["IntegrationType"] != "HTTP_PROXY" || !strings.Contains(uri, "AlbLoadBalancer") || !strings.Contains(uri, want[key]) {
				t.Errorf("route %s integration = %s", key, js(in))
			}
		}
		if !found {
			t.Errorf("route %s targets no integration: %s", key, target)
		}
	}
	tmpl.props("AWS::IAM::Policy", map[string]any{
		"PolicyDocument": like(map[string]any{"Statement": []any{like(map[string]any{"Action": "execute-api:ManageConnections"})}}),
		"Roles":          []any{map[string]any{"Fn::ImportValue": matching("BackendTaskRole")}},
	})
}

func TestCommanderMonitoring(t *testing.T) {
	tests := []struct {
		name string
		ctx  map[string]string
		subs int
	}{
		{"without email", commanderContext("dev"), 0},
		{"with monitoring.email", ctx(variant(commanderDescription, "  monitoring: {}", "  monitoring: {email: ops@example.com}"), "prod", "image.backend", cmdBackend, "image.qdrant", cmdQdrant), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := synth(t, tt.ctx).template(t, "CommanderMonitoringStack-"+tt.ctx["env"])
			tmpl.props("AWS::CloudWatch::Alarm", map[string]any{
				"Namespace":         "AWS/ApplicationELB",
				"MetricName":        "HTTPCode_Target_5XX_Count",
				"Threshold":         10,
				"EvaluationPeriods": 2,
				"AlarmActions":      []any{map[string]any{"Ref": matching("^AlarmTopic")}},
				"Dimensions":        arrayWith(like(map[string]any{"Name": "TargetGroup"})),
			})
			tmpl.count("AWS::SNS::Topic", 1)
			tmpl.count("AWS::CloudWatch::Dashboard", 1)
			tmpl.count("AWS::SNS::Subscription", tt.subs)
			if tt.subs > 0 {
				tmpl.props("AWS::SNS::Subscription", map[string]any{"Protocol": "email", "Endpoint": "ops@example.com"})
			}
		})
	}
}
