package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"dagger/stevedore/internal/dagger"

	"github.com/stevedore-ci/stevedore/pipelines/appspec"
	"github.com/stevedore-ci/stevedore/pipelines/gate"
)

// The variables a gate's smoke command is given: the base URL of the new
// revision's test route, the header the route matches and, as a Dagger
// secret, the header's value.
const (
	smokeURLEnv    = "STEVEDORE_TEST_URL"
	smokeHeaderEnv = "STEVEDORE_TEST_HEADER"
	smokeTokenEnv  = "STEVEDORE_TEST_TOKEN"
)

// smokeWorkdir is where a smoke command finds the repository (--source):
// its working directory, so `python3 smoke/check.py` works.
const smokeWorkdir = "/src"

// smokeCommand runs a gate's smoke command once, in a container from its
// image with the repository src at smokeWorkdir (its working directory),
// the test URL, header and token (the token as a Dagger secret, so it is
// in no log, layer or error), and fails with the command's own output
// when it exits non-zero. svc, when not nil (the local target), is bound
// under the URL's host name; on AWS the URL is the load balancer's and
// svc is nil. It is never cached.
func smokeCommand(ctx context.Context, cmd *appspec.SmokeCommand, src *dagger.Directory, testURL, header string, token gate.Token, svc *dagger.Service) error {
	// One secret per token: two gates in one session never share a value.
	sum := sha256.Sum256([]byte(token))
	secret := dag.SetSecret("stevedore-test-token-"+hex.EncodeToString(sum[:8]), string(token))
	ctr := dag.Container().From(cmd.Image).
		WithMountedDirectory(smokeWorkdir, src).
		WithWorkdir(smokeWorkdir).
		WithEnvVariable(smokeURLEnv, testURL).
		WithEnvVariable(smokeHeaderEnv, header).
		WithSecretVariable(smokeTokenEnv, secret).
		WithEnvVariable("STEVEDORE_RUN", time.Now().UTC().Format(time.RFC3339Nano))
	if svc != nil {
		u, err := url.Parse(testURL)
		if err != nil || u.Hostname() == "" {
			return fmt.Errorf("smoke command: test URL %q has no host to bind the service to", testURL)
		}
		ctr = ctr.WithServiceBinding(u.Hostname(), svc)
	}
	if _, err := ctr.WithExec(cmd.Command, dagger.ContainerWithExecOpts{UseEntrypoint: false}).Sync(ctx); err != nil {
		return failed("the run in "+cmd.Image, "", err) // the command, its exit code and output follow
	}
	return nil
}
