// Package parts holds the constructs both apps share: the VPC, the Fargate
// service wiring, the image source, Redis and the static frontend site.
package parts

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/stevedore-ci/stevedore/infra/config"
)

// RemovalPolicy maps a config removal choice to CDK's.
func RemovalPolicy(r config.Removal) awscdk.RemovalPolicy {
	switch r {
	case config.RemovalRetain:
		return awscdk.RemovalPolicy_RETAIN
	case config.RemovalSnapshot:
		return awscdk.RemovalPolicy_SNAPSHOT
	default:
		return awscdk.RemovalPolicy_DESTROY
	}
}

// retentionByDays lists the CloudWatch Logs retention periods the config may use.
var retentionByDays = map[int]awslogs.RetentionDays{
	1:    awslogs.RetentionDays_ONE_DAY,
	3:    awslogs.RetentionDays_THREE_DAYS,
	5:    awslogs.RetentionDays_FIVE_DAYS,
	7:    awslogs.RetentionDays_ONE_WEEK,
	14:   awslogs.RetentionDays_TWO_WEEKS,
	30:   awslogs.RetentionDays_ONE_MONTH,
	60:   awslogs.RetentionDays_TWO_MONTHS,
	90:   awslogs.RetentionDays_THREE_MONTHS,
	180:  awslogs.RetentionDays_SIX_MONTHS,
	365:  awslogs.RetentionDays_ONE_YEAR,
	3653: awslogs.RetentionDays_TEN_YEARS,
}

// LogRetention maps a retention in days to the CDK enum; the config only
// uses values CloudWatch accepts, so anything else is a programming error.
func LogRetention(days int) awslogs.RetentionDays {
	r, ok := retentionByDays[days]
	if !ok {
		panic(fmt.Sprintf("log retention of %d days is not a CloudWatch Logs period", days))
	}
	return r
}

// Output adds a stack output whose key is exactly id: outputs are created
// on the stack itself, never inside a construct, so CloudFormation keeps
// the key the pipeline reads back.
func Output(stack awscdk.Stack, id, value, description string) {
	awscdk.NewCfnOutput(stack, &id, &awscdk.CfnOutputProps{Value: &value, Description: &description})
}
