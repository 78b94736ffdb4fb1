package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Interrupt is the cause of a context cancelled by [SignalContext]: the signal that arrived.
type Interrupt struct{ Signal os.Signal }

func (i *Interrupt) Error() string { return "interrupted by " + SignalName(i.Signal) }

// SignalName returns "SIGINT", "SIGTERM", ... for the signals faildirs handles, else the signal's own string.
func SignalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

// SignalContext returns a context that is cancelled, with an [*Interrupt] as its cause, at the first SIGINT
// (Ctrl-C) or SIGTERM (kill, batch schedulers, docker stop). A long command checks the context between steps,
// saves what can be resumed and returns; [ExitCode] then gives 128 + the signal number. The first signal also
// writes one line to msg (nil: nothing). A second signal ends the process at once with that exit code, without
// saving. Call stop when the command returns, to restore the default handling.
func SignalContext(parent context.Context, msg io.Writer) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			if msg != nil {
				fmt.Fprintf(msg, "\nfaildirs: %s received: stopping after the current step (saving what can be resumed); send it again to exit at once\n", SignalName(s))
			}
			cancel(&Interrupt{Signal: s})
		case <-done:
			return
		}
		select {
		case s := <-ch:
			code := 128 + int(syscall.SIGINT)
			if n, ok := s.(syscall.Signal); ok {
				code = 128 + int(n)
			}
			os.Exit(code)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}
