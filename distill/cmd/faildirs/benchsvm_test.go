package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/numpy"
)

// writeBenchFolder writes a small dataset in bench-svm's .npy layout: 2 classes, a planted
// subgroup (subgroup = 1) on which the base model errs.
func writeBenchFolder(t *testing.T, dir string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	const d, perClass = 8, 200
	dirs := [2][d]float64{}
	for c := range 2 {
		for k := range d {
			dirs[c][k] = rng.NormFloat64() / math.Sqrt(d)
		}
	}
	for _, split := range []string{"train", "val", "test"} {
		var feat, conf []float32
		var labels, preds []int64
		var sub []int8
		for c := range 2 {
			for range perClass {
				z := rng.Float64() < 0.2
				for k := range d {
					v := rng.NormFloat64()*0.35 + float64(c)*0.3
					if z {
						v += 4 * 0.35 * dirs[c][k] * math.Sqrt(d)
					}
					feat = append(feat, float32(v))
				}
				correct := !(z && rng.Float64() < 0.7)
				p := int64(c)
				if !correct {
					p = int64(1 - c)
				}
				labels, preds = append(labels, int64(c)), append(preds, p)
				s := int8(0)
				if z {
					s = 1
				}
				sub = append(sub, s)
				conf = append(conf, float32(0.3+0.6*rng.Float64()))
			}
		}
		n := len(labels)
		for name, tt := range map[string]*tensors.Tensor{
			"features":   tensors.FromFlatDataAndDimensions(feat, n, d),
			"labels":     tensors.FromFlatDataAndDimensions(labels, n),
			"preds":      tensors.FromFlatDataAndDimensions(preds, n),
			"confidence": tensors.FromFlatDataAndDimensions(conf, n),
			"subgroup":   tensors.FromFlatDataAndDimensions(sub, n),
		} {
			if err := numpy.ToNpyFile(tt, filepath.Join(dir, split+"_"+name+".npy")); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestBenchSVM(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	dir := t.TempDir()
	writeBenchFolder(t, dir)
	out := filepath.Join(dir, "report.json")
	dec := filepath.Join(dir, "dec.npy")
	model := filepath.Join(dir, "model.json")
	var stdout, stderr bytes.Buffer
	err := runBenchSVM(context.Background(), []string{"--data", dir, "--ks", "10,20", "--json", out, "--decisions", dec,
		"--model", model}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("bench-svm: %v\n%s", err, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	// The keys shared with the scikit-learn reference report, plus backend.
	for _, k := range []string{"fit_wall_s", "mean_cv_balanced_acc", "test_balanced_acc_global",
		"test_balanced_acc_mean_per_class", "topk_surfacing", "skipped_classes", "backend"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	surf := rep["topk_surfacing"].(map[string]any)
	for _, k := range []string{"10", "20"} {
		p, ok := surf[k].(map[string]any)
		if !ok {
			t.Fatalf("topk_surfacing lacks K=%s: %v", k, surf)
		}
		svm, random := p["svm_minority"].(float64), p["random_minority"].(float64)
		if svm < random+0.3 {
			t.Errorf("K=%s: SVM surfaces %.2f of the subgroup, random %.2f", k, svm, random)
		}
	}
	if acc := rep["test_balanced_acc_global"].(float64); acc < 0.6 || acc > 1 {
		t.Errorf("test balanced accuracy %v", acc)
	}
	back, err := numpy.FromNpyFile(dec)
	if err != nil {
		t.Fatal(err)
	}
	if dims := back.Shape().Dimensions; len(dims) != 1 || dims[0] != 400 {
		t.Errorf("decisions shape %v, want [400]", dims)
	}
	if _, err := os.Stat(model); err != nil {
		t.Errorf("model not saved: %v", err)
	}
	if !strings.Contains(stdout.String(), "top-K minority") {
		t.Errorf("text report:\n%s", stdout.String())
	}
	if err := runBenchSVM(context.Background(), []string{"--data", filepath.Join(dir, "missing")}, &stdout, &stderr); err == nil {
		t.Errorf("a missing folder was accepted")
	}
}

// TestBenchSVMCompatAgainstReference runs bench-svm twice on the same folder, the second time with --compat
// reference and --ref pointing at the first run written in fit_svm_ref.py's layout: a run compared with itself
// agrees on every C and has Spearman 1.
func TestBenchSVMCompatAgainstReference(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	dir := t.TempDir()
	writeBenchFolder(t, dir)
	first := filepath.Join(dir, "first.json")
	var stdout, stderr bytes.Buffer
	if err := runBenchSVM(context.Background(), []string{"--data", dir, "--compat", "reference", "--json", first,
		"--decisions", filepath.Join(dir, "decisions_first.npy")}, &stdout, &stderr); err != nil {
		t.Fatalf("bench-svm: %v\n%s", err, stderr.String())
	}
	var rep benchSVMReport
	data, err := os.ReadFile(first)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Compat != "reference" || len(rep.PerClassC) != 2 {
		t.Fatalf("report: compat %q, per-class C %v", rep.Compat, rep.PerClassC)
	}
	// fit_svm_ref.py's layout: per_class with best_C, decisions as float64.
	var perClass []map[string]any
	for _, c := range rep.PerClassC {
		perClass = append(perClass, map[string]any{"best_C": c})
	}
	refData, _ := json.Marshal(map[string]any{"per_class": perClass})
	refJSON := filepath.Join(dir, "svm_first.json")
	if err := os.WriteFile(refJSON, refData, 0o644); err != nil {
		t.Fatal(err)
	}
	dec, err := numpy.FromNpyFile(filepath.Join(dir, "decisions_first.npy"))
	if err != nil {
		t.Fatal(err)
	}
	f32, _ := tensors.CopyFlatData[float32](dec)
	f64 := make([]float64, len(f32))
	for i, v := range f32 {
		f64[i] = float64(v)
	}
	if err := numpy.ToNpyFile(tensors.FromFlatDataAndDimensions(f64, len(f64)), filepath.Join(dir, "decisions_first.npy")); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if err := runBenchSVM(context.Background(), []string{"--data", dir, "--compat", "reference", "--ref", refJSON},
		&stdout, &stderr); err != nil {
		t.Fatalf("bench-svm --ref: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), "same C in 2 of 2 classes (100.0%") ||
		!strings.Contains(stdout.String(), "Spearman of test decisions pooled 1.0000") {
		t.Errorf("comparison with itself:\n%s", stdout.String())
	}
	if err := runBenchSVM(context.Background(), []string{"--data", dir, "--compat", "sklearn"}, &stdout, &stderr); err == nil {
		t.Error("--compat sklearn accepted")
	}
}
