package fakeaws_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
)

func TestSSMParameters(t *testing.T) {
	a := fakeaws.New(t)
	a.PutParameter("/cdk-bootstrap/hnb659fds/version", "21")
	c := ssm.NewFromConfig(a.Config())
	got := must(c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/cdk-bootstrap/hnb659fds/version")}))(t)
	if aws.ToString(got.Parameter.Value) != "21" || got.Parameter.Version != 1 {
		t.Fatalf("bootstrap version = %s v%d", aws.ToString(got.Parameter.Value), got.Parameter.Version)
	}
	_, err := c.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/cdk-bootstrap/other/version")})
	if errorCode(err) != "ParameterNotFound" {
		t.Fatalf("missing parameter: %v", err)
	}
	put := func(name, value string, overwrite bool) error {
		_, err := c.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Overwrite: aws.Bool(overwrite)})
		return err
	}
	for _, p := range [][2]string{{"/stevedore/app/prod/release", "r1"}, {"/stevedore/app/prod/deep/x", "y"}, {"/stevedore/app/qa/release", "r0"}} {
		if err := put(p[0], p[1], false); err != nil {
			t.Fatal(err)
		}
	}
	if err := put("/stevedore/app/prod/release", "r2", false); errorCode(err) != "ParameterAlreadyExists" {
		t.Fatalf("put without Overwrite: %v", err)
	}
	if err := put("/stevedore/app/prod/release", "r2", true); err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Parameter("/stevedore/app/prod/release"); v != "r2" {
		t.Fatalf("after overwrite = %q", v)
	}
	names := func(recursive bool) []string {
		out := must(c.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String("/stevedore/app/prod"), Recursive: aws.Bool(recursive)}))(t)
		var n []string
		for _, p := range out.Parameters {
			n = append(n, aws.ToString(p.Name))
		}
		return n
	}
	if got := names(false); !slices.Equal(got, []string{"/stevedore/app/prod/release"}) {
		t.Fatalf("by path = %v", got)
	}
	if got := names(true); !slices.Equal(got, []string{"/stevedore/app/prod/deep/x", "/stevedore/app/prod/release"}) {
		t.Fatalf("by path, recursive = %v", got)
	}
	must(c.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String("/stevedore/app/qa/release")}))(t)
	if _, ok := a.Parameter("/stevedore/app/qa/release"); ok {
		t.Fatal("deleted parameter still there")
	}
}

func TestSecretsExistence(t *testing.T) {
	a := fakeaws.New(t)
	arn := a.PutSecret("commander-ai/openai", `{"key":"sk-test"}`)
	c := secretsmanager.NewFromConfig(a.Config())
	for _, id := range []string{"commander-ai/openai", arn, arn[:len(arn)-7]} {
		out, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
		if err != nil || aws.ToString(out.ARN) != arn {
			t.Fatalf("DescribeSecret %s: %v", id, err)
		}
	}
	v := must(c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("commander-ai/openai")}))(t)
	if aws.ToString(v.SecretString) != `{"key":"sk-test"}` {
		t.Fatalf("value = %q", aws.ToString(v.SecretString))
	}
	_, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("commander-ai/tavily")})
	if errorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("missing secret: %v", err)
	}
	if m := a.Mutating(); len(m) != 0 {
		t.Fatalf("existence checks are reads: %v", m)
	}
}

func TestLogEvents(t *testing.T) {
	a := fakeaws.New(t)
	a.LogLines("/ecs/api", "api/app/task1", "starting", "ERROR: no such table: users", "exiting")
	a.LogLines("/ecs/api", "api/app/task2", "ERROR: connection refused")
	c := cloudwatchlogs.NewFromConfig(a.Config())
	out := must(c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/ecs/api"), LogStreamName: aws.String("api/app/task1"), Limit: aws.Int32(2)}))(t)
	var msgs []string
	for _, e := range out.Events {
		msgs = append(msgs, aws.ToString(e.Message))
	}
	if !slices.Equal(msgs, []string{"ERROR: no such table: users", "exiting"}) {
		t.Fatalf("tail = %v", msgs)
	}
	filtered := must(c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/ecs/api"), FilterPattern: aws.String(`"ERROR"`)}))(t)
	msgs = nil
	for _, e := range filtered.Events {
		msgs = append(msgs, aws.ToString(e.LogStreamName)+": "+aws.ToString(e.Message))
	}
	if !slices.Equal(msgs, []string{"api/app/task1: ERROR: no such table: users", "api/app/task2: ERROR: connection refused"}) {
		t.Fatalf("filtered = %v", msgs)
	}
	_, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/ecs/none"), LogStreamName: aws.String("x")})
	if errorCode(err) != "ResourceNotFoundException" {
		t.Fatalf("missing group: %v", err)
	}
}

func TestDynamoDBLockItem(t *testing.T) {
	a := fakeaws.New(t)
	a.CreateTable("locks", "id")
	c := dynamodb.NewFromConfig(a.Config())
	lock := func(owner string) error {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("locks"),
			Item:                map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "prod"}, "owner": &ddbtypes.AttributeValueMemberS{Value: owner}},
			ConditionExpression: aws.String("attribute_not_exists(#id)"), ExpressionAttributeNames: map[string]string{"#id": "id"}})
		return err
	}
	unlock := func(owner string) error {
		_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("locks"),
			Key:                       map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "prod"}},
			ConditionExpression:       aws.String("#o = :me"),
			ExpressionAttributeNames:  map[string]string{"#o": "owner"},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":me": &ddbtypes.AttributeValueMemberS{Value: owner}}})
		return err
	}
	if err := lock("run-1"); err != nil {
		t.Fatal(err)
	}
	if err := lock("run-2"); errorCode(err) != "ConditionalCheckFailedException" {
		t.Fatalf("second lock: %v", err)
	}
	if err := unlock("run-2"); errorCode(err) != "ConditionalCheckFailedException" {
		t.Fatalf("unlock by another owner: %v", err)
	}
	key := map[string]any{"id": map[string]any{"S": "prod"}}
	if item := a.Item("locks", key); item["owner"].(map[string]any)["S"] != "run-1" {
		t.Fatalf("lock item = %v", item)
	}
	if err := unlock("run-1"); err != nil {
		t.Fatal(err)
	}
	got := must(c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("locks"), Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "prod"}}}))(t)
	if got.Item != nil || a.Item("locks", key) != nil {
		t.Fatalf("item after unlock = %v", got.Item)
	}
	if err := lock("run-2"); err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
}
