package builtin

import (
	"fmt"
	"github.com/stevedore-ci/stevedore/pipelines/contract"

	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// shop is a description nobody wrote for this repository: three services
// (a public API on /api/*, a Spot worker, an internal search engine),
// postgres, redis, a DynamoDB table, a frontend, monitoring, no NAT, and
// the environment qa (base staging) with its own sizes.
func shop(t *testing.T) *synthesized {
	t.Helper()
	return synth(t, ctx(shopDescription, "qa"))
}

func TestShopStacks(t *testing.T) {
	want := "ShopNetworkStack-qa,ShopDatabaseStack-qa,ShopCacheStack-qa,ShopDataStack-qa,ShopServicesStack-qa,ShopFrontendStack-qa,ShopMonitoringStack-qa"
	if got := strings.Join(shop(t).names, ","); got != want {
		t.Fatalf("stacks = %s, want %s", got, want)
	}
}

func TestShopNetworkWithoutNAT(t *testing.T) {
	s := shop(t)
	const stack = "ShopNetworkStack-qa"
	tmpl := s.template(t, stack)
	tmpl.count("AWS::EC2::NatGateway", 0)
	tmpl.props("AWS::EC2::VPC", map[string]any{"CidrBlock": "10.20.0.0/16"})
	services := strings.Join(endpointServices(t, s, stack), " ")
	for _, svc := range []string{"ecr.api", "ecr.dkr", "logs", "secretsmanager", `.s3"`, `.dynamodb"`} {
		if !strings.Contains(services, svc) {
			t.Errorf("no %s endpoint in %s", svc, services)
		}
	}
	sg := func(desc string) string { return s.idBy(t, stack, "AWS::EC2::SecurityGroup", "GroupDescription", desc) }
	api, worker, search := sg("shop api tasks"), sg("shop worker tasks"), sg("shop search tasks")
	assertOnlyFrom(t, s, stack, search, api, 7700)
	assertOnlyFrom(t, s, stack, sg("shop cache (redis)"), api, 6379, worker)
	assertOnlyFrom(t, s, stack, sg("shop db (postgres)"), api, 5432, worker)
	assertNoEgress(t, s, stack, sg("shop db (postgres)"))
	if rules := ingressOf(t, s, stack, worker); len(rules) != 0 {
		t.Errorf("the worker takes traffic: %s", js(rules))
	}
}

// endpointServices returns the service names of the VPC endpoints of a stack, as JSON.
func endpointServices(t *testing.T, s *synthesized, stack string) []string {
	t.Helper()
	var names []string
	for _, ep := range s.resources(t, stack, "AWS::EC2::VPCEndpoint") {
		names = append(names, js(ep["ServiceName"]))
	}
	return names
}

func TestShopData(t *testing.T) {
	s := shop(t)
	s.template(t, "ShopDatabaseStack-qa").resource("AWS::RDS::DBInstance", map[string]any{
		"DeletionPolicy": "Snapshot",
		"Properties": like(map[string]any{
			"DBInstanceClass": "db.t4g.micro", "AllocatedStorage": "50", "MultiAZ": false, "DBName": "shop",
			"MasterUsername": "shop", "EngineVersion": "16", "BackupRetentionPeriod": 7,
		}),
	})
	// pg_trgm is no preload library: no parameter group, the extension is
	// enabled by the migration and named in an output.
	s.template(t, "ShopDatabaseStack-qa").count("AWS::RDS::DBParameterGroup", 0)
	if got := s.outputs(t, "ShopDatabaseStack-qa")["DbExtensions"]; got != "pg_trgm" {
		t.Errorf("DbExtensions = %v", got)
	}
	s.template(t, "ShopCacheStack-qa").props("AWS::ElastiCache::ReplicationGroup", map[string]any{
		"EngineVersion": "7.1", "TransitEncryptionEnabled": true, "AtRestEncryptionEnabled": true,
		"NumCacheClusters": 2, "CacheNodeType": "cache.t4g.small", "SnapshotRetentionLimit": 1,
	})
	s.template(t, "ShopDataStack-qa").props("AWS::DynamoDB::Table", map[string]any{
		"KeySchema":                        []any{map[string]any{"AttributeName": "cartId", "KeyType": "HASH"}},
		"BillingMode":                      "PAY_PER_REQUEST",
		"TimeToLiveSpecification":          map[string]any{"AttributeName": "expiresAt", "Enabled": true},
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
	})
}

// container returns the single container of the task definition with family.
func container(t *testing.T, s *synthesized, stack, family string) map[string]any {
	t.Helper()
	for _, td := range s.resources(t, stack, "AWS::ECS::TaskDefinition") {
		if td["Family"] == family {
			return td["ContainerDefinitions"].([]any)[0].(map[string]any)
		}
	}
	t.Fatalf("%s: no task definition %s", stack, family)
	return nil
}

func TestShopServices(t *testing.T) {
	s := shop(t)
	const stack = "ShopServicesStack-qa"
	tmpl := s.template(t, stack)
	tmpl.count("AWS::ECS::Service", 3)
	api := container(t, s, stack, "shop-qa-api")
	env := containerEnv(api)
	for name, frag := range map[string]string{
		"DB_HOST": "EndpointAddress", "DB_NAME": "shop", "DB_USER": "shop", "REDIS_URL": "rediss://",
		"DYNAMODB_TABLE": "Carts", "DB_EXTENSIONS": "pg_trgm", "SEARCH_URL": "http://search.shop-qa.internal:7700", "PORT": "8080",
	} {
		if !strings.Contains(env[name], frag) {
			t.Errorf("api %s = %s, want it to contain %s", name, env[name], frag)
		}
	}
	secrets := js(api["Secrets"])
	for _, frag := range []string{`"Name":"STRIPE_KEY"`, "secret:shop/stripe", ":api_key::", `"Name":"DB_PASSWORD"`, ":password::"} {
		if !strings.Contains(secrets, frag) {
			t.Errorf("api secrets %s lack %s", secrets, frag)
		}
	}
	worker := containerEnv(container(t, s, stack, "shop-qa-worker"))
	if _, ok := worker["SEARCH_URL"]; ok || worker["DB_HOST"] == "" || worker["DYNAMODB_TABLE"] != "" {
		t.Errorf("worker env = %v: only what it uses", worker)
	}
	tmpl.props("AWS::ECS::Service", map[string]any{
		"CapacityProviderStrategy": []any{map[string]any{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}},
		"LaunchType":               assertions.Match_Absent(),
	})
	tmpl.props("AWS::ECS::ClusterCapacityProviderAssociations", map[string]any{"CapacityProviders": arrayWith("FARGATE_SPOT")})
	search := container(t, s, stack, "shop-qa-search")
	if !strings.Contains(js(search["HealthCheck"]), "curl -f http://localhost:7700/health") {
		t.Errorf("search health check = %s", js(search["HealthCheck"]))
	}
	tmpl.props("AWS::ECS::TaskDefinition", map[string]any{"Family": "shop-qa-search", "EphemeralStorage": map[string]any{"SizeInGiB": 30}})
	tmpl.props("AWS::ServiceDiscovery::Service", map[string]any{"Name": "search"})
	tmpl.props("AWS::ECS::TaskDefinition", map[string]any{"Family": "shop-qa-api", "Cpu": "512", "Memory": "1024"})
	// The qa override: 1 to 2 tasks, the description's targets kept.
	tmpl.props("AWS::ApplicationAutoScaling::ScalableTarget", map[string]any{"MinCapacity": 1, "MaxCapacity": 2})
	tmpl.props("AWS::ApplicationAutoScaling::ScalingPolicy", map[string]any{
		"TargetTrackingScalingPolicyConfiguration": like(map[string]any{
			"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}, "TargetValue": 60,
		}),
	})
	tmpl.props("AWS::ApplicationAutoScaling::ScalingPolicy", map[string]any{
		"TargetTrackingScalingPolicyConfiguration": like(map[string]any{
			"PredefinedMetricSpecification": like(map[string]any{"PredefinedMetricType": "ALBRequestCountPerTarget"}), "TargetValue": 500,
		}),
	})
	// The API alone may use the carts table.
	var tablePolicies []string
	for _, p := range s.resources(t, stack, "AWS::IAM::Policy") {
		if doc := js(p["PolicyDocument"]); strings.Contains(doc, "dynamodb:PutItem") {
			tablePolicies = append(tablePolicies, js(p["Roles"]))
		}
	}
	if len(tablePolicies) != 1 || !strings.Contains(tablePolicies[0], "ApiTaskRole") {
		t.Errorf("table grants = %v, want the api task role only", tablePolicies)
	}
	// One public service on /api/*: a listener rule, and 404 elsewhere.
	tmpl.props("AWS::ElasticLoadBalancingV2::ListenerRule", map[string]any{
		"Conditions": []any{map[string]any{"Field": "path-pattern", "PathPatternConfig": map[string]any{"Values": []any{"/api/*"}}}},
		"Priority":   10,
	})
	tmpl.props("AWS::ElasticLoadBalancingV2::Listener", map[string]any{
		"DefaultActions": []any{like(map[string]any{"Type": "fixed-response", "FixedResponseConfig": like(map[string]any{"StatusCode": "404"})})},
	})
	tmpl.props("AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{"Port": 8080, "HealthCheckPath": "/healthz"})
	if health := js(s.outputs(t, stack)["HealthUrl"]); !strings.Contains(health, `"/api/healthz"`) {
		t.Errorf("HealthUrl = %s, want the api's health path under its route", health)
	}
}

func TestShopMonitoring(t *testing.T) {
	tmpl := shop(t).template(t, "ShopMonitoringStack-qa")
	tmpl.props("AWS::SNS::Subscription", map[string]any{"Protocol": "email", "Endpoint": "ops@shop.example"})
	tmpl.props("AWS::CloudWatch::Alarm", map[string]any{"MetricName": "HTTPCode_Target_5XX_Count", "Threshold": 10, "EvaluationPeriods": 2})
	tmpl.props("AWS::CloudWatch::Alarm", map[string]any{"MetricName": "UnHealthyHostCount", "Threshold": 1, "Statistic": "Maximum"})
	tmpl.props("AWS::CloudWatch::Dashboard", map[string]any{"DashboardName": "shop-qa"})
}

func TestSeveralPublicServices(t *testing.T) {
	desc := variant(shopDescription, "    spot: true\n", "    spot: true\n    public: true\n    health: /up\n    host: jobs.shop.example\n")
	c := ctx(desc, "qa")
	for _, svc := range []string{"api", "worker", "search"} {
		c["image."+svc] = testAccount + ".dkr.ecr.us-east-1.amazonaws.com/shop-" + svc + "@sha256:" + strings.Repeat("5", 64)
	}
	tmpl := synth(t, c).template(t, "ShopServicesStack-qa")
	tmpl.count("AWS::ElasticLoadBalancingV2::LoadBalancer", 1)
	tmpl.count("AWS::ElasticLoadBalancingV2::TargetGroup", 2)
	tmpl.props("AWS::ElasticLoadBalancingV2::ListenerRule", map[string]any{
		"Conditions": []any{map[string]any{"Field": "host-header", "HostHeaderConfig": map[string]any{"Values": []any{"jobs.shop.example"}}}},
		"Priority":   20,
	})
	tmpl.props("AWS::ElasticLoadBalancingV2::TargetGroup", map[string]any{"Port": 9000, "HealthCheckPath": "/up"})
}

func TestResourceOptions(t *testing.T) {
	desc := variant(shopDescription, "    carts: {type: dynamodb, partitionKey: cartId, ttl: expiresAt}\n",
		"    carts: {type: dynamodb, partitionKey: cartId, sortKey: itemId, pointInTimeRecovery: false}\n"+
			"    users: {type: cognito, passwordLength: 16, threatProtection: false, selfSignUp: true, identityPool: false}\n"+
			"    uploads: {type: bucket, versioned: true, envPrefix: UPLOADS_}\n")
	desc2 := variant(desc, "uses: [db, cache, carts, search]", "uses: [db, cache, carts, search, users, uploads]")
	desc3 := variant(desc2, "  frontend: {}\n", "  frontend: {domain: shop.example.com, certificateArn: \"arn:aws:acm:us-east-1:123456789012:certificate/abc-123\"}\n")
	c := ctx(desc3, "prod")
	for _, svc := range []string{"api", "worker", "search"} {
		c["image."+svc] = testAccount + ".dkr.ecr.us-east-1.amazonaws.com/shop-" + svc + "@sha256:" + strings.Repeat("5", 64)
	}
	s := synth(t, c)
	s.template(t, "ShopDataStack-prod").resource("AWS::DynamoDB::Table", map[string]any{
		"DeletionPolicy": "Retain",
		"Properties": like(map[string]any{
			"KeySchema":                        []any{map[string]any{"AttributeName": "cartId", "KeyType": "HASH"}, map[string]any{"AttributeName": "itemId", "KeyType": "RANGE"}},
			"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": false},
			"TimeToLiveSpecification":          assertions.Match_Absent(),
			"DeletionProtectionEnabled":        true,
		}),
	})
	s.template(t, "ShopDataStack-prod").props("AWS::S3::Bucket", map[string]any{"VersioningConfiguration": map[string]any{"Status": "Enabled"}})
	auth := s.template(t, "ShopAuthStack-prod")
	auth.props("AWS::Cognito::UserPool", map[string]any{
		"Policies":              map[string]any{"PasswordPolicy": like(map[string]any{"MinimumLength": 16, "RequireSymbols": true})},
		"UserPoolAddOns":        assertions.Match_Absent(),
		"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": false},
		"DeletionProtection":    "ACTIVE",
	})
	auth.count("AWS::Cognito::IdentityPool", 0)
	env := containerEnv(container(t, s, "ShopServicesStack-prod", "shop-prod-api"))
	for _, name := range []string{"USER_POOL_ID", "USER_POOL_CLIENT_ID", "UPLOADS_BUCKET_NAME"} {
		if env[name] == "" {
			t.Errorf("api lacks %s: %v", name, env)
		}
	}
	if _, ok := env["IDENTITY_POOL_ID"]; ok {
		t.Error("IDENTITY_POOL_ID set without an identity pool")
	}
	s.template(t, "ShopFrontendStack-prod").props("AWS::CloudFront::Distribution", map[string]any{
		"DistributionConfig": like(map[string]any{
			"Aliases":           []any{"shop.example.com"},
			"ViewerCertificate": like(map[string]any{"AcmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc-123"}),
		}),
	})
	if got := s.outputs(t, "ShopFrontendStack-prod")["FrontendUrl"]; got != "https://shop.example.com" {
		t.Errorf("FrontendUrl = %v", got)
	}
	// prod sizes of the preset where qa had overrides.
	s.template(t, "ShopDatabaseStack-prod").props("AWS::RDS::DBInstance", map[string]any{"DBInstanceClass": "db.t4g.medium", "MultiAZ": true, "DeletionProtection": true})
}

