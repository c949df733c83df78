package builtin

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
)

// Context keys of the GitHub deploy role stack.
const (
	KeyGithubRepo            = "githubRepo"
	KeyGithubOIDCProviderArn = "githubOidcProviderArn"
	KeyGithubTrust           = "githubTrust"
	KeyGithubBranch          = "githubBranch"
	KeyDistributionID        = "distributionId"
)

// GitHub trust choices: which OIDC subjects may assume the deploy role.
const (
	TrustBoth        = "both"
	TrustBranch      = "branch"
	TrustEnvironment = "environment"
)

// GitHub's OIDC issuer, the audience configure-aws-credentials asks for,
// and the default CDK bootstrap qualifier.
const (
	githubIssuer   = "token.actions.githubusercontent.com"
	githubAudience = "sts.amazonaws.com"
	cdkQualifier   = "hnb659fds"
)

var (
	githubRepoRe   = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$`)
	branchRe       = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
	oidcArnRe      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\.actions\.githubusercontent\.com$`)
	distributionRe = regexp.MustCompile(`^[A-Z0-9]{10,20}$`)
)

// Github configures the deploy role: who may assume it.
type Github struct {
	Repo, OIDCProviderArn, Trust, Branch, DistributionID string
}

// parseGithub reads the deploy role keys; nil when githubRepo is not set.
func parseGithub(lookup Lookup) (*Github, error) {
	str := func(k string) string {
		v, _ := lookup(k)
		return strings.TrimSpace(v)
	}
	g := &Github{Repo: str(KeyGithubRepo), OIDCProviderArn: str(KeyGithubOIDCProviderArn), Trust: str(KeyGithubTrust), Branch: str(KeyGithubBranch), DistributionID: str(KeyDistributionID)}
	if g.Repo == "" {
		return nil, nil
	}
	var problems []string
	if !githubRepoRe.MatchString(g.Repo) {
		problems = append(problems, fmt.Sprintf("githubRepo %q is not owner/name: pass -c githubRepo=my-org/my-repo", g.Repo))
	}
	if g.OIDCProviderArn != "" && !oidcArnRe.MatchString(g.OIDCProviderArn) {
		problems = append(problems, fmt.Sprintf("githubOidcProviderArn %q is not a GitHub OIDC provider ARN: leave it out to create one", g.OIDCProviderArn))
	}
	if g.Trust == "" {
		g.Trust = TrustBoth
	}
	if g.Trust != TrustBoth && g.Trust != TrustBranch && g.Trust != TrustEnvironment {
		problems = append(problems, fmt.Sprintf("githubTrust %q is not valid: pass -c githubTrust=%s|%s|%s", g.Trust, TrustBoth, TrustBranch, TrustEnvironment))
	}
	if g.Branch == "" {
		g.Branch = "main"
	}
	if !branchRe.MatchString(g.Branch) || strings.Contains(g.Branch, "*") {
		problems = append(problems, fmt.Sprintf("githubBranch %q is not a plain branch name: pass -c githubBranch=main", g.Branch))
	}
	if g.DistributionID != "" && !distributionRe.MatchString(g.DistributionID) {
		problems = append(problems, fmt.Sprintf("distributionId %q is not a CloudFront distribution ID (the DistributionId output)", g.DistributionID))
	}
	if len(problems) > 0 {
		return nil, errors.New("invalid CDK context: " + strings.Join(problems, "; "))
	}
	return g, nil
}

// NewGithubDeploy creates StevedoreGithubDeployStack-<env>: the GitHub OIDC
// provider (or an imported one) and the role the pipeline assumes. Every
// permission is derived from the plan's physical names (repositories,
// cluster, task families, role path, stacks, frontend bucket), so this
// stack references no other and can be deployed first.
func NewGithubDeploy(scope constructs.Construct, plan *appspec.Plan, g *Github, env *awscdk.Environment) awscdk.Stack {
	name := "StevedoreGithubDeployStack-" + plan.Env.Name
	stack := awscdk.NewStack(scope, &name, &awscdk.StackProps{
		StackName: &name, Env: env, Description: jsii.String("GitHub Actions OIDC deploy role for " + g.Repo),
	})
	providerArn := g.OIDCProviderArn
	if providerArn == "" {
		provider := awsiam.NewOidcProviderNative(stack, jsii.String("GithubOidcProvider"), &awsiam.OidcProviderNativeProps{
			Url: jsii.String("https://" + githubIssuer), ClientIds: jsii.Strings(githubAudience),
		})
		providerArn = *provider.OidcProviderArn()
	}
	role := awsiam.NewRole(stack, jsii.String("DeployRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewWebIdentityPrincipal(&providerArn, &map[string]interface{}{
			"StringEquals": map[string]interface{}{
				githubIssuer + ":aud": githubAudience,
				githubIssuer + ":sub": githubSubjects(plan, g),
			},
		}),
		Description:        jsii.String(fmt.Sprintf("stevedore deploys of %s %s from %s", plan.App, plan.Env.Name, g.Repo)),
		MaxSessionDuration: awscdk.Duration_Hours(jsii.Number(1)),
	})
	for _, st := range deployStatements(stack, plan, g) {
		role.AddToPolicy(st)
	}
	output(stack, "DeployRoleArn", role.RoleArn(), "role-to-assume for aws-actions/configure-aws-credentials")
	output(stack, "GithubOidcProviderArn", &providerArn, "GitHub OIDC provider (pass as githubOidcProviderArn to other environments' stacks)")
	return stack
}

