package builtin

import (
	"fmt"
	"strings"
	"testing"
)

const (
	githubRepo  = "acme/shop"
	importedArn = "arn:aws:iam::" + testAccount + ":oidc-provider/token.actions.githubusercontent.com"
)

// githubOnly is the bootstrap case: the role before any image exists.
func githubOnly() map[string]string {
	return map[string]string{"stevedore:description": caoDescription, "env": "prod", "githubRepo": githubRepo}
}

// githubWithApp deploys commander and its role together, with an imported provider.
func githubWithApp() map[string]string {
	return commanderContext("dev", "githubRepo", githubRepo, "githubTrust", "environment",
		"githubOidcProviderArn", importedArn, "distributionId", "E2QWRUHAPOMQZL")
}

// statements returns the deploy role's policy statements.
func statements(t *testing.T, s *synthesized, stack string) []map[string]any {
	t.Helper()
	_, policy := s.only(t, stack, "AWS::IAM::Policy")
	var out []map[string]any
	for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
		out = append(out, st.(map[string]any))
	}
	return out
}

// pseudo are the values of CloudFormation pseudo parameters in the env-aware tests.
var pseudo = map[string]string{
	"AWS::Partition": "aws", "AWS::AccountId": testAccount, "AWS::Region": testRegion, "AWS::URLSuffix": "amazonaws.com",
}

// flatten renders a policy value as a string, resolving Fn::Join over
// literals and pseudo parameters; any other intrinsic stays JSON.
func flatten(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok && pseudo[ref] != "" {
			return pseudo[ref]
		}
		if join, ok := x["Fn::Join"].([]any); ok && join[0] == "" {
			var b strings.Builder
			for _, part := range join[1].([]any) {
				b.WriteString(flatten(part))
			}
			return b.String()
		}
	}
	return js(v)
}

// list normalizes a string-or-list policy field, flattening each entry.
func list(v any) []string {
	if items, ok := v.([]any); ok {
		var out []string
		for _, e := range items {
			out = append(out, flatten(e))
		}
		return out
	}
	return []string{flatten(v)}
}

