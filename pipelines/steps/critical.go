package steps

// CriticalPath returns the chain of steps that determined when the run
// ended, first step first: the step that ended last, then the need of it
// that ended last (the one it was waiting for), and so on back to a step
// without started needs. It is empty when no step ran (e.g. a plan, even
// with steps skipped by design).
func CriticalPath(r *Report) []string {
	byName := make(map[string]int, len(r.Steps))
	last := -1
	for i, s := range r.Steps {
		if !s.ran() || s.End.IsZero() {
			continue
		}
		byName[s.Name] = i
		if last < 0 || !s.End.Before(r.Steps[last].End) {
			last = i // ties go to the later step, which is deeper in the graph
		}
	}
	var path []string
	seen := map[int]bool{}
	for cur := last; cur >= 0 && !seen[cur]; {
		seen[cur] = true
		path = append(path, r.Steps[cur].Name)
		gate := -1
		for _, need := range r.Steps[cur].Needs {
			j, ok := byName[need]
			if ok && (gate < 0 || r.Steps[j].End.After(r.Steps[gate].End)) {
				gate = j
			}
		}
		cur = gate
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return path
}
