package builtin

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// assertServiceOutputs checks the outputs the pipeline reads for one service.
func assertServiceOutputs(t *testing.T, out map[string]any, title, family string) {
	t.Helper()
	for _, key := range []string{"ClusterName", title + "ServiceName"} {
		if out[key] == nil {
			t.Errorf("output %s missing", key)
		}
	}
	if out[title+"TaskFamily"] != family {
		t.Errorf("%sTaskFamily = %v, want %s", title, out[title+"TaskFamily"], family)
	}
}

func TestCAOStackNames(t *testing.T) {
	tests := []struct {
		name string
		ctx  map[string]string
		want []string
	}{
		{"dev", caoContext("dev"), []string{"CAONetworkStack-dev", "CAOAuthStack-dev", "CAOInfrastructureStack-dev", "CAOFrontendStack-dev"}},
		{"prod with frontend", caoContext("prod"), []string{"CAONetworkStack-prod", "CAOAuthStack-prod", "CAOInfrastructureStack-prod", "CAOFrontendStack-prod"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := synth(t, tt.ctx).names
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("stacks = %v, want %v", got, tt.want)
			}
		})
	}
}

// ingressOf returns every ingress rule of a security group, inline or separate.
func ingressOf(t *testing.T, s *synthesized, stack, group string) []map[string]any {
	t.Helper()
	var rules []map[string]any
	if inline, ok := s.resources(t, stack, "AWS::EC2::SecurityGroup")[group]["SecurityGroupIngress"].([]any); ok {
		for _, r := range inline {
			rules = append(rules, r.(map[string]any))
		}
	}
	for _, props := range s.resources(t, stack, "AWS::EC2::SecurityGroupIngress") {
		if js(props["GroupId"]) == js(getAtt(group, "GroupId")) {
			rules = append(rules, props)
		}
	}
	return rules
}

// assertOnlyFrom checks a group's ingress is exactly tcp port from the
// source group and the more groups, one rule each.
func assertOnlyFrom(t *testing.T, s *synthesized, stack, group, source string, port float64, more ...string) {
	t.Helper()
	sources := append([]string{source}, more...)
	rules := ingressOf(t, s, stack, group)
	if len(rules) != len(sources) {
		t.Fatalf("%d ingress rules, want %d: %s", len(rules), len(sources), js(rules))
	}
	seen := map[string]bool{}
	for _, r := range rules {
		if r["FromPort"] != port || r["ToPort"] != port || r["IpProtocol"] != "tcp" {
			t.Errorf("rule = %s, want tcp %v", js(r), port)
		}
		seen[js(r["SourceSecurityGroupId"])] = true
	}
	for _, src := range sources {
		if !seen[js(getAtt(src, "GroupId"))] {
			t.Errorf("no rule from %s: %s", src, js(rules))
		}
	}
}

// assertNoEgress checks a group keeps CDK's disallow-all egress only.
func assertNoEgress(t *testing.T, s *synthesized, stack, group string) {
	t.Helper()
	egress := js(s.resources(t, stack, "AWS::EC2::SecurityGroup")[group]["SecurityGroupEgress"])
	if !strings.Contains(egress, "255.255.255.255/32") || strings.Contains(egress, "0.0.0.0/0") {
		t.Errorf("egress = %s, want only the disallow-all rule", egress)
	}
}

// assertWebFromAnywhere checks a group takes 80 and 443 from 0.0.0.0/0 and nothing else.
func assertWebFromAnywhere(t *testing.T, s *synthesized, stack, group string) {
	t.Helper()
	ports := map[float64]bool{}
	for _, rule := range ingressOf(t, s, stack, group) {
		if rule["CidrIp"] != "0.0.0.0/0" {
			t.Errorf("rule from %v, want 0.0.0.0/0", rule["CidrIp"])
		}
		ports[rule["FromPort"].(float64)] = true
	}
	if len(ports) != 2 || !ports[80] || !ports[443] {
		t.Errorf("ports = %v, want 80 and 443", ports)
	}
}

func TestCAOSecurityGroups(t *testing.T) {
	s := synth(t, caoContext("dev"))
	const stack = "CAONetworkStack-dev"
	alb := s.idBy(t, stack, "AWS::EC2::SecurityGroup", "GroupDescription", "cao load balancer")
	tasks := s.idBy(t, stack, "AWS::EC2::SecurityGroup", "GroupDescription", "cao backend tasks")
	redis := s.idBy(t, stack, "AWS::EC2::SecurityGroup", "GroupDescription", "cao redis (redis)")

	t.Run("alb takes 80 and 443 from anywhere", func(t *testing.T) { assertWebFromAnywhere(t, s, stack, alb) })
	t.Run("tasks take 9889 from the alb only", func(t *testing.T) { assertOnlyFrom(t, s, stack, tasks, alb, 9889) })
	t.Run("redis takes 6379 from the tasks only", func(t *testing.T) { assertOnlyFrom(t, s, stack, redis, tasks, 6379) })
	t.Run("redis sends nothing", func(t *testing.T) { assertNoEgress(t, s, stack, redis) })
}

