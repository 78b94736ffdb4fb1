package distill

import (
	"encoding/json"
	"io"
	"math"
	"os"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/matrix"
)

// compatGolden is testdata/compat_golden.json (see gen_compat_golden.py there): a three-class problem with the
// reference recipe's per-class results (scikit-learn 1.2.1's SVC, numpy's C grid, strict ">" over increasing C).
type compatGolden struct {
	Train, Val    [][]float32
	Labels, Preds []int
	Classes       []struct {
		BestC     float64   `json:"best_c"`
		CVByC     []float64 `json:"cv_by_c"`
		Intercept float64
		Coef      []float64
		Constant  bool
	}
}

func loadCompatGolden(t *testing.T) (train, val Split, g compatGolden) {
	t.Helper()
	data, err := os.ReadFile("testdata/compat_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	trainX, err := matrix.FromRows(g.Train)
	if err != nil {
		t.Fatal(err)
	}
	valX, err := matrix.FromRows(g.Val)
	if err != nil {
		t.Fatal(err)
	}
	train = Split{Name: "train", Latents: trainX}
	val = Split{Name: "val", Latents: valX, Labels: g.Labels, Preds: g.Preds}
	return train, val, g
}

// TestCompatReference fits the fixture with CompatReference and compares every class with the reference recipe:
// the cross-validated balanced accuracy at every C (exactly: the predictions must be the same), the chosen C
// (ties to the smaller), and the refit. Class 0 has no signal: libsvm predicts one outcome at every small C (CV
// exactly 0.5), larger C do worse, and the tie keeps C = 1e-6, whose refit flags every example. Class 2 ends at a
// small C whose libsvm bias is the middle of its interval (non-constant predictions). Class 1 has a real signal.
func TestCompatReference(t *testing.T) {
	train, val, g := loadCompatGolden(t)
	b, _, err := backend.Go()
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Progress = io.Discard
	opts.Compat = CompatReference
	m, err := Fit(b, train, val, opts)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := m.Decision(val)
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range g.Classes {
		info := m.Fits[c]
		if info.C != want.BestC {
			t.Errorf("class %d: C = %v, reference %v", c, info.C, want.BestC)
		}
		for k, cv := range want.CVByC {
			if math.Abs(info.CVByC[k]-cv) > 1e-12 {
				t.Errorf("class %d: CV at C=%v is %.6f, reference %.6f", c, m.Options.Cs[k], info.CVByC[k], cv)
			}
		}
		// The refit: libsvm's solution where the bias is free (classes 0 and 2), the certified solver's elsewhere.
		tol := 1e-5 * math.Max(math.Abs(want.Intercept), 1e-4)
		if c == 1 {
			tol = 0.05
		}
		if d := math.Abs(float64(info.B) - want.Intercept); d > tol {
			t.Errorf("class %d: b = %.8g, reference %.8g (tolerance %.2g)", c, info.B, want.Intercept, tol)
		}
		var dot, nw, nr float64
		for k, v := range want.Coef {
			dot += float64(info.W[k]) * v
			nw += float64(info.W[k]) * float64(info.W[k])
			nr += v * v
		}
		if cos := dot / math.Sqrt(nw*nr); cos < 0.999 {
			t.Errorf("class %d: cosine(w, reference w) = %.5f", c, cos)
		}
		pos, n := 0, 0
		for i, l := range val.Labels {
			if l == c {
				n++
				if dec[i] > 0 {
					pos++
				}
			}
		}
		if constant := pos == 0 || pos == n; constant != want.Constant {
			t.Errorf("class %d: constant predictions %v (%d of %d predicted correct), reference %v", c, constant, pos, n, want.Constant)
		}
	}
	if m.Fits[0].CVByC[0] != 0.5 || m.Fits[0].C != m.Options.Cs[0] {
		t.Errorf("class 0: CV %v at the smallest C, chosen C %v; want exactly 0.5 and the smallest C", m.Fits[0].CVByC[0], m.Fits[0].C)
	}

	// The default mode returns any optimal bias at small C: class 0's small-C fits are not constant, so their CV
	// is not pinned at 0.5.
	opts.Compat = CompatDefault
	def, err := Fit(b, train, val, opts)
	if err != nil {
		t.Fatal(err)
	}
	if cv := def.Fits[0].CVByC[0]; cv == 0.5 {
		t.Errorf("default mode: class 0's CV at the smallest C is exactly 0.5 (constant predictions)")
	}
	if def.Options.Cs[1] != 1e-5 || m.Options.Cs[1] != 9.999999999999999e-06 {
		t.Errorf("grids: default %v, reference %v", def.Options.Cs, m.Options.Cs)
	}
}

func TestParseCompat(t *testing.T) {
	for in, want := range map[string]Compat{"": CompatDefault, "default": CompatDefault, "reference": CompatReference} {
		if got, err := ParseCompat(in); err != nil || got != want {
			t.Errorf("ParseCompat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseCompat("sklearn"); err == nil {
		t.Error("ParseCompat(sklearn): no error")
	}
	if _, err := (Options{Compat: "x"}).withDefaults(); err == nil {
		t.Error("Options{Compat: x}: no error")
	}
}
