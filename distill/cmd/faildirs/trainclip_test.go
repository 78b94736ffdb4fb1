package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/tinyclip"
)

func TestTrainCLIPCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiny")
	args := []string{"train-clip", "--out", out, "--steps", "4", "--batch", "16", "--width", "32", "--layers", "1",
		"--embed", "32", "--train-images", "300", "--eval-images", "50", "--seed", "9"}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"item accuracy", "colour accuracy", "item Sneaker", "colour magenta", "model: " + out, "load average"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, f := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt", tinyclip.RecordFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	rec, err := tinyclip.LoadRecord(out)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Recipe.Steps != 4 || rec.Recipe.Seed != 9 || rec.Quality == nil || rec.Quality.Images != 50 {
		t.Errorf("record: recipe %+v, quality %+v", rec.Recipe, rec.Quality)
	}

	// The folder exists now: without --force the command refuses to overwrite it.
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), args, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "--force") {
		t.Errorf("second run without --force: exit %d, stderr %q", code, stderr.String())
	}

	// --json prints the record.
	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), append(args, "--force", "--json"), &stdout, &stderr); code != 0 {
		t.Fatalf("--json: exit %d: %s", code, stderr.String())
	}
	var got struct {
		Dir     string            `json:"dir"`
		Quality *tinyclip.Quality `json:"quality"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("--json output %q: %v", stdout.String(), err)
	}
	if got.Dir != out || got.Quality == nil {
		t.Errorf("--json: dir %q quality %v", got.Dir, got.Quality)
	}

	// Bad flags are errors.
	if code := run(context.Background(), []string{"train-clip", "--patch", "5"}, &stdout, &stderr); code == 0 {
		t.Error("--patch 5 (28 not a multiple) accepted")
	}
}
