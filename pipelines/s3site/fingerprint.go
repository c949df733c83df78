package s3site

import (
	"path"
	"strings"
)

// immutableDirs hold build output whose names carry a content hash (Next.js,
// Vite, Create React App).
var immutableDirs = []string{"_next/static/", "assets/", "static/"}

// isFingerprinted reports whether a file's name changes whenever its content
// does, so it may be cached forever. A wrong "yes" would pin stale content
// for a year, so the name test is strict: a "." or "-" separated segment
// (not the first, not the extension) that is either lowercase hex of 8+
// characters with both a digit and a letter (webpack: main.3f9a1c2b.js), or
// 6 to 16 letters and digits mixing upper case, lower case and a digit
// (Vite: index-BX3k9a.js). Dimensions (icon-180x180.png), versions
// (jquery-3.6.0.js) and dates (report-20240101.pdf) do not qualify.
func isFingerprinted(rel string) bool {
	for _, d := range immutableDirs {
		if strings.HasPrefix(rel, d) {
			return true
		}
	}
	parts := strings.FieldsFunc(path.Base(rel), func(r rune) bool { return r == '.' || r == '-' })
	if len(parts) < 2 {
		return false
	}
	if len(parts) == 2 { // "3f9a1c2b4d.js": a chunk named only by its hash
		return isHexHash(parts[0])
	}
	for _, p := range parts[1 : len(parts)-1] {
		if isHexHash(p) || isMixedHash(p) {
			return true
		}
	}
	return false
}

func isHexHash(s string) bool {
	if len(s) < 8 {
		return false
	}
	var digit, letter bool
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r >= 'a' && r <= 'f':
			letter = true
		default:
			return false
		}
	}
	return digit && letter
}

func isMixedHash(s string) bool {
	if len(s) < 6 || len(s) > 16 {
		return false
	}
	var upper, lower, digit bool
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case r == '_':
		default:
			return false
		}
	}
	return upper && lower && digit
}
