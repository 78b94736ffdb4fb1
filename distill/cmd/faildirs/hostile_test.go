package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/numpy"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/npy"
	"github.com/faildirs/faildirs/internal/cli"
)

// runCmd runs subcommand name in process and returns its exit code (as main computes it) with stdout and stderr.
func runCmd(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestStrayArgumentsAndBadValues holds issue 11's silent wrong runs (exit 0 with flags ignored or zero taken as
// "unset") and the flag values that ran out of memory: each is now exit code 2, with a message naming the flag,
// before any work (no output folder appears).
func TestStrayArgumentsAndBadValues(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"quickstart", "extra", "-experiment", "bogus", "-out", out}, `unexpected argument "extra"`},
		{[]string{"bench-clip", "extra", "-batch", "0"}, `unexpected argument "extra"`},
		{[]string{"env", "extra", "-n", "0"}, `unexpected argument "extra"`},
		{[]string{"train", "extra", "-out", out}, `unexpected argument "extra"`},
		{[]string{"bench-svm", "-data", dir, "extra"}, `unexpected argument "extra"`},
		{[]string{"train-clip", "extra"}, `unexpected argument "extra"`},
		{[]string{"quickstart", "-classes", "0,0", "-out", out}, `-classes "0,0": want two different classes`},
		{[]string{"quickstart", "-majority", "1", "-out", out}, "-majority 1: want a number in [0.5, 1)"},
		{[]string{"train", "-classes", "0,0", "-out", out}, `-classes "0,0": want two different classes`},
		{[]string{"train", "-classes", "T-shirt/top,T-shirt/top", "-out", out}, "want two different classes"},
		{[]string{"train", "-classes", "3,3", "-out", out}, "want two different classes"},
		{[]string{"train", "-colors", "red,red", "-out", out}, `-colors "red,red": want two different known colours`},
		{[]string{"train", "-colors", "red,chartreuse-ish", "-out", out}, "want two different known colours"},
		{[]string{"train", "-dataset", "fashion-rare", "-rare", "0,0,0", "-out", out}, "named twice"},
		{[]string{"train", "-dataset", "fashion-rare", "-superclasses", "0,2;5,bogus", "-out", out}, "-superclasses"},
		{[]string{"quickstart", "-majority", "0", "-out", out}, "-majority 0"},
		{[]string{"quickstart", "-majority", "NaN", "-out", out}, `invalid value "NaN" for flag -majority`},
		{[]string{"quickstart", "-experiment", "bogus", "-out", out}, `-experiment "bogus"`},
		{[]string{"quickstart", "-rare-fraction", "0", "-out", out}, "-rare-fraction 0"},
		{[]string{"train", "-batch", "0", "-out", out}, "-batch 0"},
		{[]string{"train", "-batch", "-1", "-out", out}, "-batch -1"},
		{[]string{"train", "-lr", "0", "-out", out}, "-lr 0"},
		{[]string{"train", "-lr", "NaN", "-out", out}, "-lr NaN"},
		{[]string{"train", "-wd", "Inf", "-out", out}, "-wd +Inf"},
		{[]string{"train", "-size", "100000", "-out", out}, "-size 100000"},
		{[]string{"train", "-epochs", "0", "-out", out}, "-epochs 0"},
		{[]string{"train", "-majority", "1.5", "-out", out}, "-majority 1.5"},
		{[]string{"train", "-train-per-class", "0", "-out", out}, "-train-per-class 0"},
		{[]string{"train", "-hidden", "256,0", "-out", out}, `"0" is not a layer size`},
		{[]string{"train", "-val-fraction", "0.6", "-test-fraction", "0.5", "-dataset", "folder", "-out", out}, "leave nothing to train on"},
		{[]string{"env", "-n", "200000"}, "-n 200000"},
		{[]string{"env", "-reps", "0"}, "-reps 0"},
		{[]string{"bench-clip", "-batch", "0"}, "-batch 0"},
		{[]string{"bench-clip", "-streams", "0"}, "-streams 0"},
		{[]string{"bench-svm", "-data", dir, "-tol", "NaN"}, "-tol NaN"},
		{[]string{"bench-svm", "-data", dir, "-max-iter", "0"}, "-max-iter 0"},
		{[]string{"bench-svm", "-data", dir, "-classes", "0"}, "-classes 0"},
		{[]string{"bench-svm", "-data", dir, "-ks", "0"}, `"0" is not an integer`},
		{[]string{"bench-svm"}, "-data is required"},
		{[]string{"embed", "-out", filepath.Join(dir, "e.safetensors"), "-batch", "0", dir}, "-batch 0"},
		{[]string{"embed", "-out", filepath.Join(dir, "e.safetensors"), "-max-pixels", "0", dir}, "-max-pixels 0"},
		{[]string{"embed", dir}, "-out is required"},
		{[]string{"train-clip", "-width", "100000"}, "-width 100000"},
		{[]string{"train-clip", "-untinted", "NaN"}, "-untinted NaN"},
	} {
		code, _, stderr := runCmd(context.Background(), tc.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("faildirs %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused command created %s", out)
	}
	// Flags after the image arguments of embed are flags, not file names.
	code, _, stderr := runCmd(context.Background(), "embed", filepath.Join(dir, "missing"), "-out", filepath.Join(dir, "e.safetensors"), "-batch", "0")
	if code != cli.ExitUsage || !strings.Contains(stderr, "-batch 0") {
		t.Errorf("embed flags after the image arguments are flags: exit %d\n%s", code, stderr)
	}
}

