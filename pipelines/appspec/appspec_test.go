package appspec

import (
	"os"
	"path"
	"strings"
	"testing"
)

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The repository's own description (the examples) must stay valid.
func TestRepositoryDescription(t *testing.T) {
	app, err := Parse("stevedore.yaml", mustRead(t, "../../stevedore.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	be, err := app.Service("")
	if err != nil {
		t.Fatal(err)
	}
	if be.Port != 9889 || be.Health != "/health" || be.Repository != "cao-server" {
		t.Fatalf("backend = %+v", be)
	}
	if be.Test.Cache != "go" {
		t.Fatalf("cache guessed from golang image = %q", be.Test.Cache)
	}
	if app.Frontend.Install != "npm ci" || app.Frontend.Image != DefaultNodeImage || app.Frontend.Dockerfile != DefaultFrontendDF {
		t.Fatalf("frontend defaults = %+v", app.Frontend)
	}
	// Every path it names exists in the repository.
	root := "../.."
	err = app.CheckFiles(func(p string, dir bool) (bool, error) {
		fi, err := os.Stat(path.Join(root, p))
		if err != nil {
			return false, nil
		}
		return fi.IsDir() == dir, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// commander.ai has two images, a frontend and a migration: the format must
// describe it too.
func TestCommanderDescription(t *testing.T) {
	app, err := Parse("commander.yaml", mustRead(t, "testdata/commander.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(app.ServiceNames(), ","); got != "backend,qdrant" {
		t.Fatalf("services = %s", got)
	}
	q, _ := app.Service("qdrant")
	if q.Repository != "commander-qdrant" || q.Container != "qdrant" || q.Test != nil {
		t.Fatalf("qdrant defaults = %+v", q)
	}
	b, _ := app.Service("backend")
	if b.Test.Cache != "pip" {
		t.Fatalf("python cache = %q", b.Test.Cache)
	}
	if app.Frontend.Output != "out" || app.Infra.App != "commander" {
		t.Fatalf("frontend/infra = %+v %+v", app.Frontend, app.Infra)
	}
	if strings.Join(app.Migrate.Command, " ") != "alembic upgrade head" {
		t.Fatalf("migrate = %+v", app.Migrate)
	}
	if _, err := app.Service(""); err == nil || !strings.Contains(err.Error(), "backend, qdrant") {
		t.Fatalf("ambiguous service must list names, got %v", err)
	}
}

func TestInvalidDescriptions(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"empty", "", []string{"is empty"}},
		{"not yaml", "name: [", []string{"not a valid app description"}},
		{"unknown key", "name: x\nservices:\n  - name: a\n    context: .\n    port: 1\n    prot: 2\n",
			[]string{"services[a].prot: unknown key (known keys: name, context", "known keys: name, context"}},
		{"no services", "name: x\n", []string{"services: at least one service"}},
		{"bad port and name", "name: X\nservices:\n  - name: api\n    context: api\n    port: 0\n",
			[]string{`name: "X" must be lowercase`, "services[api].port: must be between 1 and 65535 (got 0)"}},
		{"duplicate", "name: x\nservices:\n  - {name: a, context: a, port: 1}\n  - {name: a, context: b, port: 2}\n",
			[]string{`duplicate service name "a"`}},
		{"escape", "name: x\nservices:\n  - {name: a, context: ../up, port: 1}\n",
			[]string{`"../up" points outside the source directory`}},
		{"absolute", "name: x\nservices:\n  - {name: a, context: /etc, port: 1}\n",
			[]string{"must be relative"}},
		{"health path", "name: x\nservices:\n  - {name: a, context: a, port: 1, health: health}\n",
			[]string{`"health" must be an HTTP path`}},
		{"test", "name: x\nservices:\n  - name: a\n    context: a\n    port: 1\n    test: {image: '', command: ' ', cache: maven}\n",
			[]string{"test.image: required", "test.command: required", `"maven" is not one of`}},
		{"infra context", "name: x\nservices:\n  - {name: a, context: a, port: 1}\ninfra: {dir: infra, context: {env: prod}}\n",
			[]string{`"env" is set by stevedore itself`}},
		{"migrate", "name: x\nservices:\n  - {name: a, context: a, port: 1}\nmigrate: {service: b}\n",
			[]string{`migrate.service: "b" is not one of the services (a)`, "migrate.command: required"}},
		{"frontend output", "name: x\nservices:\n  - {name: a, context: a, port: 1}\nfrontend: {dir: web, output: .}\n",
			[]string{"frontend.output"}},
		{"site repository", "name: x\nservices:\n  - {name: site, context: a, port: 1}\nfrontend: {dir: web}\n",
			[]string{`services[site].repository: "x-site" is the repository of the frontend's site image`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("stevedore.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "stevedore.yaml") {
				t.Errorf("error must name the file: %q", err)
			}
		})
	}
}

func TestCheckFilesListsEveryMissingPath(t *testing.T) {
	app, err := Parse("x", []byte("name: x\nservices:\n  - {name: a, context: a, port: 1}\n  - {name: b, context: b, port: 2, dockerfile: docker/b.Dockerfile}\n  - {name: c, context: qdrant, port: 3}\nfrontend: {dir: web}\n"))
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{"a": true, "a/Dockerfile": true, "b": true, "web": true}
	err = app.CheckFiles(func(p string, dir bool) (bool, error) { return present[p], nil }, DefaultFrontendDF)
	if err == nil {
		t.Fatal("want missing paths")
	}
	for _, w := range []string{`services[b].dockerfile: file "docker/b.Dockerfile" not found`, `frontend.dir: file "web/package.json" not found`, `services[c].context: directory "qdrant" not found`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q missing from %q", w, err)
		}
	}
	if strings.Contains(err.Error(), "frontend.dockerfile") {
		t.Errorf("builtin Dockerfile must not be reported: %q", err)
	}
	if strings.Contains(err.Error(), "services[c].dockerfile") {
		t.Errorf("the default Dockerfile of a missing context is reported too: %q", err)
	}
}

// config prints Marshal: the built-in infrastructure (no infra.dir) has
// no dir line, a CDK app's dir is printed.
func TestMarshalInfraDir(t *testing.T) {
	for file, want := range map[string]string{
		"testdata/shop.yaml":      "",
		"testdata/commander.yaml": "dir: infrastructure/cdk",
	} {
		app, err := Parse(file, mustRead(t, file))
		if err != nil {
			t.Fatal(err)
		}
		_, infra, _ := strings.Cut(app.Marshal(), "\ninfra:\n")
		var dir string
		for _, line := range strings.Split(infra, "\n") {
			if !strings.HasPrefix(line, " ") {
				break // the next top-level key
			}
			if strings.HasPrefix(line, "  dir:") {
				dir = strings.TrimSpace(line)
			}
		}
		if dir != want {
			t.Errorf("%s: infra's dir line is %q, want %q:\n%s", file, dir, want, app.Marshal())
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	app, err := Parse("x", mustRead(t, "testdata/commander.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("again", []byte(app.Marshal()))
	if err != nil {
		t.Fatalf("marshalled description does not parse: %v\n%s", err, app.Marshal())
	}
	if again.Marshal() != app.Marshal() {
		t.Fatal("round trip changed the description")
	}
}

// A service's tests run in exactly one of a toolchain image, a stage of its
// Dockerfile or its own image; each problem names its field.
func TestTestWhereItRuns(t *testing.T) {
	const head = "name: x\nservices:\n  - name: api\n    context: api\n    port: 8000\n    target: runtime\n    test: "
	for _, tc := range []struct {
		name, test string
		want       []string // empty: valid
		never      []string
	}{
		{"toolchain image", "{image: python:3.11-slim, command: pytest}", nil, nil},
		{"stage", "{stage: test, command: pytest}", nil, nil},
		{"stage in capitals", "{stage: Test, command: pytest}", nil, nil},
		{"service image", "{serviceImage: true, command: pytest}", nil, nil},
		{"service image with the context", "{serviceImage: true, mount: true, command: pytest}", nil, nil},
		{"stage with the context", "{stage: test, mount: true, command: pytest}", nil, nil},
		{"none", "{command: pytest}",
			[]string{"services[api].test.image: required: where the tests run, one of image (a toolchain image, the context at /src), stage (a stage of the service's Dockerfile) or serviceImage: true (the service's own image)"}, nil},
		{"image and stage", "{image: python:3.11-slim, stage: test, command: pytest}",
			[]string{"services[api].test.stage: cannot be set together with test.image: keep one of image"}, []string{"test.image: required"}},
		{"image and service image", "{image: python:3.11-slim, serviceImage: true, command: pytest}",
			[]string{"services[api].test.serviceImage: cannot be set together with test.image: keep one of"}, nil},
		{"stage and service image", "{stage: test, serviceImage: true, command: pytest}",
			[]string{"services[api].test.serviceImage: cannot be set together with test.stage: keep one of"}, nil},
		{"all three", "{image: python:3.11-slim, stage: test, serviceImage: true, command: pytest}",
			[]string{"test.stage: cannot be set together with test.image", "test.serviceImage: cannot be set together with test.image"}, nil},
		{"mount with image", "{image: python:3.11-slim, mount: true, command: pytest}",
			[]string{"services[api].test.mount: only for stage or serviceImage: with image the context is always at /src"}, nil},
		{"bad stage name", "{stage: 'my stage', command: pytest}",
			[]string{`services[api].test.stage: "my stage" is not a Dockerfile stage name`}, nil},
		{"misspelled stage key", "{stgae: test, command: pytest}",
			[]string{"services[api].test.stgae: unknown key", "stage, serviceImage, mount"}, []string{"test.image: required"}},
		{"service image not a boolean", "\n      command: pytest\n      serviceImage: yes please",
			[]string{"services[api].test.serviceImage: `yes please` must be true or false"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := Parse("stevedore.yaml", []byte(head+tc.test+"\n"))
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if app.Services[0].Test.Image == "" && app.Services[0].Test.Cache != "none" {
					t.Errorf("cache of a built image = %q, want none unless set", app.Services[0].Test.Cache)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not contain %q", err, w)
				}
			}
			for _, n := range tc.never {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q\n contains %q", err, n)
				}
			}
		})
	}
}

// The tests run in the stage test.stage names, or in the service's target.
func TestTestTarget(t *testing.T) {
	for _, tc := range []struct {
		s    Service
		want string
	}{
		{Service{Target: "runtime", Test: &Test{Stage: "test"}}, "test"},
		{Service{Target: "runtime", Test: &Test{ServiceImage: true}}, "runtime"},
		{Service{Test: &Test{ServiceImage: true}}, ""},
	} {
		if got := tc.s.TestTarget(); got != tc.want {
			t.Errorf("TestTarget(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

// npm ci needs a lockfile: without one the frontend is refused with the
// paths, before anything runs; another install command needs none.
func TestCheckFilesFrontendLockfile(t *testing.T) {
	for _, tc := range []struct {
		name, install string
		files         []string
		want          string // "" = no problem
	}{
		{"npm ci, no lockfile", "", nil, "frontend.install: `npm ci` needs web/package-lock.json, not found in the source directory: run `npm install` in web"},
		{"npm ci with flags, no lockfile", "npm ci --ignore-scripts", nil, "frontend.install: `npm ci --ignore-scripts` needs web/package-lock.json"},
		{"package-lock.json", "", []string{"web/package-lock.json"}, ""},
		{"npm-shrinkwrap.json", "", []string{"web/npm-shrinkwrap.json"}, ""},
		{"npm install needs none", "npm install", nil, ""},
		{"npm cit is not npm ci", "npm cit", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "name: x\nservices:\n  - {name: a, context: a, port: 1}\nfrontend: {dir: web}\n"
			if tc.install != "" {
				yaml = strings.Replace(yaml, "{dir: web}", "{dir: web, install: "+tc.install+"}", 1)
			}
			app, err := Parse("x", []byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			present := map[string]bool{"a": true, "a/Dockerfile": true, "web": true, "web/package.json": true}
			for _, f := range tc.files {
				present[f] = true
			}
			err = app.CheckFiles(func(p string, dir bool) (bool, error) { return present[p], nil }, DefaultFrontendDF)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected problem: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// A path Validate refuses (outside the source) is not looked up: it is
// reported once, by Validate.
func TestCheckFilesSkipsPathsValidateRefuses(t *testing.T) {
	app := &App{Name: "x", Services: []Service{{Name: "a", Context: "../outside", Dockerfile: "/etc/Dockerfile", Port: 1}}}
	err := app.CheckFiles(func(p string, dir bool) (bool, error) {
		t.Errorf("looked up %q", p)
		return false, nil
	})
	if err != nil {
		t.Errorf("unexpected problem: %v", err)
	}
	if app.Validate() == nil {
		t.Error("Validate accepted paths outside the source")
	}
}
