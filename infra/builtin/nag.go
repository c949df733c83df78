package builtin

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The stacks pass cdk-nag's AwsSolutions rules (see nag_test.go); what
// they deliberately do not do is written down here, rule by rule, as the
// cdk_nag metadata cdk-nag reads, so a team running cdk-nag on the
// synthesized stacks sees the same reasons. No cdk-nag code runs at synth.

// Reasons for the rules the built-in stacks do not follow.
const (
	reasonDefaultPort       = "the port is reachable only from the security groups of the services that use the resource; a non-default port adds no protection"
	reasonRedisAuth         = "Redis is reachable only from the using services' security groups, encrypted at rest and, with tls, in transit; an AUTH token would be one more secret to distribute and rotate"
	reasonRedisNoTLS        = "the description sets tls: false for a client that cannot speak TLS (the CAO guide's REDIS_HOST/REDIS_PORT client); traffic stays inside the VPC"
	reasonRotation          = "the generated database credentials are read by ECS at task start; rotation needs a rotation Lambda in the VPC, which the built-in infrastructure does not run"
	reasonSingleAZ          = "multi-AZ is off by the environment's preset or override (dev-like environments); prod turns it on"
	reasonNoProtection      = "deletion protection is off by the environment's preset or override (disposable environments); prod turns it on"
	reasonEnvVars           = "only non-secret configuration is passed as environment variables; secrets come from Secrets Manager (secrets:, DB_PASSWORD)"
	reasonExecWildcards     = "ecr:GetAuthorizationToken has no resource-level permission and the log streams are created per task; CDK scopes the rest to the repository and log group"
	reasonConnections       = "connection ids are created per client: the task may post to any connection of this API and stage only"
	reasonAlbLogs           = "ALB access logs need a log bucket per region with the ELB account's write policy; left to the team (CloudWatch metrics and the 5xx alarm cover the service)"
	reasonPublicAlb         = "the ALB is the public entry point: it must accept HTTP and HTTPS from anywhere"
	reasonEndpointSG        = "CDK's interface endpoint security groups accept HTTPS from the VPC range only (a token cdk-nag cannot resolve)"
	reasonSiteLogs          = "the site bucket is read only by CloudFront through origin access control; request logs belong to CloudFront, not S3"
	reasonCloudFrontLogs    = "standard CloudFront logs need an ACL-enabled log bucket; left to the team, CloudFront metrics are on by default"
	reasonDefaultCert       = "without a custom domain the *.cloudfront.net certificate is used, whose minimum TLS version cannot be set; with infra.frontend.domain TLS 1.2 is required"
	reasonGeo               = "the site is public worldwide; geo restrictions are a business choice"
	reasonWaf               = "a WAF web ACL costs per request and depends on the app's traffic; attach one to the distribution if needed"
	reasonMfa               = "MFA is the app's choice; threat protection (adaptive authentication) asks risky sign-ins for a second factor"
	reasonWsAuth            = "the service authenticates the $connect request itself (e.g. a JWT), API Gateway forwards it"
	reasonWsLogs            = "WebSocket stage access logs need the account-wide API Gateway CloudWatch role, which stevedore does not own; the service logs every event it receives"
	reasonFlowLogRole       = "the flow log role may only write to its own log group; CDK grants log stream actions on it"
	reasonInfraRolePolicy   = "ECS's infrastructure role for load balancers uses the AWS managed policy AWS documents for it (AmazonECSInfrastructureRolePolicyForLoadBalancers): AWS keeps it in step with what ECS blue/green, linear and canary deployments change"
	reasonTestRouteRotation = "the secret is only the test route's initial header value, no credential: stevedore replaces the rule's value with a random one per release (elasticloadbalancing:ModifyRule) and another after its checks"
)

// suppress records that scope and every CloudFormation resource under it
// deliberately do not follow a cdk-nag rule, and why.
func suppress(scope constructs.IConstruct, reason string, rules ...string) {
	var walk func(c constructs.IConstruct)
	walk = func(c constructs.IConstruct) {
		if r, ok := c.(awscdk.CfnResource); ok {
			var list []map[string]any
			if md, ok := r.GetMetadata(jsii.String("cdk_nag")).(map[string]any); ok {
				if prev, ok := md["rules_to_suppress"].([]any); ok {
					for _, p := range prev {
						if m, ok := p.(map[string]any); ok {
							list = append(list, m)
						}
					}
				}
			}
			for _, rule := range rules {
				list = append(list, map[string]any{"id": rule, "reason": reason})
			}
			r.AddMetadata(jsii.String("cdk_nag"), map[string]any{"rules_to_suppress": list})
		}
		for _, child := range *c.Node().Children() {
			walk(child)
		}
	}
	walk(scope)
}
