// Package lockfile keeps two processes from writing one file at the same time: a writer holds "<file>.lock" while
// it works, and a second writer fails at once with an error naming the holder's pid, instead of overwriting the
// first one's work.
//
//	lock, err := lockfile.Acquire("emb.safetensors") // creates and locks emb.safetensors.lock
//	if err != nil {
//		return err // *lockfile.HeldError when another live process holds it
//	}
//	defer lock.Release()
//
// The lock is an advisory flock(2) on the lock file, which holds the holder's pid, host and start time for the
// error message. The kernel drops the lock when its process dies, however it dies (kill -9, a crash, a power
// loss), so a lock file left behind by a dead process is stale by construction: the next writer takes it over.
// Release removes the file. On systems without flock a lock file is created exclusively instead; there a stale
// file left by a crash must be removed by hand (the error says so).
package lockfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// Suffix is appended to the locked file's path to name its lock file.
const Suffix = ".lock"

// Lock is a held lock; Release it when the writing is done.
type Lock struct {
	path string
	f    *os.File
}

// Holder is what a lock file records about the process holding it.
type Holder struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

// HeldError reports a lock held by another process.
type HeldError struct {
	// Path is the locked file (not the lock file).
	Path string
	// Holder is read from the lock file (zero when it could not be read).
	Holder Holder
	// Stale is true where locks cannot be checked for a live holder (systems without flock): the lock file may be
	// left over from a crash.
	Stale bool
}

func (e *HeldError) Error() string {
	h := e.Holder
	who := "another process"
	if h.PID > 0 {
		who = fmt.Sprintf("process %d on %s (since %s)", h.PID, h.Host, h.Since.Format(time.RFC3339))
	}
	msg := fmt.Sprintf("%s is being written by %s: wait for it to finish, or write to another file", e.Path, who)
	if e.Stale {
		msg += fmt.Sprintf("; if no such process runs, remove %s%s", e.Path, Suffix)
	}
	return msg
}

// Acquire locks path for writing by this process (see the package doc); it fails with a [*HeldError] when another
// live process holds the lock.
func Acquire(path string) (*Lock, error) {
	return acquire(path)
}

// Release unlocks and removes the lock file. It is safe to call more than once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := release(l)
	l.f = nil
	return err
}

// holderRecord returns this process's record.
func holderRecord() []byte {
	host, _ := os.Hostname()
	b, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, Since: time.Now().UTC().Truncate(time.Second)})
	return append(b, '\n')
}

// readHolder parses a lock file's record (the zero Holder when unreadable).
func readHolder(path string) Holder {
	var h Holder
	b, err := os.ReadFile(path)
	if err == nil && len(b) < 4096 {
		_ = json.Unmarshal(b, &h)
	}
	return h
}

// Wait acquires the lock of path like [Acquire], waiting while another live process holds it: it polls every
// poll, calls waiting once with the first [*HeldError] (to say who is being waited for), and gives up when ctx
// ends. Callers that wait for another process to produce the same result should check for it after Wait returns.
func Wait(ctx context.Context, path string, poll time.Duration, waiting func(*HeldError)) (*Lock, error) {
	told := false
	for {
		l, err := Acquire(path)
		var held *HeldError
		if err == nil || !errors.As(err, &held) || held.Stale {
			return l, err
		}
		if !told && waiting != nil {
			waiting(held)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", path, context.Cause(ctx))
		case <-time.After(poll):
		}
	}
}
