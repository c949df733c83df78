package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

// runMainEnv makes the test binary run main() instead of the tests, so the
// real entry point is exercised as the CDK CLI runs it.
const runMainEnv = "INFRA_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	// The awscdk packages extracted the jsii runtime while initializing.
	jsii.Close()
	os.Exit(code)
}

// runApp runs main with a CDK context as the CLI passes it and returns
// the exit code, stderr and the templates written.
func runApp(t *testing.T, context map[string]string) (int, string, []string) {
	t.Helper()
	outdir := t.TempDir()
	body, _ := json.Marshal(context)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "CDK_CONTEXT_JSON="+string(body), "CDK_OUTDIR="+outdir,
		"CDK_VALIDATION=false", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	templates, _ := filepath.Glob(filepath.Join(outdir, "*.template.json"))
	for i, p := range templates {
		templates[i] = filepath.Base(p)
	}
	return code, stderr.String(), templates
}

func TestMainRejectsBadContextBeforeSynth(t *testing.T) {
	code, stderr, templates := runApp(t, map[string]string{"stevedore:description": "../stevedore.yaml", "env": "qa", "image.backend": "cao-server:latest"})
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if want := `error: unknown environment "qa"`; !strings.Contains(stderr, want) {
		t.Errorf("stderr %q does not contain %q", stderr, want)
	}
	if len(templates) != 0 {
		t.Errorf("templates written despite the error: %v", templates)
	}
	code, stderr, _ = runApp(t, map[string]string{"stevedore:description": "../stevedore.yaml", "env": "dev", "image.backend": "cao-server:latest"})
	if want := `image.backend: image "cao-server:latest" is not digest-pinned`; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr %q does not contain %q", code, stderr, want)
	}
}

func TestMainSynthesizesTheDescription(t *testing.T) {
	code, stderr, templates := runApp(t, map[string]string{
		"stevedore:description": "../stevedore.yaml", "env": "dev",
		"image.backend": "123456789012.dkr.ecr.us-east-1.amazonaws.com/cao-server@sha256:" + strings.Repeat("ab", 32),
	})
	if code != 0 {
		t.Fatalf("exit code %d: %s", code, stderr)
	}
	want := "CAOAuthStack-dev.template.json,CAOFrontendStack-dev.template.json,CAOInfrastructureStack-dev.template.json,CAONetworkStack-dev.template.json"
	if got := strings.Join(templates, ","); got != want {
		t.Errorf("templates = %s, want %s", got, want)
	}
}

func TestEnvironment(t *testing.T) {
	tests := []struct {
		account, region string
		want            string
	}{
		{"", "", "agnostic"},
		{"123456789012", "eu-west-1", "123456789012/eu-west-1"},
		{"", "eu-west-1", "/eu-west-1"},
	}
	for _, tt := range tests {
		t.Setenv("CDK_DEFAULT_ACCOUNT", tt.account)
		t.Setenv("CDK_DEFAULT_REGION", tt.region)
		got := "agnostic"
		if env := environment(); env != nil {
			got = deref(env.Account) + "/" + deref(env.Region)
		}
		if got != tt.want {
			t.Errorf("account %q region %q: environment %s, want %s", tt.account, tt.region, got, tt.want)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
