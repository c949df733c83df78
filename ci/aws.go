package main

import (
	"context"
	"errors"
	"fmt"

	"dagger/stevedore/internal/dagger"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// Set the AWS account the AWS steps (publish, deploy-infra, rollout,
// publish-frontend, deploy --target aws) act on. Credentials are Dagger
// secrets, e.g. --access-key-id env:AWS_ACCESS_KEY_ID, or an AWS config and
// credentials file with --config file:$HOME/.aws/config.
func (m *Stevedore) WithAws(
	// AWS region, e.g. eu-west-1.
	region string,
	// Access key id.
	// +optional
	accessKeyID *dagger.Secret,
	// Secret access key.
	// +optional
	secretAccessKey *dagger.Secret,
	// Session token (temporary credentials, e.g. from GitHub OIDC).
	// +optional
	sessionToken *dagger.Secret,
	// Contents of an AWS shared config file.
	// +optional
	config *dagger.Secret,
	// Contents of an AWS shared credentials file.
	// +optional
	credentials *dagger.Secret,
	// Profile to use from the config/credentials files.
	// +optional
	profile string,
	// Base URL overriding every AWS service endpoint (gateways, tests).
	// +optional
	endpoint string,
) (*Stevedore, error) {
	if err := awsconf.ValidateRegion(region); err != nil {
		return nil, err
	}
	if (accessKeyID == nil) != (secretAccessKey == nil) {
		return nil, errors.New("pass --access-key-id and --secret-access-key together (e.g. env:AWS_ACCESS_KEY_ID and env:AWS_SECRET_ACCESS_KEY)")
	}
	if accessKeyID == nil && config == nil && credentials == nil {
		return nil, errors.New("no AWS credentials: pass --access-key-id/--secret-access-key (and --session-token), or --config/--credentials files")
	}
	c := *m
	c.Aws = &AwsAccount{
		Region: region, AccessKeyID: accessKeyID, SecretAccessKey: secretAccessKey, SessionToken: sessionToken,
		Config: config, Credentials: credentials, Profile: profile, Endpoint: endpoint,
	}
	return &c, nil
}

// AwsAccount is where the AWS steps act, with the credentials to do it.
type AwsAccount struct {
	Region string
	// +private
	AccessKeyID *dagger.Secret
	// +private
	SecretAccessKey *dagger.Secret
	// +private
	SessionToken *dagger.Secret
	// +private
	Config *dagger.Secret
	// +private
	Credentials *dagger.Secret
	// +private
	Profile string
	// +private
	Endpoint string
}

// requireAws fails clearly when an AWS step runs without with-aws.
func (m *Stevedore) requireAws(step string) (*AwsAccount, error) {
	if m.Aws == nil {
		return nil, fmt.Errorf("%s needs an AWS account: call with-aws first, e.g. dagger call with-aws --region eu-west-1 --access-key-id env:AWS_ACCESS_KEY_ID --secret-access-key env:AWS_SECRET_ACCESS_KEY %s", step, step)
	}
	return m.Aws, nil
}

// options reads the secrets into an awsconf.Options, in this process only.
func (a *AwsAccount) options(ctx context.Context) (awsconf.Options, error) {
	o := awsconf.Options{Region: a.Region, Profile: a.Profile, Endpoint: a.Endpoint}
	for _, s := range []struct {
		secret *dagger.Secret
		dst    *string
	}{
		{a.AccessKeyID, &o.AccessKeyID}, {a.SecretAccessKey, &o.SecretAccessKey}, {a.SessionToken, &o.SessionToken},
		{a.Config, &o.ConfigFile}, {a.Credentials, &o.CredentialsFile},
	} {
		if s.secret == nil {
			continue
		}
		v, err := s.secret.Plaintext(ctx)
		if err != nil {
			return o, fmt.Errorf("reading an AWS credential secret: %w", err)
		}
		*s.dst = v
	}
	return o, nil
}

// withCredentials hands the account to a container (the CDK CLI) as secret
// env vars and mounted secret files: nothing lands in a layer or a log.
func (a *AwsAccount) withCredentials(ctr *dagger.Container) *dagger.Container {
	ctr = ctr.WithEnvVariable("AWS_REGION", a.Region).WithEnvVariable("AWS_DEFAULT_REGION", a.Region)
	if a.AccessKeyID != nil {
		ctr = ctr.WithSecretVariable("AWS_ACCESS_KEY_ID", a.AccessKeyID).
			WithSecretVariable("AWS_SECRET_ACCESS_KEY", a.SecretAccessKey)
	}
	if a.SessionToken != nil {
		ctr = ctr.WithSecretVariable("AWS_SESSION_TOKEN", a.SessionToken)
	}
	if a.Config != nil {
		ctr = ctr.WithMountedSecret("/root/.aws/config", a.Config)
	}
	if a.Credentials != nil {
		ctr = ctr.WithMountedSecret("/root/.aws/credentials", a.Credentials)
	}
	if a.Profile != "" {
		ctr = ctr.WithEnvVariable("AWS_PROFILE", a.Profile)
	}
	return ctr
}

// awsConfig resolves the account of with-aws into an SDK config for step.
func (m *Stevedore) awsConfig(ctx context.Context, step string) (aws.Config, func(), error) {
	acct, err := m.requireAws(step)
	if err != nil {
		return aws.Config{}, func() {}, err
	}
	o, err := acct.options(ctx)
	if err != nil {
		return aws.Config{}, func() {}, err
	}
	return awsconf.Load(ctx, o)
}
