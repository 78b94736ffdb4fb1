package benchmark

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/tinyclip"
)

func fashion(t *testing.T) *data.Fashion {
	t.Helper()
	f, err := data.LoadFashion("")
	if err != nil {
		t.Fatalf("Fashion-MNIST is needed (make setup installs Debian's dataset-fashion-mnist): %v", err)
	}
	return f
}

// TestGenerate checks the settings: kinds in turn, ratios and fractions in their ranges, one or two slices per
// class as the kind says, a third of each class's test images its slices, setting i the same whatever the number of
// settings, and every setting buildable (at small sizes).
func TestGenerate(t *testing.T) {
	f := fashion(t)
	all, err := Generate(11, 8, Sizes{})
	if err != nil {
		t.Fatal(err)
	}
	few, err := Generate(11, 3, Sizes{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(all[:3], few) {
		t.Error("the first settings depend on the number of settings")
	}
	other, _ := Generate(12, 1, Sizes{})
	if reflect.DeepEqual(other[0], all[0]) {
		t.Error("seeds 11 and 12 gave the same first setting")
	}
	for i, s := range all {
		if s.Kind != kinds[i%4] || s.Index != i {
			t.Fatalf("setting %d: kind %s", i, s.Kind)
		}
		sl := s.Slices()
		switch s.Kind {
		case KindSpurious, KindSpuriousTriple:
			if s.Ratio < 3 || s.Ratio > 9 {
				t.Errorf("setting %d: ratio %v outside 3..9", i, s.Ratio)
			}
			want := 1
			if s.Kind == KindSpuriousTriple {
				want = 2
			}
			for c, cl := range sl {
				if len(cl) != want || len(cl[0].Words) != 1 {
					t.Errorf("setting %d class %d: slices %+v, want %d colour slices", i, c, cl, want)
				}
			}
		default:
			for _, r := range []float64{s.Ratio, s.RatioTwo} {
				if r != 0 && (r < 0.02 || r > 0.1) {
					t.Errorf("setting %d: rare fraction %v outside 0.02..0.10", i, r)
				}
			}
			if s.Kind == KindRareTwo && len(sl[0]) != 2 {
				t.Errorf("setting %d: the first superclass has %d rare members, want 2", i, len(sl[0]))
			}
		}
		// Test: a third of each class is its slices.
		for c, cl := range s.Classes {
			n, all := 0, 0
			for _, g := range cl.Groups {
				all += g.Test
				if g.Minority {
					n += g.Test
				}
			}
			if n != 300 || all != 900 {
				t.Errorf("setting %d class %d: %d slice test images of %d, want 300 of 900", i, c, n, all)
			}
		}
	}
	small, err := Generate(11, 8, Sizes{TrainPerClass: 30, TrainPerSubclass: 20, ValPerGroup: 4, TestPerClass: 12})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range small {
		if _, err := data.Planted(f, s.Classes, s.Seed); err != nil {
			t.Fatalf("setting %d (%s): %v", i, s.Name, err)
		}
	}
	if _, err := Generate(1, 0, Sizes{}); err == nil {
		t.Error("0 settings accepted")
	}
	if _, err := Generate(1, 1, Sizes{TestPerClass: 2000}); err == nil {
		t.Error("2000 test images per class accepted")
	}
}

// TestReducedRun runs the benchmark on four small settings (one of each kind) with an untrained CLIP and checks
// the result's shape and invariants, that it is deterministic (a second run, with the embeddings now cached,
// gives the same first two settings byte for byte), and that Write produces the files.
func TestReducedRun(t *testing.T) {
	f := fashion(t)
	b := goBackend(t)
	clipModel, err := tinyclip.NewRandom(b, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(clipModel.Finalize)
	work := t.TempDir()
	opts := Options{Settings: 4, Seed: 5, Sizes: Sizes{TrainPerClass: 60, TrainPerSubclass: 30, ValPerGroup: 10, TestPerClass: 45},
		Epochs: 2, CLIP: clipModel, Fashion: f, Work: work, EmbedBatch: 256, Progress: io.Discard}
	ctx := context.Background()
	res, err := Run(ctx, b, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range res.Timing.Settings {
		t.Logf("setting %d: %.2fs (data %.2f, base %.2f) %v", st.Index, st.Total, st.Data, st.BaseModel, st.Methods)
	}
	t.Logf("embeddings %.2fs, total %.2fs", res.Timing.Embeddings, res.Timing.Total)
	if len(res.Settings) != 4 || len(res.Summary.All.Rows) != len(DefaultMethods) || res.Timing.Computed == 0 {
		t.Fatalf("%d settings, %d summary rows, %d embeddings computed", len(res.Settings), len(res.Summary.All.Rows), res.Timing.Computed)
	}
	for _, sr := range res.Settings {
		for j, m := range sr.Methods {
			if m.Method != DefaultMethods[j] || len(m.PrecisionAtK) != 3 || len(m.HardCaptions) != len(sr.Classes) {
				t.Fatalf("setting %d: method %d result %+v", sr.Setting.Index, j, m)
			}
			for _, v := range append(m.PrecisionAtK, m.CurveArea, m.FlaggedPrecision, m.FlaggedRecall, m.CaptionNames) {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("setting %d %s: metric %v outside [0, 1]", sr.Setting.Index, m.Method, v)
				}
			}
			two := sr.Setting.Kind == KindSpuriousTriple || sr.Setting.Kind == KindRareTwo
			if strings.HasPrefix(m.Method, "kdirs") && two != (len(m.Second) > 0) {
				t.Errorf("setting %d (%s) %s: %d second-slice judgements", sr.Setting.Index, sr.Setting.Kind, m.Method, len(m.Second))
			}
		}
	}
	for _, row := range res.Summary.All.Rows {
		for _, w := range row.Wins.PrecisionAtK {
			if w < 0 || w > 4 {
				t.Errorf("%s: %d wins of 4 settings", row.Method, w)
			}
		}
	}
	if n := res.Summary.Second; len(n) != 2 || n[0].Classes != 3+1 {
		t.Errorf("second-slice summary %+v, want kdirs and kdirs-all over 4 classes (3 of spurious-triple, 1 of rare-two)", n)
	}

	again := opts
	again.Settings = 2
	res2, err := Run(ctx, b, again)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Timing.Computed != 0 {
		t.Errorf("the second run computed %d embeddings, want all from the cache", res2.Timing.Computed)
	}
	a, _ := json.Marshal(res.Settings[:2])
	c, _ := json.Marshal(res2.Settings)
	if !bytes.Equal(a, c) {
		t.Error("the same settings gave different results in a second run")
	}

	out := filepath.Join(t.TempDir(), "out")
	if err := res.Write(out); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(out, ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back.Summary, res.Summary) {
		t.Fatalf("benchmark.json does not read back: %v", err)
	}
	html, err := os.ReadFile(filepath.Join(out, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Planted-slice benchmark", "data:image/png;base64,", "kdirs-all", "Does the second direction", res.Settings[3].Setting.Name} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	for _, name := range []string{TimingFile, "benchmark.png", "benchmark_settings.png"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Methods: []string{"fd", "lime"}}, `unknown method "lime"`},
		{Options{Methods: []string{"fd", "fd"}}, `method "fd" given twice`},
		{Options{Ks: []int{10, 0}}, "K=0"},
		{Options{Settings: -2}, "-2 settings"},
		{Options{Sizes: Sizes{TestPerClass: 1200}}, "1000 per item"},
		{Options{Epochs: -1}, "epochs -1"},
	} {
		err := c.opts.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want it to contain %q", c.opts, err, c.want)
		}
	}
	if err := (Options{}).Validate(); err != nil {
		t.Errorf("zero options: %v", err)
	}
}
