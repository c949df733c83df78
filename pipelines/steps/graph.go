package steps

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// graph is the validated, indexed form of a step list.
type graph struct {
	steps      []Step
	needs      [][]int // deduplicated indices of each step's needs
	dependents [][]int // reverse edges of needs
	order      []int   // a stable topological order (input order breaks ties)
	rank       []int   // rank[i] is the position of step i in order
}

// buildGraph checks the step list and indexes it. Every problem is reported
// before anything runs; requireRun also rejects steps without a Run func.
func buildGraph(steps []Step, requireRun bool) (*graph, error) {
	index := make(map[string]int, len(steps))
	var problems []error
	for i, s := range steps {
		switch first, dup := index[s.Name]; {
		case s.Name == "":
			problems = append(problems, fmt.Errorf("step #%d has an empty name: give every step a unique name", i+1))
		case dup:
			problems = append(problems, fmt.Errorf("step name %q is used twice (steps #%d and #%d): step names must be unique", s.Name, first+1, i+1))
		default:
			index[s.Name] = i
		}
		if requireRun && s.Run == nil && s.Skip == "" {
			problems = append(problems, fmt.Errorf("step %q has no Run function", displayName(s.Name, i)))
		}
	}
	g := &graph{steps: steps, needs: make([][]int, len(steps)), dependents: make([][]int, len(steps))}
	for i, s := range steps {
		seen := make(map[int]bool, len(s.Needs))
		for _, need := range s.Needs {
			j, ok := index[need]
			switch {
			case !ok:
				problems = append(problems, fmt.Errorf("step %q needs unknown step %q: fix the name or add that step", displayName(s.Name, i), need))
			case !seen[j]:
				seen[j] = true
				g.needs[i] = append(g.needs[i], j)
				g.dependents[j] = append(g.dependents[j], i)
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	if err := g.sort(); err != nil {
		return nil, err
	}
	return g, nil
}

// displayName names a step in errors even when its name is empty.
func displayName(name string, i int) string {
	if name == "" {
		return fmt.Sprintf("#%d", i+1)
	}
	return name
}

// sort computes a topological order with Kahn's algorithm, always taking the
// earliest-declared ready step so plans and reports are deterministic.
func (g *graph) sort() error {
	n := len(g.steps)
	waiting := make([]int, n)
	var ready []int
	for i := range n {
		waiting[i] = len(g.needs[i])
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	g.rank = make([]int, n)
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		g.rank[i] = len(g.order)
		g.order = append(g.order, i)
		for _, d := range g.dependents[i] {
			if waiting[d]--; waiting[d] == 0 {
				ready = insertSorted(ready, d, func(a, b int) bool { return a < b })
			}
		}
	}
	if len(g.order) < n {
		return g.cycleError(waiting)
	}
	return nil
}

// cycleError names one cycle among the steps Kahn's algorithm could not order.
// Every such step still waits on another such step, so following unfinished
// needs from any of them must come back to a step already on the walk.
func (g *graph) cycleError(waiting []int) error {
	start := -1
	for i, w := range waiting {
		if w > 0 {
			start = i
			break
		}
	}
	onWalk := map[int]int{}
	var walk []int
	for cur := start; ; {
		if at, ok := onWalk[cur]; ok {
			names := make([]string, 0, len(walk)-at+1)
			for _, i := range walk[at:] {
				names = append(names, g.steps[i].Name)
			}
			names = append(names, g.steps[cur].Name)
			return fmt.Errorf("dependency cycle: %s (each step needs the next): remove one of these needs", strings.Join(names, " → "))
		}
		onWalk[cur] = len(walk)
		walk = append(walk, cur)
		for _, j := range g.needs[cur] {
			if waiting[j] > 0 {
				cur = j
				break
			}
		}
	}
}

// insertSorted inserts v into the sorted slice s.
func insertSorted(s []int, v int, less func(a, b int) bool) []int {
	at := sort.Search(len(s), func(k int) bool { return less(v, s[k]) })
	s = append(s, 0)
	copy(s[at+1:], s[at:])
	s[at] = v
	return s
}
