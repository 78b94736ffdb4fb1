package distill

import (
	"bytes"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/numpy"
)

// synthetic returns train/val/test splits of a planted failure mode, like the bench-svm generator in small:
// per class a subgroup (Groups = 1, fraction pMin) displaced by delta noise-sds along a random unit direction
// dirs[c]; the base model errs on 70 % of the subgroup, plus 5 % random flips of correctness.
func synthetic(seed uint64, classes, perClass, d int, pMin, delta float64) (train, val, test Split, dirs [][]float64) {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	const noise = 0.35
	mu0 := make([]float64, d)
	for k := range mu0 {
		mu0[k] = rng.NormFloat64()
	}
	means := make([][]float64, classes)
	dirs = make([][]float64, classes)
	for c := range classes {
		means[c] = make([]float64, d)
		dirs[c] = make([]float64, d)
		var n float64
		for k := range d {
			means[c][k] = 0.2 * rng.NormFloat64()
			dirs[c][k] = rng.NormFloat64()
			n += dirs[c][k] * dirs[c][k]
		}
		for k := range d {
			dirs[c][k] /= math.Sqrt(n)
		}
	}
	sample := func(name string, per int) Split {
		s := Split{Name: name, Latents: matrix.Dense{Cols: d}}
		for c := range classes {
			for range per {
				z := 0
				if rng.Float64() < pMin {
					z = 1
				}
				for k := range d {
					v := mu0[k] + means[c][k] + noise*rng.NormFloat64() + float64(z)*delta*noise*dirs[c][k]
					s.Latents.Data = append(s.Latents.Data, float32(v))
				}
				s.Latents.Rows++
				correct := !(z == 1 && rng.Float64() < 0.7)
				if rng.Float64() < 0.05 {
					correct = !correct
				}
				pred := c
				if !correct {
					pred = (c + 1) % classes
				}
				w := 0.0
				if !correct {
					w = 1
				}
				conf := 1 / (1 + math.Exp(-(2.5 - 3*w - 0.5*float64(z) + 2*rng.NormFloat64())))
				s.Labels = append(s.Labels, c)
				s.Preds = append(s.Preds, pred)
				s.Confs = append(s.Confs, float32(conf))
				s.Groups = append(s.Groups, z)
			}
		}
		return s
	}
	return sample("train", perClass), sample("val", perClass), sample("test", perClass), dirs
}

// goBackend returns the pure Go backend (deterministic tests), released when the test ends.
func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, _, err := backend.Go()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	return b
}

// testOptions is the paper's recipe without a progress bar.
func testOptions() Options {
	o := DefaultOptions()
	o.Progress = io.Discard
	return o
}

// dense wraps row-major values as a matrix with cols columns.
func dense(t testing.TB, cols int, values ...float32) matrix.Dense {
	t.Helper()
	m, err := matrix.New(len(values)/cols, cols, values)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestStratifiedFoldsMatchScikitLearn(t *testing.T) {
	// Golden values from scikit-learn 1.2.1: StratifiedKFold(n_splits=k).split(X, y) test folds.
	cases := []struct {
		k       int
		y, want []int
	}{
		{2, []int{1, 1, 0, 1, 0, 0, 1, 1, 1, 0}, []int{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}},
		{3, []int{1, 1, 0, 1, 0, 0, 1, 1, 1, 0}, []int{0, 0, 0, 1, 0, 1, 1, 2, 2, 2}},
		{2, []int{0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0}, []int{0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}},
		{3, []int{0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0}, []int{0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}},
		{2, []int{2, 0, 1, 2, 0, 1, 1, 2, 0, 0, 1, 2, 2}, []int{0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1}},
		{3, []int{2, 0, 1, 2, 0, 1, 1, 2, 0, 0, 1, 2, 2}, []int{0, 0, 0, 0, 1, 0, 1, 1, 2, 2, 2, 1, 2}},
		{2, []int{1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0}, []int{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1}},
		{3, []int{1, 0, 1, 0, 1, 1, 1, 1, 1, 0, 0}, []int{0, 0, 0, 1, 0, 1, 1, 2, 2, 1, 2}},
	}
	for _, c := range cases {
		got, err := StratifiedFolds(c.y, c.k)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("k=%d y=%v: folds %v (err %v), want %v", c.k, c.y, got, err, c.want)
		}
	}
	if _, err := StratifiedFolds([]int{0, 1, 1, 1}, 2); err == nil || !strings.Contains(err.Error(), "label 0 occurs 1 times") {
		t.Errorf("too few examples of a label: error %v", err)
	}
}

