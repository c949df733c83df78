package steps

import (
	"fmt"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/internal/words"
)

// verdict is the one-line outcome both renderers print under the title.
type verdict struct {
	emoji  string // for Markdown
	glyph  string // for terminals
	phrase string // "3 steps succeeded", "1 of 4 steps failed (push); 1 skipped", …
	timing string // "in 12.3s wall time, 30.1s of step time (2.4× speed-up from parallelism)"
}

func (r *Report) verdict() verdict {
	n := len(r.Steps)
	if planned := r.Names(StatusPlanned); len(planned) > 0 {
		phrase := "plan: " + words.Count(len(planned), "step")
		if skipped := r.Names(StatusSkipped); len(skipped) > 0 {
			phrase += fmt.Sprintf(" and %d skipped (%s)", len(skipped), strings.Join(skipped, ", "))
		}
		return verdict{emoji: "📝", glyph: "○", phrase: phrase + ", nothing was run"}
	}
	if n == 0 {
		return verdict{emoji: "📝", glyph: "○", phrase: "no steps"}
	}
	v := verdict{timing: r.timing()}
	failed, skipped, cancelled := r.Names(StatusFailed), r.Names(StatusSkipped), r.Names(StatusCancelled)
	var parts []string
	switch {
	case len(failed) > 0:
		v.emoji, v.glyph = "❌", "✘"
		parts = append(parts, fmt.Sprintf("%d of %s failed (%s)", len(failed), words.Count(n, "step"), strings.Join(failed, ", ")))
	case len(cancelled) > 0:
		v.emoji, v.glyph = "⛔", "■"
		parts = append(parts, fmt.Sprintf("cancelled: %d of %s did not finish", len(cancelled), words.Count(n, "step")))
		cancelled = nil // already said
	default:
		v.emoji, v.glyph = "✅", "✔"
		parts = append(parts, fmt.Sprintf("%s succeeded", words.Count(len(r.Names(StatusOK)), "step")))
	}
	if len(skipped) > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", len(skipped)))
	}
	if len(cancelled) > 0 {
		parts = append(parts, fmt.Sprintf("%d cancelled", len(cancelled)))
	}
	v.phrase = strings.Join(parts, "; ")
	return v
}

// timing compares wall time with the summed step time to show what running
// steps in parallel saved.
func (r *Report) timing() string {
	wall, sum := r.Wall(), r.StepTime()
	s := fmt.Sprintf("in %s wall time, %s of step time", formatDuration(wall), formatDuration(sum))
	// Below 1.1× there is nothing worth pointing out.
	if speedup := float64(sum) / float64(max(wall, 1)); speedup >= 1.1 {
		s += fmt.Sprintf(" (%.1f× speed-up from parallelism)", speedup)
	}
	return s
}

func (r *Report) title() string {
	if t := strings.TrimSpace(r.Title); t != "" {
		return t
	}
	return "Pipeline"
}