func TestCAOUserPool(t *testing.T) {
	tmpl := synth(t, caoContext("dev")).template(t, "CAOAuthStack-dev")
	tmpl.props("AWS::Cognito::UserPool", map[string]any{
		"Policies": map[string]any{"PasswordPolicy": map[string]any{
			"MinimumLength":                 12,
			"RequireLowercase":              true,
			"RequireUppercase":              true,
			"RequireNumbers":                true,
			"RequireSymbols":                true,
			"TemporaryPasswordValidityDays": 3,
		}},
		"UserPoolAddOns":        map[string]any{"AdvancedSecurityMode": "ENFORCED"},
		"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": true},
	})
	tmpl.count("AWS::Cognito::UserPoolClient", 1)
	tmpl.props("AWS::Cognito::IdentityPool", map[string]any{
		"AllowUnauthenticatedIdentities": false,
		"CognitoIdentityProviders":       arrayWith(like(map[string]any{"ClientId": map[string]any{"Ref": matching("^UserPoolClient")}})),
	})
	out := synth(t, caoContext("dev")).outputs(t, "CAOAuthStack-dev")
	for _, key := range []string{"UserPoolId", "UserPoolClientId", "IdentityPoolId"} {
		if out[key] == nil {
			t.Errorf("output %s missing", key)
		}
	}
}

func TestCAOTargetGroup(t *testing.T) {
	tmpl := synth(t, caoContext("dev")).template(t, "CAOInfrastructureStack-dev")
	attr := func(k, v string) any { return like(map[string]any{"Key": k, "Value": v}) }
	tmpl.props("AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{
		"Port":            9889,
		"Protocol":        "HTTP",
		"TargetType":      "ip",
		"HealthCheckPath": "/health",
		"TargetGroupAttributes": arrayWith(
			attr("stickiness.enabled", "true"),
			attr("stickiness.type", "app_cookie"),
			attr("stickiness.app_cookie.cookie_name", "cao-session"),
			attr("stickiness.app_cookie.duration_seconds", "3600"),
		),
	})
	tmpl.props("AWS::ElasticLoadBalancingV2::LoadBalancer", map[string]any{"Scheme": "internet-facing"})
	tmpl.props("AWS::ElasticLoadBalancingV2::Listener", map[string]any{"Port": 80, "Protocol": "HTTP"})
}

func TestCAOAutoscaling(t *testing.T) {
	tests := []struct {
		env      string
		min, max int
	}{
		{"dev", 1, 2},
		{"prod", 2, 10},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			tmpl := synth(t, caoContext(tt.env)).template(t, "CAOInfrastructureStack-"+tt.env)
			tmpl.props("AWS::ApplicationAutoScaling::ScalableTarget", map[string]any{
				"MinCapacity": tt.min, "MaxCapacity": tt.max, "ScalableDimension": "ecs:service:DesiredCount",
				// No schedule unless scheduledScaleIn=true.
				"ScheduledActions": assertions.Match_Absent(),
			})
			tmpl.props("AWS::ApplicationAutoScaling::ScalingPolicy", map[string]any{
				"TargetTrackingScalingPolicyConfiguration": like(map[string]any{
					"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "ECSServiceAverageCPUUtilization"},
					"TargetValue":                   70,
				}),
			})
			tmpl.props("AWS::ApplicationAutoScaling::ScalingPolicy", map[string]any{
				"TargetTrackingScalingPolicyConfiguration": like(map[string]any{
					"PredefinedMetricSpecification": like(map[string]any{"PredefinedMetricType": "ALBRequestCountPerTarget"}),
					"TargetValue":                   1000,
				}),
			})
		})
	}
}

func TestCAOSessionTable(t *testing.T) {
	tests := []struct{ env, deletion string }{{"dev", "Delete"}, {"prod", "Retain"}}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			tmpl := synth(t, caoContext(tt.env)).template(t, "CAOInfrastructureStack-"+tt.env)
			tmpl.resource("AWS::DynamoDB::Table", map[string]any{
				"DeletionPolicy": tt.deletion,
				"Properties": like(map[string]any{
					"BillingMode":                      "PAY_PER_REQUEST",
					"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
					"TimeToLiveSpecification":          map[string]any{"AttributeName": "expiresAt", "Enabled": true},
				}),
			})
		})
	}
}

// containerEnv returns the environment of the single container of a task definition.
func containerEnv(container map[string]any) map[string]string {
	env := map[string]string{}
	for _, e := range container["Environment"].([]any) {
		kv := e.(map[string]any)
		env[kv["Name"].(string)] = js(kv["Value"])
	}
	return env
}

