package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/experiment"
)

// TestSpecFlagsCoverEveryField checks every field of the spec file format has a flag of the same name.
func TestSpecFlagsCoverEveryField(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var s experiment.Spec
	specFlags(fs, &s)
	fields := experiment.Fields()
	for _, f := range fields {
		if fs.Lookup(strings.ReplaceAll(f, "_", "-")) == nil {
			t.Errorf("spec field %q has no flag -%s", f, strings.ReplaceAll(f, "_", "-"))
		}
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n != len(fields) {
		t.Errorf("%d flags for %d spec fields", n, len(fields))
	}
}

func TestListFlags(t *testing.T) {
	tests := []struct {
		in      string
		want    []float64
		wantErr string
	}{
		{in: "0.01", want: []float64{0.01}},
		{in: "1e-3, 0.1 ,1", want: []float64{1e-3, 0.1, 1}},
		{in: "0.01,x", wantErr: `"x"`},
		{in: "Inf", wantErr: `"Inf"`},
		{in: "NaN", wantErr: `"NaN"`},
	}
	for _, tc := range tests {
		var l floatList
		err := l.Set(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("floatList.Set(%q) error %v, want one naming %s", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(l, tc.want) {
			t.Errorf("floatList.Set(%q) = %v, %v; want %v", tc.in, l, err, tc.want)
		}
	}
	var g groupList
	if err := g.Set("0,2,7; 5,9 ;1"); err != nil || g.String() != "0,2,7;5,9;1" {
		t.Errorf("groupList %v %q %v", g, g.String(), err)
	}
	var f floatFlag
	if f.Set("NaN") == nil || f.Set("1/3") == nil || f.Set("0.25") != nil || float64(f) != 0.25 {
		t.Errorf("floatFlag accepted NaN or a fraction, or rejected 0.25: %v", f)
	}
}

// TestParseSpec reads a spec file, applies flags over it, and rejects bad files and arguments with errors that
// name the line or the value.
func TestParseSpec(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	file := write("spec.json", `{
  "data": "fashion-spurious",
  "epochs": 7,
  "data_seed": 4,
  "classes": ["Pullover", "Coat"],
  "test_minority_share": 0.25,
  "ks": [10, 30]
}`)
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s, err := parseSpec(fs, []string{"-spec", file, "-colors", "blue,orange", "-ks", "5", "-out", "x"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Classes, []string{"Pullover", "Coat"}) || !slices.Equal(s.Colors, []string{"blue", "orange"}) ||
		!slices.Equal(s.Ks, []int{5}) || s.TestMinorityShare != 0.25 || s.Out != "x" || s.Epochs != 7 || s.DataSeed != 4 ||
		s.Data != "fashion-spurious" {
		t.Fatalf("spec %+v", s)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown field", []string{"-spec", write("u.json", "{\n  \"data\": \"folder\",\n  \"colour\": \"red\"\n}")}, `line 3: unknown field "colour"`},
		{"wrong type", []string{"-spec", write("w.json", "{\"epochs\": \"ten\"}")}, `field "epochs"`},
		{"syntax", []string{"-spec", write("s.json", "{\n\"data\": \"folder\",,\n}")}, "line 2"},
		{"positional", []string{"-data", "folder", "photos/"}, `unexpected argument "photos/"`},
		{"NaN flag", []string{"-majority", "NaN"}, `"NaN" is not a finite number`},
		{"zero meaning the default", []string{"-epochs", "0"}, "-epochs 0: zero would mean the default"},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		_, err := parseSpec(fs, c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

// TestAnalyzeRejectsBadSpecsBeforeWork checks contradictions and out-of-range values fail at once, naming the
// field, and that nothing is written.
func TestAnalyzeRejectsBadSpecsBeforeWork(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-data", "mnist"}, `data: unknown source "mnist"`},
		{[]string{"-data", "folder"}, "data_dir: data \"folder\" needs its folder"},
		{[]string{"-preds", "testdata", "-model", "cnn"}, "model: sets up a base model trained here, but preds"},
		{[]string{"-preds", "testdata", "-latent", "features"}, "latent: features needs a base model trained here"},
		{[]string{"-data", "celeba", "-data-dir", "testdata", "-classes", "a,b"}, "classes: applies to data fashion-spurious only"},
		{[]string{"-data", "folder", "-data-dir", "no-such-folder"}, "data_dir: stat no-such-folder"},
		{[]string{"-preds", "no-such-folder"}, "preds: stat no-such-folder"},
		{[]string{"-majority", "1.5"}, "majority: 1.5 is outside [0.5, 1)"},
		{[]string{"-test-minority-share", "1"}, "test_minority_share: 1 is outside (0, 1)"},
		{[]string{"-epochs", "-3"}, "epochs: -3 must be at least 1"},
		{[]string{"-svm-cs", "0,1"}, "svm_cs: cost [0] = 0"},
		{[]string{"-compat", "sklearn"}, "unknown compatibility mode"},
		{[]string{"-vocab", "nonexistent.json"}, "vocab:"},
		{[]string{"-ks", "10,-5"}, "ks: K[1] = -5"},
		{[]string{"-latent", "random", "-clip-steps", "10"}, "clip_steps: the random CLIP is not trained"},
	} {
		var stdout, stderr bytes.Buffer
		args := append(c.args, "-out", out)
		err := runAnalyze(context.Background(), args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		entries, _ := os.ReadDir(out)
		if len(entries) > 0 {
			t.Errorf("rejected specs wrote %d files into %s", len(entries), out)
		}
	}
}
