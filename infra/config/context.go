package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Context keys the app reads (pass each with -c key=value).
const (
	KeyApp                   = "app"
	KeyEnv                   = "env"
	KeyImagePrefix           = "image."
	KeyRepositoryPrefix      = "repository."
	KeyCreateRepository      = "createRepository"
	KeyFargateSpot           = "fargateSpot"
	KeyVpcEndpoints          = "vpcEndpoints"
	KeyScheduledScaleIn      = "scheduledScaleIn"
	KeyFrontend              = "frontend"
	KeyAlarmEmail            = "alarmEmail"
	KeyAZs                   = "azs"
	KeyGithubRepo            = "githubRepo"
	KeyGithubOIDCProviderArn = "githubOidcProviderArn"
	KeyGithubTrust           = "githubTrust"
	KeyGithubBranch          = "githubBranch"
	KeyDistributionID        = "distributionId"
)

// GitHub trust choices: which OIDC subjects may assume the deploy role.
const (
	// TrustBoth accepts pushes to the branch and jobs bound to the GitHub environment.
	TrustBoth = "both"
	// TrustBranch accepts only jobs running on the branch without a GitHub environment.
	TrustBranch = "branch"
	// TrustEnvironment accepts only jobs bound to the GitHub environment named like env.
	TrustEnvironment = "environment"
)

// Lookup returns the context value of key and whether it is set.
type Lookup func(key string) (value string, ok bool)

// MapLookup turns a map into a Lookup (tests, and main after reading the app context).
func MapLookup(m map[string]string) Lookup {
	return func(key string) (string, bool) {
		v, ok := m[key]
		return v, ok
	}
}

// Image is a validated digest-pinned image reference.
type Image struct {
	// Ref is the reference exactly as passed: <repo>@sha256:<64 hex>.
	Ref string
	// ECR is true when Ref points at a private ECR registry.
	ECR bool
	// Repository is the ECR repository name inside Ref (ECR only).
	Repository string
	// Account and Region locate the ECR registry (ECR only).
	Account, Region string
	// Partition is aws, or aws-cn for .amazonaws.com.cn registries (ECR only).
	Partition string
}

// Github configures the GitHub OIDC deploy role stack.
type Github struct {
	// Repo is owner/name of the repository whose workflows may assume the role.
	Repo string
	// OIDCProviderArn imports an existing provider; empty creates one.
	OIDCProviderArn string
	// Trust is TrustBoth, TrustBranch or TrustEnvironment.
	Trust string
	// Branch is the branch whose pushes are trusted (default main).
	Branch string
	// DistributionID narrows CloudFront invalidations to one distribution
	// (the DistributionId output, known after the first frontend deploy);
	// empty allows the account's distributions.
	DistributionID string
}

// Settings is the validated context: everything main needs to build stacks.
type Settings struct {
	// App is the selected application.
	App App
	// Env is the selected environment's sizing.
	Env Env
	// AppStacks is false when only the GitHub deploy stack is synthesized
	// (githubRepo set and no image.* given: the role is bootstrapped before
	// any image exists).
	AppStacks bool
	// Images maps service key to its pinned image (empty when !AppStacks).
	Images map[string]Image
	// Repositories maps service key to its ECR repository name.
	Repositories map[string]string
	// CreateRepository makes the stacks create the ECR repositories instead of importing them.
	CreateRepository bool
	// FargateSpot runs services on the FARGATE_SPOT capacity provider.
	FargateSpot bool
	// VpcEndpoints replaces NAT gateways with VPC endpoints.
	VpcEndpoints bool
	// ScheduledScaleIn scales services to one task at 22:00 UTC and back at 06:00 UTC.
	ScheduledScaleIn bool
	// Frontend adds the S3 + CloudFront stack (always true for commander).
	Frontend bool
	// AlarmEmail subscribes an address to the alarm topic (optional).
	AlarmEmail string
	// AZs pins the availability zones (optional; needed for 3 AZs when synthesizing env-agnostic).
	AZs []string
	// Github is set when the GitHub deploy stack is requested.
	Github *Github
}

