package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func newFlags() (*flag.FlagSet, *int, *string) {
	fs := flag.NewFlagSet("cmd", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs, fs.Int("n", 1, ""), fs.String("out", "", "")
}

// TestParseRejectsPositional is the "faildirs quickstart extra -experiment bogus" case: the flag package stops at
// "extra", so without the check -n would be silently ignored.
func TestParseRejectsPositional(t *testing.T) {
	fs, n, _ := newFlags()
	err := Parse(fs, []string{"extra", "-n", "5"})
	var use *UsageError
	if !errors.As(err, &use) || !strings.Contains(err.Error(), `"extra"`) {
		t.Fatalf("err = %v, want a UsageError naming the argument", err)
	}
	if ExitCode(nil, err) != ExitUsage {
		t.Errorf("exit code %d, want %d", ExitCode(nil, err), ExitUsage)
	}
	fs, n, _ = newFlags()
	if err := Parse(fs, []string{"-n", "5"}); err != nil || *n != 5 {
		t.Fatalf("Parse: %v, n=%d", err, *n)
	}
	fs, _, _ = newFlags()
	if err := Parse(fs, []string{"-nope"}); ExitCode(nil, err) != ExitUsage {
		t.Errorf("unknown flag: %v (exit %d)", err, ExitCode(nil, err))
	}
}

func TestParseArgsInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		n    int
		out  string
	}{
		{[]string{"a", "-n", "3", "b", "-out", "x"}, []string{"a", "b"}, 3, "x"},
		{[]string{"-n", "2", "a"}, []string{"a"}, 2, ""},
		{[]string{"a", "--", "-n", "4"}, []string{"a", "-n", "4"}, 1, ""},
		{[]string{}, nil, 1, ""},
	} {
		fs, n, out := newFlags()
		pos, err := ParseArgs(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || *n != tc.n || *out != tc.out {
			t.Errorf("ParseArgs(%q) = %q, %v; n=%d out=%q; want %q n=%d out=%q", tc.args, pos, err, *n, *out, tc.pos, tc.n, tc.out)
		}
	}
}

func TestIsSet(t *testing.T) {
	fs, _, _ := newFlags()
	_ = Parse(fs, []string{"-n", "1"})
	if !IsSet(fs, "n") || IsSet(fs, "out") {
		t.Errorf("IsSet: n=%v out=%v, want true false", IsSet(fs, "n"), IsSet(fs, "out"))
	}
}

func TestChecks(t *testing.T) {
	var c Checks
	c.IntIn("batch", 0, 1, 10)
	c.IntIn("ok", 5, 1, 10)
	c.FloatIn("majority", math.NaN(), 0.5, 1)
	c.FloatIn("fine", 1, 0.5, 1)
	c.FloatAbove("lr", 0, 0, math.Inf(1))
	c.FloatAbove("wd", math.Inf(1), 0, math.Inf(1))
	c.FloatAbove("good", 1e-3, 0, math.Inf(1))
	c.OneOf("preload", "maybe", "yes", "no")
	err := c.Err()
	if ExitCode(nil, err) != ExitUsage {
		t.Fatalf("Err() = %v", err)
	}
	for _, want := range []string{"-batch 0", "-majority NaN", "-lr 0", "-wd +Inf", `-preload "maybe"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	for _, bad := range []string{"-ok", "-fine", "-good"} {
		if strings.Contains(err.Error(), bad+" ") {
			t.Errorf("error names a good value %s:\n%v", bad, err)
		}
	}
	var none Checks
	if none.Err() != nil {
		t.Errorf("no failures: %v", none.Err())
	}
}

func TestExitCodes(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&Interrupt{Signal: syscall.SIGTERM})
	for _, tc := range []struct {
		ctx  context.Context
		err  error
		want int
	}{
		{nil, nil, ExitOK},
		{nil, errors.New("boom"), ExitError},
		{nil, fmt.Errorf("wrapped: %w", ErrDegenerate), ExitDegenerate},
		{nil, flag.ErrHelp, ExitOK},
		{ctx, fmt.Errorf("embedding: %w", context.Canceled), 143},
		{nil, &Interrupt{Signal: syscall.SIGINT}, 130},
	} {
		if got := ExitCode(tc.ctx, tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestOutputChecks(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "report.json")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	notOurs := func(string) error { return errors.New("not a report") }
	for _, tc := range []struct {
		name, path string
		recognize  func(string) error
		want       string // "" = accepted
	}{
		{"new file", filepath.Join(dir, "new.json"), nil, ""},
		{"missing folders are created later", filepath.Join(dir, "a", "b", "new.json"), nil, ""},
		{"replace a recognised file", file, func(string) error { return nil }, ""},
		{"unrelated existing file", file, notOurs, "refusing to overwrite"},
		{"a folder", dir, nil, "is a folder"},
		{"under a file", filepath.Join(file, "x.json"), nil, "not a folder"},
		{"off", "", notOurs, ""},
	} {
		err := OutputFile("json", tc.path, tc.recognize)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: OutputFile(%s) = %v, want %q", tc.name, tc.path, err, tc.want)
		}
		if err != nil && ExitCode(nil, err) != ExitUsage {
			t.Errorf("%s: exit code %d", tc.name, ExitCode(nil, err))
		}
	}
	if err := OutputDir("out", file, nil); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("OutputDir on a file: %v", err)
	}
	if err := OutputDir("out", filepath.Join(dir, "run"), nil); err != nil {
		t.Errorf("OutputDir new: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Errorf("the checks created a folder: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the checks left files: %v", entries)
	}
	// A folder no process can create files in, root included: Linux's /proc.
	if fi, err := os.Stat("/proc/self"); err == nil && fi.IsDir() {
		for _, err := range []error{OutputFile("json", "/proc/faildirs-check.json", nil),
			OutputDir("out", "/proc/faildirs-check", nil), OutputDir("out", "/proc/self/faildirs-check", nil)} {
			if err == nil || ExitCode(nil, err) != ExitUsage {
				t.Errorf("an output under /proc: %v (exit %d), want a usage error", err, ExitCode(nil, err))
			}
		}
	}
	// NotInput: an output naming an input file (the same file by another path) is refused; new files pass.
	input := filepath.Join(dir, "m-in.npy")
	if err := os.WriteFile(input, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := NotInput("decisions", filepath.Join(dir, ".", "m-in.npy"), input); err == nil || ExitCode(nil, err) != ExitUsage {
		t.Errorf("NotInput on an input file: %v", err)
	}
	if err := NotInput("decisions", filepath.Join(dir, "new.npy"), input); err != nil {
		t.Errorf("NotInput on a new file: %v", err)
	}
	if err := os.Remove(input); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 { // root writes into read-only folders, so the case only exists for other users
		ro := filepath.Join(dir, "ro")
		_ = os.Mkdir(ro, 0o555)
		if err := OutputFile("json", filepath.Join(ro, "x.json"), nil); err == nil {
			t.Errorf("read-only folder accepted")
		}
	}
	if err := MakeParent(filepath.Join(dir, "m", "n", "f")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "m", "n")); err != nil || !fi.IsDir() {
		t.Errorf("MakeParent: %v", err)
	}
}
