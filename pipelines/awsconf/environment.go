package awsconf

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// ForEnvironment returns the config that acts in an environment: in its
// region when it names one, and as its role, assumed from cfg's
// credentials, when it names one (stevedore.yaml environments.<env>.role).
// Assumed credentials are cached and refreshed before they expire.
func ForEnvironment(cfg aws.Config, region, role, session string) aws.Config {
	out := cfg.Copy()
	if region != "" {
		out.Region = region
	}
	if role != "" {
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), role, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = session
		})
		out.Credentials = aws.NewCredentialsCache(provider)
	}
	return out
}

// CallerIdentity returns the account and ARN of cfg's credentials.
func CallerIdentity(ctx context.Context, cfg aws.Config) (account, arn string, err error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", "", Explain("sts:GetCallerIdentity", err)
	}
	return aws.ToString(out.Account), aws.ToString(out.Arn), nil
}
