package steps

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkSchedulerOverhead runs a 50-step graph (5 layers of 10, each
// step needing 3 of the layer before) whose steps do nothing, so the time
// is the scheduler's own: validation, goroutines, bookkeeping.
func BenchmarkSchedulerOverhead(b *testing.B) {
	const layers, width = 5, 10
	var steps []Step
	for l := range layers {
		for i := range width {
			s := Step{Name: fmt.Sprintf("l%d-s%d", l, i), Run: ok(Outcome{})}
			if l > 0 {
				for k := range 3 {
					s.Needs = append(s.Needs, fmt.Sprintf("l%d-s%d", l-1, (i+k)%width))
				}
			}
			steps = append(steps, s)
		}
	}
	ctx := context.Background()
	for b.Loop() {
		if _, err := Run(ctx, steps, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(steps)), "ns/step")
}
