package lockfile

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestSecondWriterIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "emb.safetensors")
	a, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(path)
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second Acquire: %v, want a *HeldError", err)
	}
	if held.Holder.PID != os.Getpid() || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q: want it to name %s and pid %d", err, path, os.Getpid())
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + Suffix); !os.IsNotExist(err) {
		t.Errorf("lock file left after Release: %v", err)
	}
	b, err := Acquire(path)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	_ = b.Release()
	_ = b.Release() // twice is fine
}

// TestDeadHolderIsStale kills a process holding the lock (SIGKILL: no cleanup runs) and checks that its lock file,
// left behind, does not block the next writer.
func TestDeadHolderIsStale(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("flock-based staleness is Unix only")
	}
	path := filepath.Join(t.TempDir(), "cache.bin")
	if os.Getenv("LOCKFILE_TEST_HOLD") != "" {
		if _, err := Acquire(os.Getenv("LOCKFILE_TEST_HOLD")); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDeadHolderIsStale$")
	cmd.Env = append(os.Environ(), "LOCKFILE_TEST_HOLD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("helper: %q %v", buf, err)
	}
	var held *HeldError
	if _, err := Acquire(path); !errors.As(err, &held) || held.Holder.PID != cmd.Process.Pid {
		t.Fatalf("while the helper lives: %v, want a HeldError naming pid %d", err, cmd.Process.Pid)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if _, err := os.Stat(path + Suffix); err != nil {
		t.Fatalf("the killed holder's lock file should be left behind: %v", err)
	}
	l, err := Acquire(path)
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	_ = l.Release()
}

// TestWait waits for a held lock until its holder releases it, saying once whom it waits for, and gives up when
// its context ends.
func TestWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model")
	first, err := Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	waits := 0
	go func() {
		time.Sleep(100 * time.Millisecond)
		first.Release()
	}()
	second, err := Wait(context.Background(), path, 10*time.Millisecond, func(h *HeldError) { waits++ })
	if err != nil {
		t.Fatal(err)
	}
	if waits != 1 {
		t.Errorf("waiting was reported %d times, want once", waits)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := Wait(ctx, path, 10*time.Millisecond, nil); err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting on a lock held past the deadline: %v", err)
	}
	second.Release()
}
