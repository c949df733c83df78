// Package cdkapp decides how to run a team's own CDK app the way the CDK
// CLI would (cdk.json's app command, the language's own install step, the
// CLI version the app asks for) and checks that a synthesized cloud
// assembly keeps stevedore's contract (pipelines/contract). It is plain Go:
// ci/infra.go reads the files and runs the containers.
package cdkapp

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
)

// DefaultCLIVersion is the aws-cdk CLI that reads what aws-cdk-lib 2.270
// writes (npm's latest 3.x cannot).
const DefaultCLIVersion = "2.1148.1"

// Kind is how the app is installed and run.
type Kind string

// The kinds of CDK app stevedore runs.
const (
	// Node apps (TypeScript through the app's own ts-node, or JavaScript):
	// npm ci, then the app command.
	Node Kind = "node"
	// Go apps: compiled once (cached), then synthesized with the binary.
	Go Kind = "go"
	// Python apps: a virtualenv with pip install, then the app command.
	Python Kind = "python"
	// Assembly is a prebuilt cloud assembly directory: nothing to run.
	Assembly Kind = "assembly"
)

// Probes are the files of the app directory Detect looks at, besides
// cdk.json and package.json: the caller says which exist.
func Probes(appCommand string) []string {
	p := []string{"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "go.mod", "go.sum", "requirements.txt", "pyproject.toml", "tsconfig.json"}
	if dir, ok := assemblyDir(appCommand); ok {
		p = append(p, path.Join(dir, "manifest.json"))
	}
	return p
}

// Input is what Detect reads: cdk.json, package.json (nil when absent) and
// which of Probes exist.
type Input struct {
	// Dir is the app directory relative to the repository, for messages.
	Dir         string
	CDKJSON     []byte
	PackageJSON []byte
	Present     map[string]bool
	// CLIVersion is infra.cdkVersion (empty: the default).
	CLIVersion string
}

// Plan says how to run one CDK app.
type Plan struct {
	Kind Kind
	// Language is typescript, javascript, go, python or assembly.
	Language string
	// App is cdk.json's app command, run by the CDK CLI from the app directory.
	App string
	// AssemblyDir is the prebuilt assembly, relative to the app directory.
	AssemblyDir string
	// GoPackage is what `go build` compiles (from `go run <pkg>`).
	GoPackage string
	// InstallFiles key the install layer: an edit elsewhere does not reinstall.
	InstallFiles []string
	// Install are the commands run on InstallFiles only.
	Install [][]string
	// CLIVersion is the aws-cdk version; LocalCLI means the app's own
	// aws-cdk dependency (node_modules/.bin/cdk) runs instead of a global one.
	CLIVersion string
	LocalCLI   bool
}

// ParseApp reads cdk.json's app command.
func ParseApp(dir string, cdkJSON []byte) (string, error) {
	if cdkJSON == nil {
		return "", fmt.Errorf("%s has no cdk.json: infra.dir must be the directory of a CDK app (the one you run `cdk synth` in)", dir)
	}
	var cfg struct {
		App string `json:"app"`
	}
	if err := json.Unmarshal(cdkJSON, &cfg); err != nil {
		return "", fmt.Errorf("%s/cdk.json is not valid JSON: %v", dir, err)
	}
	if strings.TrimSpace(cfg.App) == "" {
		return "", fmt.Errorf(`%s/cdk.json has no "app" command: add the command that runs your CDK app, e.g. "app": "npx ts-node --prefer-ts-exts bin/app.ts"`, dir)
	}
	return strings.TrimSpace(cfg.App), nil
}

// assemblyDir is the directory an app command names when it is a single
// relative path (cdk's --app accepts a cloud assembly directory).
func assemblyDir(app string) (string, bool) {
	if app == "" || strings.ContainsAny(app, " \t") || path.IsAbs(app) || strings.HasPrefix(path.Clean(app), "..") {
		return "", false
	}
	return path.Clean(app), true
}

type packageJSON struct {
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
}

func (p packageJSON) dep(name string) (string, bool) {
	if v, ok := p.DevDependencies[name]; ok {
		return v, true
	}
	v, ok := p.Dependencies[name]
	return v, ok
}

// Detect decides how to run the app, or says what the directory lacks.
func Detect(in Input) (*Plan, error) {
	app, err := ParseApp(in.Dir, in.CDKJSON)
	if err != nil {
		return nil, err
	}
	has := func(f string) bool { return in.Present[f] }
	p := &Plan{App: app, CLIVersion: DefaultCLIVersion}
	if in.CLIVersion != "" {
		p.CLIVersion = in.CLIVersion
	}
	first := strings.Fields(app)[0]
	if dir, ok := assemblyDir(app); ok && has(path.Join(dir, "manifest.json")) {
		p.Kind, p.Language, p.AssemblyDir = Assembly, "assembly", dir
		return p, nil
	}
	switch {
	case in.PackageJSON != nil:
		return p, detectNode(in, p, has)
	case has("go.mod"):
		p.Kind, p.Language = Go, "go"
		p.GoPackage = "."
		if f := strings.Fields(app); len(f) == 3 && f[0] == "go" && f[1] == "run" {
			p.GoPackage = f[2]
		} else if first != "go" {
			return nil, fmt.Errorf("%s has a go.mod but cdk.json's app is %q: use \"go run .\" (stevedore compiles the package once and runs the binary)", in.Dir, app)
		}
		p.InstallFiles = []string{"go.mod"}
		if has("go.sum") {
			p.InstallFiles = append(p.InstallFiles, "go.sum")
		}
		p.Install = [][]string{{"go", "mod", "download"}}
		return p, nil
	case has("requirements.txt") || has("pyproject.toml"):
		p.Kind, p.Language = Python, "python"
		if has("requirements.txt") {
			p.InstallFiles = []string{"requirements.txt"}
			p.Install = [][]string{{"pip", "install", "--disable-pip-version-check", "-r", "requirements.txt"}}
		} else {
			// pyproject.toml installs the project itself: it needs every source.
			p.Install = [][]string{{"pip", "install", "--disable-pip-version-check", "."}}
		}
		return p, nil
	}
	if _, ok := assemblyDir(app); ok {
		return nil, fmt.Errorf("%s/cdk.json's app %q is neither a command nor a cloud assembly directory (no %s/manifest.json)", in.Dir, app, path.Clean(app))
	}
	return nil, fmt.Errorf("cannot tell how to run the CDK app in %s (cdk.json's app is %q): stevedore needs a package.json with its lockfile (TypeScript or JavaScript), a go.mod (Go), a requirements.txt or pyproject.toml (Python), or an app that names a prebuilt cloud assembly", in.Dir, app)
}

func detectNode(in Input, p *Plan, has func(string) bool) error {
	var pkg packageJSON
	if err := json.Unmarshal(in.PackageJSON, &pkg); err != nil {
		return fmt.Errorf("%s/package.json is not valid JSON: %v", in.Dir, err)
	}
	p.Kind, p.Language = Node, "javascript"
	lock := ""
	for _, f := range []string{"package-lock.json", "npm-shrinkwrap.json"} {
		if has(f) {
			lock = f
			break
		}
	}
	if lock == "" {
		other := ""
		for _, f := range []string{"yarn.lock", "pnpm-lock.yaml"} {
			if has(f) {
				other = " (found " + f + "; stevedore installs with npm ci)"
			}
		}
		return fmt.Errorf("%s has a package.json but no package-lock.json%s: run `npm install` there and commit package-lock.json, so every install is reproducible and cached", in.Dir, other)
	}
	p.InstallFiles = []string{"package.json", lock}
	p.Install = [][]string{{"npm", "ci", "--no-fund", "--no-audit"}}
	if _, ok := pkg.dep("aws-cdk-lib"); !ok {
		return fmt.Errorf("%s/package.json does not depend on aws-cdk-lib: is infra.dir the CDK app? (npm install aws-cdk-lib constructs)", in.Dir)
	}
	if runner := tsRunner(p.App); runner != "" {
		p.Language = "typescript"
		if _, ok := pkg.dep(runner); !ok {
			return fmt.Errorf("%s/cdk.json runs %s but package.json does not depend on it: npm install --save-dev %s typescript", in.Dir, runner, runner)
		}
	}
	if v, ok := pkg.dep("aws-cdk"); ok {
		p.CLIVersion, p.LocalCLI = v, true
	}
	return nil
}

// tsRunner is the TypeScript runner an app command uses (ts-node, tsx), if any.
func tsRunner(app string) string {
	for _, f := range strings.Fields(app) {
		switch path.Base(f) {
		case "ts-node", "ts-node-esm":
			return "ts-node"
		case "tsx":
			return "tsx"
		}
	}
	return ""
}

// ErrNoTemplates is returned when an assembly holds no stack template.
var ErrNoTemplates = errors.New("the cloud assembly holds no stack template (*.template.json): does the CDK app create any stack for this environment?")
