package ecs

import (
	"maps"
	"slices"

	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

// digestRef matches a reference pinned by digest, with or without a tag.
var digestRef = regexp.MustCompile(`^[^\s@]+@sha256:[0-9a-f]{64}$`)

// checkImageRef refuses references a rollout cannot pin: a tag can be
// re-pushed, so the revision would not say what actually runs.
func checkImageRef(container, ref string, allowTags bool) error {
	switch {
	case ref == "" || strings.ContainsAny(ref, " \t\n"):
		return fmt.Errorf("container %q: invalid image reference %q", container, ref)
	case allowTags || digestRef.MatchString(ref):
		return nil
	}
	return fmt.Errorf("container %q: image %q is not pinned by digest: pass repo@sha256:<64 hex> (the digest ECR returned on push) or allow tags explicitly", container, ref)
}

// checkImages validates every requested reference before any API call.
func checkImages(images map[string]string, allowTags bool) error {
	for _, name := range slices.Sorted(maps.Keys(images)) {
		if err := checkImageRef(name, images[name], allowTags); err != nil {
			return err
		}
	}
	return nil
}

// withImages returns a copy of defs whose named containers run the given
// (already checked) images, and whether anything changed. defs itself is
// not modified.
func withImages(defs []types.ContainerDefinition, images map[string]string, taskDef string) ([]types.ContainerDefinition, bool, error) {
	names := slices.Sorted(maps.Keys(images))
	out := append([]types.ContainerDefinition(nil), defs...)
	changed := false
	for _, name := range names {
		ref := images[name]
		i := containerIndex(out, name)
		if i < 0 {
			return nil, false, fmt.Errorf("container %q not found in task definition %s (it has: %s)", name, shortName(taskDef), strings.Join(containerNames(out), ", "))
		}
		if aws.ToString(out[i].Image) != ref {
			out[i].Image = aws.String(ref)
			changed = true
		}
	}
	return out, changed, nil
}

func containerIndex(defs []types.ContainerDefinition, name string) int {
	for i, c := range defs {
		if aws.ToString(c.Name) == name {
			return i
		}
	}
	return -1
}

func containerNames(defs []types.ContainerDefinition) []string {
	names := make([]string, len(defs))
	for i, c := range defs {
		names[i] = aws.ToString(c.Name)
	}
	return names
}

// shortName turns an ARN into its last path segment for messages: a task
// definition into family:revision, a task into its id.
func shortName(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}
