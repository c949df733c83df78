package ecs

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"
)

// RolloutAll rolls out every spec in parallel and waits for all of them.
// Results are in the order of specs. The error, if any, is a
// *RolloutAllError naming each failed service.
//
// One failure does not cancel the others: stopping to watch a rollout does
// not stop its deployment in ECS, it would only leave that deployment
// unobserved (and, with Rollback, not rolled back) in an unknown state.
// The services are independent, so each rollout runs to its own verdict.
// Cancel ctx to stop watching them all.
func (d *Deployer) RolloutAll(ctx context.Context, specs []Spec) ([]Result, error) {
	if err := checkDistinct(specs); err != nil {
		return nil, err
	}
	results := make([]Result, len(specs))
	errs := make([]error, len(specs))
	// A plain Group, not WithContext: its goroutines never return an error,
	// which is what keeps one failure from cancelling the rest.
	var g errgroup.Group
	for i, spec := range specs {
		g.Go(func() error {
			results[i], errs[i] = d.Rollout(ctx, spec)
			return nil
		})
	}
	_ = g.Wait() // every goroutine returns nil; errors are in errs
	var failed []string
	var failures []error
	for i, err := range errs {
		if err != nil {
			failed = append(failed, specs[i].Service)
			failures = append(failures, err)
		}
	}
	if len(failures) == 0 {
		return results, nil
	}
	return results, &RolloutAllError{Services: failed, Total: len(specs), Errs: failures}
}

// checkDistinct refuses two specs for one service: their deployments would
// replace each other and both rollouts would fail.
func checkDistinct(specs []Spec) error {
	seen := map[string]bool{}
	for _, s := range specs {
		key := clusterName(s.Cluster) + "/" + s.Service
		if seen[key] {
			return fmt.Errorf("ecs rollout: service %s (cluster %s) is listed twice: give each service once", s.Service, clusterName(s.Cluster))
		}
		seen[key] = true
	}
	return nil
}

// RolloutAllError reports the failed rollouts of a RolloutAll.
type RolloutAllError struct {
	// Services are the names of the services whose rollout failed.
	Services []string
	// Total is the number of services rolled out.
	Total int
	// Errs are the failures, in the order of Services.
	Errs []error
}

// Error names the failed services on the first line, then each failure.
func (e *RolloutAllError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ecs rollout failed for %d of %d services: %s", len(e.Services), e.Total, strings.Join(e.Services, ", "))
	for _, err := range e.Errs {
		b.WriteString("\n- " + strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	return b.String()
}

// Unwrap returns each service's error, so errors.As finds a *RolloutError.
func (e *RolloutAllError) Unwrap() []error { return e.Errs }