var (
	// A repository reference as the distribution spec defines it, then a sha256 digest.
	domainPart     = `(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?`
	pathComponent  = `[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`
	digestRefRe    = regexp.MustCompile(`^(?:` + domainPart + `/)?` + pathComponent + `(?:/` + pathComponent + `)*@sha256:[a-f0-9]{64}$`)
	ecrRefRe       = regexp.MustCompile(`^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/(.+)@sha256:[a-f0-9]{64}$`)
	repoNameRe     = regexp.MustCompile(`^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$`)
	emailRe        = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	githubRepoRe   = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$`)
	branchRe       = regexp.MustCompile(`^[A-Za-z0-9._/-]+$`)
	oidcArnRe      = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\.actions\.githubusercontent\.com$`)
	azRe           = regexp.MustCompile(`^[a-z]{2}(?:-[a-z]+)+-[0-9][a-z]$`)
	distributionRe = regexp.MustCompile(`^[A-Z0-9]{10,20}$`)
)

// Parse validates the context and returns the settings. Every problem is
// reported in one error line naming the exact -c flag to pass.
func Parse(lookup Lookup) (Settings, error) {
	p := &parser{lookup: lookup}
	s := Settings{Images: map[string]Image{}, Repositories: map[string]string{}}

	appName := p.str(KeyApp)
	app, appOK := AppByName(appName)
	if !appOK {
		p.fail("%s: pass -c app=%s", describe(KeyApp, appName), strings.Join(AppNames(), " or -c app="))
	}
	envName := p.str(KeyEnv)
	env, envOK := ForEnv(envName)
	if !envOK {
		p.fail("%s: pass -c env=%s", describe(KeyEnv, envName), strings.Join(EnvNames(), "|"))
	}
	s.App, s.Env = app, env

	s.CreateRepository = p.boolean(KeyCreateRepository)
	s.FargateSpot = p.boolean(KeyFargateSpot)
	s.VpcEndpoints = p.boolean(KeyVpcEndpoints)
	s.ScheduledScaleIn = p.boolean(KeyScheduledScaleIn)
	s.Frontend = p.boolean(KeyFrontend) || app.Name == Commander.Name
	s.AlarmEmail = p.str(KeyAlarmEmail)
	if s.AlarmEmail != "" && !emailRe.MatchString(s.AlarmEmail) {
		p.fail("alarmEmail %q is not an email address: pass -c alarmEmail=ops@example.com or leave it out", s.AlarmEmail)
	}
	s.AZs = p.azs()
	s.Github = p.github()

	if appOK {
		s.Repositories = p.repositories(app)
		s.AppStacks = s.Github == nil || p.anyImage(app)
		if s.AppStacks {
			s.Images = p.images(app, s.Repositories, s.VpcEndpoints)
		}
	}
	if len(p.problems) > 0 {
		return Settings{}, errors.New("invalid CDK context: " + strings.Join(p.problems, "; "))
	}
	return s, nil
}

// parser collects every problem so one run reports them all.
type parser struct {
	lookup   Lookup
	problems []string
}

