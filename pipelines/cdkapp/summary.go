package cdkapp

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/stevedore-ci/stevedore/pipelines/internal/words"
)

// AssemblySummary is what a synthesized cloud assembly holds: its stacks
// in deploy order, each with its resources counted by type. synth and plan
// print it so a description's effect is visible before anything deploys.
type AssemblySummary struct {
	Stacks []StackSummary
}

// StackSummary counts one stack's resources by CloudFormation type.
type StackSummary struct {
	Name      string
	Resources map[string]int
}

// SummarizeTemplates reads the templates of an assembly (stack name ->
// template JSON) in the given deploy order; a stack of order without a
// template is an error, templates not in order are ignored.
func SummarizeTemplates(order []string, templates map[string][]byte) (AssemblySummary, error) {
	var out AssemblySummary
	for _, name := range order {
		body, ok := templates[name]
		if !ok {
			return AssemblySummary{}, fmt.Errorf("the assembly lists stack %s but has no template for it", name)
		}
		var tmpl struct {
			Resources map[string]struct {
				Type string `json:"Type"`
			} `json:"Resources"`
		}
		if err := json.Unmarshal(body, &tmpl); err != nil {
			return AssemblySummary{}, fmt.Errorf("template of %s: %w", name, err)
		}
		counts := map[string]int{}
		for _, r := range tmpl.Resources {
			counts[r.Type]++
		}
		out.Stacks = append(out.Stacks, StackSummary{Name: name, Resources: counts})
	}
	return out, nil
}

// shownTypes is how many resource types a stack's line names, largest
// first; the others are only counted.
const shownTypes = 3

// Total is the number of resources over every stack.
func (s AssemblySummary) Total() int {
	n := 0
	for _, st := range s.Stacks {
		n += st.Total()
	}
	return n
}

// Total is the number of the stack's resources.
func (s StackSummary) Total() int {
	n := 0
	for _, c := range s.Resources {
		n += c
	}
	return n
}

// Heading is the short total, e.g. "60 resources in 4 stacks".
func (s AssemblySummary) Heading() string {
	return words.Count(s.Total(), "resource") + " in " + words.Count(len(s.Stacks), "stack")
}

// String renders one line per stack, its count and its largest types, e.g.
//
//	CAONetworkStack-dev: 30 resources (AWS::EC2::Route 4, AWS::EC2::RouteTable 4, AWS::EC2::Subnet 4, +12 more types)
func (s AssemblySummary) String() string {
	var b strings.Builder
	for _, st := range s.Stacks {
		types := slices.Sorted(maps.Keys(st.Resources))
		slices.SortStableFunc(types, func(x, y string) int { return st.Resources[y] - st.Resources[x] })
		var parts []string
		for _, t := range types[:min(len(types), shownTypes)] {
			parts = append(parts, fmt.Sprintf("%s %d", t, st.Resources[t]))
		}
		if more := len(types) - shownTypes; more > 0 {
			parts = append(parts, "+"+words.Count(more, "more type"))
		}
		fmt.Fprintf(&b, "%s: %s", st.Name, words.Count(st.Total(), "resource"))
		if len(parts) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
		}
		b.WriteString("\n")
	}
	return b.String()
}
