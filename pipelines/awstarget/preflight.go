package awstarget

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsecr "github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/stevedore-ci/stevedore/pipelines/awsconf"
	"github.com/stevedore-ci/stevedore/pipelines/internal/words"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// defaultQualifier is the CDK bootstrap qualifier when none is set.
const defaultQualifier = "hnb659fds"

// Problems are what a preflight found, each with the command that fixes it.
type Problems []string

func (p Problems) Error() string {
	return fmt.Sprintf("the account is not ready for this deploy (%d problems, nothing was changed):\n  - %s", len(p), strings.Join(p, "\n  - "))
}

// problemsOf turns the checks' errors into Problems, sorted; the checks
// that could not resolve an AWS endpoint become one problem naming every
// host, and when every check failed so, one error says AWS is not
// reachable (no account problem is known yet).
func problemsOf(errs []error, region string) error {
	var problems Problems
	var hosts []string
	for _, err := range errs {
		var dns *net.DNSError
		if errors.As(err, &dns) {
			if !slices.Contains(hosts, dns.Name) {
				hosts = append(hosts, dns.Name)
			}
			continue
		}
		problems = append(problems, err.Error())
	}
	if len(hosts) > 0 {
		slices.Sort(hosts)
		unreachable := fmt.Sprintf("cannot resolve %s: check the region (%s) and the network (is AWS reachable from here?)", strings.Join(hosts, ", "), region)
		if len(problems) == 0 {
			return fmt.Errorf("AWS is not reachable, nothing was checked or changed: %s", unreachable)
		}
		problems = append(problems, unreachable)
	}
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems)
	return problems
}

// Preflight checks, read-only and before the first push, that the account
// is bootstrapped for CDK, that every declared secret exists and that the
// ECR repositories can be read. Every problem is listed, not only the
// first.
func (t *Target) Preflight(ctx context.Context) (steps.Outcome, error) {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	check := func(fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil {
				mu.Lock()
				defer mu.Unlock()
				errs = append(errs, err)
			}
		}()
	}
	var version string
	check(func() (err error) {
		version, err = t.bootstrapVersion(ctx)
		return err
	})
	for _, name := range t.Secrets {
		check(func() error { return t.secretProblem(ctx, name) })
	}
	for _, s := range t.App.Services {
		check(func() error { return t.repositoryProblem(ctx, s.Repository) })
	}
	wg.Wait()
	if err := problemsOf(errs, t.AWS.Region); err != nil {
		return steps.Outcome{}, err
	}
	return steps.Outcome{Summary: fmt.Sprintf("CDK bootstrap version %s, %s, %s readable", version, words.Count(len(t.Secrets), "declared secret"), words.Count(len(t.App.Services), "repository"))}, nil
}

// bootstrapVersion reads the CDK bootstrap version parameter.
func (t *Target) bootstrapVersion(ctx context.Context) (string, error) {
	q := t.Qualifier
	if q == "" {
		q = defaultQualifier
	}
	name := "/cdk-bootstrap/" + q + "/version"
	out, err := ssm.NewFromConfig(t.AWS).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name)})
	switch {
	case hasCode(err, "ParameterNotFound"):
		return "", fmt.Errorf("account not bootstrapped for CDK in %s (no SSM parameter %s): run `dagger call with-aws --region %s … bootstrap`", t.AWS.Region, name, t.AWS.Region)
	case err != nil:
		return "", awsconf.Explain("ssm:GetParameter", fmt.Errorf("reading the CDK bootstrap version %s: %w", name, err))
	}
	return aws.ToString(out.Parameter.Value), nil
}

// secretProblem says what is wrong with a secret the stacks need.
func (t *Target) secretProblem(ctx context.Context, name string) error {
	_, err := secretsmanager.NewFromConfig(t.AWS).DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(name)})
	switch {
	case hasCode(err, "ResourceNotFoundException"):
		return fmt.Errorf("secret %s does not exist in %s: create it with `aws secretsmanager create-secret --region %s --name %s --secret-string <value>`", name, t.AWS.Region, t.AWS.Region, name)
	case err != nil:
		return awsconf.Explain("secretsmanager:DescribeSecret", fmt.Errorf("secret %s: %w", name, err))
	}
	return nil
}

// repositoryProblem says whether the repository cannot be read; a missing
// one is fine (the push creates it).
func (t *Target) repositoryProblem(ctx context.Context, repo string) error {
	_, err := awsecr.NewFromConfig(t.AWS).DescribeRepositories(ctx, &awsecr.DescribeRepositoriesInput{RepositoryNames: []string{repo}})
	if err == nil || hasCode(err, "RepositoryNotFoundException") {
		return nil
	}
	return awsconf.Explain("ecr:DescribeRepositories", fmt.Errorf("ECR repository %s: %w", repo, err))
}

func hasCode(err error, codes ...string) bool {
	var api smithy.APIError
	return errors.As(err, &api) && slices.Contains(codes, api.ErrorCode())
}

var (
	// secretArn matches a Secrets Manager secret named in a template, as
	// fromSecretNameV2 and hand-written ARNs write it.
	secretArn = regexp.MustCompile(`:secret:([A-Za-z0-9/_+=.@?-]+)`)
	// secretResolve matches a dynamic reference {{resolve:secretsmanager:NAME…}}.
	secretResolve = regexp.MustCompile(`\{\{resolve:secretsmanager:([A-Za-z0-9/_+=.@-]+)`)
	// secretResource matches the Name of a secret the templates create.
	secretResource = regexp.MustCompile(`"Type"\s*:\s*"AWS::SecretsManager::Secret"[^{}]*"Properties"\s*:\s*\{[^{}]*"Name"\s*:\s*"([^"]+)"`)
	// randomSuffix is what Secrets Manager appends to a secret's ARN.
	randomSuffix = regexp.MustCompile(`-(\?{6}|[A-Za-z0-9]{6})$`)
)

// referencedSecrets lists the secrets the templates name but do not
// create, sorted.
func referencedSecrets(templates []string) []string {
	created := map[string]bool{}
	for _, tpl := range templates {
		for _, m := range secretResource.FindAllStringSubmatch(tpl, -1) {
			created[m[1]] = true
		}
	}
	seen := map[string]bool{}
	for _, tpl := range templates {
		for _, m := range secretArn.FindAllStringSubmatch(tpl, -1) {
			seen[strings.TrimSuffix(m[1], "-??????")] = true
		}
		for _, m := range secretResolve.FindAllStringSubmatch(tpl, -1) {
			if m[1] != "arn" { // a full ARN: the :secret: pattern has it
				seen[m[1]] = true
			}
		}
	}
	var out []string
	for name := range seen {
		if !created[name] && !created[randomSuffix.ReplaceAllString(name, "")] {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