func TestWhitening(t *testing.T) {
	// Feature 0: values 1, 2, 3 → mean 2, unbiased std 1. Feature 1 constant. Feature 2: 0, 0, 6 → mean 2, std √12.
	s := Split{Name: "train", Latents: dense(t, 3, 1, 5, 0, 2, 5, 0, 3, 5, 6)}
	w, err := FitWhitening(s)
	if err != nil {
		t.Fatal(err)
	}
	wantMean := []float32{2, 5, 2}
	wantStd := []float32{1, 0, float32(math.Sqrt(12))}
	for k := range 3 {
		if math.Abs(float64(w.Mean[k]-wantMean[k])) > 1e-6 || math.Abs(float64(w.Std[k]-wantStd[k])) > 1e-6 {
			t.Errorf("feature %d: mean %v std %v, want %v %v", k, w.Mean[k], w.Std[k], wantMean[k], wantStd[k])
		}
	}
	out, err := w.Apply(dense(t, 3, 3, 100, 2+float32(math.Sqrt(12)), 2, 7, 2))
	if err != nil {
		t.Fatal(err)
	}
	// Row 0 whitens to (1, 0, 1) → (1/√2, 0, 1/√2); row 1 to (0, 0, 0): stays zero, no NaN.
	want := []float32{float32(1 / math.Sqrt2), 0, float32(1 / math.Sqrt2), 0, 0, 0}
	for i := range want {
		if math.Abs(float64(out.Data[i]-want[i])) > 1e-6 {
			t.Fatalf("whitened rows %v, want %v", out.Data, want)
		}
	}
	if _, err := FitWhitening(Split{Name: "one", Latents: dense(t, 2, 1, 2)}); err == nil {
		t.Errorf("a single row was accepted")
	}
	if _, err := w.Apply(dense(t, 2, 1, 2)); err == nil || !strings.Contains(err.Error(), "dimension 2") {
		t.Errorf("rows of the wrong dimension: error %v", err)
	}
}