func TestMissingImagesFailBeforeSynth(t *testing.T) {
	c := ctx(shopDescription, "qa")
	delete(c, "image.worker")
	c["image.search"] = "search:latest"
	c["image.api"] = "docker.io/shop/api@sha256:" + strings.Repeat("6", 64)
	_, err := FromContext(nil, func(k string) (string, bool) { v, ok := c[k]; return v, ok }, nil)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"image.worker is missing: pass -c image.worker=", `image.search: image "search:latest" is not digest-pinned`,
		`image.api "docker.io/shop/api@sha256:` + strings.Repeat("6", 64) + `" is not in ECR, but natGateways 0 leaves the tasks no route`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// The local target synthesizes against its embedded registry: a network
// without NAT gateways accepts those images (the templates are never
// deployed).
func TestLocalImagesWithoutNAT(t *testing.T) {
	c := ctx(shopDescription, "qa")
	for _, svc := range []string{"api", "worker", "search"} {
		c["image."+svc] = contract.LocalRegistryHost + "/shop-" + svc + "@sha256:" + strings.Repeat("7", 64)
	}
	s := synth(t, c)
	if api := container(t, s, "ShopServicesStack-qa", "shop-qa-api"); !strings.HasPrefix(fmt.Sprint(api["Image"]), contract.LocalRegistryHost+"/shop-api@") {
		t.Errorf("api image = %v", api["Image"])
	}
}

func TestPinnedZones(t *testing.T) {
	desc := variant(shopDescription, "  network: {azs: 2, natGateways: 0, cidr: 10.20.0.0/16}", "  network: {zones: [us-east-1a, us-east-1b, us-east-1c], natGateways: 1}")
	c := ctx(desc, "qa")
	for _, svc := range []string{"api", "worker", "search"} {
		c["image."+svc] = testAccount + ".dkr.ecr.us-east-1.amazonaws.com/shop-" + svc + "@sha256:" + strings.Repeat("5", 64)
	}
	s := synth(t, c)
	zones := map[string]bool{}
	for _, sub := range s.resources(t, "ShopNetworkStack-qa", "AWS::EC2::Subnet") {
		zones[sub["AvailabilityZone"].(string)] = true
	}
	if len(zones) != 3 || !zones["us-east-1c"] {
		t.Errorf("zones = %v, want the three pinned ones", zones)
	}
	s.template(t, "ShopNetworkStack-qa").count("AWS::EC2::NatGateway", 1)
	s.template(t, "ShopNetworkStack-qa").count("AWS::EC2::VPCEndpoint", 0)
}
