package release

import (
	"fmt"
	"strings"
)

// CheckAccount refuses credentials of another account than the one the
// environment is declared in (stevedore.yaml environments.<env>.account),
// before any call that writes: deploying prod with dev's credentials fails
// at once.
func CheckAccount(env, want, got string) error {
	if want == "" || want == got {
		return nil
	}
	return fmt.Errorf("environment %s lives in account %s, but the credentials in use are of account %s: use that account's credentials, or set environments.%s.role to a role in %s that they can assume",
		env, want, got, env, want)
}

// CheckPromote decides whether the source's release may go to the target.
// source is the source environment's history, newest first; target is the
// target's current release (nil when the target has none). force skips
// the refusals, never the missing-release error.
func CheckPromote(from, to string, source []Record, target *Record, force bool) (Record, error) {
	if len(source) == 0 {
		return Record{}, fmt.Errorf("%s has no release to promote: deploy it first", from)
	}
	var cur *Record
	for i := range source {
		if source[i].Status == Succeeded {
			cur = &source[i]
			break
		}
	}
	if cur == nil {
		return Record{}, fmt.Errorf("%s has no succeeded release to promote", from)
	}
	if force {
		return *cur, nil
	}
	if last := source[0]; last.Status != Succeeded {
		return Record{}, fmt.Errorf("the last deploy of %s (#%d, commit %s) failed: fix %s first, or pass --force to promote its last good release #%d",
			from, last.Seq, short(last.Commit), from, cur.Seq)
	}
	if target != nil && target.Commit != cur.Commit && target.At.After(cur.At) && !ranIn(source, target.Commit) {
		return Record{}, fmt.Errorf("%s runs commit %s (release #%d, %s), which %s never ran and which is newer than %s's release #%d (commit %s): pass --force to replace it",
			to, short(target.Commit), target.Seq, target.At.Format("2006-01-02 15:04"), from, from, cur.Seq, short(cur.Commit))
	}
	return *cur, nil
}

// CheckRollback refuses to return to an older release when a release after
// it ran a migration, which a rollback does not reverse, unless allowed.
// history is newest first; to is the release to return to.
func CheckRollback(env string, history []Record, to Record, allowMigrations bool) error {
	var migrated []string
	for _, r := range history {
		if r.Seq <= to.Seq {
			break
		}
		if r.Migrated && r.Status == Succeeded {
			migrated = append(migrated, fmt.Sprintf("#%d (%s)", r.Seq, short(r.Commit)))
		}
	}
	if len(migrated) == 0 || allowMigrations {
		return nil
	}
	return fmt.Errorf("releases after #%d of %s ran migrations (%s), which a rollback does not reverse: the old code would meet the new schema; pass --allow-migrations if release #%d works with it",
		to.Seq, env, strings.Join(migrated, ", "), to.Seq)
}

func ranIn(h []Record, commit string) bool {
	for _, r := range h {
		if r.Commit == commit && r.Status == Succeeded {
			return true
		}
	}
	return false
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