// TestOutputPathsCheckedFirst holds issue 11's outputs checked only after the work: bench-svm into a missing
// folder (now created), next to a file (refused before the fit, nothing written), over an unrelated file
// (refused); embed and train outputs that cannot be written are refused before loading anything.
func TestOutputPathsCheckedFirst(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	dir := t.TempDir()
	writeBenchFolder(t, dir)
	victim := filepath.Join(dir, "notes.txt")
	os.WriteFile(victim, []byte("precious"), 0o644)
	report := filepath.Join(dir, "new", "sub", "report.json")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench-svm", "-data", dir, "-json", report, "-decisions", filepath.Join(victim, "dec.npy")}, "notes.txt is not a folder"},
		{[]string{"bench-svm", "-data", dir, "-json", victim}, "refusing to overwrite"},
		{[]string{"bench-svm", "-data", dir, "-model", victim}, "refusing to overwrite"},
		{[]string{"bench-svm", "-data", dir, "-decisions", victim}, "refusing to overwrite"},
		{[]string{"bench-svm", "-data", dir, "-json", report, "-model", report}, "name the same file"},
		{[]string{"bench-svm", "-data", dir, "-decisions", filepath.Join(dir, "test_features.npy")}, "is an input of this command"},
		{[]string{"bench-svm", "-data", dir, "-decisions", filepath.Join(dir, ".", "val_labels.npy")}, "is an input of this command"},
		{[]string{"embed", "-out", filepath.Join(victim, "e.safetensors"), dir}, "not a folder"},
		{[]string{"embed", "-out", victim, dir}, "is not an embedding cache"},
		{[]string{"train", "-out", filepath.Join(victim, "run")}, "not a folder"},
		{[]string{"train", "-out", dir}, "which train does not write"},
		{[]string{"quickstart", "-out", victim}, "not a folder"},
	} {
		code, _, stderr := runCmd(context.Background(), tc.args...)
		if code != cli.ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("faildirs %s: exit %d, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious" {
		t.Errorf("the unrelated file was changed: %q", got)
	}
	if code, _, stderr := runCmd(context.Background(), "bench-svm", "-data", dir, "-ks", "10"); code != 0 {
		t.Errorf("the data folder no longer loads after the refused runs: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(report); !os.IsNotExist(err) {
		t.Errorf("bench-svm wrote %s although another output was refused", report)
	}
	// A missing folder is created at the end; a previous report is replaced.
	for range 2 {
		if code, _, stderr := runCmd(context.Background(), "bench-svm", "-data", dir, "-json", report, "-ks", "10"); code != 0 {
			t.Fatalf("bench-svm into a missing folder: exit %d\n%s", code, stderr)
		}
	}
}

// writeNPYInts writes an integer vector in .npy.
func writeNPYInts(t *testing.T, path string, v []int64) {
	t.Helper()
	if err := numpy.ToNpyFile(tensors.FromFlatDataAndDimensions(v, len(v)), path); err != nil {
		t.Fatal(err)
	}
}

func readNPYInts(t *testing.T, path string) []int64 {
	t.Helper()
	a, err := npy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := a.Ints()
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// TestBenchSVMDegenerateData holds issue 11's degenerate inputs: validation without an error (exit 0, "AUROC
// 0.0000" with nothing fitted), constant train features (fitted silently), a correct column that disagrees with
// preds == labels (never read), and stray labels (2^40: out of memory; 10^6: a million empty classes).
func TestBenchSVMDegenerateData(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	fresh := func() string {
		d := t.TempDir()
		writeBenchFolder(t, d)
		return d
	}
	readReport := func(path string) benchSVMReport {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var rep benchSVMReport
		if err := json.Unmarshal(raw, &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}

	// No error in validation: outputs written, status and warning, exit code 3.
	d := fresh()
	writeNPYInts(t, filepath.Join(d, "val_preds.npy"), readNPYInts(t, filepath.Join(d, "val_labels.npy")))
	js := filepath.Join(d, "r.json")
	code, _, stderr := runCmd(context.Background(), "bench-svm", "-data", d, "-json", js, "-ks", "10")
	rep := readReport(js)
	if code != cli.ExitDegenerate || rep.Status != distill.WarnNoFailureSignal || len(rep.Warnings) != 1 ||
		!strings.Contains(stderr, "warning: no-failure-signal") {
		t.Errorf("all-correct validation: exit %d, status %q, warnings %v\n%s", code, rep.Status, rep.Warnings, stderr)
	}

	// Constant train features: a warning naming them; every feature constant: an error.
	d = fresh()
	feat, _ := npy.Load(filepath.Join(d, "train_features.npy"))
	x, _ := feat.Float32()
	for i := 0; i < len(x); i += 8 {
		x[i+2] = 1
	}
	npy.SaveFloat32(filepath.Join(d, "train_features.npy"), feat.Shape, x)
	js = filepath.Join(d, "r.json")
	code, _, stderr = runCmd(context.Background(), "bench-svm", "-data", d, "-json", js, "-ks", "10")
	rep = readReport(js)
	if code != 0 || rep.Status != "ok" || len(rep.Warnings) != 1 || rep.Warnings[0].Code != distill.WarnConstantFeatures ||
		!strings.Contains(rep.Warnings[0].Message, "(features 2)") {
		t.Errorf("one constant feature: exit %d, status %q, warnings %v\n%s", code, rep.Status, rep.Warnings, stderr)
	}
	for i := range x {
		x[i] = 1
	}
	npy.SaveFloat32(filepath.Join(d, "train_features.npy"), feat.Shape, x)
	if code, _, stderr = runCmd(context.Background(), "bench-svm", "-data", d); code != cli.ExitError ||
		!strings.Contains(stderr, "all 8 latent features are constant in train") {
		t.Errorf("constant features: exit %d\n%s", code, stderr)
	}

	// A correct column that disagrees with preds == labels.
	d = fresh()
	labels, preds := readNPYInts(t, filepath.Join(d, "val_labels.npy")), readNPYInts(t, filepath.Join(d, "val_preds.npy"))
	wrong := make([]bool, len(labels))
	for i := range wrong {
		wrong[i] = labels[i] != preds[i] // the negation of correct
	}
	numpy.ToNpyFile(tensors.FromFlatDataAndDimensions(wrong, len(wrong)), filepath.Join(d, "val_correct.npy"))
	js = filepath.Join(d, "r.json")
	code, _, _ = runCmd(context.Background(), "bench-svm", "-data", d, "-json", js, "-ks", "10")
	rep = readReport(js)
	if code != 0 || len(rep.Warnings) != 1 || rep.Warnings[0].Code != distill.WarnInconsistentCorrect ||
		!strings.Contains(rep.Warnings[0].Message, "on 400 of 400 examples of val") {
		t.Errorf("inconsistent correct column: exit %d, warnings %v", code, rep.Warnings)
	}

	// Stray labels: an error naming the file and the example, unless the classes are declared.
	for _, stray := range []int64{1 << 40, 1_000_000} {
		d = fresh()
		labels = readNPYInts(t, filepath.Join(d, "val_labels.npy"))
		labels[7] = stray
		writeNPYInts(t, filepath.Join(d, "val_labels.npy"), labels)
		code, _, stderr = runCmd(context.Background(), "bench-svm", "-data", d)
		want := "declare it with -classes"
		if stray > distill.MaxClasses {
			want = "more than the 1048576 faildirs supports"
		}
		if code != cli.ExitError || !strings.Contains(stderr, "val_labels.npy: label") || !strings.Contains(stderr, "of example 7") ||
			!strings.Contains(stderr, want) {
			t.Errorf("label %d: exit %d\n%s", stray, code, stderr)
		}
		code, _, stderr = runCmd(context.Background(), "bench-svm", "-data", d, "-classes", "2")
		if code != cli.ExitError || !strings.Contains(stderr, "is not below -classes 2") {
			t.Errorf("label %d with -classes 2: exit %d\n%s", stray, code, stderr)
		}
	}
	d = fresh()
	model := filepath.Join(d, "m.json")
	if code, _, stderr = runCmd(context.Background(), "bench-svm", "-data", d, "-classes", "5", "-model", model, "-ks", "10"); code != 0 {
		t.Fatalf("-classes 5: exit %d\n%s", code, stderr)
	}
	if m, err := distill.Load(model); err != nil || m.NumClasses() != 5 || m.Fits[4].Status != distill.StatusNoData {
		t.Errorf("declared 5 classes: %v", err)
	}
}

// TestTrainMajorityOneAndInterruptedRerun: -majority 1 (no minority example in train) failed after training with
// "json: unsupported value: NaN", leaving a model and CSVs without a summary; and a rerun interrupted mid-training
// left its half-trained model beside the previous run's summary. Now the first succeeds (empty groups have a null
// accuracy) and the interrupted rerun leaves the previous run's folder exactly as it was.
func TestTrainMajorityOneAndInterruptedRerun(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	out := filepath.Join(t.TempDir(), "run")
	base := []string{"train", "-dataset", "fashion-spurious", "-train-per-class", "100", "-val-per-group", "10",
		"-test-per-class", "20", "-pool-per-class", "-1", "-out", out}
	code, stdout, stderr := runCmd(context.Background(), append(base, "-majority", "1", "-epochs", "1")...)
	if code != 0 {
		t.Fatalf("-majority 1: exit %d\n%s\n%s", code, stdout, stderr)
	}
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "null") {
		t.Errorf("summary.json has no null accuracy for the empty train groups")
	}
	var sum trainSummary
	if err := json.Unmarshal(raw, &sum); err != nil || sum.Splits[0].GroupCount[1] != 0 {
		t.Fatalf("summary: %v %+v", err, sum.Splits[0])
	}
	before := snapshot(t, out)

	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&cli.Interrupt{Signal: os.Interrupt})
	code, _, stderr = runCmd(ctx, append(base, "-epochs", "3")...)
	if code != 128+2 {
		t.Errorf("interrupted rerun: exit %d, want 130\n%s", code, stderr)
	}
	if after := snapshot(t, out); !equalSnapshots(before, after) {
		t.Errorf("the interrupted rerun changed the previous run's folder: %v → %v", keys(before), keys(after))
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("temporary folders left beside the output: %v", entries)
	}
}

// snapshot maps the names of the files of dir to their contents.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		m[e.Name()] = string(b)
	}
	return m
}

func equalSnapshots(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