func TestGithubDeployStackSelection(t *testing.T) {
	tests := []struct {
		name string
		ctx  map[string]string
		want []string
	}{
		{"bootstrap without images", githubOnly(), []string{"StevedoreGithubDeployStack-prod"}},
		{"alongside the app", githubWithApp(), []string{
			"CommanderNetworkStack-dev", "CommanderDatabaseStack-dev", "CommanderCacheStack-dev", "CommanderQdrantStack-dev",
			"CommanderBackendStack-dev", "CommanderFrontendStack-dev", "CommanderWebSocketStack-dev", "CommanderMonitoringStack-dev",
			"StevedoreGithubDeployStack-dev",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := synthWith(t, tt.ctx, true).names
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("stacks = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestGithubDeployTrust(t *testing.T) {
	tests := []struct {
		name, stack string
		ctx         map[string]string
		subjects    []string
		providers   int
		federated   string
	}{
		{"branch and environment, new provider", "StevedoreGithubDeployStack-prod", githubOnly(),
			[]string{"repo:acme/shop:ref:refs/heads/main", "repo:acme/shop:environment:prod"}, 1, `{"Ref":"GithubOidcProvider`},
		{"environment only, imported provider", "StevedoreGithubDeployStack-dev", githubWithApp(),
			[]string{"repo:acme/shop:environment:dev"}, 0, `"` + importedArn + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthWith(t, tt.ctx, true)
			tmpl := s.template(t, tt.stack)
			tmpl.count("AWS::IAM::OIDCProvider", tt.providers)
			if tt.providers == 1 {
				tmpl.props("AWS::IAM::OIDCProvider", map[string]any{
					"Url": "https://token.actions.githubusercontent.com", "ClientIdList": []any{"sts.amazonaws.com"},
				})
			}
			_, role := s.only(t, tt.stack, "AWS::IAM::Role")
			trust := role["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
			if len(trust) != 1 {
				t.Fatalf("%d trust statements, want 1", len(trust))
			}
			st := trust[0].(map[string]any)
			if st["Action"] != "sts:AssumeRoleWithWebIdentity" || !strings.HasPrefix(js(st["Principal"]), `{"Federated":`+tt.federated) {
				t.Errorf("trust = %s", js(st))
			}
			cond := st["Condition"].(map[string]any)
			if len(cond) != 1 || cond["StringEquals"] == nil {
				t.Fatalf("conditions = %s, want StringEquals only", js(cond))
			}
			eq := cond["StringEquals"].(map[string]any)
			if eq["token.actions.githubusercontent.com:aud"] != "sts.amazonaws.com" {
				t.Errorf("aud = %v", eq["token.actions.githubusercontent.com:aud"])
			}
			if got := list(eq["token.actions.githubusercontent.com:sub"]); strings.Join(got, ",") != strings.Join(tt.subjects, ",") {
				t.Errorf("sub = %v, want %v", got, tt.subjects)
			}
			if s.outputs(t, tt.stack)["DeployRoleArn"] == nil {
				t.Error("DeployRoleArn output missing")
			}
		})
	}
}

func TestGithubDeployLeastPrivilege(t *testing.T) {
	s := synthWith(t, githubOnly(), true)
	const stack = "StevedoreGithubDeployStack-prod"
	// ECS and ECR allow nothing narrower for these; everything else is scoped.
	starAllowed := map[string]bool{
		"ecr:GetAuthorizationToken": true, "ecs:RegisterTaskDefinition": true,
		"ecs:DescribeTaskDefinition": true, "ecs:ListTasks": true, "ecs:ListTaskDefinitions": true,
	}
	byAction := map[string][]string{}
	for _, st := range statements(t, s, stack) {
		if st["Effect"] != "Allow" {
			t.Errorf("unexpected effect in %s", js(st))
		}
		resources := list(st["Resource"])
		for _, action := range list(st["Action"]) {
			if action == "*" || strings.HasSuffix(action, ":*") || strings.Contains(action, "*") {
				t.Errorf("wildcard action %q", action)
			}
			for _, r := range resources {
				if r == "*" && !starAllowed[action] {
					t.Errorf("%s on Resource *", action)
				}
			}
			byAction[action] = append(byAction[action], resources...)
		}
		if list(st["Action"])[0] == "ecs:ListTasks" && !strings.Contains(js(st["Condition"]), "cluster/cao-prod") {
			t.Errorf("ListTasks not limited to the cluster: %s", js(st))
		}
	}
	arn := func(format string, a ...any) string {
		return fmt.Sprintf(format, a...)
	}
	want := map[string]string{
		"ecr:PutImage":                   arn("arn:aws:ecr:%s:%s:repository/cao-server,arn:aws:ecr:%s:%s:repository/cao-site", testRegion, testAccount, testRegion, testAccount),
		"ecr:BatchGetImage":              arn("arn:aws:ecr:%s:%s:repository/cao-server,arn:aws:ecr:%s:%s:repository/cao-site", testRegion, testAccount, testRegion, testAccount),
		"ecr:CreateRepository":           arn("arn:aws:ecr:%s:%s:repository/cao-server,arn:aws:ecr:%s:%s:repository/cao-site", testRegion, testAccount, testRegion, testAccount),
		"ecs:UpdateService":              arn("arn:aws:ecs:%s:%s:service/cao-prod/*", testRegion, testAccount),
		"ecs:DescribeServices":           arn("arn:aws:ecs:%s:%s:service/cao-prod/*", testRegion, testAccount),
		"ecs:RunTask":                    arn("arn:aws:ecs:%s:%s:task-definition/cao-prod-backend:*", testRegion, testAccount),
		"ecs:DescribeTasks":              arn("arn:aws:ecs:%s:%s:task/cao-prod/*", testRegion, testAccount),
		"iam:PassRole":                   arn("arn:aws:iam::%s:role/stevedore/cao/prod/*", testAccount),
		"sts:AssumeRole":                 arn("arn:aws:iam::%s:role/cdk-hnb659fds-*-%s-%s", testAccount, testAccount, testRegion),
		"cloudformation:DescribeStacks":  arn("arn:aws:cloudformation:%s:%s:stack/CAO*Stack-prod/*", testRegion, testAccount),
		"s3:ListBucket":                  arn("arn:aws:s3:::cao-prod-frontend-%s-%s", testAccount, testRegion),
		"s3:PutObject":                   arn("arn:aws:s3:::cao-prod-frontend-%s-%s/*", testAccount, testRegion),
		"s3:DeleteObject":                arn("arn:aws:s3:::cao-prod-frontend-%s-%s/*", testAccount, testRegion),
		"cloudfront:CreateInvalidation":  arn("arn:aws:cloudfront::%s:distribution/*", testAccount),
		"ssm:PutParameter":               arn("arn:aws:ssm:%s:%s:parameter/stevedore/cao/*", testRegion, testAccount),
		"ssm:GetParametersByPath":        arn("arn:aws:ssm:%s:%s:parameter/stevedore/cao/*", testRegion, testAccount),
		"ssm:GetParameter":               arn("arn:aws:ssm:%s:%s:parameter/stevedore/cao/*,arn:aws:ssm:%s:%s:parameter/cdk-bootstrap/hnb659fds/version", testRegion, testAccount, testRegion, testAccount),
		"cloudformation:DeleteChangeSet": arn("arn:aws:cloudformation:%s:%s:stack/CAO*Stack-prod/*", testRegion, testAccount),
		"ecs:ListServiceDeployments":     arn("arn:aws:ecs:%s:%s:service/cao-prod/*", testRegion, testAccount),
	}
	for action, resource := range want {
		if got := byAction[action]; strings.Join(got, ",") != resource {
			t.Errorf("%s on %v, want %s", action, got, resource)
		}
	}
	var passRole map[string]any
	for _, st := range statements(t, s, stack) {
		if st["Action"] == "iam:PassRole" {
			passRole = st
		}
	}
	if js(passRole["Condition"]) != `{"StringEquals":{"iam:PassedToService":"ecs-tasks.amazonaws.com"}}` {
		t.Errorf("PassRole condition = %s", js(passRole["Condition"]))
	}
}

// TestGithubDeployMatchesAppNames checks the role's patterns against the
// names the app stacks really use, so neither side can drift alone.
func TestGithubDeployMatchesAppNames(t *testing.T) {
	s := synthWith(t, githubWithApp(), true)
	byAction := map[string]string{}
	for _, st := range statements(t, s, "StevedoreGithubDeployStack-dev") {
		for _, a := range list(st["Action"]) {
			byAction[a] = strings.Join(list(st["Resource"]), ",")
		}
	}
	_, bucket := s.only(t, "CommanderFrontendStack-dev", "AWS::S3::Bucket")
	if want := "arn:aws:s3:::" + fmt.Sprint(bucket["BucketName"]); byAction["s3:ListBucket"] != want {
		t.Errorf("s3:ListBucket on %s, frontend bucket is %s", byAction["s3:ListBucket"], want)
	}
	if !strings.HasSuffix(byAction["cloudfront:CreateInvalidation"], ":distribution/E2QWRUHAPOMQZL") {
		t.Errorf("CreateInvalidation on %s, want the distributionId of the context", byAction["cloudfront:CreateInvalidation"])
	}
	for _, stack := range []string{"CommanderQdrantStack-dev", "CommanderBackendStack-dev"} {
		for id, role := range s.resources(t, stack, "AWS::IAM::Role") {
			pattern := strings.TrimSuffix(byAction["iam:PassRole"], "*")
			if !strings.HasSuffix(pattern, ":role"+fmt.Sprint(role["Path"])) {
				t.Errorf("%s/%s path %v is outside iam:PassRole %s", stack, id, role["Path"], byAction["iam:PassRole"])
			}
		}
		_, td := s.only(t, stack, "AWS::ECS::TaskDefinition")
		if !strings.Contains(byAction["ecs:RunTask"], "task-definition/"+fmt.Sprint(td["Family"])+":*") {
			t.Errorf("RunTask on %s misses family %v", byAction["ecs:RunTask"], td["Family"])
		}
	}
	_, cluster := s.only(t, "CommanderQdrantStack-dev", "AWS::ECS::Cluster")
	if !strings.HasSuffix(byAction["ecs:UpdateService"], ":service/"+fmt.Sprint(cluster["ClusterName"])+"/*") {
		t.Errorf("UpdateService on %s, cluster is %v", byAction["ecs:UpdateService"], cluster["ClusterName"])
	}
	for _, repo := range []string{"repository/commander-ai-backend", "repository/commander-ai-qdrant"} {
		if !strings.Contains(byAction["ecr:PutImage"], repo) {
			t.Errorf("ecr:PutImage on %s misses %s", byAction["ecr:PutImage"], repo)
		}
	}
}
