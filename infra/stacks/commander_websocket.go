package stacks

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// wsRoute maps a WebSocket route to the backend path that receives it.
type wsRoute struct {
	id, key, path string
}

// wsRoutes forward every WebSocket event to the backend over HTTP.
var wsRoutes = []wsRoute{
	{"Connect", "$connect", "/ws/connect"},
	{"Disconnect", "$disconnect", "/ws/disconnect"},
	{"Default", "$default", "/ws/message"},
}

// NewCommanderWebSocket creates CommanderWebSocketStack-<env>: an API
// Gateway WebSocket API whose $connect, $disconnect and $default routes are
// HTTP_PROXY integrations POSTing to the backend ALB, with the connection
// id in the X-Connection-Id header. The backend answers on the HTTP
// request and pushes later messages through the @connections callback URL,
// which its task role may call (execute-api:ManageConnections on this API only).
func NewCommanderWebSocket(scope constructs.Construct, s config.Settings, env *awscdk.Environment, backend *CommanderBackend) awscdk.Stack {
	stack := newStack(scope, s, "WebSocket", "commander.ai WebSocket API forwarding to the backend", env)
	api := awsapigatewayv2.NewCfnApi(stack, jsii.String("Api"), &awsapigatewayv2.CfnApiProps{
		Name:                     jsii.String(fmt.Sprintf("commander-%s-websocket", s.Env.Name)),
		ProtocolType:             jsii.String("WEBSOCKET"),
		RouteSelectionExpression: jsii.String("$request.body.action"),
	})
	stage := awsapigatewayv2.NewCfnStage(stack, jsii.String("Stage"), &awsapigatewayv2.CfnStageProps{
		ApiId:      api.Ref(),
		StageName:  &s.Env.Name,
		AutoDeploy: jsii.Bool(true),
		DefaultRouteSettings: &awsapigatewayv2.CfnStage_RouteSettingsProperty{
			ThrottlingBurstLimit: jsii.Number(500),
			ThrottlingRateLimit:  jsii.Number(1000),
		},
	})
	dns := *backend.Alb.LoadBalancer.LoadBalancerDnsName()
	for _, r := range wsRoutes {
		integration := awsapigatewayv2.NewCfnIntegration(stack, jsii.String(r.id+"Integration"), &awsapigatewayv2.CfnIntegrationProps{
			ApiId:             api.Ref(),
			IntegrationType:   jsii.String("HTTP_PROXY"),
			IntegrationMethod: jsii.String("POST"),
			IntegrationUri:    jsii.String("http://" + dns + r.path),
			RequestParameters: &map[string]*string{"integration.request.header.X-Connection-Id": jsii.String("context.connectionId")},
		})
		route := awsapigatewayv2.NewCfnRoute(stack, jsii.String(r.id+"Route"), &awsapigatewayv2.CfnRouteProps{
			ApiId:    api.Ref(),
			RouteKey: jsii.String(r.key),
			// The backend authenticates the $connect request itself (JWT).
			AuthorizationType: jsii.String("NONE"),
			Target:            jsii.String("integrations/" + *integration.Ref()),
		})
		// The stage deploys once the routes exist.
		stage.Node().AddDependency(route)
	}

	callback := fmt.Sprintf("https://%s.execute-api.%s.%s/%s", *api.Ref(), *stack.Region(), *stack.UrlSuffix(), s.Env.Name)
	awsiam.NewPolicy(stack, jsii.String("ManageConnections"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{backend.Service.TaskRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("execute-api:ManageConnections"),
			Resources: &[]*string{stack.FormatArn(&awscdk.ArnComponents{
				Service:      jsii.String("execute-api"),
				Resource:     api.Ref(),
				ResourceName: jsii.String(s.Env.Name + "/POST/@connections/*"),
			})},
		})},
	})
	parts.Output(stack, "WebSocketUrl", *api.AttrApiEndpoint()+"/"+s.Env.Name, "WebSocket URL clients connect to")
	parts.Output(stack, "WebSocketCallbackUrl", callback, "@connections endpoint the backend pushes messages to")
	parts.Output(stack, "WebSocketApiId", *api.Ref(), "API Gateway WebSocket API ID")
	return stack
}
