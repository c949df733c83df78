package appspec

import (
	"path"
	"strings"
)

// Defaults stevedore applies where the description is silent. Image names are
// plain docker.io references so teams can pin their own (by tag or digest).
const (
	DefaultNodeImage  = "node:20"
	DefaultGoImage    = "golang:1.26"
	DefaultFrontendDF = "docker/frontend.Dockerfile"
)

// SiteRepository is the image repository of the built frontend, pushed as
// an OCI image whose filesystem is the site (what promote and rollback
// republish): <app>-site, or site without an app name.
func (a *App) SiteRepository() string {
	if a.Name == "" {
		return "site"
	}
	return a.Name + "-site"
}

// Defaults fills every field the user may leave out.
func (a *App) Defaults() {
	for i := range a.Services {
		s := &a.Services[i]
		if d := s.Deployment; d != nil && d.Gate && d.GateTimeout == "" {
			d.GateTimeout = DefaultGateTimeout.String()
		}
		s.Context = cleanRel(s.Context)
		if s.Dockerfile == "" && s.Context != "" && checkRel(s.Context) == "" {
			s.Dockerfile = path.Join(s.Context, "Dockerfile")
		}
		s.Dockerfile = cleanRel(s.Dockerfile)
		if s.Repository == "" && namePattern.MatchString(s.Name) && (a.Name == "" || namePattern.MatchString(a.Name)) {
			if a.Name != "" {
				s.Repository = a.Name + "-" + s.Name
			} else {
				s.Repository = s.Name
			}
		}
		if s.Container == "" {
			s.Container = s.Name
		}
		if s.Test != nil && s.Test.Cache == "" {
			s.Test.Cache = guessCache(s.Test.Image)
		}
	}
	if f := a.Frontend; f != nil {
		f.Dir = cleanRel(f.Dir)
		if f.Image == "" {
			f.Image = DefaultNodeImage
		}
		if f.Install == "" {
			f.Install = "npm ci"
		}
		if f.Build == "" {
			f.Build = "npm run build"
		}
		if f.Output == "" {
			f.Output = "dist"
		}
		if f.Dockerfile == "" {
			f.Dockerfile = DefaultFrontendDF
		}
		f.Dockerfile = cleanRel(f.Dockerfile)
	}
	if in := a.Infra; in != nil {
		in.Dir = cleanRel(in.Dir)
		if in.App == "" {
			in.App = a.Name
		}
	}
}

// guessCache picks the cache volumes from the toolchain image name.
func guessCache(image string) string {
	base := image
	if i := strings.LastIndex(base, "/"); i >= 0 {
		base = base[i+1:]
	}
	switch {
	case strings.HasPrefix(base, "golang"):
		return "go"
	case strings.HasPrefix(base, "node"):
		return "npm"
	case strings.HasPrefix(base, "python"):
		return "pip"
	}
	return "none"
}

// cleanRel normalises a relative path; "" and "." both mean the root.
func cleanRel(p string) string {
	if p == "" {
		return ""
	}
	p = path.Clean(strings.TrimPrefix(p, "./"))
	if p == "." {
		return "."
	}
	return p
}
