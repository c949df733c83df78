package s3site

import (
	"bufio"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// Cache-Control values used by the defaults; ParseRules also accepts the
// names immutable, revalidate and short for them.
const (
	// CacheImmutable suits fingerprinted assets: the name changes when the
	// content does, so browsers and CloudFront may keep them for a year.
	CacheImmutable = "public, max-age=31536000, immutable"
	// CacheRevalidate suits HTML: always ask CloudFront whether it changed.
	CacheRevalidate = "public, max-age=0, must-revalidate"
	// CacheShort suits other files whose name does not change with content.
	CacheShort = "public, max-age=300"
)

var cachePresets = map[string]string{
	"immutable":  CacheImmutable,
	"revalidate": CacheRevalidate,
	"short":      CacheShort,
}

// Rule sets Cache-Control for files whose path matches Pattern.
//
// Pattern is matched against the path relative to the site root (the key
// without Prefix). It is either a glob ("*.html", "_next/static/**",
// "fonts/*.woff2") or, with a "re:" prefix, a regular expression
// ("re:^media/.*\.(mp4|webm)$"). A glob without "/" matches the file name in
// any folder; with "/" it matches the whole path, "**" spanning folders.
type Rule struct {
	Pattern      string
	CacheControl string
}

// matcher is a Rule made ready to match.
type matcher struct {
	rule Rule
	re   *regexp.Regexp
	glob []string // pattern segments; nil when re is set
	base bool     // glob has no "/": match the file name only
}

func (m matcher) match(rel string) bool {
	if m.re != nil {
		return m.re.MatchString(rel)
	}
	if m.base {
		rel = path.Base(rel)
	}
	return matchSegments(m.glob, strings.Split(rel, "/"))
}

// matchSegments matches glob segments against path segments; "**" matches
// zero or more whole segments, other segments follow path.Match.
func matchSegments(glob, name []string) bool {
	for len(glob) > 0 {
		if glob[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if matchSegments(glob[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(glob[0], name[0]); !ok {
			return false
		}
		glob, name = glob[1:], name[1:]
	}
	return len(name) == 0
}

// compile checks a Rule and prepares it; errors say which part is wrong.
func (r Rule) compile() (matcher, error) {
	if r.Pattern == "" {
		return matcher{}, fmt.Errorf("empty pattern")
	}
	if r.CacheControl == "" {
		return matcher{}, fmt.Errorf("pattern %q: empty Cache-Control value", r.Pattern)
	}
	if strings.ContainsAny(r.CacheControl, "\r\n\x00") {
		return matcher{}, fmt.Errorf("pattern %q: Cache-Control value contains a line break or NUL", r.Pattern)
	}
	if expr, ok := strings.CutPrefix(r.Pattern, "re:"); ok {
		re, err := regexp.Compile(expr)
		if err != nil {
			return matcher{}, fmt.Errorf("pattern %q: invalid regular expression: %v", r.Pattern, err)
		}
		return matcher{rule: r, re: re}, nil
	}
	glob := strings.TrimPrefix(r.Pattern, "/")
	segs := strings.Split(glob, "/")
	for _, s := range segs {
		if _, err := path.Match(s, ""); err != nil {
			return matcher{}, fmt.Errorf("pattern %q: invalid glob (check [ ] and \\ escapes)", r.Pattern)
		}
	}
	return matcher{rule: r, glob: segs, base: !strings.Contains(glob, "/")}, nil
}

func compileRules(rules []Rule) ([]matcher, error) {
	ms := make([]matcher, 0, len(rules))
	for i, r := range rules {
		m, err := r.compile()
		if err != nil {
			return nil, fmt.Errorf("cache rule %d: %w", i+1, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// ParseRules reads one rule per line as PATTERN=CACHE-CONTROL, e.g.
//
//	*.html=revalidate
//	_next/static/**=immutable
//	re:^media/=public, max-age=86400
//
// The value is a Cache-Control header or one of the names immutable,
// revalidate, short. The first "=" separates pattern and value. Blank lines
// and lines starting with # are skipped.
func ParseRules(text string) ([]Rule, error) {
	var rules []Rule
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pattern, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("cache rule line %d %q: missing '=': write PATTERN=CACHE-CONTROL, e.g. *.html=no-cache", n, line)
		}
		pattern, value = strings.TrimSpace(pattern), strings.TrimSpace(value)
		if preset, ok := cachePresets[value]; ok {
			value = preset
		}
		r := Rule{Pattern: pattern, CacheControl: value}
		if _, err := r.compile(); err != nil {
			return nil, fmt.Errorf("cache rule line %d: %w", n, err)
		}
		rules = append(rules, r)
	}
	return rules, sc.Err()
}

// cacheControlFor picks the Cache-Control of one file: the first matching
// user rule, else HTML revalidates, fingerprinted assets are immutable and
// everything else gets a short max-age.
func cacheControlFor(rel string, rules []matcher) string {
	for _, m := range rules {
		if m.match(rel) {
			return m.rule.CacheControl
		}
	}
	switch {
	case isHTML(rel):
		return CacheRevalidate
	case isFingerprinted(rel):
		return CacheImmutable
	}
	return CacheShort
}

func isHTML(rel string) bool {
	ext := strings.ToLower(path.Ext(rel))
	return ext == ".html" || ext == ".htm"
}
