package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"dagger/stevedore/internal/dagger"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
)

// Set the AWS account, region and credentials of every AWS step.
//
// The AWS steps (publish, deploy-infra, rollout, publish-frontend, deploy
// --target aws, …) act on this account. Credentials are Dagger
// secrets, e.g. --access-key-id env:AWS_ACCESS_KEY_ID, or an AWS config and
// credentials file with --config file:$HOME/.aws/config. An emulator or
// gateway: --endpoint http://localhost:4566 --endpoint-service
// tcp://localhost:4566 (the endpoint reaches every SDK client and the CDK
// CLI).
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
	// Base URL overriding every AWS service endpoint (gateways, emulators),
	// e.g. http://localhost:4566.
	// +optional
	endpoint string,
	// Service to reach the endpoint through, for one on your machine or a
	// Dagger service, e.g. tcp://localhost:4566.
	// +optional
	endpointService *dagger.Service,
	// Registry address images are pushed to and referenced by instead of
	// the ECR address (ECR-compatible gateways), e.g. localhost:4566.
	// +optional
	registryAddress string,
	// URL verify checks instead of the stacks' HealthUrl output (private
	// load balancers, emulators), e.g. http://localhost:8080/health.
	// +optional
	healthUrl string,
	// Base URL the gates of gated services check instead of the stacks'
	// <Service>TestUrl outputs (a tunnel to the load balancer, emulators),
	// e.g. http://localhost:8080; the requests still carry the test header.
	// +optional
	testUrl string,
	// Time limit of deploy-infra in deploy --target aws, e.g. 90m.
	// +default="60m"
	deployTimeout string,
	// Account id for the CDK CLI (default: asked from STS when an endpoint is set).
	// +optional
	account string,
	// Stateful resources (logical or physical ids, e.g. Database) that
	// deploy --target aws may replace or delete; any other such change is
	// refused before it is executed.
	// +optional
	allowReplace []string,
) (*Stevedore, error) {
	if err := awsconf.ValidateRegion(region); err != nil {
		return nil, err
	}
	if err := validateEndpoint(endpoint, endpointService != nil); err != nil {
		return nil, err
	}
	if registryAddress != "" {
		if err := validateRegistryAddress(registryAddress); err != nil {
			return nil, fmt.Errorf("--registry-address: %w", err)
		}
	}
	if healthUrl != "" {
		if u, err := url.Parse(healthUrl); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--health-url %q is not an http(s) URL, e.g. http://localhost:8080/health", healthUrl)
		}
	}
	if testUrl != "" {
		if u, err := url.Parse(testUrl); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--test-url %q is not an http(s) URL, e.g. http://localhost:8080", testUrl)
		}
	}
	timeout, err := time.ParseDuration(deployTimeout)
	if err != nil || timeout <= 0 {
		return nil, fmt.Errorf("--deploy-timeout %q is not a positive duration, e.g. 60m", deployTimeout)
	}
	if account != "" && !accountID.MatchString(account) {
		return nil, fmt.Errorf("--account %q is not a 12-digit AWS account id", account)
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
		EndpointService: endpointService, RegistryAddress: strings.TrimSuffix(registryAddress, "/"),
		HealthURL: healthUrl, TestURL: strings.TrimSuffix(testUrl, "/"), DeployTimeout: deployTimeout, Account: account, AllowReplace: allowReplace,
	}
	return &c, nil
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// validateEndpoint accepts an http(s) base URL; one on this machine needs
// a service to reach it from inside the engine.
func validateEndpoint(endpoint string, tunnel bool) error {
	if endpoint == "" {
		if tunnel {
			return errors.New("--endpoint-service needs --endpoint (the URL the AWS clients use, e.g. http://localhost:4566)")
		}
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return fmt.Errorf("--endpoint %q is not an http(s) base URL, e.g. http://localhost:4566 or https://gateway.example.com", endpoint)
	}
	if !tunnel && isLocalHost(u.Hostname()) {
		return fmt.Errorf("--endpoint %s is on your machine, which the engine cannot reach: add --endpoint-service tcp://%s", endpoint, hostPort(u))
	}
	return nil
}

