package appspec

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Exists reports whether path exists in the source directory as a directory
// (dir=true) or a regular file (dir=false).
type Exists func(path string, dir bool) (bool, error)

// CheckFiles verifies that every directory and file the description names is
// present in the source, so a typo fails in a second with the path in the
// message instead of deep inside a docker build. builtin lists files
// stevedore supplies itself (e.g. its own Dockerfiles) that need not exist.
// A path inside a directory already reported missing (the default
// Dockerfile of a bad context) is not reported again.
func (a *App) CheckFiles(exists Exists, builtin ...string) error {
	isBuiltin := map[string]bool{}
	for _, b := range builtin {
		isBuiltin[b] = true
	}
	var missing, missingDirs []string
	check := func(field, p string, dir bool) error {
		if p == "" || isBuiltin[p] || checkRel(p) != "" { // Validate reports a bad path
			return nil
		}
		for _, d := range missingDirs {
			if strings.HasPrefix(path.Clean(p), path.Clean(d)+"/") {
				return nil
			}
		}
		ok, err := exists(p, dir)
		if err != nil {
			return fmt.Errorf("checking %s (%s): %w", field, p, err)
		}
		if !ok {
			kind := "file"
			if dir {
				kind = "directory"
				missingDirs = append(missingDirs, p)
			}
			missing = append(missing, fmt.Sprintf("%s: %s %q not found in the source directory", field, kind, p))
		}
		return nil
	}
	for _, s := range a.Services {
		f := "services[" + s.Name + "]"
		if err := check(f+".context", s.Context, true); err != nil {
			return err
		}
		if err := check(f+".dockerfile", s.Dockerfile, false); err != nil {
			return err
		}
	}
	if fe := a.Frontend; fe != nil {
		if err := check("frontend.dir", fe.Dir, true); err != nil {
			return err
		}
		if err := check("frontend.dir", path.Join(fe.Dir, "package.json"), false); err != nil {
			return err
		}
		if err := check("frontend.dockerfile", fe.Dockerfile, false); err != nil {
			return err
		}
		if strings.HasPrefix(fe.Install+" ", "npm ci ") && !slices.Contains(missingDirs, fe.Dir) {
			locked := false
			for _, lock := range []string{"package-lock.json", "npm-shrinkwrap.json"} {
				ok, err := exists(path.Join(fe.Dir, lock), false)
				if err != nil {
					return fmt.Errorf("checking frontend.install (%s): %w", lock, err)
				}
				locked = locked || ok
			}
			if !locked {
				missing = append(missing, fmt.Sprintf("frontend.install: `%s` needs %s, not found in the source directory: run `npm install` in %s and commit package-lock.json, or set frontend.install (e.g. npm install)", fe.Install, path.Join(fe.Dir, "package-lock.json"), fe.Dir))
			}
		}
	}
	if in := a.Infra; in != nil {
		if err := check("infra.dir", in.Dir, true); err != nil {
			return err
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return errors.New("the app description names paths that do not exist (is --source the repository root?):\n  - " + strings.Join(missing, "\n  - "))
}
