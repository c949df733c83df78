package builtin

import (
	"strings"
	"testing"
)

func TestFrontendSite(t *testing.T) {
	tests := []struct{ name, stack, deletion, bucketPrefix string }{
		{"cao opt-in", "CAOFrontendStack-prod", "Retain", "cao-prod-frontend-"},
		{"commander", "CommanderFrontendStack-dev", "Delete", "commander-dev-frontend-"},
	}
	ctxs := map[string]map[string]string{
		"cao opt-in": caoContext("prod"),
		"commander":  commanderContext("dev"),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synth(t, ctxs[tt.name])
			tmpl := s.template(t, tt.stack)
			tmpl.resource("AWS::S3::Bucket", map[string]any{
				"DeletionPolicy": tt.deletion,
				"Properties": like(map[string]any{
					"PublicAccessBlockConfiguration": map[string]any{
						"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
					},
					"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
						map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}},
					}},
				}),
			})
			_, bucket := s.only(t, tt.stack, "AWS::S3::Bucket")
			if !strings.Contains(js(bucket["BucketName"]), tt.bucketPrefix) {
				t.Errorf("bucket name = %s, want it to start with %s", js(bucket["BucketName"]), tt.bucketPrefix)
			}
			oac, _ := s.only(t, tt.stack, "AWS::CloudFront::OriginAccessControl")
			tmpl.props("AWS::CloudFront::OriginAccessControl", map[string]any{
				"OriginAccessControlConfig": like(map[string]any{"OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4"}),
			})
			spa := func(code int) any {
				return map[string]any{"ErrorCode": code, "ResponseCode": 200, "ResponsePagePath": "/index.html", "ErrorCachingMinTTL": 0}
			}
			tmpl.props("AWS::CloudFront::Distribution", map[string]any{
				"DistributionConfig": like(map[string]any{
					"DefaultRootObject":    "index.html",
					"DefaultCacheBehavior": like(map[string]any{"ViewerProtocolPolicy": "redirect-to-https"}),
					"CustomErrorResponses": []any{spa(403), spa(404)},
					"Origins":              []any{like(map[string]any{"OriginAccessControlId": getAtt(oac, "Id")})},
				}),
			})
			// Only CloudFront (signed by the distribution) may read; no public principal is allowed anything.
			_, policy := s.only(t, tt.stack, "AWS::S3::BucketPolicy")
			for _, st := range policy["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				stmt := st.(map[string]any)
				if stmt["Effect"] == "Allow" && js(stmt["Principal"]) == `{"AWS":"*"}` {
					t.Errorf("public allow statement: %s", js(stmt))
				}
			}
			if doc := js(policy["PolicyDocument"]); !strings.Contains(doc, `"Service":"cloudfront.amazonaws.com"`) || !strings.Contains(doc, "AWS:SourceArn") {
				t.Errorf("bucket policy does not restrict reads to the distribution: %s", doc)
			}
			tmpl.count("Custom::CDKBucketDeployment", 0)
			out := s.outputs(t, tt.stack)
			if !strings.Contains(js(out["FrontendUrl"]), `"https://"`) || out["DistributionId"] == nil || out["FrontendBucketName"] == nil {
				t.Errorf("outputs = %s", js(out))
			}
		})
	}
}