func isLocalHost(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// hostPort is the URL's host with its port, the scheme's default if none.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// endpointAlias is the host name the CDK container reaches the endpoint
// service under.
const endpointAlias = "aws-endpoint"

// deployTimeout is the time limit of cdk deploy (validated by WithAws).
func (a *AwsAccount) deployTimeout() time.Duration {
	if a == nil {
		return 0 // no with-aws: newAWSTarget says so
	}
	d, err := time.ParseDuration(a.DeployTimeout)
	if err != nil {
		return 0 // awstarget's default
	}
	return d
}

// endpointURL is the endpoint as seen from this module: through the
// started service when there is one.
func (a *AwsAccount) endpointURL(ctx context.Context) (string, error) {
	if a.Endpoint == "" || a.EndpointService == nil {
		return a.Endpoint, nil
	}
	ep, err := a.dial(ctx)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(a.Endpoint)
	u.Host = ep
	return strings.TrimSuffix(u.String(), "/"), nil
}

// dial starts the endpoint service and returns the host:port it answers on.
func (a *AwsAccount) dial(ctx context.Context) (string, error) {
	svc, err := a.EndpointService.Start(ctx)
	if err != nil {
		return "", fmt.Errorf("starting the --endpoint-service: %w", err)
	}
	u, _ := url.Parse(a.Endpoint)
	port, _ := strconv.Atoi(strings.TrimPrefix(hostPort(u), u.Hostname()+":"))
	ep, err := svc.Endpoint(ctx, dagger.ServiceEndpointOpts{Port: port})
	if err != nil {
		return "", fmt.Errorf("--endpoint-service endpoint: %w", err)
	}
	return ep, nil
}

// sameHost reports whether rawURL is on the endpoint's host, so reached
// through the endpoint service when there is one.
func (a *AwsAccount) sameHost(rawURL string) bool {
	if a.EndpointService == nil || a.Endpoint == "" {
		return false
	}
	e, _ := url.Parse(a.Endpoint)
	u, err := url.Parse(rawURL)
	return err == nil && hostPort(u) == hostPort(e)
}

// testURL is the --test-url as this module reaches it: through the
// endpoint service when it is on the endpoint's host.
func (a *AwsAccount) testURL(ctx context.Context) (string, error) {
	if a.TestURL == "" || !a.sameHost(a.TestURL) {
		return a.TestURL, nil
	}
	ep, err := a.dial(ctx)
	if err != nil {
		return "", err
	}
	u, _ := url.Parse(a.TestURL)
	u.Host = ep
	return strings.TrimSuffix(u.String(), "/"), nil
}

// registryDial is where the push connects for the registry address
// override: through the endpoint service when both are the same host.
func (a *AwsAccount) registryDial(ctx context.Context, address string) (string, error) {
	if a.EndpointService == nil || a.Endpoint == "" {
		return "", nil
	}
	u, _ := url.Parse(a.Endpoint)
	if strings.SplitN(address, "/", 2)[0] != u.Host {
		return "", nil
	}
	return a.dial(ctx)
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
	// +private
	EndpointService *dagger.Service
	// +private
	RegistryAddress string
	// +private
	HealthURL string
	// +private
	TestURL string
	// +private
	DeployTimeout string
	// +private
	Account string
	// +private
	AllowReplace []string

	// caller is the credentials' ARN once STS has said it in this call
	// (forEnvironment), so a deploy asks STS once.
	caller string
}

// requireAws fails clearly when an AWS step runs without with-aws.
func (m *Stevedore) requireAws(step string) (*AwsAccount, error) {
	if m.Aws == nil {
		extra := ""
		if step == "deploy" || step == "plan" || step == "deploy --dry-run" {
			extra = "--target aws"
		}
		return nil, awsconf.NeedsAccount(step, extra)
	}
	return m.Aws, nil
}

// options reads the secrets into an awsconf.Options, in this process only.
func (a *AwsAccount) options(ctx context.Context) (awsconf.Options, error) {
	endpoint, err := a.endpointURL(ctx)
	if err != nil {
		return awsconf.Options{}, err
	}
	o := awsconf.Options{Region: a.Region, Profile: a.Profile, Endpoint: endpoint}
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
	ctr = ctr.WithEnvVariable("CDK_DEFAULT_REGION", a.Region)
	if a.Account != "" {
		ctr = ctr.WithEnvVariable("CDK_DEFAULT_ACCOUNT", a.Account)
	}
	if a.Endpoint != "" {
		endpoint := a.Endpoint
		if a.EndpointService != nil {
			u, _ := url.Parse(a.Endpoint)
			_, port, _ := net.SplitHostPort(hostPort(u))
			u.Host = net.JoinHostPort(endpointAlias, port)
			endpoint = strings.TrimSuffix(u.String(), "/")
			ctr = ctr.WithServiceBinding(endpointAlias, a.EndpointService)
		}
		// Path-style S3 URLs: the CDK CLI's asset uploads would otherwise
		// address <bucket>.<endpoint host>, a name an emulator or the
		// service alias does not have (the CLI reads this since 2.1138).
		ctr = ctr.WithEnvVariable("AWS_ENDPOINT_URL", endpoint).WithEnvVariable("CDK_S3_FORCE_PATH_STYLE", "1")
	}
	return ctr
}

// cdkContainer is ctr with the account (withCredentials) and the account
// id the CDK CLI needs resolved: with an endpoint it cannot find it
// itself, so STS GetCallerIdentity answers it here.
func (a *AwsAccount) cdkContainer(ctx context.Context, ctr *dagger.Container) (*dagger.Container, error) {
	ctr = a.withCredentials(ctr)
	if a.Account != "" || a.Endpoint == "" {
		return ctr, nil
	}
	acct, err := a.callerAccount(ctx)
	if err != nil {
		return nil, err
	}
	return ctr.WithEnvVariable("CDK_DEFAULT_ACCOUNT", acct), nil
}

// callerAccount asks STS which account the credentials belong to.
func (a *AwsAccount) callerAccount(ctx context.Context) (string, error) {
	o, err := a.options(ctx)
	if err != nil {
		return "", err
	}
	cfg, cleanup, err := awsconf.Load(ctx, o)
	if err != nil {
		return "", err
	}
	defer cleanup()
	acct, _, err := awsconf.CallerIdentity(ctx, cfg)
	if err != nil {
		return "", fmt.Errorf("resolving the account for the CDK CLI: %w", err)
	}
	return acct, nil
}

// Bootstrap the account and region of with-aws for the CDK.
//
// It runs cdk bootstrap aws://ACCOUNT/REGION in the CDK CLI container: no
// Node needed on your machine. Run it once per account and region. Never
// cached.
// +cache="never"
func (m *Stevedore) Bootstrap(
	ctx context.Context,
	// Bootstrap qualifier, for several bootstraps in one account.
	// +optional
	qualifier string,
) (string, error) {
	acct, err := m.requireAws("bootstrap")
	if err != nil {
		return "", err
	}
	if qualifier != "" && !bootstrapQualifier.MatchString(qualifier) {
		return "", fmt.Errorf("--qualifier %q must be 1 to 10 lowercase letters or digits (CDK's rule)", qualifier)
	}
	id := acct.Account
	if id == "" {
		if id, err = acct.callerAccount(ctx); err != nil {
			return "", err
		}
	}
	ctr := withToolCaches(dag.Container().From(m.NodeImage), "npm").
		WithExec([]string{"npm", "install", "--global", "--no-fund", "--no-audit", "aws-cdk@" + cdkCLIVersion}).
		WithEnvVariable("CDK_DISABLE_CLI_TELEMETRY", "true")
	ctr = acct.withCredentials(ctr).WithEnvVariable("CDK_DEFAULT_ACCOUNT", id).
		WithEnvVariable("STEVEDORE_RUN", time.Now().UTC().Format(time.RFC3339Nano))
	args := []string{"cdk", "bootstrap", "aws://" + id + "/" + acct.Region, "--no-notices", "--no-version-reporting"}
	if qualifier != "" {
		args = append(args, "--qualifier", qualifier)
	}
	out, err := ctr.WithExec(args).CombinedOutput(ctx)
	if err != nil {
		return "", failed(fmt.Sprintf("cdk bootstrap aws://%s/%s", id, acct.Region), "", err)
	}
	return out, nil
}

var bootstrapQualifier = regexp.MustCompile(`^[a-z0-9]{1,10}$`)

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
