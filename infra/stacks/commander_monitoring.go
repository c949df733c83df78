package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stevedore-ci/stevedore/infra/config"
	"github.com/stevedore-ci/stevedore/infra/parts"
)

// The 5xx alarm of the guide: 10 target 5xx per 5 minutes, twice in a row.
const (
	errorThreshold    = 10
	errorPeriods      = 2
	metricPeriodMins  = 5
	dashboardWidthCol = 12
)

// CommanderMonitoringProps are the resources the monitoring stack watches.
type CommanderMonitoringProps struct {
	// Backend gives the target group of the 5xx alarm and the service metrics.
	Backend *CommanderBackend
	// Qdrant gives the Qdrant service metrics.
	Qdrant *CommanderQdrant
	// DB gives the database metrics.
	DB awsrds.DatabaseInstance
	// Redis gives the cache metrics.
	Redis awselasticache.CfnReplicationGroup
}

// NewCommanderMonitoring creates CommanderMonitoringStack-<env>: an SNS
// topic (with an email subscription when alarmEmail is set), the 5xx alarm
// on the backend target group, and a dashboard.
func NewCommanderMonitoring(scope constructs.Construct, s config.Settings, env *awscdk.Environment, p CommanderMonitoringProps) awscdk.Stack {
	stack := newStack(scope, s, "Monitoring", "commander.ai dashboard, alarms and alarm topic", env)
	topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("commander.ai " + s.Env.Name + " alarms"),
	})
	if s.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(&s.AlarmEmail, nil))
	}
	period := awscdk.Duration_Minutes(jsii.Number(metricPeriodMins))
	tg := p.Backend.Alb.TargetGroup
	errors := tg.Metrics().HttpCodeTarget(awselasticloadbalancingv2.HttpCodeTarget_TARGET_5XX_COUNT, &awscloudwatch.MetricOptions{
		Period: period, Statistic: jsii.String("Sum"),
	})
	alarm := awscloudwatch.NewAlarm(stack, jsii.String("Backend5xxAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String("backend targets answer 5xx"),
		Metric:             errors,
		Threshold:          jsii.Number(errorThreshold),
		EvaluationPeriods:  jsii.Number(errorPeriods),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	action := awscloudwatchactions.NewSnsAction(topic)
	alarm.AddAlarmAction(action)
	alarm.AddOkAction(action)

	dashboardName := "commander-" + s.Env.Name
	dashboard := awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName: &dashboardName,
	})
	graph := func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: &title, Left: &metrics, Width: jsii.Number(dashboardWidthCol),
		})
	}
	avg := &awscloudwatch.MetricOptions{Period: period}
	dashboard.AddWidgets(
		graph("API requests", tg.Metrics().RequestCount(avg), tg.Metrics().TargetResponseTime(avg)),
		graph("Backend 5xx", errors),
	)
	dashboard.AddWidgets(
		graph("Backend CPU / memory", p.Backend.Service.Service.MetricCpuUtilization(avg), p.Backend.Service.Service.MetricMemoryUtilization(avg)),
		graph("Qdrant CPU / memory", p.Qdrant.Service.Service.MetricCpuUtilization(avg), p.Qdrant.Service.Service.MetricMemoryUtilization(avg)),
	)
	dashboard.AddWidgets(
		graph("Database connections / CPU", p.DB.MetricDatabaseConnections(avg), p.DB.MetricCPUUtilization(avg)),
		graph("Redis primary CPU", awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String("AWS/ElastiCache"),
			MetricName:    jsii.String("EngineCPUUtilization"),
			DimensionsMap: &map[string]*string{"CacheClusterId": jsii.String(*p.Redis.Ref() + "-001")},
			Period:        period,
		})),
	)
	parts.Output(stack, "AlarmTopicArn", *topic.TopicArn(), "SNS topic receiving the alarms")
	parts.Output(stack, "DashboardName", dashboardName, "CloudWatch dashboard")
	return stack
}
