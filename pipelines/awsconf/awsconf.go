// Package awsconf builds an aws.Config from what a stevedore user hands over:
// static keys, the contents of an AWS config/credentials file, or nothing (the
// standard chain). Every pipelines package that talks to AWS starts here, so
// region validation, retries and the endpoint override behave the same way.
package awsconf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

// Options says where credentials and region come from. All fields are optional;
// empty means "let the standard AWS chain decide".
type Options struct {
	// Region such as eu-west-1. Required unless the config file or the
	// environment names one.
	Region string
	// Static credentials. AccessKeyID and SecretAccessKey go together.
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Contents (not paths) of an AWS shared config and credentials file, and
	// the profile to use from them.
	ConfigFile      string
	CredentialsFile string
	Profile         string
	// Endpoint overrides the base URL of every service (tests, LocalStack-like
	// gateways, VPC endpoints).
	Endpoint string
	// MaxAttempts for the standard retryer (throttling, 5xx); 0 keeps the SDK
	// default of 3.
	MaxAttempts int
}

// ValidateRegion reports a clear error for an empty or malformed region name,
// before any request is sent to a host that does not exist (the rule is
// contract.ValidateRegion's).
func ValidateRegion(region string) error { return contract.ValidateRegion(region) }

// Load resolves Options into an aws.Config. The returned cleanup removes any
// temporary file written for ConfigFile/CredentialsFile; call it when done.
func Load(ctx context.Context, o Options) (aws.Config, func(), error) {
	cleanup := func() {}
	if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
		return aws.Config{}, cleanup, errors.New("AWS access key id and secret access key must be given together")
	}
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		if err := ValidateRegion(o.Region); err != nil {
			return aws.Config{}, cleanup, err
		}
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, o.SessionToken)))
	}
	if o.ConfigFile != "" || o.CredentialsFile != "" {
		dir, err := os.MkdirTemp("", "stevedore-aws-")
		if err != nil {
			return aws.Config{}, cleanup, fmt.Errorf("preparing AWS config files: %w", err)
		}
		cleanup = func() { os.RemoveAll(dir) }
		write := func(name, body string) (string, error) {
			p := filepath.Join(dir, name)
			return p, os.WriteFile(p, []byte(body), 0o600)
		}
		if o.ConfigFile != "" {
			p, err := write("config", o.ConfigFile)
			if err != nil {
				cleanup()
				return aws.Config{}, func() {}, fmt.Errorf("writing AWS config file: %w", err)
			}
			opts = append(opts, config.WithSharedConfigFiles([]string{p}))
		}
		if o.CredentialsFile != "" {
			p, err := write("credentials", o.CredentialsFile)
			if err != nil {
				cleanup()
				return aws.Config{}, func() {}, fmt.Errorf("writing AWS credentials file: %w", err)
			}
			opts = append(opts, config.WithSharedCredentialsFiles([]string{p}))
		}
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(o.Endpoint))
	}
	if o.MaxAttempts > 0 {
		opts = append(opts, config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = o.MaxAttempts })
		}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		cleanup()
		return aws.Config{}, func() {}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if err := ValidateRegion(cfg.Region); err != nil {
		cleanup()
		return aws.Config{}, func() {}, err
	}
	return cfg, cleanup, nil
}
