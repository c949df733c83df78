package fakeaws_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/stevedore-ci/stevedore/pipelines/fakeaws"
)

// siteTemplate exercises the intrinsic functions and the non-ECS resources
// the applier creates in the fake.
const siteTemplate = `{
  "Parameters": {"Env": {"Type": "String", "Default": "prod"}},
  "Mappings": {"Sizes": {"prod": {"cpu": "1024"}, "qa": {"cpu": "256"}}},
  "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}, "IsQa": {"Fn::Not": [{"Condition": "IsProd"}]}},
  "Resources": {
    "Site": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "${AWS::StackName}-site-${Env}"}}},
    "Cdn": {"Type": "AWS::CloudFront::Distribution", "Properties": {"DistributionConfig": {"Origins": [{"DomainName": {"Fn::GetAtt": ["Site", "RegionalDomainName"]}}]}}},
    "Url": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": {"Fn::Sub": "/app/${Env}/url"}, "Type": "String", "Value": {"Fn::GetAtt": "Cdn.DomainName"}}},
    "Db": {"Type": "AWS::SecretsManager::Secret", "Properties": {"Name": "app/db"}},
    "Lb": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": {}},
    "QaOnly": {"Type": "AWS::SNS::Topic", "Condition": "IsQa", "Properties": {}}
  },
  "Outputs": {
    "Bucket": {"Value": {"Ref": "Site"}, "Export": {"Name": {"Fn::Join": ["-", [{"Ref": "AWS::StackName"}, "bucket"]]}}},
    "Distribution": {"Value": {"Ref": "Cdn"}},
    "FrontendURL": {"Value": {"Fn::Sub": ["https://${D}/", {"D": {"Fn::GetAtt": ["Cdn", "DomainName"]}}]}},
    "Second": {"Value": {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}},
    "Size": {"Value": {"Fn::If": ["IsProd", {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "cpu"]}, "small"]}},
    "Encoded": {"Value": {"Fn::Base64": "hi"}},
    "Zone": {"Value": {"Fn::Select": [0, {"Fn::GetAZs": ""}]}},
    "Literal": {"Value": {"Fn::Sub": "${!Keep}-${AWS::Region}"}},
    "LbDNS": {"Value": {"Fn::GetAtt": ["Lb", "DNSName"]}},
    "SecretArn": {"Value": {"Ref": "Db"}},
    "QaTopic": {"Condition": "IsQa", "Value": {"Ref": "QaOnly"}}
  }
}`

func TestTemplateIntrinsicsAndResources(t *testing.T) {
	a := fakeaws.New(t)
	if err := a.ApplyTemplate("Web", siteTemplate); err != nil {
		t.Fatal(err)
	}
	c := cloudformation.NewFromConfig(a.Config())
	_, out := outputs(t, c, "Web")
	want := map[string]string{
		"Bucket": "Web-site-prod", "Second": "b", "Size": "1024", "Encoded": "aGk=", "Zone": "us-east-1a", "Literal": "${Keep}-us-east-1",
	}
	for k, v := range want {
		if out[k] != v {
			t.Errorf("output %s = %q, want %q", k, out[k], v)
		}
	}
	dist := out["Distribution"]
	if out["FrontendURL"] != "https://"+strings.ToLower(dist)+".cloudfront.net/" || !strings.HasSuffix(out["LbDNS"], ".us-east-1.elb.amazonaws.com") {
		t.Errorf("FrontendURL %q, LbDNS %q", out["FrontendURL"], out["LbDNS"])
	}
	if _, ok := out["QaTopic"]; ok {
		t.Error("an output whose condition is false was kept")
	}

	// The resources exist in the fake, usable through their own APIs.
	s3c := s3.NewFromConfig(a.Config(), func(o *s3.Options) { o.UsePathStyle = true })
	must(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("Web-site-prod"), Key: aws.String("index.html"), Body: strings.NewReader("<html/>")}))(t)
	if a.Objects("Web-site-prod")["index.html"].Body != "<html/>" {
		t.Error("object not stored in the template's bucket")
	}
	inv := must(cloudfront.NewFromConfig(a.Config()).CreateInvalidation(ctx, &cloudfront.CreateInvalidationInput{DistributionId: aws.String(dist),
		InvalidationBatch: &cftypes.InvalidationBatch{CallerReference: aws.String("r1"), Paths: &cftypes.Paths{Quantity: aws.Int32(1), Items: []string{"/*"}}}}))(t)
	if aws.ToString(inv.Invalidation.Status) != "InProgress" || len(a.Invalidations(dist)) != 1 {
		t.Errorf("invalidation of the template's distribution: %+v", inv.Invalidation)
	}
	if v, ok := a.Parameter("/app/prod/url"); !ok || v != strings.ToLower(dist)+".cloudfront.net" {
		t.Errorf("parameter = %q %v", v, ok)
	}
	sec := must(secretsmanager.NewFromConfig(a.Config()).DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/db")}))(t)
	if aws.ToString(sec.ARN) != out["SecretArn"] {
		t.Errorf("secret ARN %s, output %s", aws.ToString(sec.ARN), out["SecretArn"])
	}

	// Another stack imports the export; its template comes from S3.
	importer := `{"Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::ImportValue": "Web-bucket"}}}},
	  "Outputs": {"Imported": {"Value": {"Fn::ImportValue": "Web-bucket"}}}}`
	a.CreateBucket("cdk-assets")
	must(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cdk-assets"), Key: aws.String("t/importer.json"), Body: strings.NewReader(importer)}))(t)
	must(c.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String("Api"), ChangeSetName: aws.String("c1"), ChangeSetType: cfntypes.ChangeSetTypeCreate,
		TemplateURL: aws.String("https://s3.us-east-1.amazonaws.com/cdk-assets/t/importer.json")}))(t)
	must(c.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{StackName: aws.String("Api"), ChangeSetName: aws.String("c1")}))(t)
	if status, out := outputs(t, c, "Api"); status != "CREATE_COMPLETE" || out["Imported"] != "Web-site-prod" {
		t.Errorf("importing stack = %s %v", status, out)
	}
	tpl := must(c.GetTemplate(ctx, &cloudformation.GetTemplateInput{StackName: aws.String("Api")}))(t)
	if aws.ToString(tpl.TemplateBody) != importer {
		t.Errorf("GetTemplate = %s", aws.ToString(tpl.TemplateBody))
	}
}

func TestTemplateErrorsAreRefusedBeforeAnyChange(t *testing.T) {
	tests := map[string]struct {
		template, want string
	}{
		"unresolved ref": {`{"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"X": {"Ref": "Nope"}}}}}`, "Unresolved resource dependencies [Nope]"},
		"unresolved sub": {`{"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"X": {"Fn::Sub": "${Gone.Arn}"}}}}}`, "Unresolved resource dependencies [Gone]"},
		"no resources":   {`{"Resources": {}}`, "At least one Resources member"},
		"not JSON":       {`Resources: {}`, "JSON not well-formed"},
		"missing param":  {`{"Parameters": {"P": {"Type": "String"}}, "Resources": {"A": {"Type": "AWS::SNS::Topic"}}}`, "Parameters: [P] must have values"},
		"circular":       {`{"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"X": {"Ref": "B"}}}, "B": {"Type": "AWS::SNS::Topic", "Properties": {"X": {"Ref": "A"}}}}}`, "circular dependency"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			a := fakeaws.New(t)
			err := a.ApplyTemplate("App", tc.template)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ApplyTemplate error = %v, want %q", err, tc.want)
			}
			if len(a.TaskDefinitions()) != 0 {
				t.Fatal("a refused template registered task definitions")
			}
		})
	}
}
