package appspec

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
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

// Totals counts the resources of every stack by type.
func (s AssemblySummary) Totals() map[string]int {
	totals := map[string]int{}
	for _, st := range s.Stacks {
		for typ, n := range st.Resources {
			totals[typ] += n
		}
	}
	return totals
}

// String renders one line per stack, then the totals by type, e.g.
//
//	CAONetworkStack-dev: 23 resources (AWS::EC2::Subnet 4, AWS::EC2::SecurityGroup 3, ...)
func (s AssemblySummary) String() string {
	var b strings.Builder
	line := func(label string, counts map[string]int) {
		n := 0
		for _, c := range counts {
			n += c
		}
		types := slices.Sorted(maps.Keys(counts))
		slices.SortStableFunc(types, func(x, y string) int { return counts[y] - counts[x] })
		parts := make([]string, len(types))
		for i, t := range types {
			parts[i] = fmt.Sprintf("%s %d", t, counts[t])
		}
		fmt.Fprintf(&b, "%s: %d resources (%s)\n", label, n, strings.Join(parts, ", "))
	}
	for _, st := range s.Stacks {
		line(st.Name, st.Resources)
	}
	line(fmt.Sprintf("total over %d stacks", len(s.Stacks)), s.Totals())
	return b.String()
}
