package appspec

import (
	"maps"
	"slices"

	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
)

var (
	namePattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,38}[a-z0-9]$|^[a-z]$`)
	// ECR repository names: lowercase, digits, and . _ - / separators.
	repoPattern = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$`)
	// CDK context keys are passed as -c key=value.
	contextKeyPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]*$`)
)

// Validate reports every problem at once, one per line, each naming the field.
func (a *App) Validate() error {
	errs := a.problems()
	if len(errs) == 0 {
		return nil
	}
	return errors.New("invalid app description:\n  - " + strings.Join(errs, "\n  - "))
}

// problems lists every problem as "field: what is wrong".
func (a *App) problems() []string {
	var errs []string
	add := func(field, format string, args ...any) {
		errs = append(errs, field+": "+fmt.Sprintf(format, args...))
	}
	if a.Name == "" {
		add("name", "required (lowercase letters, digits and dashes, e.g. cao)")
	} else if !namePattern.MatchString(a.Name) {
		add("name", "%q must be lowercase letters, digits and dashes, starting with a letter (max 40)", a.Name)
	}
	if len(a.Services) == 0 {
		add("services", "at least one service is required (name, context, port)")
	}
	seen := map[string]bool{}
	for i, s := range a.Services {
		f := fmt.Sprintf("services[%d]", i)
		if s.Name != "" {
			f = fmt.Sprintf("services[%s]", s.Name)
		}
		switch {
		case s.Name == "":
			add(f+".name", "required")
		case !namePattern.MatchString(s.Name):
			add(f+".name", "%q must be lowercase letters, digits and dashes", s.Name)
		case seen[s.Name]:
			add(f+".name", "duplicate service name %q", s.Name)
		}
		seen[s.Name] = true
		if s.Context == "" {
			add(f+".context", "required: the docker build context directory, relative to the source root")
		} else if msg := checkRel(s.Context); msg != "" {
			add(f+".context", "%s", msg)
		}
		if s.Dockerfile != "" {
			if msg := checkRel(s.Dockerfile); msg != "" {
				add(f+".dockerfile", "%s", msg)
			}
		}
		if s.Port < 1 || s.Port > 65535 {
			add(f+".port", "must be between 1 and 65535 (got %d)", s.Port)
		}
		if s.Health != "" && !strings.HasPrefix(s.Health, "/") {
			add(f+".health", "%q must be an HTTP path starting with /", s.Health)
		}
		if s.Repository != "" && !repoPattern.MatchString(s.Repository) {
			add(f+".repository", "%q is not a valid repository name (lowercase, digits, . _ - /)", s.Repository)
		}
		if a.Frontend != nil && s.Repository == a.SiteRepository() {
			add(f+".repository", "%q is the repository of the frontend's site image: give the service another repository", s.Repository)
		}
		for _, k := range slices.Sorted(maps.Keys(s.BuildArgs)) {
			if k == "" || strings.ContainsAny(k, "= \t") {
				add(f+".buildArgs", "invalid build arg name %q", k)
			}
		}
		a.validateDeployment(add, f, s)
		if s.Test != nil {
			validateTest(add, f+".test", s.Test)
		}
	}
	if fe := a.Frontend; fe != nil {
		if fe.Dir == "" {
			add("frontend.dir", "required: the directory holding package.json")
		} else if msg := checkRel(fe.Dir); msg != "" {
			add("frontend.dir", "%s", msg)
		}
		if msg := checkRel(fe.Output); msg != "" || fe.Output == "." {
			add("frontend.output", "%q must be a subdirectory of frontend.dir (e.g. dist)", fe.Output)
		}
		if msg := checkRel(fe.Dockerfile); msg != "" {
			add("frontend.dockerfile", "%s", msg)
		}
	}
	if in := a.Infra; in != nil {
		if msg := checkRel(in.Dir); in.Dir != "" && msg != "" {
			add("infra.dir", "%s", msg)
		}
		for _, k := range slices.Sorted(maps.Keys(in.Context)) {
			if !contextKeyPattern.MatchString(k) {
				add("infra.context", "invalid context key %q", k)
			}
			if contract.Owned(k) {
				add("infra.context", "%q is set by stevedore itself (use infra.app, --env and the published images)", k)
			}
		}
	}
	if m := a.Migrate; m != nil {
		if !seen[m.Service] || m.Service == "" {
			add("migrate.service", "%q is not one of the services (%s)", m.Service, strings.Join(slices.Compact(slices.Sorted(maps.Keys(seen))), ", "))
		}
		if len(m.Command) == 0 {
			add("migrate.command", "required, as a list (e.g. [alembic, upgrade, head])")
		}
	}
	a.validateEnvironments(add)
	a.validateBuiltin(add)
	a.validateLocal(add)
	a.validateCDKApp(add)
	return errs
}

// stagePattern is a Dockerfile stage name as BuildKit accepts it (it
// compares names in lower case).
var stagePattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]*$`)

// validateTest checks a service's test section (field is its path): one
// of image, stage and serviceImage says where the command runs.
func validateTest(add func(field, format string, args ...any), field string, t *Test) {
	const where = "image (a toolchain image, the context at /src), stage (a stage of the service's Dockerfile) or serviceImage: true (the service's own image)"
	var set []string
	if t.Image != "" {
		set = append(set, "image")
	}
	if t.Stage != "" {
		set = append(set, "stage")
	}
	if t.ServiceImage {
		set = append(set, "serviceImage")
	}
	if len(set) == 0 {
		add(field+".image", "required: where the tests run, one of %s", where)
	}
	for i := 1; i < len(set); i++ {
		add(field+"."+set[i], "cannot be set together with test.%s: keep one of %s", set[0], where)
	}
	if t.Stage != "" && !stagePattern.MatchString(strings.ToLower(t.Stage)) {
		add(field+".stage", "%q is not a Dockerfile stage name (letters, digits, - _ ., starting with a letter)", t.Stage)
	}
	if t.Mount && t.Image != "" {
		add(field+".mount", "only for stage or serviceImage: with image the context is always at /src")
	}
	if strings.TrimSpace(t.Command) == "" {
		add(field+".command", "required (e.g. go test ./...)")
	}
	switch t.Cache {
	case "go", "npm", "pip", "none":
	default:
		add(field+".cache", "%q is not one of go, npm, pip, none", t.Cache)
	}
}

// checkRel returns why p is not an acceptable relative path inside the source.
func checkRel(p string) string {
	switch {
	case path.IsAbs(p):
		return fmt.Sprintf("%q must be relative to the source directory, not absolute", p)
	case p == ".." || strings.HasPrefix(path.Clean(p), "../"):
		return fmt.Sprintf("%q points outside the source directory", p)
	}
	return ""
}
