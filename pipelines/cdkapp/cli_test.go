package cdkapp

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

func TestCLIArgs(t *testing.T) {
	if got, want := strings.Join(SynthArgs("/cdk.out", ""), " "), "cdk synth --output /cdk.out --quiet --no-notices --no-version-reporting"; got != want {
		t.Errorf("synth = %s\nwant    %s", got, want)
	}
	if got, want := strings.Join(SynthArgs("/cdk.out", "/usr/local/bin/cdk-app"), " "), "cdk synth --output /cdk.out --quiet --app /usr/local/bin/cdk-app --no-notices --no-version-reporting"; got != want {
		t.Errorf("go synth = %s\nwant       %s", got, want)
	}
	deploy := strings.Join(OnAssembly("/cdk.out", DeployArgs()...), " ")
	if want := "cdk deploy --all --require-approval never --progress events --app /cdk.out --no-notices --no-version-reporting"; deploy != want {
		t.Errorf("deploy = %s\nwant     %s", deploy, want)
	}
	args, err := DestroyArgs([]string{"Backend-pr-7", "Network-pr-7"})
	if err != nil {
		t.Fatal(err)
	}
	destroy := strings.Join(OnAssembly("/cdk.out", args...), " ")
	if want := "cdk destroy --force --exclusively Backend-pr-7 Network-pr-7 --app /cdk.out --no-notices --no-version-reporting"; destroy != want {
		t.Errorf("destroy = %s\nwant      %s", destroy, want)
	}
	if slices.Contains(args, "--all") {
		t.Error("destroy must never select --all")
	}
	if _, err := DestroyArgs(nil); err == nil {
		t.Error("destroy of no stack must fail, not select everything")
	}
}

func TestCLIEnv(t *testing.T) {
	got := CLIEnv(appspec.Env{Name: "prod", Account: "123456789012", Region: "eu-west-1"}, "us-east-1")
	want := map[string]string{"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1", "CDK_DEFAULT_REGION": "eu-west-1", "CDK_DEFAULT_ACCOUNT": "123456789012"}
	if !maps.Equal(got, want) {
		t.Errorf("env = %v, want %v", got, want)
	}
	if got := CLIEnv(appspec.Env{Name: "pr-7"}, "us-east-1"); got["AWS_REGION"] != "us-east-1" || got["CDK_DEFAULT_ACCOUNT"] != "" {
		t.Errorf("undeclared region/account: %v", got)
	}
}

