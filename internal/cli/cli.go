// Package cli holds what every faildirs command shares, so that each command behaves the same on bad input and on
// interrupts: flag parsing that rejects stray arguments, value checks that run before any work, output-path checks,
// a context cancelled by SIGINT and SIGTERM, and the process exit codes.
//
//	func runMine(ctx context.Context, args []string, stdout, stderr io.Writer) error {
//		fs := flag.NewFlagSet("mine", flag.ContinueOnError)
//		fs.SetOutput(stderr)
//		batch := fs.Int("batch", 32, "images per call")
//		lr := fs.Float64("lr", 1e-3, "learning rate")
//		out := fs.String("out", "", "report file")
//		if err := cli.Parse(fs, args); err != nil { // positional arguments are an error
//			return err
//		}
//		var c cli.Checks
//		c.IntIn("batch", *batch, 1, 4096)
//		c.FloatAbove("lr", *lr, 0, 10)            // NaN and ±Inf are rejected too
//		c.Add(cli.OutputFile("out", *out, nil))   // writable, not a folder, before any work
//		if err := c.Err(); err != nil {
//			return err // a UsageError: exit code 2
//		}
//		... // long work that stops when ctx is cancelled (cli.SignalContext in main)
//	}
//
// Commands that take file arguments use [ParseArgs], which accepts flags before, between and after them.
//
// # Exit codes
//
//   - 0 ([ExitOK]): the command did its work.
//   - 1 ([ExitError]): it failed: a bad input file, a failed computation, a file it could not write.
//   - 2 ([ExitUsage]): bad flags or arguments, found before any work started ([UsageError]).
//   - 3 ([ExitDegenerate]): it finished and wrote its outputs, but the data carried no signal to fit (for
//     instance no base-model error in validation); the outputs say so in their status ([ErrDegenerate]).
//   - 128+n: stopped by signal n (130 for SIGINT, 143 for SIGTERM) after saving what can be resumed.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"strings"
	"syscall"
)

// Exit codes of the faildirs commands (see the package documentation).
const (
	ExitOK         = 0
	ExitError      = 1
	ExitUsage      = 2
	ExitDegenerate = 3
)

// UsageError is an error in a command's flags or arguments, found before any work started (exit code 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a [UsageError] with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ErrDegenerate marks a run that finished and wrote its outputs but found no signal to fit in the data (exit code
// 3). Wrap it: fmt.Errorf("%w: no class has errors in validation", cli.ErrDegenerate).
var ErrDegenerate = errors.New("degenerate data")

// ExitCode returns the process exit code for the error a command returned (nil and flag.ErrHelp: [ExitOK]). ctx is
// the command's
// context: when the error comes from its cancellation by a signal ([SignalContext]), the code is 128 + the signal
// number.
func ExitCode(ctx context.Context, err error) int {
	if err == nil {
		return ExitOK
	}
	var intr *Interrupt
	if errors.As(err, &intr) || (ctx != nil && errors.As(context.Cause(ctx), &intr) && ctx.Err() != nil) {
		if s, ok := intr.Signal.(syscall.Signal); ok {
			return 128 + int(s)
		}
		return 128 + int(syscall.SIGINT)
	}
	var use *UsageError
	switch {
	case errors.Is(err, flag.ErrHelp): // -h: the flag package printed the usage, as asked
		return ExitOK
	case errors.As(err, &use):
		return ExitUsage
	case errors.Is(err, ErrDegenerate):
		return ExitDegenerate
	}
	return ExitError
}

// Parse parses args into fs and rejects positional arguments: the flag package stops at the first non-flag
// argument, so "cmd extra -n 5" would otherwise silently ignore -n. Errors are [UsageError]s.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageOf(err)
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q: %s takes flags only (flags start with -)", fs.Arg(0), fs.Name())
	}
	return nil
}

// ParseArgs parses args into fs allowing flags before, between and after positional arguments, which it returns
// in order. "--" ends the flags: every later argument is positional (for file names that start with "-").
func ParseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageOf(err)
		}
		rest := fs.Args()
		// fs.Parse consumed a "--" terminator if the argument before the rest is "--".
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func usageOf(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &UsageError{Err: err}
}

// IsSet reports whether the flag name was given on the command line (not left at its default). Use it for flags
// whose default depends on other flags: leaving the flag out is the explicit "unset", and any value given is checked.
func IsSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// Checks collects flag-value errors so that a command reports every bad value at once, before any work. The zero
// value is ready to use; [Checks.Err] returns nil or a [UsageError] listing them.
type Checks struct {
	errs []error
}

// Add records err if it is not nil.
func (c *Checks) Add(err error) {
	if err != nil {
		c.errs = append(c.errs, err)
	}
}

// Addf records a formatted error.
func (c *Checks) Addf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

// IntIn checks lo ≤ v ≤ hi for the flag name.
func (c *Checks) IntIn(name string, v, lo, hi int) {
	if v < lo || v > hi {
		c.Addf("-%s %d: want an integer in [%d, %d]", name, v, lo, hi)
	}
}

// FloatIn checks that v is a number with lo ≤ v ≤ hi (NaN fails every check).
func (c *Checks) FloatIn(name string, v, lo, hi float64) {
	if !(v >= lo && v <= hi) {
		c.Addf("-%s %v: want a number in [%g, %g]", name, v, lo, hi)
	}
}

// FloatAbove checks that v is a number with lo < v ≤ hi (NaN fails; hi may be +Inf to allow any finite value
// above lo, but v itself must be finite).
func (c *Checks) FloatAbove(name string, v, lo, hi float64) {
	if !(v > lo && v <= hi) || math.IsInf(v, 0) {
		c.Addf("-%s %v: want a finite number in (%g, %g]", name, v, lo, hi)
	}
}

// OneOf checks that v is one of the allowed strings.
func (c *Checks) OneOf(name, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.Addf("-%s %q: want one of %s", name, v, strings.Join(allowed, ", "))
}

// Err returns nil when every check passed, else a [UsageError] joining the failures (one per line).
func (c *Checks) Err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return &UsageError{Err: errors.Join(c.errs...)}
}
