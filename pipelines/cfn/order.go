package cfn

import (
	"fmt"
	"strings"
)

// Order returns the stacks so that each comes after the stacks it depends
// on, keeping the given order where dependencies allow. Dependencies on
// stacks not in the list are ignored (they are assumed deployed). A cycle or
// a duplicate ID is an error.
func Order(stacks []Stack) ([]Stack, error) {
	index := make(map[string]int, len(stacks))
	for i, s := range stacks {
		if _, dup := index[s.ID]; dup {
			return nil, fmt.Errorf("stack %s is listed twice", s.ID)
		}
		index[s.ID] = i
	}
	done := make([]bool, len(stacks))
	ordered := make([]Stack, 0, len(stacks))
	// Each pass takes the first stack whose dependencies are all placed;
	// quadratic, which is nothing for the handful of stacks an app has.
	for len(ordered) < len(stacks) {
		next := -1
		for i, s := range stacks {
			if !done[i] && ready(s, index, done) {
				next = i
				break
			}
		}
		if next < 0 {
			return nil, fmt.Errorf("dependency cycle between stacks: %s: remove one of these dependencies", findCycle(stacks, index, done))
		}
		done[next] = true
		ordered = append(ordered, stacks[next])
	}
	return ordered, nil
}

func ready(s Stack, index map[string]int, done []bool) bool {
	for _, d := range s.Dependencies {
		if j, ok := index[d]; ok && !done[j] {
			return false
		}
	}
	return true
}

// findCycle follows unplaced dependencies from the first unplaced stack
// until a stack repeats; every unplaced stack depends on another unplaced
// one, so a repeat always comes.
func findCycle(stacks []Stack, index map[string]int, done []bool) string {
	cur := 0
	for done[cur] {
		cur++
	}
	seenAt := map[int]int{}
	var path []string
	for {
		if at, ok := seenAt[cur]; ok {
			return strings.Join(append(path[at:], stacks[cur].ID), " -> ")
		}
		seenAt[cur] = len(path)
		path = append(path, stacks[cur].ID)
		for _, d := range stacks[cur].Dependencies {
			if j, ok := index[d]; ok && !done[j] {
				cur = j
				break
			}
		}
	}
}