func TestPlanDestroy(t *testing.T) {
	plain := func(s string) Template { return template(s, `{"Resources":{"Q":{"Type":"AWS::ECS::Service"}}}`) }
	ecr := template("Registry", `{"Resources":{"Repo":{"Type":"AWS::ECR::Repository"}}}`)
	backend := plain("Backend-pr-7")
	backend.ID = "BackendStack"
	p, err := PlanDestroy("pr-7", []Template{ecr, plain("Network-pr-7"), plain("Qdrant-pr-7"), backend, plain("GithubDeployRole")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Backend-pr-7", "Qdrant-pr-7", "Network-pr-7"}; !slices.Equal(p.Delete, want) {
		t.Errorf("delete = %v, want %v (reverse deploy order, env stacks only)", p.Delete, want)
	}
	if want := []string{"BackendStack", "Qdrant-pr-7", "Network-pr-7"}; !slices.Equal(p.Selectors, want) {
		t.Errorf("selectors = %v, want %v (the CLI selects by artifact ID)", p.Selectors, want)
	}
	if want := []string{"GithubDeployRole", "Registry"}; !slices.Equal(p.Keep, want) {
		t.Errorf("keep = %v, want %v", p.Keep, want)
	}
	for _, w := range []string{"destroy pr-7: 3 stacks deleted", "  - Backend-pr-7\n", "kept (not named after the environment):\n  - GithubDeployRole", "ECR image repositories"} {
		if !strings.Contains(p.String(), w) {
			t.Errorf("plan text lacks %q:\n%s", w, p)
		}
	}

	// An environment's stack holding a repository would delete its images.
	_, err = PlanDestroy("pr-7", []Template{template("App-pr-7", `{"Resources":{"Repo":{"Type":"AWS::ECR::Repository"}}}`)})
	if err == nil || !strings.Contains(err.Error(), "stack App-pr-7 holds the ECR repository Repo") {
		t.Errorf("ECR in an env stack: %v", err)
	}
	// A retained repository survives the stack: allowed.
	if _, err := PlanDestroy("pr-7", []Template{template("App-pr-7", `{"Resources":{"Repo":{"Type":"AWS::ECR::Repository","DeletionPolicy":"Retain"}}}`)}); err != nil {
		t.Errorf("retained repository: %v", err)
	}
	if _, err := PlanDestroy("pr-7", []Template{template("Shared", `{}`)}); err == nil || !strings.Contains(err.Error(), "no stack of the pr-7 assembly is named after the environment") {
		t.Errorf("nothing named after the env: %v", err)
	}
}

// The plan names each stateful resource of the deleted stacks with what
// its DeletionPolicy does to its data, as CloudFormation applies it.
func TestPlanDestroyData(t *testing.T) {
	data := template("Data-pr-7", `{"Resources":{
		"Db":{"Type":"AWS::RDS::DBInstance","DeletionPolicy":"Delete"},
		"Snap":{"Type":"AWS::RDS::DBInstance","DeletionPolicy":"Snapshot"},
		"NoPolicyDb":{"Type":"AWS::RDS::DBInstance"},
		"Member":{"Type":"AWS::RDS::DBInstance","Properties":{"DBClusterIdentifier":{"Ref":"Cluster"}}},
		"Cluster":{"Type":"AWS::RDS::DBCluster"},
		"Table":{"Type":"AWS::DynamoDB::Table"},
		"Bucket":{"Type":"AWS::S3::Bucket","DeletionPolicy":"Retain"},
		"Pool":{"Type":"AWS::Cognito::UserPool","DeletionPolicy":"RetainExceptOnCreate"},
		"Role":{"Type":"AWS::IAM::Role"}}}`)
	shared := template("Shared", `{"Resources":{"Kept":{"Type":"AWS::S3::Bucket"}}}`)
	p, err := PlanDestroy("pr-7", []Template{shared, data})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Db": DataDeleted, "Snap": DataSnapshot, "NoPolicyDb": DataSnapshot, "Member": DataDeleted,
		"Cluster": DataSnapshot, "Table": DataDeleted, "Bucket": DataKept, "Pool": DataKept,
	}
	got := map[string]string{}
	for _, d := range p.Data {
		if d.Stack != "Data-pr-7" {
			t.Errorf("%s of stack %s listed: only the deleted stacks' data goes", d.ID, d.Stack)
		}
		got[d.ID] = d.Fate
	}
	if !maps.Equal(got, want) {
		t.Errorf("data = %v, want %v", got, want)
	}
	text := p.String()
	for _, w := range []string{
		"data deleted with the stacks, for good (removal policy destroy):\n  - Db (AWS::RDS::DBInstance) in Data-pr-7\n  - Member (AWS::RDS::DBInstance) in Data-pr-7\n  - Table (AWS::DynamoDB::Table) in Data-pr-7\n",
		"deleted after a final snapshot, which is kept (removal policy snapshot):\n  - Cluster (AWS::RDS::DBCluster) in Data-pr-7\n",
		"kept, not deleted (removal policy retain): they stay in the account after destroy:\n  - Bucket (AWS::S3::Bucket) in Data-pr-7\n  - Pool (AWS::Cognito::UserPool) in Data-pr-7\n",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("plan text lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "Role") || strings.Contains(text, "no stateful resource") {
		t.Errorf("plan text lists a stateless resource or denies the data:\n%s", text)
	}
	none, err := PlanDestroy("pr-7", []Template{template("App-pr-7", `{"Resources":{"Role":{"Type":"AWS::IAM::Role"}}}`)})
	if err != nil || !strings.Contains(none.String(), "no stateful resource") {
		t.Errorf("a plan without data does not say so: %v\n%s", err, none)
	}
}

func TestBelongsTo(t *testing.T) {
	for _, tc := range []struct {
		stack, env string
		want       bool
	}{
		{"CommanderNetworkStack-pr-7", "pr-7", true},
		{"CommanderNetworkStack-pr-77", "pr-7", false},
		{"pr-7-Network", "pr-7", true},
		{"App-pr-7-Db", "pr-7", true},
		{"CAOInfrastructureStack-prod", "prod", true},
		{"CommanderEcrStack", "dev", false},
		{"Network-dev", "prod", false},
	} {
		if got := BelongsTo(tc.stack, tc.env); got != tc.want {
			t.Errorf("BelongsTo(%q, %q) = %v", tc.stack, tc.env, got)
		}
	}
}