func (p *parser) fail(format string, args ...any) {
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

func (p *parser) str(key string) string {
	v, _ := p.lookup(key)
	return strings.TrimSpace(v)
}

func (p *parser) boolean(key string) bool {
	switch strings.ToLower(p.str(key)) {
	case "", "false":
		return false
	case "true":
		return true
	default:
		p.fail("%s %q is not a boolean: pass -c %s=true or -c %s=false", key, p.str(key), key, key)
		return false
	}
}

func (p *parser) azs() []string {
	raw := p.str(KeyAZs)
	if raw == "" {
		return nil
	}
	var azs []string
	for _, az := range strings.Split(raw, ",") {
		az = strings.TrimSpace(az)
		if !azRe.MatchString(az) {
			p.fail("azs entry %q is not an availability zone: pass -c azs=us-east-1a,us-east-1b,us-east-1c", az)
			continue
		}
		azs = append(azs, az)
	}
	if len(azs) == 1 {
		p.fail("azs lists one zone: the databases need two, pass -c azs=%s,<second zone>", azs[0])
	}
	return azs
}

func (p *parser) github() *Github {
	repo := p.str(KeyGithubRepo)
	if repo == "" {
		return nil
	}
	g := &Github{
		Repo:            repo,
		OIDCProviderArn: p.str(KeyGithubOIDCProviderArn),
		Trust:           p.str(KeyGithubTrust),
		Branch:          p.str(KeyGithubBranch),
		DistributionID:  p.str(KeyDistributionID),
	}
	if !githubRepoRe.MatchString(repo) {
		p.fail("githubRepo %q is not owner/name: pass -c githubRepo=my-org/my-repo", repo)
	}
	if g.OIDCProviderArn != "" && !oidcArnRe.MatchString(g.OIDCProviderArn) {
		p.fail("githubOidcProviderArn %q is not a GitHub OIDC provider ARN: pass -c githubOidcProviderArn=arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com or leave it out to create one", g.OIDCProviderArn)
	}
	if g.Trust == "" {
		g.Trust = TrustBoth
	}
	if g.Trust != TrustBoth && g.Trust != TrustBranch && g.Trust != TrustEnvironment {
		p.fail("githubTrust %q is not valid: pass -c githubTrust=%s|%s|%s", g.Trust, TrustBoth, TrustBranch, TrustEnvironment)
	}
	if g.Branch == "" {
		g.Branch = "main"
	}
	if !branchRe.MatchString(g.Branch) {
		p.fail("githubBranch %q is not a plain branch name: pass -c githubBranch=main", g.Branch)
	}
	if g.DistributionID != "" && !distributionRe.MatchString(g.DistributionID) {
		p.fail("distributionId %q is not a CloudFront distribution ID: pass the DistributionId output, e.g. -c distributionId=E2QWRUHAPOMQZL", g.DistributionID)
	}
	return g
}

func (p *parser) repositories(app App) map[string]string {
	repos := map[string]string{}
	for _, svc := range app.Services {
		key := KeyRepositoryPrefix + svc.Key
		name := p.str(key)
		if name == "" {
			name = svc.DefaultRepository
		}
		if len(name) < 2 || len(name) > 256 || !repoNameRe.MatchString(name) {
			p.fail("%s %q is not an ECR repository name: pass -c %s=%s", key, name, key, svc.DefaultRepository)
		}
		repos[svc.Key] = name
	}
	return repos
}

func (p *parser) anyImage(app App) bool {
	for _, svc := range app.Services {
		if p.str(KeyImagePrefix+svc.Key) != "" {
			return true
		}
	}
	return false
}

func (p *parser) images(app App, repos map[string]string, vpcEndpoints bool) map[string]Image {
	images := map[string]Image{}
	for _, svc := range app.Services {
		key := KeyImagePrefix + svc.Key
		ref := p.str(key)
		switch {
		case ref == "":
			p.fail("%s is missing: pass -c %s=<account>.dkr.ecr.<region>.amazonaws.com/%s@sha256:<64 hex digest> (the digest the publish step pushed)", key, key, repos[svc.Key])
			continue
		case !digestRefRe.MatchString(ref):
			p.fail("%s %q is not digest-pinned: pass -c %s=%s@sha256:<64 hex digest>", key, ref, key, repoOf(ref))
			continue
		}
		img := Image{Ref: ref}
		if m := ecrRefRe.FindStringSubmatch(ref); m != nil {
			img.ECR, img.Account, img.Region, img.Repository = true, m[1], m[2], m[4]
			img.Partition = "aws"
			if m[3] != "" {
				img.Partition = "aws-cn"
			}
			if img.Repository != repos[svc.Key] {
				p.fail("%s points at ECR repository %q but %s%s is %q: pass -c %s%s=%s", key, img.Repository, KeyRepositoryPrefix, svc.Key, repos[svc.Key], KeyRepositoryPrefix, svc.Key, img.Repository)
			}
		} else if vpcEndpoints {
			p.fail("%s %q is not in ECR but vpcEndpoints=true leaves no route to other registries: push it to ECR or pass -c vpcEndpoints=false", key, ref)
		}
		images[svc.Key] = img
	}
	return images
}

// repoOf strips any digest and tag from a reference, to suggest the pinned form.
func repoOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	if ref == "" {
		return "<repo>"
	}
	return ref
}

// describe names a missing or unknown value of a key.
func describe(key, value string) string {
	if value == "" {
		return key + " is missing"
	}
	return fmt.Sprintf("%s %q is not valid", key, value)
}
