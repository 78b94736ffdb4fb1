package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/benchmark"
	"github.com/faildirs/faildirs/distill/tinyclip"

	"github.com/faildirs/faildirs/internal/cli"
)

// TestBenchmarkCommand runs `faildirs benchmark` on two small settings with an untrained CLIP saved to a folder
// (-clip), twice: the second run writes the same benchmark.json byte for byte. Bad flags stop it before any work.
func TestBenchmarkCommand(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	dir := t.TempDir()
	b, _, err := backend.Go()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	m, err := tinyclip.NewRandom(b, 4)
	if err != nil {
		t.Fatal(err)
	}
	clipDir := filepath.Join(dir, "clip")
	if err := tinyclip.Save(m, nil, clipDir, false); err != nil {
		t.Fatal(err)
	}
	m.Finalize()
	args := func(out string) []string {
		return []string{"benchmark", "-settings", "2", "-seed", "8", "-epochs", "1", "-train-per-class", "40", "-train-per-subclass", "20",
			"-val-per-group", "8", "-test-per-class", "30", "-methods", "fd,domino,random", "-clip", clipDir,
			"-work", filepath.Join(dir, "work"), "-out", out, "-quiet"}
	}
	var results [][]byte
	for k := range 2 {
		out := filepath.Join(dir, "out", string(rune('a'+k)))
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args(out), &stdout, &stderr); code != 0 {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
		}
		for _, want := range []string{"all settings (2", "domino", "wrote " + filepath.Join(out, benchmark.ResultFile)} {
			if !strings.Contains(stdout.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, stdout.String())
			}
		}
		raw, err := os.ReadFile(filepath.Join(out, benchmark.ResultFile))
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, raw)
	}
	if !bytes.Equal(results[0], results[1]) {
		t.Error("the same command wrote different benchmark.json files")
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"benchmark", "-seed", "1"}, "-out: no output folder"},
		{[]string{"benchmark", "-methods", "fd,lime", "-out", dir}, `unknown method "lime"`},
		{[]string{"benchmark", "-settings", "0", "-out", dir}, "-settings 0"},
		{[]string{"benchmark", "-epochs", "0", "-out", dir}, "-epochs 0"},
		{[]string{"benchmark", "-ks", "10,x", "-out", dir}, "invalid value"},
		{[]string{"benchmark", "-test-per-class", "5000", "-out", dir}, "1000 per item"},
		{[]string{"benchmark", "-out", dir, "extra"}, `unexpected argument "extra"`},
		{[]string{"benchmark", "-val-per-group", "0", "-out", dir}, "-val-per-group 0"},
	} {
		var stdout, stderr bytes.Buffer
		// A work folder of the test's own, should validation ever let a run start.
		a := append(c.args[:1:1], append([]string{"-work", filepath.Join(dir, "bad")}, c.args[1:]...)...)
		if code := run(context.Background(), a, &stdout, &stderr); code != cli.ExitUsage || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q, want exit 2 and a mention of %q", c.args, code, stderr.String(), c.want)
		}
	}
}
