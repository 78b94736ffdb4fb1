package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/intervene"
	"github.com/faildirs/faildirs/internal/cli"
)

// TestInterveneCommand runs `faildirs intervene` on a tiny planted experiment (untrained CLIP, one epoch, two
// seeds) and checks its tables and files; bad flags stop it before any work.
func TestInterveneCommand(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	args := []string{"intervene", "-train-per-class", "150", "-val-per-group", "30", "-test-per-class", "80", "-pool-per-class", "40",
		"-epochs", "1", "-latent", "random", "-caption-k", "10", "-methods", "base,svm,random,balanced", "-budgets", "5",
		"-seeds", "1,2", "-work", filepath.Join(dir, "work"), "-out", out, "-quiet"}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"Pool selection", "Reweighting", "svm     5", "balanced            0.500", "K=5, minority accuracy: SVM",
		"wrote " + filepath.Join(out, intervene.ResultFile)} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	if !strings.Contains(stderr.String(), "intervene   8/8") {
		t.Errorf("no progress line for the last run:\n%s", stderr.String())
	}
	for _, f := range []string{intervene.ResultFile, intervene.ReportFile, "runs/selection-svm-k5.csv", "runs/selection-random-k5-seed2.csv",
		"runs/weights-balanced.csv", "interventions_pool.png", "interventions_reweight.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"intervene", "-methods", "base,lime", "-out", dir}, `unknown method "lime"`},
		{[]string{"intervene", "-budgets", "0", "-out", dir}, "budget K = 0"},
		{[]string{"intervene", "-seeds", "1,1", "-out", dir}, "repeat a value"},
		{[]string{"intervene", "-seeds", "-1", "-out", dir}, "is not a seed"},
		{[]string{"intervene", "-methods", "svm,svm", "-out", dir}, `method "svm" given twice`},
		{[]string{"intervene", "-latent", "random"}, "-out: no output folder"},
		{[]string{"intervene", "-weights", "w.csv", "-out", dir}, "-weights: interventions set the training weights themselves"},
		{[]string{"intervene", "-out", dir, "extra"}, `unexpected argument "extra"`},
	} {
		var stdout, stderr bytes.Buffer
		a := append(c.args[:1:1], append([]string{"-work", filepath.Join(dir, "bad")}, c.args[1:]...)...)
		if code := run(context.Background(), a, &stdout, &stderr); code != cli.ExitUsage || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q, want exit %d and %q", c.args, code, stderr.String(), cli.ExitUsage, c.want)
		}
	}
}
