package cdkapp

import (
	"slices"
	"strings"
	"testing"
)

func files(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

const (
	tsPkg    = `{"dependencies":{"aws-cdk-lib":"2.270.0","constructs":"^10.5.0"},"devDependencies":{"ts-node":"^10.9.2","typescript":"~5.6.3","aws-cdk":"2.1148.1"}}`
	jsPkg    = `{"dependencies":{"aws-cdk-lib":"2.270.0","constructs":"^10.5.0"}}`
	tsCDK    = `{"app":"npx ts-node --prefer-ts-exts bin/app.ts"}`
	jsCDK    = `{"app":"node bin/app.js"}`
	goCDK    = `{"app":"go run ."}`
	pyCDK    = `{"app":"python3 app.py"}`
	asmCDK   = `{"app":"prebuilt"}`
	noAppCDK = `{"context":{}}`
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      Input
		want    Plan
		wantErr string
	}{
		{"typescript with its own CLI", Input{CDKJSON: []byte(tsCDK), PackageJSON: []byte(tsPkg), Present: files("package-lock.json", "tsconfig.json")},
			Plan{Kind: Node, Language: "typescript", App: "npx ts-node --prefer-ts-exts bin/app.ts", InstallFiles: []string{"package.json", "package-lock.json"}, CLIVersion: "2.1148.1", LocalCLI: true}, ""},
		{"javascript, global CLI at the configured version", Input{CDKJSON: []byte(jsCDK), PackageJSON: []byte(jsPkg), Present: files("npm-shrinkwrap.json"), CLIVersion: "2.1100.0"},
			Plan{Kind: Node, Language: "javascript", App: "node bin/app.js", InstallFiles: []string{"package.json", "npm-shrinkwrap.json"}, CLIVersion: "2.1100.0"}, ""},
		{"javascript, default CLI", Input{CDKJSON: []byte(jsCDK), PackageJSON: []byte(jsPkg), Present: files("package-lock.json")},
			Plan{Kind: Node, Language: "javascript", App: "node bin/app.js", InstallFiles: []string{"package.json", "package-lock.json"}, CLIVersion: DefaultCLIVersion}, ""},
		{"the app's own aws-cdk wins over cdkVersion", Input{CDKJSON: []byte(tsCDK), PackageJSON: []byte(tsPkg), Present: files("package-lock.json"), CLIVersion: "2.1000.0"},
			Plan{Kind: Node, Language: "typescript", App: "npx ts-node --prefer-ts-exts bin/app.ts", InstallFiles: []string{"package.json", "package-lock.json"}, CLIVersion: "2.1148.1", LocalCLI: true}, ""},
		{"go", Input{CDKJSON: []byte(goCDK), Present: files("go.mod", "go.sum")},
			Plan{Kind: Go, Language: "go", App: "go run .", GoPackage: ".", InstallFiles: []string{"go.mod", "go.sum"}, CLIVersion: DefaultCLIVersion}, ""},
		{"go, another package", Input{CDKJSON: []byte(`{"app":"go run ./cmd/infra"}`), Present: files("go.mod")},
			Plan{Kind: Go, Language: "go", App: "go run ./cmd/infra", GoPackage: "./cmd/infra", InstallFiles: []string{"go.mod"}, CLIVersion: DefaultCLIVersion}, ""},
		{"python requirements", Input{CDKJSON: []byte(pyCDK), Present: files("requirements.txt")},
			Plan{Kind: Python, Language: "python", App: "python3 app.py", InstallFiles: []string{"requirements.txt"}, CLIVersion: DefaultCLIVersion}, ""},
		{"python pyproject", Input{CDKJSON: []byte(pyCDK), Present: files("pyproject.toml")},
			Plan{Kind: Python, Language: "python", App: "python3 app.py", CLIVersion: DefaultCLIVersion}, ""},
		{"prebuilt assembly", Input{CDKJSON: []byte(asmCDK), Present: files("prebuilt/manifest.json")},
			Plan{Kind: Assembly, Language: "assembly", App: "prebuilt", AssemblyDir: "prebuilt", CLIVersion: DefaultCLIVersion}, ""},
		{"no cdk.json", Input{Dir: "infrastructure/cdk"}, Plan{}, "infrastructure/cdk has no cdk.json"},
		{"no app command", Input{Dir: "cdk", CDKJSON: []byte(noAppCDK)}, Plan{}, `cdk/cdk.json has no "app" command`},
		{"bad cdk.json", Input{Dir: "cdk", CDKJSON: []byte(`{`)}, Plan{}, "cdk/cdk.json is not valid JSON"},
		{"no lockfile", Input{Dir: "cdk", CDKJSON: []byte(tsCDK), PackageJSON: []byte(tsPkg)}, Plan{}, "no package-lock.json: run `npm install` there and commit package-lock.json"},
		{"yarn", Input{Dir: "cdk", CDKJSON: []byte(tsCDK), PackageJSON: []byte(tsPkg), Present: files("yarn.lock")}, Plan{}, "found yarn.lock; stevedore installs with npm ci"},
		{"ts-node missing", Input{Dir: "cdk", CDKJSON: []byte(tsCDK), PackageJSON: []byte(jsPkg), Present: files("package-lock.json")}, Plan{}, "runs ts-node but package.json does not depend on it"},
		{"not a CDK package", Input{Dir: "web", CDKJSON: []byte(jsCDK), PackageJSON: []byte(`{"dependencies":{"react":"18"}}`), Present: files("package-lock.json")}, Plan{}, "does not depend on aws-cdk-lib"},
		{"assembly dir missing", Input{Dir: "cdk", CDKJSON: []byte(asmCDK)}, Plan{}, "neither a command nor a cloud assembly directory (no prebuilt/manifest.json)"},
		{"nothing to run with", Input{Dir: "cdk", CDKJSON: []byte(jsCDK)}, Plan{}, "cannot tell how to run the CDK app in cdk"},
		{"go.mod with another command", Input{Dir: "cdk", CDKJSON: []byte(`{"app":"make synth"}`), Present: files("go.mod")}, Plan{}, `use "go run ."`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detect(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Install = nil // checked below
			if !equalPlan(*got, tc.want) {
				t.Fatalf("plan = %+v\nwant   %+v", *got, tc.want)
			}
		})
	}
}

