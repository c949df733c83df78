package main

import (
	"strings"
	"testing"
)

func TestValidateEndpoint(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		tunnel   bool
		want     string // "" = accepted
	}{
		{"", false, ""},
		{"https://gateway.example.com", false, ""},
		{"http://localhost:4566", true, ""},
		{"http://127.0.0.1:4566/", true, ""},
		{"http://localhost:4566", false, "add --endpoint-service tcp://localhost:4566"},
		{"http://127.0.0.1", false, "add --endpoint-service tcp://127.0.0.1:80"},
		{"localhost:4566", true, "is not an http(s) base URL"},
		{"ftp://gateway", false, "is not an http(s) base URL"},
		{"https://user:pw@gateway", false, "is not an http(s) base URL"},
		{"", true, "--endpoint-service needs --endpoint"},
	} {
		err := validateEndpoint(tc.endpoint, tc.tunnel)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("validateEndpoint(%q, %v) = %v, want accepted", tc.endpoint, tc.tunnel, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("validateEndpoint(%q, %v) = %v, want %q", tc.endpoint, tc.tunnel, err, tc.want)
		}
	}
}

func TestWithAwsRejectsBadOverrides(t *testing.T) {
	m := &Stevedore{}
	for _, tc := range []struct {
		endpoint, registry, health, test, timeout, account string
		want                                               string
	}{
		{endpoint: "gateway:4566", timeout: "60m", want: "--endpoint"},
		{registry: "https://x", timeout: "60m", want: "--registry-address"},
		{health: "localhost/health", timeout: "60m", want: "--health-url"},
		{test: "ftp://lb.example.com", timeout: "60m", want: "--test-url"},
		{timeout: "soon", want: "--deploy-timeout"},
		{timeout: "-5m", want: "--deploy-timeout"},
		{timeout: "60m", account: "12345", want: "12-digit"},
	} {
		_, err := m.WithAws("eu-west-1", nil, nil, nil, nil, nil, "", tc.endpoint, nil, tc.registry, tc.health, tc.test, tc.timeout, tc.account, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc, err, tc.want)
		}
	}
}

// deploy --target aws without with-aws fails with the with-aws hint, not
// a nil dereference.
func TestDeployTimeoutWithoutAws(t *testing.T) {
	var a *AwsAccount
	if got := a.deployTimeout(); got != 0 {
		t.Fatalf("deployTimeout() = %s", got)
	}
	if got := (&AwsAccount{DeployTimeout: "90m"}).deployTimeout(); got.Minutes() != 90 {
		t.Fatalf("deployTimeout() = %s", got)
	}
}