func githubSubjects(plan *appspec.Plan, g *Github) []string {
	branch := fmt.Sprintf("repo:%s:ref:refs/heads/%s", g.Repo, g.Branch)
	environment := fmt.Sprintf("repo:%s:environment:%s", g.Repo, plan.Env.Name)
	switch g.Trust {
	case TrustBranch:
		return []string{branch}
	case TrustEnvironment:
		return []string{environment}
	}
	return []string{branch, environment}
}

// deployStatements is the least the pipeline needs for this description:
// push its images, roll its services out, run one-off tasks in its
// cluster, let CloudFormation work through the bootstrap roles, read its
// stacks' outputs and, with a frontend, publish the site.
func deployStatements(stack awscdk.Stack, plan *appspec.Plan, g *Github) []awsiam.PolicyStatement {
	a := arns{stack}
	cluster := plan.ClusterName()
	clusterArn := a.regional("ecs", "cluster/"+cluster)
	var repos, families, secrets []string
	for _, s := range plan.Services {
		repos = append(repos, a.regional("ecr", "repository/"+s.Repository))
		families = append(families, a.regional("ecs", "task-definition/"+plan.TaskFamily(s.Name)+":*"))
		for _, ref := range s.Secrets {
			// Secrets Manager appends six random characters to the name.
			if arn := a.regional("secretsmanager", "secret:"+ref.Secret+"-??????"); !slices.Contains(secrets, arn) {
				secrets = append(secrets, arn)
			}
		}
	}
	if plan.Frontend != nil {
		// The built site is pushed as an image too (promote and rollback
		// republish it by digest).
		repos = append(repos, a.regional("ecr", "repository/"+(&appspec.App{Name: plan.App}).SiteRepository()))
	}
	stacks := a.regional("cloudformation", fmt.Sprintf("stack/%s*Stack-%s/*", plan.StackPrefix, plan.Env.Name))
	statements := []awsiam.PolicyStatement{
		statement("EcrLogin", []string{"ecr:GetAuthorizationToken"}, []string{"*"}, nil),
		statement("EcrPushPull", []string{
			"ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
			"ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
			"ecr:DescribeImages", "ecr:DescribeRepositories", "ecr:CreateRepository",
			"ecr:PutLifecyclePolicy", "ecr:DescribeImageScanFindings",
		}, repos, nil),
		statement("EcsRollout", []string{"ecs:UpdateService", "ecs:DescribeServices"}, []string{a.regional("ecs", "service/"+cluster+"/*")}, nil),
		// ECS has no resource-level permission for these two; iam:PassRole below is the gate.
		statement("EcsTaskDefinitions", []string{"ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition"}, []string{"*"}, nil),
		statement("EcsRunTask", []string{"ecs:RunTask"}, families, map[string]interface{}{"ArnEquals": map[string]interface{}{"ecs:cluster": clusterArn}}),
		statement("EcsTasks", []string{"ecs:DescribeTasks"}, []string{a.regional("ecs", "task/"+cluster+"/*")}, nil),
		statement("EcsListTasks", []string{"ecs:ListTasks"}, []string{"*"}, map[string]interface{}{"ArnEquals": map[string]interface{}{"ecs:cluster": clusterArn}}),
		statement("EcsTagOnCreate", []string{"ecs:TagResource"}, append(append([]string{}, families...), a.regional("ecs", "task/"+cluster+"/*")),
			map[string]interface{}{"StringEquals": map[string]interface{}{"ecs:CreateAction": []string{"RegisterTaskDefinition", "RunTask"}}}),
		statement("PassTaskRoles", []string{"iam:PassRole"}, []string{a.account("iam", "role"+plan.RolePath()+"*")},
			map[string]interface{}{"StringEquals": map[string]interface{}{"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
		statement("CdkBootstrapRoles", []string{"sts:AssumeRole"},
			[]string{a.account("iam", fmt.Sprintf("role/cdk-%s-*-%s-%s", cdkQualifier, *stack.Account(), *stack.Region()))}, nil),
		statement("ReadStackOutputs", []string{"cloudformation:DescribeStacks"}, []string{stacks}, nil),
		// check-stacks reviews the change sets cdk prepares, deploy-infra
		// follows the stacks' events, a stopped deploy discards its plans.
		statement("ReviewChangeSets", []string{
			"cloudformation:DescribeChangeSet", "cloudformation:ListChangeSets", "cloudformation:DeleteChangeSet",
			"cloudformation:DescribeStackEvents", "cloudformation:ListStackResources", "cloudformation:GetTemplate",
			// a gate whose outputs do not exist yet finds its rule and load balancer
			"cloudformation:DescribeStackResources",
		}, []string{stacks}, nil),
		// The release records and the environment's deploy lock.
		statement("ReleaseRecords", []string{"ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter", "ssm:GetParametersByPath"},
			[]string{a.regional("ssm", "parameter/stevedore/"+plan.App+"/*")}, nil),
		// Preflight: is the account bootstrapped for the CDK?
		statement("CdkBootstrapVersion", []string{"ssm:GetParameter"},
			[]string{a.regional("ssm", "parameter/cdk-bootstrap/"+cdkQualifier+"/version")}, nil),
		// A failed rollout or migration shows the end of the tasks' logs.
		statement("TaskLogs", []string{"logs:GetLogEvents"}, []string{a.regional("logs", "log-group:*:log-stream:*")}, nil),
		// Following the deployments CloudFormation starts, and finding the
		// migration's revision again.
		statement("EcsServiceDeployments", []string{"ecs:ListServiceDeployments"}, []string{a.regional("ecs", "service/"+cluster+"/*")}, nil),
		statement("EcsServiceDeploymentDetails", []string{"ecs:DescribeServiceDeployments"}, []string{a.regional("ecs", "service-deployment/"+cluster+"/*")}, nil),
		// No resource-level permission exists for listing task definitions.
		statement("EcsTaskDefinitionFamilies", []string{"ecs:ListTaskDefinitions"}, []string{"*"}, nil),
		// The gate answers a paused deployment; abort-rollout stops one.
		statement("EcsServiceDeploymentControl", []string{"ecs:ContinueServiceDeployment", "ecs:StopServiceDeployment"},
			[]string{a.regional("ecs", "service-deployment/"+cluster+"/*")}, nil),
	}
	// The infrastructure role ECS shifts traffic with is passed by
	// CloudFormation, through the CDK bootstrap roles assumed above: the
	// pipeline itself never passes it (UpdateService keeps the service's
	// load balancer configuration), so no iam:PassRole to ecs.amazonaws.com.
	if gated(plan) {
		// The gate opens and closes a test route by setting its rule's
		// header value: only rules of this app and environment tagged as
		// test routes (the load balancer's name is generated, so the ARN
		// cannot say it).
		statements = append(statements,
			statement("GateTestRoutes", []string{"elasticloadbalancing:ModifyRule"},
				[]string{a.regional("elasticloadbalancing", "listener-rule/app/*")},
				map[string]interface{}{
					"StringEquals": map[string]interface{}{
						"aws:ResourceTag/stevedore:app": plan.App,
						"aws:ResourceTag/stevedore:env": plan.Env.Name,
					},
					"Null": map[string]interface{}{"aws:ResourceTag/" + testRuleTag: "false"},
				}),
			// DescribeRules (the rule's conditions, before ModifyRule) and
			// DescribeLoadBalancers (the test URL of a gate just added,
			// before the stack exports it) have no resource-level permission.
			statement("GateReadRules", []string{"elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeLoadBalancers"}, []string{"*"}, nil),
		)
	}
	if len(secrets) > 0 {
		// Preflight: every secret the services read exists (metadata only).
		statements = append(statements, statement("SecretsExist", []string{"secretsmanager:DescribeSecret"}, secrets, nil))
	}
	if plan.Frontend != nil {
		bucket := fmt.Sprintf("arn:%s:s3:::%s", *stack.Partition(), plan.FrontendBucketName(*stack.Account(), *stack.Region()))
		distributions := "distribution/*"
		if g.DistributionID != "" {
			distributions = "distribution/" + g.DistributionID
		}
		statements = append(statements,
			statement("FrontendBucket", []string{"s3:ListBucket"}, []string{bucket}, nil),
			statement("FrontendObjects", []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, []string{bucket + "/*"}, nil),
			statement("FrontendInvalidation", []string{"cloudfront:CreateInvalidation", "cloudfront:GetInvalidation"}, []string{a.account("cloudfront", distributions)}, nil),
		)
	}
	return statements
}

func statement(sid string, actions, resources []string, conditions map[string]interface{}) awsiam.PolicyStatement {
	props := &awsiam.PolicyStatementProps{Sid: &sid, Actions: jsii.Strings(actions...), Resources: jsii.Strings(resources...)}
	if conditions != nil {
		props.Conditions = &conditions
	}
	return awsiam.NewPolicyStatement(props)
}

// arns builds ARNs in the stack's partition, account and region (tokens
// when the stack is environment-agnostic).
type arns struct{ stack awscdk.Stack }

func (a arns) regional(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s:%s:%s:%s", *a.stack.Partition(), service, *a.stack.Region(), *a.stack.Account(), resource)
}

func (a arns) account(service, resource string) string {
	return fmt.Sprintf("arn:%s:%s::%s:%s", *a.stack.Partition(), service, *a.stack.Account(), resource)
}

// gated reports whether a service of the plan has the pipeline gate on a
// test route (behind the ALB).
func gated(plan *appspec.Plan) bool {
	for _, s := range plan.Services {
		if d := s.Deployment; d.ShiftsTraffic() && d.Gate {
			return true
		}
	}
	return false
}
