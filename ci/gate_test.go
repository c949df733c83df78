package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/gate"
)

// The smoke command runs in its image with the test route in its
// environment and the token as a secret variable; a failure carries the
// tail of its output.
func TestSmokeCommandRunsWithTheTestRoute(t *testing.T) {
	ctx := context.Background()
	token, err := gate.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	run := engineSmoke{acct: &AwsAccount{}, src: dag.Directory().WithNewFile("smoke/check.sh", "test \"$STEVEDORE_TEST_URL\" = http://lb.example.com && echo route ok\n")}
	check := `test "$STEVEDORE_TEST_URL" = http://lb.example.com && test "$STEVEDORE_TEST_HEADER" = ` + contract.GateHeader +
		` && test "$STEVEDORE_TEST_TOKEN" = ` + string(token) + ` && test "$(pwd)" = /src && sh smoke/check.sh`
	if err := run.RunSmoke(ctx, "backend", appspec.SmokeCommand{Image: "debian:bookworm-slim", Command: []string{"sh", "-c", check}}, "http://lb.example.com", contract.GateHeader, token); err != nil {
		t.Fatalf("the smoke command did not see the test route: %v", err)
	}
	err = run.RunSmoke(ctx, "backend", appspec.SmokeCommand{Image: "debian:bookworm-slim", Command: []string{"sh", "-c", "echo 'FAILED smoke/test_orders.py::test_list - 500' >&2; exit 3"}}, "http://lb.example.com", contract.GateHeader, token)
	if err == nil {
		t.Fatal("a failing smoke command passed")
	}
	for _, w := range []string{"debian:bookworm-slim", "exited 3", "FAILED smoke/test_orders.py::test_list - 500"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), string(token)) {
		t.Error("the error shows the token")
	}
}