func equalPlan(a, b Plan) bool {
	return a.Kind == b.Kind && a.Language == b.Language && a.App == b.App && a.AssemblyDir == b.AssemblyDir &&
		a.GoPackage == b.GoPackage && slices.Equal(a.InstallFiles, b.InstallFiles) && a.CLIVersion == b.CLIVersion && a.LocalCLI == b.LocalCLI
}

// The install step reads only the install files, so an edit of the app's
// sources does not reinstall: every command must work on those files alone.
func TestInstallCommands(t *testing.T) {
	for _, tc := range []struct {
		in   Input
		want string
	}{
		{Input{CDKJSON: []byte(jsCDK), PackageJSON: []byte(jsPkg), Present: files("package-lock.json")}, "npm ci --no-fund --no-audit"},
		{Input{CDKJSON: []byte(goCDK), Present: files("go.mod")}, "go mod download"},
		{Input{CDKJSON: []byte(pyCDK), Present: files("requirements.txt")}, "pip install --disable-pip-version-check -r requirements.txt"},
	} {
		p, err := Detect(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Install) != 1 || strings.Join(p.Install[0], " ") != tc.want {
			t.Errorf("%s install = %q, want %q", p.Kind, p.Install, tc.want)
		}
	}
}

func TestProbes(t *testing.T) {
	if p := Probes("cdk.assembly"); !slices.Contains(p, "cdk.assembly/manifest.json") {
		t.Errorf("an app naming a directory must probe its manifest: %v", p)
	}
	if p := Probes("npx ts-node bin/app.ts"); slices.ContainsFunc(p, func(s string) bool { return strings.HasSuffix(s, "manifest.json") }) {
		t.Errorf("a command is not an assembly: %v", p)
	}
	if p := Probes("../elsewhere"); slices.Contains(p, "../elsewhere/manifest.json") {
		t.Errorf("an assembly outside the app directory must not be probed: %v", p)
	}
}
