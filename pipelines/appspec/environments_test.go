package appspec

import (
	"strings"
	"testing"
)

const envBase = `name: shop
services:
  - {name: api, context: api, port: 8080}
`

func TestEnvResolves(t *testing.T) {
	app, err := Parse("s.yaml", []byte(envBase+`environments:
  qa: {base: staging}
  pr-*: {}
  prod: {account: "123456789012", region: eu-west-1, role: "arn:aws:iam::123456789012:role/deploy"}
  sandbox: {base: prod, protected: false}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, base string
		protected  bool
		account    string
	}{
		{"dev", "dev", false, ""},
		{"staging", "staging", false, ""},
		{"prod", "prod", true, "123456789012"},
		{"qa", "staging", false, ""},
		{"pr-7", "dev", false, ""},
		{"sandbox", "prod", false, ""},
	} {
		e, err := app.Env(tc.name)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if e.Base != tc.base || e.Protected != tc.protected || e.Account != tc.account {
			t.Errorf("%s: got %+v", tc.name, e)
		}
	}
	_, err = app.Env("qaa")
	if err == nil || !strings.Contains(err.Error(), `unknown environment "qaa": use one of dev, staging, prod, pr-*, qa, sandbox`) {
		t.Errorf("typo: %v", err)
	}
	if _, err := app.Env("Bad_Name"); err == nil {
		t.Error("invalid name accepted")
	}
}

func TestEnvironmentsValidatedInOneRound(t *testing.T) {
	_, err := Parse("s.yaml", []byte(envBase+`environments:
  qa: {base: preprod, account: "12345", region: mars, role: "arn:aws:iam::999999999999:role/x"}
  Bad: {}
`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"environments.qa.base", "environments.qa.account", "environments.qa.region", "environments.Bad", "environments.qa.role"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %s in:\n%v", want, err)
		}
	}
	_, err = Parse("s.yaml", []byte(envBase+"environments:\n  qa: {bse: dev}\n"))
	if err == nil || !strings.Contains(err.Error(), "base, protected, account, region, role") {
		t.Errorf("unknown key: %v", err)
	}
}

// Wrong types, semantic problems and unknown keys come in one round, and
// nothing is reported about a value the user never wrote.
func TestOneRoundNoCascade(t *testing.T) {
	_, err := Parse("s.yaml", []byte(`name: Shop
services:
  - name: API
    context: /abs
    port: "eighty"
    buildArgs: [a, b]
    test: "go test"
`))
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{
		"services[API].port: `eighty` must be a whole number (line 5)",
		"services[API].buildArgs: a list must be a mapping of KEY: VALUE (line 6)",
		"services[API].test: `go test` must be a mapping of its keys (line 7)",
		`name: "Shop" must be lowercase`,
		`services[API].name: "API" must be lowercase`,
		`services[API].context: "/abs" must be relative`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	for _, never := range []string{"port: must be between", "dockerfile", "repository", "test.image", "test.command"} {
		if strings.Contains(msg, never) {
			t.Errorf("cascaded error %q in:\n%s", never, msg)
		}
	}
}

// A misspelled key is named with its path, and the key it was meant to be
// is not also reported missing.
func TestMisspelledKeyNoMissingCascade(t *testing.T) {
	_, err := Parse("s.yaml", []byte("name: shop\nservices:\n  - name: api\n    contxt: api\n    port: 80\nfrontend: {dir: web, outptu: build}\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, want := range []string{"services[api].contxt: unknown key (did you mean context?) (known keys: name, context,", "(line 4)", "frontend.outptu: unknown key (did you mean output?) (known keys: dir,"} {
		if !strings.Contains(msg, want) {
			t.Errorf("missing %q in:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "context: required") {
		t.Errorf("cascaded 'required':\n%s", msg)
	}
}

// A key given twice stops decoding: that problem alone is reported, not
// the emptiness it leaves behind.
func TestDuplicateKeyAlone(t *testing.T) {
	_, err := Parse("s.yaml", []byte("name: shop\nenvironments: {}\nservices:\n  - {name: api, context: api, port: 80}\nenvironments: {}\n"))
	if err == nil || !strings.Contains(err.Error(), `mapping key "environments" already defined`) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "required") {
		t.Errorf("cascaded problems:\n%v", err)
	}
}
