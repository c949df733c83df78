// Package contract is the one place that defines what stevedore and a CDK
// app (the user's own or the built-in one) agree on: the stack outputs
// stevedore reads back, the CDK context keys it sets, which environment
// names are allowed and how a digest-pinned image reference is written.
// Every other package (the built-in infrastructure, the assembly check, the
// AWS target) imports these names instead of spelling them again.
package contract

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/google/go-containerregistry/pkg/name"
)

// Stack outputs stevedore reads after a deploy. A user's CDK app exports
// them under these names, or maps its own names in stevedore.yaml
// (infra.outputs).
const (
	// OutputCluster is the ECS cluster of every service.
	OutputCluster = "ClusterName"
	// OutputHealthURL is the URL verify checks for the backend.
	OutputHealthURL = "HealthUrl"
	// OutputFrontendBucket is the S3 bucket the frontend is uploaded to.
	OutputFrontendBucket = "FrontendBucketName"
	// OutputDistribution is the CloudFront distribution in front of it.
	OutputDistribution = "DistributionId"
	// OutputFrontendURL is the URL verify checks for the frontend.
	OutputFrontendURL = "FrontendUrl"

	serviceNameSuffix = "ServiceName"
)

// ServiceOutput is the output naming a service's ECS service, e.g.
// BackendServiceName for "backend" and ApiGatewayServiceName for
// "api-gateway".
func ServiceOutput(service string) string { return Pascal(service) + serviceNameSuffix }

// Pascal turns a name into the PascalCase of output keys and construct
// ids: sessions-db -> SessionsDb, api_gateway -> ApiGateway.
func Pascal(name string) string {
	var b strings.Builder
	upper := true
	for _, r := range name {
		if r == '-' || r == '_' {
			upper = true
			continue
		}
		if upper {
			r = unicode.ToUpper(r)
		}
		upper = false
		b.WriteRune(r)
	}
	return b.String()
}

// CDK context keys stevedore sets on every synth, diff and deploy. Users
// cannot set them through --context or infra.context.
const (
	// ContextEnv is the environment name, e.g. prod or pr-123.
	ContextEnv = "env"
	// ContextApp is the app name of stevedore.yaml.
	ContextApp = "app"
	// ContextEnvBase is the preset the environment is based on (dev,
	// staging or prod; stevedore.yaml environments.<name>.base), so a CDK
	// app can size pr-123 like dev and eu-prod like prod.
	ContextEnvBase = "envBase"
	// ContextDescription gives the built-in app the path of the app
	// description it renders.
	ContextDescription = "stevedore:description"

	imageContextPrefix = "image."
)

// ImageContextKey is the context key holding a service's digest-pinned
// image, e.g. image.backend.
func ImageContextKey(service string) string { return imageContextPrefix + service }

// Owned reports whether stevedore sets the context key itself.
func Owned(key string) bool {
	switch key {
	case ContextEnv, ContextApp, ContextEnvBase, ContextDescription:
		return true
	}
	return strings.HasPrefix(key, imageContextPrefix)
}

// Presets are the environments stevedore knows without being told: every
// other environment names one of them as its base in stevedore.yaml.
var Presets = []string{"dev", "staging", "prod"}

// envPattern keeps an environment name safe as a stack-name suffix, an SSM
// path segment and a DNS label: lowercase letters, digits and dashes.
var envPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$`)

// ValidateEnv checks an environment name (e.g. qa, pr-123, eu-prod).
func ValidateEnv(env string) error {
	if !envPattern.MatchString(env) || strings.Contains(env, "--") {
		return fmt.Errorf("environment %q is not a valid name: use lowercase letters, digits and single dashes, starting with a letter, at most 32 characters (e.g. dev, qa, pr-123)", env)
	}
	return nil
}

// IsPreset reports whether env is one of the preset environments.
func IsPreset(env string) bool { return slices.Contains(Presets, env) }

// Image is a parsed digest-pinned reference, repository@sha256:<hex>.
type Image struct {
	// Repository is everything before the @, registry host included.
	Repository string
	// Digest is sha256:<64 hex>.
	Digest string
}

// String renders repository@digest.
func (i Image) String() string { return i.Repository + "@" + i.Digest }

// LocalRegistryHost is the registry of the local target's images (the
// embedded registry): templates synthesized against them are never
// deployed.
const LocalRegistryHost = "stevedore-registry:5000"

// Local reports whether the image is in the local target's registry.
func (i Image) Local() bool { return strings.HasPrefix(i.Repository, LocalRegistryHost+"/") }

// digestPattern is the only digest algorithm registries and ECS use.
var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// ParseImage accepts only digest-pinned references (a tag could move under
// a deploy), e.g. 1234.dkr.ecr.eu-west-1.amazonaws.com/api@sha256:….
func ParseImage(ref string) (Image, error) {
	repo, digest, ok := strings.Cut(ref, "@")
	if !ok || !digestPattern.MatchString(digest) {
		return Image{}, fmt.Errorf("image %q is not digest-pinned (repository@sha256:<64 hex>): publish prints the reference to use", ref)
	}
	if _, err := name.NewRepository(repo); err != nil {
		return Image{}, fmt.Errorf("image %q: %q is not a repository name (host/path, lowercase, no tag): %v", ref, repo, err)
	}
	return Image{Repository: repo, Digest: digest}, nil
}

var (
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	rolePattern    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}):role/[\w+=,.@/-]+$`)
)

// ValidateRegion reports a clear error for an empty or malformed region
// name, before any request goes to a host that does not exist.
func ValidateRegion(region string) error {
	if region == "" {
		return fmt.Errorf("no AWS region: pass --region (e.g. eu-west-1) or set it in the AWS config file")
	}
	if !regionPattern.MatchString(region) {
		return fmt.Errorf("invalid AWS region %q: expected a name like us-east-1 or eu-west-3", region)
	}
	return nil
}

// ValidateAccount checks a 12-digit AWS account id.
func ValidateAccount(account string) error {
	if !accountPattern.MatchString(account) {
		return fmt.Errorf("%q is not a 12-digit AWS account id (quote it in YAML)", account)
	}
	return nil
}

// RoleAccount returns the account of an IAM role ARN, or an error when arn
// is not one.
func RoleAccount(arn string) (string, error) {
	m := rolePattern.FindStringSubmatch(arn)
	if m == nil {
		return "", fmt.Errorf("%q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", arn)
	}
	return m[1], nil
}
