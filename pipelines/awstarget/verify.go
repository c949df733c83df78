package awstarget

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stevedore-ci/stevedore/pipelines/contract"
	"github.com/stevedore-ci/stevedore/pipelines/deploy"
	"github.com/stevedore-ci/stevedore/pipelines/internal/wait"
	"github.com/stevedore-ci/stevedore/pipelines/steps"
)

// Verify checks the health URL (or the override) and the frontend URL in
// parallel until each answers 200. A permanent error (unknown host, a 4xx
// answer) stops at once; the error says which URL answered what.
func (t *Target) Verify(ctx context.Context, _ []deploy.Image, out deploy.Outputs) (steps.Outcome, error) {
	var urls []string
	health := out[contract.OutputHealthURL]
	if t.HealthURL != "" {
		health = t.HealthURL
	}
	for _, u := range []string{health, out[contract.OutputFrontendURL]} {
		if u != "" {
			urls = append(urls, u)
		}
	}
	if t.DryRun {
		if len(urls) == 0 {
			return steps.Outcome{Summary: "would check the health and frontend URLs once the stacks exist"}, nil
		}
		return steps.Outcome{Summary: "would check " + strings.Join(urls, ", ")}, nil
	}
	if len(urls) == 0 {
		return steps.Outcome{}, fmt.Errorf("nothing to verify: the stacks export no %s or %s output (or set the health URL override)", contract.OutputHealthURL, contract.OutputFrontendURL)
	}
	client := t.HTTP
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	limit := orDefault(t.VerifyTimeout, DefaultVerifyTimeout)
	poll := orDefault(t.Poll, DefaultPoll)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make([]string, len(urls))
	errs := make([]error, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := waitHTTP200(ctx, client, u, limit, poll)
			if err != nil {
				errs[i] = err
				if errors.Is(err, errPermanent) {
					cancel() // no point waiting for the others
				}
				return
			}
			answers[i] = fmt.Sprintf("%s → 200 %s", u, lastLine(body))
			t.logf("%s", answers[i])
		}()
	}
	wg.Wait()
	var failed []error
	for i, err := range errs {
		if err != nil && !(errors.Is(err, context.Canceled) && errors.Is(errors.Join(errs...), errPermanent)) {
			failed = append(failed, err)
		} else if err != nil {
			failed = append(failed, fmt.Errorf("%s: not checked further (another URL failed for good)", urls[i]))
		}
	}
	if len(failed) > 0 {
		return steps.Outcome{}, errors.Join(failed...)
	}
	var arts []steps.Artifact
	for _, u := range urls {
		arts = append(arts, steps.Artifact{Kind: steps.KindURL, Name: "checked", Value: u})
	}
	return steps.Outcome{Summary: strings.Join(answers, "; "), Artifacts: arts}, nil
}

// errPermanent marks an answer that waiting will not change.
var errPermanent = errors.New("permanent error")

// waitHTTP200 retries GET url every poll until it answers 200 (returning
// the start of the body), the time limit passes, or the answer is
// permanent: the host does not exist, or a 4xx other than 408 and 429.
func waitHTTP200(ctx context.Context, client *http.Client, url string, limit, poll time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return "", fmt.Errorf("%s: %w: %v", url, errPermanent, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			switch code := resp.StatusCode; {
			case code == http.StatusOK:
				return string(body), nil
			case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
				return "", fmt.Errorf("%s answered %s (%w: check the URL and the route): %s", url, resp.Status, errPermanent, lastLine(string(body)))
			}
			last = resp.Status
		} else {
			var dns *net.DNSError
			if errors.As(err, &dns) && dns.IsNotFound {
				return "", fmt.Errorf("%s: host %s does not exist (%w: check the stack output or the health URL override)", url, dns.Name, errPermanent)
			}
			last = err.Error()
		}
		if wait.Sleep(ctx, poll) != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return "", fmt.Errorf("%s did not answer 200 within %s (last: %s)", url, limit, last)
			}
			return "", fmt.Errorf("%s: %w (last: %s)", url, ctx.Err(), last)
		}
	}
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
