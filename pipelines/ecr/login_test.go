package ecr

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

const testPassword = "eyJwYXlsb2FkIjoiczNjcjN0LXBhc3N3b3JkIn0"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// assertNoSecret fails when err's message reveals any of secrets.
func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Errorf("error leaks a secret: %v", err)
		}
	}
}

func TestDecodeToken(t *testing.T) {
	for _, tc := range []struct {
		name, token        string
		wantUser, wantPass string
		wantErr            string
	}{
		{name: "good", token: b64("AWS:" + testPassword), wantUser: "AWS", wantPass: testPassword},
		{name: "colon inside password", token: b64("AWS:pa:ss"), wantUser: "AWS", wantPass: "pa:ss"},
		{name: "surrounding whitespace", token: " " + b64("AWS:"+testPassword) + "\n", wantUser: "AWS", wantPass: testPassword},
		{name: "empty", token: "", wantErr: "token is empty"},
		{name: "bad base64", token: "AWS:" + testPassword + "!", wantErr: "not valid base64"},
		{name: "no colon", token: b64("AWS" + testPassword), wantErr: "no ':' between user name and password"},
		{name: "empty password", token: b64("AWS:"), wantErr: "empty user name or password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, pass, err := DecodeToken(tc.token)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				assertNoSecret(t, err, tc.token, strings.TrimSpace(tc.token), testPassword, "AWS"+testPassword)
				return
			}
			if err != nil || user != tc.wantUser || pass != tc.wantPass {
				t.Fatalf("DecodeToken = %q, %q, %v; want %q, %q", user, pass, err, tc.wantUser, tc.wantPass)
			}
		})
	}
}

func TestLogin(t *testing.T) {
	token := b64("AWS:" + testPassword)
	f, c := newFake(t, map[string][]reply{"GetAuthorizationToken": {ok(fmt.Sprintf(
		`{"authorizationData":[{"authorizationToken":%q,"expiresAt":1700043200,"proxyEndpoint":"https://%s"}]}`, token, testRegistry))}})
	reg, err := c.Login(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := Registry{Host: testRegistry, Username: "AWS", Password: testPassword, ExpiresAt: time.Unix(1700043200, 0)}
	if reg.Host != want.Host || reg.Username != want.Username || reg.Password != want.Password || !reg.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("Login = %#v (password match %v), want host %s user AWS expiry %s", reg, reg.Password == testPassword, want.Host, want.ExpiresAt)
	}
	if ids := field(f.bodies("GetAuthorizationToken")[0], "registryIds"); ids != nil {
		t.Errorf("registryIds = %v, want the default registry", ids)
	}
	for _, s := range []string{fmt.Sprint(reg), fmt.Sprintf("%+v", reg), fmt.Sprintf("%#v", reg)} {
		if strings.Contains(s, testPassword) || !strings.Contains(s, testRegistry) {
			t.Errorf("formatted registry %q must show the host and hide the password", s)
		}
	}
}

func TestLoginErrorsHideTheToken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply reply
		want  string
	}{
		{"bad base64", ok(`{"authorizationData":[{"authorizationToken":"%%` + testPassword + `","proxyEndpoint":"https://x"}]}`), "not valid base64"},
		{"no colon", ok(`{"authorizationData":[{"authorizationToken":"` + b64("AWS"+testPassword) + `","proxyEndpoint":"https://x"}]}`), "no ':'"},
		{"no endpoint", ok(`{"authorizationData":[{"authorizationToken":"` + b64("AWS:"+testPassword) + `"}]}`), "no registry endpoint"},
		{"no data", ok(`{"authorizationData":[]}`), "no authorization data"},
		{"access denied", apiError("AccessDeniedException", "not authorized"), "lack the ecr:GetAuthorizationToken permission"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, c := newFake(t, map[string][]reply{"GetAuthorizationToken": {tc.reply}})
			_, err := c.Login(context.Background())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %q", err, tc.want)
			}
			assertNoSecret(t, err, testPassword, b64("AWS"+testPassword), b64("AWS:"+testPassword))
		})
	}
}
