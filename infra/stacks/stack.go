// Package stacks assembles the CloudFormation stacks of each app from the
// shared constructs in parts, following the CAO and commander.ai guides.
package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
)

// newStack creates a stack named <prefix><kind>Stack-<env>, protected from
// deletion where the environment asks for it.
func newStack(scope constructs.Construct, s config.Settings, kind, description string, env *awscdk.Environment) awscdk.Stack {
	name := config.StackName(s.App, kind, s.Env.Name)
	return awscdk.NewStack(scope, &name, &awscdk.StackProps{
		StackName:             &name,
		Env:                   env,
		Description:           jsii.String(description),
		TerminationProtection: jsii.Bool(s.Env.DeletionProtection),
	})
}

// newSecurityGroup creates a security group; allowOut=false leaves it with
// no egress at all (data stores only answer).
func newSecurityGroup(scope constructs.Construct, id string, vpc awsec2.IVpc, description string, allowOut bool) awsec2.SecurityGroup {
	return awsec2.NewSecurityGroup(scope, &id, &awsec2.SecurityGroupProps{
		Vpc:              vpc,
		Description:      &description,
		AllowAllOutbound: &allowOut,
	})
}

// allowWeb opens 80 and 443 to the internet (the ALB security group).
func allowWeb(sg awsec2.SecurityGroup) {
	sg.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(80)), jsii.String("HTTP from anywhere"), nil)
	sg.AddIngressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS from anywhere"), nil)
}

// allowFrom opens one TCP port of sg to the members of peer only.
func allowFrom(sg awsec2.SecurityGroup, peer awsec2.ISecurityGroup, port int, description string) {
	sg.AddIngressRule(peer, awsec2.Port_Tcp(jsii.Number(float64(port))), &description, nil)
}
