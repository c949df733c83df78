package parts

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// HealthPath is the health endpoint of every service behind an ALB.
const HealthPath = "/health"

// Stickiness pins a client to one task with an application cookie.
type Stickiness struct {
	// CookieName is the cookie the application sets (cao-session).
	CookieName string
	// Duration is how long the load balancer honours it.
	Duration awscdk.Duration
}

// PublicAlbProps describes an internet-facing ALB in front of one service.
type PublicAlbProps struct {
	// Vpc and SecurityGroup place the load balancer (public subnets).
	Vpc           awsec2.IVpc
	SecurityGroup awsec2.ISecurityGroup
	// Service receives the traffic on its container port.
	Service *Service
	// Port is the container port.
	Port int
	// Stickiness is optional.
	Stickiness *Stickiness
}

// PublicAlb is the load balancer and the target group of the service.
type PublicAlb struct {
	// LoadBalancer listens on port 80.
	LoadBalancer awselasticloadbalancingv2.ApplicationLoadBalancer
	// TargetGroup health-checks /health on the container port.
	TargetGroup awselasticloadbalancingv2.ApplicationTargetGroup
}

// NewPublicAlb creates the ALB, an HTTP listener and the target group of the
// service. The security group rules live in the network stack; the
// listener does not open its own.
func NewPublicAlb(scope constructs.Construct, id string, p PublicAlbProps) *PublicAlb {
	c := constructs.NewConstruct(scope, &id)
	lb := awselasticloadbalancingv2.NewApplicationLoadBalancer(c, jsii.String("LoadBalancer"), &awselasticloadbalancingv2.ApplicationLoadBalancerProps{
		Vpc:                     p.Vpc,
		InternetFacing:          jsii.Bool(true),
		SecurityGroup:           p.SecurityGroup,
		VpcSubnets:              Subnets(PublicSubnets),
		DropInvalidHeaderFields: jsii.Bool(true),
	})
	tgProps := &awselasticloadbalancingv2.ApplicationTargetGroupProps{
		Vpc:        p.Vpc,
		Port:       jsii.Number(float64(p.Port)),
		Protocol:   awselasticloadbalancingv2.ApplicationProtocol_HTTP,
		TargetType: awselasticloadbalancingv2.TargetType_IP,
		HealthCheck: &awselasticloadbalancingv2.HealthCheck{
			Path:                    jsii.String(HealthPath),
			HealthyHttpCodes:        jsii.String("200"),
			Interval:                awscdk.Duration_Seconds(jsii.Number(30)),
			Timeout:                 awscdk.Duration_Seconds(jsii.Number(5)),
			HealthyThresholdCount:   jsii.Number(2),
			UnhealthyThresholdCount: jsii.Number(3),
		},
		DeregistrationDelay: awscdk.Duration_Seconds(jsii.Number(30)),
		Targets:             &[]awselasticloadbalancingv2.IApplicationLoadBalancerTarget{p.Service.Service},
	}
	if p.Stickiness != nil {
		tgProps.StickinessCookieName = &p.Stickiness.CookieName
		tgProps.StickinessCookieDuration = p.Stickiness.Duration
	}
	tg := awselasticloadbalancingv2.NewApplicationTargetGroup(c, jsii.String("TargetGroup"), tgProps)
	lb.AddListener(jsii.String("Http"), &awselasticloadbalancingv2.BaseApplicationListenerProps{
		Port:                jsii.Number(80),
		Protocol:            awselasticloadbalancingv2.ApplicationProtocol_HTTP,
		Open:                jsii.Bool(false),
		DefaultTargetGroups: &[]awselasticloadbalancingv2.IApplicationTargetGroup{tg},
	})
	return &PublicAlb{LoadBalancer: lb, TargetGroup: tg}
}

// Outputs adds LoadBalancerDNS and HealthUrl to the enclosing stack.
func (a *PublicAlb) Outputs(stack awscdk.Stack) {
	dns := *a.LoadBalancer.LoadBalancerDnsName()
	Output(stack, "LoadBalancerDNS", dns, "public DNS name of the load balancer")
	Output(stack, "HealthUrl", "http://"+dns+HealthPath, "health endpoint the pipeline polls after a rollout")
}
