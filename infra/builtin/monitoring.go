package builtin

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// Alarm thresholds: 10 target 5xx, or one unhealthy host, per 5 minutes, twice in a row.
const (
	errorThreshold   = 10
	alarmPeriods     = 2
	metricPeriodMins = 5
	widgetWidth      = 12
)

// newMonitoring creates the SNS topic (with the email subscription when
// one is described), a 5xx and an unhealthy-host alarm per public service,
// and a dashboard of the services, databases and caches.
func newMonitoring(stack awscdk.Stack, a *App) {
	plan := a.Plan
	topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String(plan.App + " " + plan.Env.Name + " alarms"),
		EnforceSSL:  jsii.Bool(true),
	})
	if e := plan.Monitoring.Email; e != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(&e, nil))
	}
	action := awscloudwatchactions.NewSnsAction(topic)
	period := awscdk.Duration_Minutes(jsii.Number(metricPeriodMins))
	avg := &awscloudwatch.MetricOptions{Period: period}
	sum := &awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Sum")}
	dashboardName := plan.App + "-" + plan.Env.Name
	dashboard := awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{DashboardName: &dashboardName})
	graph := func(title string, metrics ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: &title, Left: &metrics, Width: jsii.Number(widgetWidth)})
	}
	alarm := func(id, description string, metric awscloudwatch.IMetric, threshold float64) {
		al := awscloudwatch.NewAlarm(stack, &id, &awscloudwatch.AlarmProps{
			AlarmDescription:   &description,
			Metric:             metric,
			Threshold:          &threshold,
			EvaluationPeriods:  jsii.Number(alarmPeriods),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		al.AddAlarmAction(action)
		al.AddOkAction(action)
	}
	for _, s := range plan.Services {
		svc := a.Services[s.Name]
		title := contract.Pascal(s.Name)
		widgets := []awscloudwatch.IWidget{graph(s.Name+" CPU / memory", svc.Service.MetricCpuUtilization(avg), svc.Service.MetricMemoryUtilization(avg))}
		if tg := svc.TargetGroup; tg != nil {
			errors := tg.Metrics().HttpCodeTarget(awselasticloadbalancingv2.HttpCodeTarget_TARGET_5XX_COUNT, sum)
			alarm(title+"5xxAlarm", s.Name+" targets answer 5xx", errors, errorThreshold)
			alarm(title+"UnhealthyHostsAlarm", s.Name+" has unhealthy targets", tg.Metrics().UnhealthyHostCount(&awscloudwatch.MetricOptions{Period: period, Statistic: jsii.String("Maximum")}), 1)
			widgets = append(widgets, graph(s.Name+" requests / 5xx", tg.Metrics().RequestCount(sum), errors))
		}
		// A service whose deployment shifts traffic serves from either
		// group (ECS alternates them): the alternate is watched too. It is
		// attached to no listener in the template (ECS adds it to the rules),
		// so its metrics are named here, not by the L2.
		if tg := svc.AlternateTargetGroup; tg != nil {
			metric := func(name, statistic string) awscloudwatch.IMetric {
				return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
					Namespace: jsii.String("AWS/ApplicationELB"), MetricName: &name, Period: period, Statistic: &statistic,
					DimensionsMap: &map[string]*string{"TargetGroup": tg.TargetGroupFullName(), "LoadBalancer": a.Alb.LoadBalancer.LoadBalancerFullName()},
				})
			}
			errors := metric("HTTPCode_Target_5XX_Count", "Sum")
			alarm(title+"Alternate5xxAlarm", s.Name+" targets answer 5xx (alternate group)", errors, errorThreshold)
			alarm(title+"AlternateUnhealthyHostsAlarm", s.Name+" has unhealthy targets (alternate group)", metric("UnHealthyHostCount", "Maximum"), 1)
			widgets = append(widgets, graph(s.Name+" requests / 5xx (alternate group)", metric("RequestCount", "Sum"), errors))
		}
		dashboard.AddWidgets(widgets...)
	}
	for _, r := range plan.Resources {
		d := a.Data[r.Name]
		switch {
		case d == nil:
		case d.Postgres != nil:
			dashboard.AddWidgets(graph(r.Name+" connections / CPU", d.Postgres.MetricDatabaseConnections(avg), d.Postgres.MetricCPUUtilization(avg)))
		case d.Redis != nil:
			dashboard.AddWidgets(graph(r.Name+" primary engine CPU", awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
				Namespace: jsii.String("AWS/ElastiCache"), MetricName: jsii.String("EngineCPUUtilization"),
				DimensionsMap: &map[string]*string{"CacheClusterId": jsii.String(*d.Redis.Ref() + "-001")}, Period: period,
			})))
		}
	}
	output(stack, "AlarmTopicArn", topic.TopicArn(), "SNS topic receiving the alarms")
	output(stack, "DashboardName", &dashboardName, "CloudWatch dashboard")
}
