package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// GitHub's OIDC issuer and the audience aws-actions/configure-aws-credentials asks for.
const (
	githubIssuer   = "token.actions.githubusercontent.com"
	githubAudience = "sts.amazonaws.com"
	// cdkQualifier is the default bootstrap qualifier in the bootstrap role names.
	cdkQualifier = "hnb659fds"
)

// NewGithubDeploy creates StevedoreGithubDeployStack-<env>: the GitHub
// OIDC provider (or an imported one) and the role the pipeline assumes.
// Every permission is scoped by the physical names the app stacks fix
// (config/names.go), so this stack references none of them and can be
// deployed first, before any image exists.
func NewGithubDeploy(scope constructs.Construct, s config.Settings, env *awscdk.Environment) awscdk.Stack {
	name := config.GithubStackName(s.Env.Name)
	stack := awscdk.NewStack(scope, &name, &awscdk.StackProps{
		StackName:   &name,
		Env:         env,
		Description: jsii.String("GitHub Actions OIDC deploy role for " + s.Github.Repo),
	})
	providerArn := s.Github.OIDCProviderArn
	if providerArn == "" {
		provider := awsiam.NewOidcProviderNative(stack, jsii.String("GithubOidcProvider"), &awsiam.OidcProviderNativeProps{
			Url:       jsii.String("https://" + githubIssuer),
			ClientIds: jsii.Strings(githubAudience),
		})
		providerArn = *provider.OidcProviderArn()
	}
	role := awsiam.NewRole(stack, jsii.String("DeployRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewWebIdentityPrincipal(&providerArn, &map[string]interface{}{
			"StringEquals": map[string]interface{}{
				githubIssuer + ":aud": githubAudience,
				githubIssuer + ":sub": githubSubjects(s),
			},
		}),
		Description:        jsii.String(fmt.Sprintf("stevedore deploys of %s %s from %s", s.App.Name, s.Env.Name, s.Github.Repo)),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	for _, st := range deployStatements(stack, s) {
		role.AddToPolicy(st)
	}
	parts.Output(stack, "DeployRoleArn", *role.RoleArn(), "role-to-assume for aws-actions/configure-aws-credentials")
	parts.Output(stack, "GithubOidcProviderArn", providerArn, "GitHub OIDC provider (pass as githubOidcProviderArn to other environments' stacks)")
	return stack
}

// githubSubjects are the token subjects allowed to assume the role: pushes
// to the branch and/or jobs bound to the GitHub environment named like env.
func githubSubjects(s config.Settings) []string {
	branch := fmt.Sprintf("repo:%s:ref:refs/heads/%s", s.Github.Repo, s.Github.Branch)
	environment := fmt.Sprintf("repo:%s:environment:%s", s.Github.Repo, s.Env.Name)
	switch s.Github.Trust {
	case config.TrustBranch:
		return []string{branch}
	case config.TrustEnvironment:
		return []string{environment}
	default:
		return []string{branch, environment}
	}
}

// deployStatements is the least the pipeline needs: push images, roll the
// services out, run one-off tasks, let CloudFormation work through the CDK
// bootstrap roles, read stack outputs, publish the frontend.
func deployStatements(stack awscdk.Stack, s config.Settings) []awsiam.PolicyStatement {
	a := arns{stack}
	cluster := config.ClusterName(s.App, s.Env.Name)
	clusterArn := a.regional("ecs", "cluster/"+cluster)

	var repos, families []string
	for _, svc := range s.App.Services {
		repos = append(repos, a.regional("ecr", "repository/"+s.Repositories[svc.Key]))
		families = append(families, a.regional("ecs", "task-definition/"+config.TaskFamily(s.App, s.Env.Name, svc)+":*"))
	}
	statements := []awsiam.PolicyStatement{
		statement("EcrLogin", []string{"ecr:GetAuthorizationToken"}, []string{"*"}, nil),
		statement("EcrPushPull", []string{
			"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
			"ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
			"ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:CreateRepository",
			"ecr:PutLifecyclePolicy", "ecr:DescribeImageScanFindings",
		}, repos, nil),
		statement("EcsRollout", []string{"ecs:UpdateService", "ecs:DescribeServices"},
			[]string{a.regional("ecs", "service/"+cluster+"/*")}, nil),
		// ECS offers no resource-level permission for these two; iam:PassRole below is the gate.
		statement("EcsTaskDefinitions", []string{"ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"}, []string{"*"}, nil),
		statement("EcsRunTask", []string{"ecs:RunTask"}, families,
			map[string]interface{}{"ArnEquals": map[string]interface{}{"ecs:cluster": clusterArn}}),
		statement("EcsTasks", []string{"ecs:DescribeTasks"}, []string{a.regional("ecs", "task/"+cluster+"/*")}, nil),
		statement("EcsListTasks", []string{"ecs:ListTasks"}, []string{"*"},
			map[string]interface{}{"ArnEquals": map[string]interface{}{"ecs:cluster": clusterArn}}),
		statement("EcsTagOnCreate", []string{"ecs:TagResource"}, append(append([]string{}, families...), a.regional("ecs", "task/"+cluster+"/*")),
			map[string]interface{}{"StringEquals": map[string]interface{}{"ecs:CreateAction": []string{"RegisterTaskDefinition", "RunTask"}}}),
		statement("PassTaskRoles", []string{"iam:PassRole"},
			[]string{a.account("iam", "role"+config.RolePath(s.App, s.Env.Name)+"*")},
			map[string]interface{}{"StringEquals": map[string]interface{}{"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
		statement("CdkBootstrapRoles", []string{"sts:AssumeRole"},
			[]string{a.account("iam", fmt.Sprintf("role/cdk-%s-*-%s-%s", cdkQualifier, *stack.Account(), *stack.Region()))}, nil),
		statement("ReadStackOutputs", []string{"cloudformation:DescribeStacks"},
			[]string{a.regional("cloudformation", fmt.Sprintf("stack/%s*Stack-%s/*", s.App.StackPrefix, s.Env.Name))}, nil),
	}
	if s.Frontend {
		bucket := fmt.Sprintf("arn:%s:s3:::%s", *stack.Partition(), config.FrontendBucketName(s.App, s.Env.Name, *stack.Account(), *stack.Region()))
		distributions := "distribution/*"
		if s.Github.DistributionID != "" {
			distributions = "distribution/" + s.Github.DistributionID
		}
		statements = append(statements,
			statement("FrontendBucket", []string{"s3:ListBucket"}, []string{bucket}, nil),
			statement("FrontendObjects", []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, []string{bucket + "/*"}, nil),
			statement("FrontendInvalidation", []string{"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"},
				[]string{a.account("cloudfront", distributions)}, nil),
		)
	}
	return statements
}

func statement(sid string, actions, resources []string, conditions map[string]interface{}) awsiam.PolicyStatement {
	props := &awsiam.PolicyStatementProps{
		Sid:       &sid,
		Actions:   jsii.Strings(actions...),
		Resources: jsii.Strings(resources...),
	}
	if conditions != nil {
		props.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(props)
}

// arns builds ARNs in the stack's partition, account and region (tokens
// when the stack is environment-agnostic).
type arns struct{ stack awscdk.Stack }

// regional builds an ARN in the stack's region.
func (a arns) regional(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", *a.stack.Partition(), service, *a.stack.Region(), *a.stack.Account(), resource)
}

// account builds an ARN without region (IAM, CloudFront).
func (a arns) account(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s::%s:%s", *a.stack.Partition(), service, *a.stack.Account(), resource)
}
