package builtin

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// newWebSocket creates an API Gateway WebSocket API whose routes are
// HTTP_PROXY integrations POSTing to the service through the ALB, with the
// connection id in the X-Connection-Id header; the service's task role may
// push messages back through the @connections callback URL of this API
// only (execute-api:ManageConnections).
func newWebSocket(stack awscdk.Stack, plan *appspec.Plan, r appspec.PlanResource, a *App) awscdk.Stack {
	ws := r.WebSocket
	svc := a.Services[ws.Service]
	api := awsapigatewayv2.NewCfnApi(stack, jsii.String(r.ID+"Api"), &awsapigatewayv2.CfnApiProps{
		Name:                     jsii.String(fmt.Sprintf("%s-%s-%s", plan.App, plan.Env.Name, r.Name)),
		ProtocolType:             jsii.String("WEBSOCKET"),
		RouteSelectionExpression: jsii.String("$request.body.action"),
	})
	stage := awsapigatewayv2.NewCfnStage(stack, jsii.String(r.ID+"Stage"), &awsapigatewayv2.CfnStageProps{
		ApiId:      api.Ref(),
		StageName:  &plan.Env.Name,
		AutoDeploy: jsii.Bool(true),
		DefaultRouteSettings: &awsapigatewayv2.CfnStage_RouteSettingsProperty{
			ThrottlingBurstLimit: jsii.Number(500),
			ThrottlingRateLimit:  jsii.Number(1000),
		},
	})
	dns := *a.Alb.LoadBalancer.LoadBalancerDnsName()
	for _, key := range slices.Sorted(maps.Keys(ws.Routes)) {
		id := r.ID + contract.Pascal(strings.TrimPrefix(key, "$"))
		integration := awsapigatewayv2.NewCfnIntegration(stack, jsii.String(id+"Integration"), &awsapigatewayv2.CfnIntegrationProps{
			ApiId:             api.Ref(),
			IntegrationType:   jsii.String("HTTP_PROXY"),
			IntegrationMethod: jsii.String("POST"),
			IntegrationUri:    jsii.String("http://" + dns + ws.Routes[key]),
			RequestParameters: &map[string]*string{"integration.request.header.X-Connection-Id": jsii.String("context.connectionId")},
		})
		route := awsapigatewayv2.NewCfnRoute(stack, jsii.String(id+"Route"), &awsapigatewayv2.CfnRouteProps{
			ApiId:    api.Ref(),
			RouteKey: jsii.String(key),
			// The service authenticates the $connect request itself.
			AuthorizationType: jsii.String("NONE"),
			Target:            jsii.String("integrations/" + *integration.Ref()),
		})
		stage.Node().AddDependency(route)
		suppress(route, reasonWsAuth, "AwsSolutions-APIG4")
	}
	callback := fmt.Sprintf("https://%s.execute-api.%s.%s/%s", *api.Ref(), *stack.Region(), *stack.UrlSuffix(), plan.Env.Name)
	suppress(stage, reasonWsLogs, "AwsSolutions-APIG1")
	manage := awsiam.NewPolicy(stack, jsii.String(r.ID+"ManageConnections"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{svc.TaskRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("execute-api:ManageConnections"),
			Resources: &[]*string{stack.FormatArn(&awscdk.ArnComponents{
				Service:      jsii.String("execute-api"),
				Resource:     api.Ref(),
				ResourceName: jsii.String(plan.Env.Name + "/POST/@connections/*"),
			})},
		})},
	})
	suppress(manage, reasonConnections, "AwsSolutions-IAM5")
	output(stack, r.ID+"Url", jsii.String(*api.AttrApiEndpoint()+"/"+plan.Env.Name), "WebSocket URL clients connect to")
	output(stack, r.ID+"CallbackUrl", &callback, "@connections endpoint the service pushes messages to")
	output(stack, r.ID+"ApiId", api.Ref(), "API Gateway WebSocket API ID")
	return stack
}
