package appspec

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// CheckStages verifies that every test.stage names a stage of its
// service's Dockerfile, so a typo fails at once with the stages that exist
// instead of deep inside a build. read returns a Dockerfile's content by
// its path in the source.
func (a *App) CheckStages(read func(dockerfile string) (string, error)) error {
	var problems []string
	for _, s := range a.Services {
		if s.Test == nil || s.Test.Stage == "" {
			continue
		}
		content, err := read(s.Dockerfile)
		if err != nil {
			return fmt.Errorf("checking services[%s].test.stage (%s): %w", s.Name, s.Dockerfile, err)
		}
		stages := dockerfileStages(content)
		if slices.Contains(stages, strings.ToLower(s.Test.Stage)) {
			continue
		}
		has := "it names no stage (FROM … AS <name>)"
		if len(stages) > 0 {
			has = "its stages: " + strings.Join(stages, ", ")
		}
		problems = append(problems, fmt.Sprintf("services[%s].test.stage: %s has no stage %q (%s)", s.Name, s.Dockerfile, s.Test.Stage, has))
	}
	if len(problems) == 0 {
		return nil
	}
	return errors.New("the app description names Dockerfile stages that do not exist:\n  - " + strings.Join(problems, "\n  - "))
}

// dockerfileStages lists the stage names a Dockerfile declares (FROM image
// AS name), in lower case as BuildKit compares them. Comments are skipped
// and continued lines joined.
func dockerfileStages(content string) []string {
	var stages []string
	logical := ""
	for _, line := range strings.Split(content, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			logical += cont + " "
			continue
		}
		f := strings.Fields(logical + trimmed)
		logical = ""
		if n := len(f); n >= 4 && strings.EqualFold(f[0], "FROM") && strings.EqualFold(f[n-2], "AS") {
			stages = append(stages, strings.ToLower(f[n-1]))
		}
	}
	return stages
}
