package s3site

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRules(t *testing.T) {
	rules, err := ParseRules(`
# HTML must always be fresh
*.html = no-cache
_next/static/** =immutable
re:^media/.*\.mp4$=public, max-age=86400
fonts/*.woff2=short
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{"*.html", "no-cache"},
		{"_next/static/**", CacheImmutable},
		{`re:^media/.*\.mp4$`, "public, max-age=86400"},
		{"fonts/*.woff2", CacheShort},
	}
	if !reflect.DeepEqual(rules, want) {
		t.Fatalf("got %#v", rules)
	}
}

func TestParseRulesErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"*.html", `line 1 "*.html": missing '='`},
		{"ok=short\n\n*.css=", `line 3: pattern "*.css": empty Cache-Control value`},
		{"=immutable", "line 1: empty pattern"},
		{"re:([=short", `line 1: pattern "re:([": invalid regular expression`},
		{"assets/[a-=short", `line 1: pattern "assets/[a-": invalid glob`},
	} {
		_, err := ParseRules(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRules(%q) = %v, want %q", tc.text, err, tc.want)
		}
	}
}

func TestCacheControlFor(t *testing.T) {
	user, err := compileRules([]Rule{
		{"docs/**/*.pdf", "public, max-age=60"},
		{"re:^api/", "no-store"},
		{"*.txt", "public, max-age=5"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ rel, want string }{
		{"docs/a/b/guide.pdf", "public, max-age=60"},
		{"docs/guide.pdf", "public, max-age=60"},
		{"api/data.json", "no-store"},
		{"deep/dir/robots.txt", "public, max-age=5"},
		{"index.html", CacheRevalidate},
		{"_next/static/chunks/x.js", CacheImmutable},
		{"_next/static/chunks/x.html", CacheRevalidate},
		{"assets/logo.png", CacheImmutable},
		{"js/main.3f9a1c2b.js", CacheImmutable},
		{"index-BX3k9a.js", CacheImmutable},
		{"main.3f9a1c2b.js.map", CacheImmutable},
		{"3f9a1c2b4d.js", CacheImmutable},
		{"favicon.ico", CacheShort},
		{"apple-touch-icon-180x180.png", CacheShort},
		{"jquery-3.6.0.min.js", CacheShort},
		{"report-20240101.pdf", CacheShort},
		{"sw.js", CacheShort},
		{"_next/data/build/page.json", CacheShort},
	} {
		if got := cacheControlFor(tc.rel, user); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.rel, got, tc.want)
		}
	}
}

func TestContentTypeFor(t *testing.T) {
	for name, want := range map[string]string{
		"a.HTML":           "text/html; charset=utf-8",
		"a.mjs":            "text/javascript; charset=utf-8",
		"a.js.map":         "application/json; charset=utf-8",
		"site.webmanifest": "application/manifest+json; charset=utf-8",
		"a.wasm":           "application/wasm",
		"f.woff2":          "font/woff2",
		"favicon.ico":      "image/x-icon",
		"robots.txt":       "text/plain; charset=utf-8",
		"doc.pdf":          "application/pdf",
		"LICENSE":          "application/octet-stream",
		"x.unknownext":     "application/octet-stream",
	} {
		if got := contentTypeFor(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}
