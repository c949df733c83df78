// Package wait holds the one sleep the pollers of pipelines share.
package wait

import (
	"context"
	"time"
)

// Sleep waits for d unless ctx ends first, returning ctx's error then.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