func TestCAOTaskDefinition(t *testing.T) {
	tests := []struct {
		env       string
		retention int
	}{{"dev", 7}, {"prod", 90}}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			s := synth(t, caoContext(tt.env))
			stack := "CAOInfrastructureStack-" + tt.env
			_, td := s.only(t, stack, "AWS::ECS::TaskDefinition")
			if td["Family"] != "cao-"+tt.env+"-backend" || td["Cpu"] != "1024" || td["Memory"] != "2048" {
				t.Errorf("family/cpu/memory = %v/%v/%v", td["Family"], td["Cpu"], td["Memory"])
			}
			c := td["ContainerDefinitions"].([]any)[0].(map[string]any)
			if c["Image"] != caoImage {
				t.Errorf("image = %v, want the context digest ref %s", c["Image"], caoImage)
			}
			env := containerEnv(c)
			want := map[string]string{
				"PORT":           `"9889"`,
				"USER_POOL_ID":   "ImportValue",
				"DYNAMODB_TABLE": `{"Ref":"SessionTable`,
				"REDIS_HOST":     "PrimaryEndPoint.Address",
				"REDIS_PORT":     "PrimaryEndPoint.Port",
			}
			for name, frag := range want {
				if !strings.Contains(env[name], frag) {
					t.Errorf("%s = %s, want it to contain %s", name, env[name], frag)
				}
			}
			if js(c["PortMappings"]) != `[{"ContainerPort":9889,"Protocol":"tcp"}]` {
				t.Errorf("port mappings = %s", js(c["PortMappings"]))
			}
			s.template(t, stack).props("AWS::Logs::LogGroup", map[string]any{
				"LogGroupName": "/ecs/cao-server/" + tt.env, "RetentionInDays": tt.retention,
			})
			for id, role := range s.resources(t, stack, "AWS::IAM::Role") {
				if role["Path"] != "/stevedore/cao/"+tt.env+"/" {
					t.Errorf("role %s path = %v, want /stevedore/cao/%s/", id, role["Path"], tt.env)
				}
			}
		})
	}
}

func TestCAOServiceDeployment(t *testing.T) {
	tmpl := synth(t, caoContext("dev")).template(t, "CAOInfrastructureStack-dev")
	tmpl.props("AWS::ECS::Service", map[string]any{
		"LaunchType":                    "FARGATE",
		"HealthCheckGracePeriodSeconds": 60,
		"DeploymentConfiguration": like(map[string]any{
			"DeploymentCircuitBreaker": map[string]any{"Enable": true, "Rollback": true},
			"MinimumHealthyPercent":    100,
			"MaximumPercent":           200,
		}),
		"NetworkConfiguration": map[string]any{"AwsvpcConfiguration": like(map[string]any{"AssignPublicIp": "DISABLED"})},
	})
	tmpl.props("AWS::ECS::Cluster", map[string]any{"ClusterName": "cao-dev"})
}

func TestCAORepository(t *testing.T) {
	t.Run("imported by default with pull rights", func(t *testing.T) {
		s := synth(t, caoContext("dev"))
		const stack = "CAOInfrastructureStack-dev"
		s.template(t, stack).count("AWS::ECR::Repository", 0)
		var pull string
		for _, p := range s.resources(t, stack, "AWS::IAM::Policy") {
			if doc := js(p["PolicyDocument"]); strings.Contains(doc, "ecr:BatchGetImage") {
				pull = doc
			}
		}
		if !strings.Contains(pull, "arn:aws:ecr:us-east-1:"+testAccount+":repository/cao-server") {
			t.Errorf("execution role pull policy = %s, want it on the cao-server repository of the image", pull)
		}
	})
}

func TestCAORedis(t *testing.T) {
	tests := []struct {
		env      string
		nodes    int
		failover bool
	}{{"dev", 1, false}, {"prod", 2, true}}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			tmpl := synth(t, caoContext(tt.env)).template(t, "CAOInfrastructureStack-"+tt.env)
			tmpl.props("AWS::ElastiCache::ReplicationGroup", map[string]any{
				"Engine":                   "redis",
				"NumCacheClusters":         tt.nodes,
				"AutomaticFailoverEnabled": tt.failover,
				"MultiAZEnabled":           tt.failover,
				"AtRestEncryptionEnabled":  true,
				"SecurityGroupIds":         []any{map[string]any{"Fn::ImportValue": matching("RedisSecurityGroup")}},
			})
			tmpl.props("AWS::ElastiCache::SubnetGroup", map[string]any{
				"SubnetIds": arrayWith(map[string]any{"Fn::ImportValue": matching("VpcPrivateSubnet1")}),
			})
		})
	}
}

func TestCAOOutputs(t *testing.T) {
	out := synth(t, caoContext("dev")).outputs(t, "CAOInfrastructureStack-dev")
	assertServiceOutputs(t, out, "Backend", "cao-dev-backend")
	if out["LoadBalancerDNS"] == nil {
		t.Error("output LoadBalancerDNS missing")
	}
	health := js(out["HealthUrl"])
	if !strings.Contains(health, `"http://"`) || !strings.Contains(health, `"/health"`) || !strings.Contains(health, "DNSName") {
		t.Errorf("HealthUrl = %s, want http://<alb dns>/health", health)
	}
}
