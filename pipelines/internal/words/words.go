// Package words holds the small wording rules stevedore's messages share.
package words

import (
	"fmt"
	"strings"
)

// Count says "1 secret", "2 secrets", "3 repositories".
func Count(n int, noun string) string {
	switch {
	case n == 1:
		return "1 " + noun
	case strings.HasSuffix(noun, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
