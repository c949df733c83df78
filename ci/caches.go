package main

import "dagger/stevedore/internal/dagger"

// Cache volumes shared by every step of every run on one engine, so a warm
// engine never downloads a Go module or an npm package twice.
const (
	goModCache   = "stevedore-go-mod"
	goBuildCache = "stevedore-go-build"
	npmCache     = "stevedore-npm"
	pipCache     = "stevedore-pip"
)

// withToolCaches mounts the cache volumes of one toolchain (go, npm, pip).
func withToolCaches(ctr *dagger.Container, kind string) *dagger.Container {
	switch kind {
	case "go":
		return ctr.
			WithMountedCache("/go/pkg/mod", dag.CacheVolume(goModCache)).
			WithMountedCache("/root/.cache/go-build", dag.CacheVolume(goBuildCache)).
			WithEnvVariable("GOMODCACHE", "/go/pkg/mod").
			WithEnvVariable("GOCACHE", "/root/.cache/go-build")
	case "npm":
		return ctr.
			WithMountedCache("/root/.npm", dag.CacheVolume(npmCache)).
			WithEnvVariable("npm_config_cache", "/root/.npm")
	case "pip":
		return ctr.
			WithMountedCache("/root/.cache/pip", dag.CacheVolume(pipCache)).
			WithEnvVariable("PIP_CACHE_DIR", "/root/.cache/pip")
	}
	return ctr
}