func TestSplitValidate(t *testing.T) {
	good := func() Split {
		return Split{Name: "s", Latents: dense(t, 2, 1, 2, 3, 4), Labels: []int{0, 1}, Preds: []int{0, 0},
			Confs: []float32{0.5, 1}, Groups: []int{0, 1}, IDs: []string{"a", "b"}}
	}
	cases := []struct {
		name   string
		modify func(*Split)
		want   string
	}{
		{"D", func(s *Split) { s.Latents.Cols = 0 }, "must be positive"},
		{"ragged", func(s *Split) { s.Latents.Data = s.Latents.Data[:3] }, "3 values for a 2×2 matrix"},
		{"NaN", func(s *Split) { s.Latents.Data[3] = float32(math.NaN()) }, "row 1, column 1 is NaN"},
		{"labels length", func(s *Split) { s.Labels = []int{0} }, "len(Labels)=1"},
		{"negative label", func(s *Split) { s.Labels[1] = -1 }, "label of example 1 is -1"},
		{"negative pred", func(s *Split) { s.Preds[0] = -3 }, "prediction of example 0 is -3"},
		{"confidence", func(s *Split) { s.Confs[1] = 1.5 }, "confidence of example 1 is 1.5"},
		{"groups length", func(s *Split) { s.Groups = []int{1, 2, 3} }, "len(Groups)=3"},
	}
	for _, c := range cases {
		s := good()
		c.modify(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if err := good().Validate(); err != nil {
		t.Errorf("valid split: %v", err)
	}
}

func TestChooseC(t *testing.T) {
	cs := []float64{1e-6, 1e-3, 1}
	cases := []struct {
		scores            []float64
		want, wantSmaller int // default rule; reference rule (ties to the smaller C)
	}{
		{[]float64{0.5, 0.5, 0.5}, 2, 0}, // all tie
		{[]float64{0.7, 0.6, 0.5}, 0, 0}, // a strict maximum wins
		{[]float64{0.5, 0.66, 0.66 + 1e-12}, 2, 1},
		{[]float64{0.5, 0.66 + 1e-6, 0.66}, 1, 1},
		{[]float64{0.5, 0.4, 0.5}, 2, 0},
	}
	for _, c := range cases {
		if got := chooseC(cs, c.scores, false); got != c.want {
			t.Errorf("chooseC(%v) = %d, want %d", c.scores, got, c.want)
		}
		if got := chooseC(cs, c.scores, true); got != c.wantSmaller {
			t.Errorf("chooseC(%v, smaller on ties) = %d, want %d", c.scores, got, c.wantSmaller)
		}
	}
	// An unsorted grid: the reference rule keeps the smallest cost among the tied, wherever it stands.
	if got := chooseC([]float64{1, 1e-3, 1e-6}, []float64{0.5, 0.5, 0.5}, true); got != 2 {
		t.Errorf("unsorted grid, smaller on ties: %d, want 2", got)
	}
}

func TestMetricsGolden(t *testing.T) {
	// AUROC with ties: scikit-learn roc_auc_score([1,1,0,1,0,0,1,0], [.5,.2,.2,.9,-.1,.2,.5,.5]) = 0.8125.
	truth := []bool{true, true, false, true, false, false, true, false}
	scores := []float32{0.5, 0.2, 0.2, 0.9, -0.1, 0.2, 0.5, 0.5}
	if auc, ok := AUROC(truth, scores); !ok || math.Abs(auc-0.8125) > 1e-12 {
		t.Errorf("AUROC = %v (ok %v), want 0.8125", auc, ok)
	}
	if _, ok := AUROC([]bool{true, true}, []float32{1, 2}); ok {
		t.Errorf("AUROC with one outcome reported as defined")
	}
	// Error prediction: class 0 has 4 examples (errors at 1 and 3), class 1 has 2 (no error).
	dec := []float32{0.5, -1, 0.2, 0, 0.3, -0.2}
	labels := []int{0, 0, 0, 0, 1, 1}
	preds := []int{0, 1, 0, 1, 1, 1}
	rep, err := ErrorPrediction(dec, labels, preds, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Flagged (≤ 0): examples 1, 3, 5. Errors: 1, 3. TP=2 FP=1 FN=0 TN=3. AUROC: 7 of the 8 (correct, error)
	// pairs are ordered (example 5 at −0.2 is below example 3 at 0).
	g := rep.Global
	if g.N != 6 || g.Errors != 2 || g.Flagged != 3 || math.Abs(g.Accuracy-5.0/6) > 1e-12 ||
		math.Abs(g.Precision-2.0/3) > 1e-12 || g.Recall != 1 || math.Abs(g.BalancedAccuracy-(1+0.75)/2) > 1e-12 ||
		g.AUROC != 0.875 {
		t.Errorf("global metrics %+v", g)
	}
	c1 := rep.PerClass[1]
	if c1.Class != 1 || !slices.Equal(c1.Undefined, []string{"recall", "auroc"}) || c1.BalancedAccuracy != 0.5 {
		t.Errorf("class 1 metrics %+v, want recall and AUROC undefined, balanced accuracy 0.5", c1)
	}
	// Mean per class: balanced accuracy (1 + 0.5)/2, AUROC from class 0 only.
	if math.Abs(rep.MeanPerClass.BalancedAccuracy-0.75) > 1e-12 || rep.MeanPerClass.AUROC != 1 {
		t.Errorf("mean per class %+v", rep.MeanPerClass)
	}
	for _, m := range append([]ErrorMetrics{rep.Global, rep.MeanPerClass}, c1.ErrorMetrics) {
		for _, v := range []float64{m.Accuracy, m.BalancedAccuracy, m.Precision, m.Recall, m.AUROC} {
			if math.IsNaN(v) {
				t.Fatalf("NaN metric in %+v", m)
			}
		}
	}
}

func TestSurfacingGolden(t *testing.T) {
	// Class 0: decisions order 2,0,3,1; confidences order 1,3,0,2; minority = examples 2 and 3.
	dec := []float32{-1, 5, -3, 0, 1, -1}
	conf := []float32{0.5, 0.1, 0.9, 0.2, 0.3, 0.8}
	labels := []int{0, 0, 0, 0, 1, 1}
	groups := []int{0, 0, 1, 1, 1, 0}
	got, err := Surfacing(SurfacingInput{Decisions: dec, Confs: conf, Labels: labels, Groups: groups, Minority: 1},
		[]int{1, 2, 10})
	if err != nil {
		t.Fatal(err)
	}
	// K=1: class 0 SVM picks 2 (minority) → 1, class 1 picks 5 → 0: mean 0.5. Confidence: class 0 picks 1 → 0,
	// class 1 picks 4 → 1: 0.5. K=2: SVM {2,0} → .5, {5,4} → .5: .5; confidence {1,3} → .5, {4,5} → .5: .5.
	// K=10 (capped): shares 0.5 and 0.5. Random: 0.5 in both classes.
	want := []SurfacingPoint{{K: 1, SVM: 0.5, Confidence: 0.5, Random: 0.5}, {K: 2, SVM: 0.5, Confidence: 0.5, Random: 0.5},
		{K: 10, SVM: 0.5, Confidence: 0.5, Random: 0.5}}
	if !reflect.DeepEqual(got.Points, want) || !slices.Equal(got.Classes, []int{0, 1}) {
		t.Errorf("surfacing %+v, want %+v", got, want)
	}
	only0, err := Surfacing(SurfacingInput{Decisions: dec, Confs: conf, Labels: labels, Groups: groups, Minority: 1,
		Classes: []int{0}, Correct: []bool{true, false, false, true, true, true}}, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	if p := only0.Points[0]; p.SVM != 0.5 || p.Confidence != 0.5 || p.SVMErrors != 0.5 || p.ConfidenceErrors != 0.5 {
		t.Errorf("class 0 at K=2: %+v", p)
	}
	if _, err := Surfacing(SurfacingInput{Decisions: dec, Confs: conf, Labels: labels, Groups: groups, Minority: 1},
		[]int{0}); err == nil {
		t.Errorf("K=0 accepted")
	}
}

func TestFitRecoversPlantedFailure(t *testing.T) {
	const d = 16
	train, val, test, dirs := synthetic(42, 3, 600, d, 0.2, 4)
	// Edge classes: 3 = no errors, 4 = only errors, 5 = one error (fewer than the folds), 6 = no data.
	addClass := func(s *Split, c, n, errs int) {
		for i := range n {
			for k := range d {
				s.Latents.Data = append(s.Latents.Data, s.Latents.Data[k]+float32(i%7)*0.01)
			}
			s.Latents.Rows++
			s.Labels = append(s.Labels, c)
			pred := c
			if i < errs {
				pred = 0
			}
			s.Preds = append(s.Preds, pred)
			s.Confs = append(s.Confs, 0.5)
			s.Groups = append(s.Groups, 0)
		}
	}
	for _, s := range []*Split{&val, &test} {
		addClass(s, 3, 20, 0)
		addClass(s, 4, 10, 10)
		addClass(s, 5, 30, 1)
	}
	opts := testOptions()
	opts.NumClasses = 7
	m, err := Fit(goBackend(t), train, val, opts)
	if err != nil {
		t.Fatal(err)
	}
	stats := m.Stats
	wantStatus := []Status{StatusFitted, StatusFitted, StatusFitted, StatusNoErrors, StatusOnlyErrors, StatusTooFewForCV, StatusNoData}
	for c, info := range m.Classes() {
		if info.Status != wantStatus[c] {
			t.Errorf("class %d: status %s, want %s", c, info.Status, wantStatus[c])
		}
		for _, v := range append([]float64{info.C, info.CVBalancedAcc, info.Gap}, info.CVByC...) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("class %d: non-finite value in %+v", c, info)
			}
		}
	}
	if !slices.Equal(m.Skipped(), []int{3, 4, 5, 6}) || stats.NotConverged != 0 {
		t.Errorf("skipped %v, not converged %d", m.Skipped(), stats.NotConverged)
	}
	for c := range 3 {
		// The failure mode lies along +dirs[c] (in whitened coordinates, dirs ⊘ std), the SVM direction points
		// towards "correct": expect a strongly negative cosine.
		dir, ok := m.Direction(c)
		if !ok {
			t.Fatalf("class %d: no direction", c)
		}
		var dot, n float64
		for k := range d {
			v := dirs[c][k] / float64(m.Whitening.Std[k])
			dot += v * float64(dir[k])
			n += v * v
		}
		if cos := dot / math.Sqrt(n); cos > -0.8 {
			t.Errorf("class %d: cosine(direction, planted failure direction) = %.3f, want ≤ −0.8", c, cos)
		}
		if info := m.Fits[c]; info.CVBalancedAcc < 0.6 || !info.Converged {
			t.Errorf("class %d: CV balanced accuracy %.3f, converged %v", c, info.CVBalancedAcc, info.Converged)
		}
	}
	if _, ok := m.Direction(3); ok {
		t.Errorf("class without failure signal has a direction")
	}
	ev, err := m.Evaluate(test, 1, []int{20, 50})
	if err != nil {
		t.Fatal(err)
	}
	if ev.MeanPerClass.AUROC < 0.7 || ev.Global.BalancedAccuracy < 0.6 {
		t.Errorf("test AUROC %.3f, balanced accuracy %.3f", ev.MeanPerClass.AUROC, ev.Global.BalancedAccuracy)
	}
	for _, p := range ev.Surfacing.Points {
		if p.SVM < p.Random+0.3 || p.SVM < p.Confidence {
			t.Errorf("K=%d: subgroup share %.2f by SVM, %.2f by confidence, %.2f at random", p.K, p.SVM, p.Confidence, p.Random)
		}
	}
	// Skipped classes: decision 0; DecisionFor refuses them; it agrees with Decision on fitted classes.
	dec := ev.Decisions
	var idx []int
	var want []float32
	for i, l := range test.Labels {
		if l >= 3 && dec[i] != 0 {
			t.Fatalf("example %d of skipped class %d has decision %v", i, l, dec[i])
		}
		if l == 1 {
			idx = append(idx, i)
			want = append(want, dec[i])
		}
	}
	rows := test.Latents.Select(idx)
	got, err := m.DecisionFor(1, rows)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("DecisionFor disagrees with Decision (err %v)", err)
	}
	if _, err := m.DecisionFor(4, rows); err == nil || !strings.Contains(err.Error(), "only-errors") {
		t.Errorf("DecisionFor on a skipped class: %v", err)
	}
	if _, err := m.DecisionFor(1, dense(t, 2, 1, 2)); err == nil || !strings.Contains(err.Error(), "dimension 2") {
		t.Errorf("DecisionFor on vectors of the wrong dimension: %v", err)
	}
	// Extremes: hard ascending, easy descending, all of the class.
	hard, easy, err := m.Extremes(test, 2, 5)
	if err != nil || len(hard) != 5 || len(easy) != 5 {
		t.Fatalf("Extremes: %v %v %v", hard, easy, err)
	}
	for j := range 5 {
		if test.Labels[hard[j]] != 2 || test.Labels[easy[j]] != 2 || (j > 0 && (dec[hard[j]] < dec[hard[j-1]] || dec[easy[j]] > dec[easy[j-1]])) {
			t.Fatalf("Extremes out of order: hard %v easy %v", hard, easy)
		}
	}
	for i, l := range test.Labels {
		if l == 2 && (dec[i] < dec[hard[0]] || dec[i] > dec[easy[0]]) {
			t.Fatalf("example %d lies outside the extremes", i)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	train, val, test, _ := synthetic(7, 2, 300, 8, 0.2, 4)
	m, err := Fit(goBackend(t), train, val, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.json")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Fits, m2.Fits) || !reflect.DeepEqual(m.Whitening, m2.Whitening) || m.Options.Tol != m2.Options.Tol ||
		!slices.Equal(m.Options.Cs, m2.Options.Cs) {
		t.Fatalf("round trip changed the model")
	}
	d1, _ := m.Decision(test)
	d2, _ := m2.Decision(test)
	if !slices.Equal(d1, d2) {
		t.Fatalf("round trip changed the decision values")
	}
	var buf bytes.Buffer
	if err := m.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if m3, err := Read(bytes.NewReader(buf.Bytes())); err != nil || !reflect.DeepEqual(m3.Fits, m.Fits) {
		t.Fatalf("Read of Write's output: %v", err)
	}
	good := buf.String()
	bad := []struct{ from, to, want string }{
		{`"version":1`, `"version":2`, "version 2 not supported"},
		{`"format":"faildirs.distill.model"`, `"format":"other"`, `format "other"`},
		{`"status":"fitted"`, `"status":"weird"`, `unknown status "weird"`},
		{`"dim":8`, `"dim":9`, "do not match dim 9"},
	}
	for _, c := range bad {
		if !strings.Contains(good, c.from) {
			t.Fatalf("saved model lacks %s", c.from)
		}
		_, err := Read(strings.NewReader(strings.Replace(good, c.from, c.to, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s → %s: error %v, want %q", c.from, c.to, err, c.want)
		}
	}
}

func TestLoadNPYSplit(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, tt *tensors.Tensor) {
		if err := numpy.ToNpyFile(tt, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	write("val_features.npy", tensors.FromFlatDataAndDimensions([]float32{1, 2, 3, 4, 5, 6}, 3, 2))
	write("val_labels.npy", tensors.FromFlatDataAndDimensions([]int64{0, 1, 1}, 3))
	write("val_preds.npy", tensors.FromFlatDataAndDimensions([]int64{0, 0, 1}, 3))
	write("val_confidence.npy", tensors.FromFlatDataAndDimensions([]float32{0.9, 0.2, 0.7}, 3))
	write("val_subgroup.npy", tensors.FromFlatDataAndDimensions([]int8{0, 1, 0}, 3))
	write("val_correct.npy", tensors.FromFlatDataAndDimensions([]bool{true, false, true}, 3))
	s, warnings, err := LoadNPYSplit(dir, "val")
	if err != nil {
		t.Fatal(err)
	}
	if s.Dim() != 2 || s.Len() != 3 || !slices.Equal(s.Labels, []int{0, 1, 1}) || !slices.Equal(s.Preds, []int{0, 0, 1}) ||
		!slices.Equal(s.Groups, []int{0, 1, 0}) || !slices.Equal(s.Confs, []float32{0.9, 0.2, 0.7}) || len(warnings) != 0 {
		t.Errorf("loaded %+v, warnings %v", s, warnings)
	}
	// A correct column that disagrees with preds == labels (issue 11: it was never read) is a warning naming the
	// first example that differs.
	write("val_correct.npy", tensors.FromFlatDataAndDimensions([]bool{true, true, true}, 3))
	_, warnings, err = LoadNPYSplit(dir, "val")
	if err != nil || len(warnings) != 1 || warnings[0].Code != WarnInconsistentCorrect ||
		!strings.Contains(warnings[0].Message, "on 1 of 3 examples of val (first: example 1 has correct=1, label 1, pred 0)") {
		t.Errorf("inconsistent correct column: %v %v", warnings, err)
	}
	write("bad_features.npy", tensors.FromFlatDataAndDimensions([]float32{1, 2}, 2, 1))
	write("bad_labels.npy", tensors.FromFlatDataAndDimensions([]int64{0, 1, 2}, 3))
	if _, _, err := LoadNPYSplit(dir, "bad"); err == nil || !strings.Contains(err.Error(), "want [2]") {
		t.Errorf("mismatched lengths: %v", err)
	}
	out := filepath.Join(dir, "dec.npy")
	if err := SaveNPYFloat32(out, []float32{1.5, -2}); err != nil {
		t.Fatal(err)
	}
	back, err := numpy.FromNpyFile(out) // GoMLX's reader: the file is standard .npy
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := tensors.CopyFlatData[float32](back); !slices.Equal(v, []float32{1.5, -2}) {
		t.Errorf("decisions read back as %v", v)
	}
}

// TestZeroOptionsAreTheRecipe: the zero Options fit exactly what DefaultOptions fits.
func TestZeroOptionsAreTheRecipe(t *testing.T) {
	train, val, _, _ := synthetic(11, 2, 200, 6, 0.2, 4)
	b := goBackend(t)
	m1, err := Fit(b, train, val, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Fit(b, train, val, Options{Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m1.Fits, m2.Fits) || !slices.Equal(m1.Options.Cs, m2.Options.Cs) || m1.Options.Folds != m2.Options.Folds {
		t.Fatalf("zero Options fit differs from DefaultOptions:\n%+v\n%+v", m1.Options, m2.Options)
	}
}
