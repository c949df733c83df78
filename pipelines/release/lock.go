package release

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// Lease is the content of an environment's lock parameter.
type Lease struct {
	// Holder is the caller identity that took the lock.
	Holder string `json:"holder"`
	// Operation is what it is doing, e.g. "deploy" or "promote".
	Operation string `json:"operation"`
	// Since is when the lock was taken.
	Since time.Time `json:"since"`
	// Expires is when the lease lapses unless renewed.
	Expires time.Time `json:"expires"`
	// Token identifies this holder's lease (the holder may be the same
	// role in two CI jobs).
	Token string `json:"token"`
}

// ErrLocked is wrapped by Acquire when another deploy holds the lock.
var ErrLocked = errors.New("environment locked")

// LockedError says who holds the lock and since when.
type LockedError struct {
	Env   string
	Lease Lease
	Stale bool
}

func (e *LockedError) Error() string {
	msg := fmt.Sprintf("%s is locked by %s (%s) since %s", e.Env, e.Lease.Holder, e.Lease.Operation, e.Lease.Since.UTC().Format(time.RFC3339))
	if e.Stale {
		return msg + fmt.Sprintf("; the lease expired at %s, so its holder is gone: break it with unlock --env %s --force", e.Lease.Expires.UTC().Format(time.RFC3339), e.Env)
	}
	return msg + "; wait for it to finish"
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// Held is a lock this process holds; it renews itself until Release.
type Held struct {
	s     *Store
	lease Lease
	stop  chan struct{}
	done  sync.WaitGroup
	once  sync.Once
	err   error
}

func (s *Store) lockName() string { return s.Path() + "/lock" }

// Acquire takes the environment's lock for operation, with a lease of ttl
// renewed every ttl/3 while held. It fails at once, naming the holder,
// when the lock is taken — even if that lease is stale: breaking a lock is
// always an explicit act (Break).
func (s *Store) Acquire(ctx context.Context, holder, operation string, ttl time.Duration) (*Held, error) {
	now := s.Now().UTC()
	tok := make([]byte, 8)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	l := Lease{Holder: holder, Operation: operation, Since: now, Expires: now.Add(ttl), Token: hex.EncodeToString(tok)}
	if err := s.writeLease(ctx, l, false); err != nil {
		var exists *ssmtypes.ParameterAlreadyExists
		if !errors.As(err, &exists) {
			return nil, fmt.Errorf("taking the lock of %s (ssm:PutParameter on %s): %w", s.env, s.lockName(), err)
		}
		cur, ok, rerr := s.Lease(ctx)
		if rerr != nil {
			return nil, rerr
		}
		if !ok { // released in between: try once more
			return s.Acquire(ctx, holder, operation, ttl)
		}
		return nil, &LockedError{Env: s.env, Lease: cur, Stale: now.After(cur.Expires)}
	}
	h := &Held{s: s, lease: l, stop: make(chan struct{})}
	h.done.Add(1)
	go h.renew(ttl)
	return h, nil
}

func (s *Store) writeLease(ctx context.Context, l Lease, overwrite bool) error {
	b, _ := json.Marshal(l)
	_, err := s.api.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(s.lockName()), Value: aws.String(string(b)), Type: ssmtypes.ParameterTypeString,
		Overwrite: aws.Bool(overwrite), Description: aws.String("stevedore deploy lock"),
	})
	return err
}

// Lease reads the current lock, if any.
func (s *Store) Lease(ctx context.Context) (Lease, bool, error) {
	out, err := s.api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(s.lockName())})
	if notFound(err) {
		return Lease{}, false, nil
	}
	if err != nil {
		return Lease{}, false, fmt.Errorf("reading the lock of %s (ssm:GetParameter on %s): %w", s.env, s.lockName(), err)
	}
	var l Lease
	if err := json.Unmarshal([]byte(aws.ToString(out.Parameter.Value)), &l); err != nil {
		return Lease{}, false, fmt.Errorf("the lock %s is not a stevedore lease (%v): delete it with unlock --force", s.lockName(), err)
	}
	return l, true, nil
}

// Break removes the lock whoever holds it, and returns the lease it removed.
func (s *Store) Break(ctx context.Context) (Lease, bool, error) {
	l, ok, err := s.Lease(ctx)
	if err != nil || !ok {
		return l, ok, err
	}
	if _, err := s.api.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(s.lockName())}); err != nil && !notFound(err) {
		return l, true, fmt.Errorf("breaking the lock of %s (ssm:DeleteParameter on %s): %w", s.env, s.lockName(), err)
	}
	return l, true, nil
}

func (h *Held) renew(ttl time.Duration) {
	defer h.done.Done()
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
			l := h.lease
			l.Expires = h.s.Now().UTC().Add(ttl)
			if cur, ok, err := h.s.Lease(ctx); err == nil && ok && cur.Token == l.Token {
				_ = h.s.writeLease(ctx, l, true)
			}
			cancel()
		}
	}
}

// Release gives the lock back if this holder still has it. It is safe to
// call more than once (deferred on every exit path).
func (h *Held) Release(ctx context.Context) error {
	h.once.Do(func() {
		close(h.stop)
		h.done.Wait()
		cur, ok, err := h.s.Lease(ctx)
		switch {
		case err != nil:
			h.err = err
		case !ok || cur.Token != h.lease.Token:
			h.err = fmt.Errorf("the lock of %s was broken while this %s held it", h.s.env, h.lease.Operation)
		default:
			if _, err := h.s.api.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(h.s.lockName())}); err != nil && !notFound(err) {
				h.err = fmt.Errorf("releasing the lock of %s (ssm:DeleteParameter on %s): %w", h.s.env, h.s.lockName(), err)
			}
		}
	})
	return h.err
}
