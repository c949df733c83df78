package ecs

import (
	"github.com/stevedore-ci/stevedore/pipelines/internal/wait"

	"context"
	"time"
)

// Clock is the time source of a Deployer. Tests inject a fake one so that a
// fifteen-minute rollout is followed in milliseconds.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits for d, or returns ctx.Err() early when ctx is done.
	Sleep(ctx context.Context, d time.Duration) error
}

// SystemClock is the real wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits for d unless ctx ends first.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error { return wait.Sleep(ctx, d) }
