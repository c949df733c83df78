package main

import "dagger/stevedore/internal/dagger"

// Cache volumes shared by every step of every run on one engine, so a warm
// engine never downloads a Go module or an npm package twice.
const (
	goModCache   = "stevedore-go-mod"
	goBuildCache = "stevedore-go-build"
	npmCache     = "stevedore-npm"
	pipCache     = "stevedore-pip"

	// selfCacheRoot holds the cache volumes used only to build stevedore's
	// own code (the built-in CDK app). Its compiled result is a layer, so
	// they are used again only when stevedore's version changes, and
	// scripts/engine-state leaves them out of a saved engine state (it
	// matches this path; keep the two in step).
	selfCacheRoot = "/root/.cache/stevedore-self"
)

// withToolCaches mounts the cache volumes of one toolchain (go, npm, pip).
func withToolCaches(ctr *dagger.Container, kind string) *dagger.Container {
	switch kind {
	case "go":
		return withGoCaches(ctr, "/go/pkg/mod", goModCache, "/root/.cache/go-build", goBuildCache)
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

// withSelfGoCaches mounts the Go caches of stevedore's own builds, apart
// from the ones the user's code shares (see selfCacheRoot).
func withSelfGoCaches(ctr *dagger.Container) *dagger.Container {
	return withGoCaches(ctr, selfCacheRoot+"/go-mod", goModCache+"-self", selfCacheRoot+"/go-build", goBuildCache+"-self")
}

func withGoCaches(ctr *dagger.Container, modPath, modVolume, buildPath, buildVolume string) *dagger.Container {
	return ctr.
		WithMountedCache(modPath, dag.CacheVolume(modVolume)).
		WithMountedCache(buildPath, dag.CacheVolume(buildVolume)).
		WithEnvVariable("GOMODCACHE", modPath).
		WithEnvVariable("GOCACHE", buildPath)
}
