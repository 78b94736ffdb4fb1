package cli

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalContext runs a helper process that waits on SignalContext's context, signals it and checks that the
// first signal cancels the context with the signal as cause (exit 128+n after a clean return), and that a second
// signal ends a process that does not return.
func TestSignalContext(t *testing.T) {
	if mode := os.Getenv("CLI_SIGNAL_HELPER"); mode != "" {
		ctx, stop := SignalContext(context.Background(), os.Stderr)
		defer stop()
		os.Stdout.WriteString("ready\n")
		<-ctx.Done()
		if mode == "stubborn" {
			time.Sleep(time.Minute) // ignores the cancellation; only the second signal ends it
		}
		os.Exit(ExitCode(ctx, ctx.Err()))
	}
	for _, tc := range []struct {
		mode    string
		signals []syscall.Signal
		want    int
	}{
		{"clean", []syscall.Signal{syscall.SIGINT}, 130},
		{"clean", []syscall.Signal{syscall.SIGTERM}, 143},
		{"stubborn", []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}, 130},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSignalContext$")
		cmd.Env = append(os.Environ(), "CLI_SIGNAL_HELPER="+tc.mode)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("helper: %q %v", line, err)
		}
		for i, s := range tc.signals {
			if i > 0 {
				time.Sleep(200 * time.Millisecond)
			}
			_ = cmd.Process.Signal(s)
		}
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != tc.want {
			t.Errorf("%s %v: %v, want exit code %d", tc.mode, tc.signals, err, tc.want)
		}
		if !strings.Contains(stderr.String(), "received: stopping") {
			t.Errorf("%s: stderr %q lacks the stopping notice", tc.mode, stderr.String())
		}
	}
}
