package svm

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// libsvmGolden is testdata/libsvm_golden.json (see gen_libsvm_golden.py there): degenerate problems with the
// solution scikit-learn 1.2.1's SVC returns.
type libsvmGolden struct {
	Problems []struct {
		N          int `json:"n"`
		NNeg       int `json:"n_neg"`
		C          float64
		Degenerate bool
		Constant   bool
		Intercept  float64
		Coef       []float64
		Y          []int8
		X          [][]float32
	}
}

func loadLibsvmGolden(t *testing.T) libsvmGolden {
	t.Helper()
	data, err := os.ReadFile("testdata/libsvm_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g libsvmGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Problems) == 0 {
		t.Fatal("no problems in testdata/libsvm_golden.json")
	}
	return g
}

// packRows puts one problem per group: rows xs[g] with labels ys[g] (all members) and cost cs[g].
func packRows(xs [][][]float32, ys [][]int8, cs []float64) *Problems {
	G, D, N := len(xs), len(xs[0][0]), 0
	for _, x := range xs {
		N = max(N, len(x))
	}
	pr := &Problems{G: G, N: N, D: D, P: 1, X: make([]float32, G*N*D), Y: make([]int8, G*N),
		Member: make([]bool, G*N), C: cs}
	for g, x := range xs {
		for i, row := range x {
			copy(pr.X[(g*N+i)*D:], row)
			pr.Y[g*N+i] = ys[g][i]
			pr.Member[g*N+i] = true
		}
	}
	return pr
}

// TestLibsvmReplayMatchesScikitLearn: in the degenerate regime BiasLibsvm returns scikit-learn's (w, b), including
// the problems where libsvm's rounding leaves one multiplier strictly inside its box and every prediction is the
// same outcome (|b| ≈ 1).
func TestLibsvmReplayMatchesScikitLearn(t *testing.T) {
	g := loadLibsvmGolden(t)
	var xs [][][]float32
	var ys [][]int8
	var cs []float64
	constant := 0
	for _, p := range g.Problems {
		if !p.Degenerate {
			t.Fatalf("fixture problem n=%d C=%g is not degenerate", p.N, p.C)
		}
		xs, ys, cs = append(xs, p.X), append(ys, p.Y), append(cs, p.C)
		if p.Constant {
			constant++
		}
	}
	if constant == 0 || constant == len(g.Problems) {
		t.Fatalf("fixture has %d constant-prediction problems of %d; want both kinds", constant, len(g.Problems))
	}
	pr := packRows(xs, ys, cs)
	res, err := Solve(goBackend(t), pr, Options{Bias: BiasLibsvm})
	if err != nil {
		t.Fatal(err)
	}
	D := pr.D
	for gi, p := range g.Problems {
		if res.Status[gi] != Converged || res.Iterations[gi] == 0 {
			t.Errorf("problem %d: status %s after %d iterations, want a converged replay", gi, res.Status[gi], res.Iterations[gi])
		}
		b := float64(res.B[gi])
		if math.Abs(b-p.Intercept) > 1e-6*math.Max(math.Abs(p.Intercept), 1e-6) {
			t.Errorf("problem %d (n=%d, %d negative, C=%g): b = %.9g, scikit-learn %.9g", gi, p.N, p.NNeg, p.C, b, p.Intercept)
		}
		var diff, norm float64
		for d := range D {
			diff += math.Pow(float64(res.W[gi*D+d])-p.Coef[d], 2)
			norm += p.Coef[d] * p.Coef[d]
		}
		if math.Sqrt(diff) > 1e-6*math.Sqrt(norm) {
			t.Errorf("problem %d: ‖w − w_sklearn‖ = %.3g, ‖w_sklearn‖ = %.3g", gi, math.Sqrt(diff), math.Sqrt(norm))
		}
		pos := 0
		for i := range p.N {
			if res.Decision[gi*pr.N+i] > 0 {
				pos++
			}
		}
		if got := pos == 0 || pos == p.N; got != p.Constant {
			t.Errorf("problem %d: constant predictions %v (%d of %d positive), scikit-learn %v", gi, got, pos, p.N, p.Constant)
		}
		// libsvm stops at a KKT violation of 1e-3, and a bias set by a residue multiplier lies just outside the
		// optimal interval: the replayed solution is near-optimal, not exact.
		if gap := res.Gap[gi]; !(gap >= -1e-9 && gap <= 1e-3) {
			t.Errorf("problem %d: relative duality gap %.3g of the replayed solution", gi, gap)
		}
	}
}

// TestLibsvmMidpointHandSolved: one-dimensional rows 1, 2 (label +1) and −2 (label −1), C = 2⁻²⁰: balanced bounds
// 0.75·C and 1.5·C are exact binary fractions, so libsvm moves every multiplier exactly to its bound, no multiplier
// is free, and ρ is the middle of the allowed interval: w = (0.75·1 + 0.75·2 + 1.5·2)·C = 5.25·C and
// b = −(max_{+1} w·x + min_{−1} w·x)/2 = −(10.5·C − 10.5·C)/2 = 0. The count-based rule for large groups gives the
// same.
func TestLibsvmMidpointHandSolved(t *testing.T) {
	c := math.Ldexp(1, -20)
	x := [][]float32{{1}, {2}, {-2}}
	y := []int8{1, 1, -1}
	res, err := Solve(goBackend(t), packRows([][][]float32{x}, [][]int8{y}, []float64{c}), Options{Bias: BiasLibsvm})
	if err != nil {
		t.Fatal(err)
	}
	if w := float64(res.W[0]); w != 5.25*c || res.B[0] != 0 {
		t.Errorf("replay: w = %g (want %g), b = %g (want 0)", w, 5.25*c, res.B[0])
	}
	for i, want := range []float64{5.25 * c, 10.5 * c, -10.5 * c} {
		if got := float64(res.Decision[i]); got != want {
			t.Errorf("decision of row %d = %g, want %g", i, got, want)
		}
	}
	yf := []float64{1, 1, -1}
	u, balanced := libsvmBounds(yf, c, Balanced)
	if !balanced || u[0] != 0.75*c || u[2] != 1.5*c {
		t.Fatalf("bounds %v (balanced %v), want 0.75·C, 0.75·C, 1.5·C", u, balanced)
	}
	rows := func(i int) []float32 { return x[i] }
	alpha, b := transferRule([]int{0, 1, 2}, yf, u, rows, 1)
	for k := range alpha {
		if alpha[k] != u[k] {
			t.Errorf("transfer rule: α[%d] = %g, want the bound %g", k, alpha[k], u[k])
		}
	}
	if b != 0 {
		t.Errorf("transfer rule: b = %g, want 0", b)
	}
}

// TestTransferRule checks the count-based rule on the fixture: every multiplier at its bound up to rounding
// residue, constant predictions exactly when a residue is left free, and the same outcome class (constant
// "correct", constant "error", or midpoint) as scikit-learn on most problems (it agreed on about 95% of the
// degenerate problems of the shared ImageNet-like benchmark).
func TestTransferRule(t *testing.T) {
	g := loadLibsvmGolden(t)
	agree := 0
	for gi, p := range g.Problems {
		y := make([]float64, p.N)
		members := make([]int, p.N)
		for i, v := range p.Y {
			y[i], members[i] = float64(v), i
		}
		u, _ := libsvmBounds(y, p.C, Balanced)
		rows := func(i int) []float32 { return p.X[i] }
		alpha, b := transferRule(members, y, u, rows, len(p.X[0]))
		for k := range alpha {
			if math.Abs(alpha[k]-u[k]) > 1e-12*u[k] {
				t.Errorf("problem %d: α[%d] = %g, bound %g", gi, k, alpha[k], u[k])
			}
		}
		outcome := func(b float64) int { // 0 midpoint, ±1 constant
			if math.Abs(b) < 0.5 {
				return 0
			}
			return int(math.Copysign(1, b))
		}
		if outcome(b) == outcome(p.Intercept) {
			agree++
		}
	}
	if agree < len(g.Problems)*3/4 {
		t.Errorf("count-based rule agrees with scikit-learn on %d of %d problems, want at least 3/4", agree, len(g.Problems))
	}
	t.Logf("count-based rule agrees with scikit-learn on %d of %d fixture problems", agree, len(g.Problems))
}

// TestBiasLibsvmLeavesOtherProblems: problems outside the degenerate regime are solved as with BiasAny.
func TestBiasLibsvmLeavesOtherProblems(t *testing.T) {
	x := [][]float32{{1, 0}, {2, 0.5}, {-1, 0.2}, {-2, -0.3}, {0.5, 1}, {-0.4, -1}}
	y := []int8{1, 1, -1, -1, 1, -1}
	pr := packRows([][][]float32{x}, [][]int8{y}, []float64{10})
	a, err := Solve(goBackend(t), pr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Solve(goBackend(t), pr, Options{Bias: BiasLibsvm})
	if err != nil {
		t.Fatal(err)
	}
	if a.B[0] != b.B[0] || a.W[0] != b.W[0] || a.Iterations[0] != b.Iterations[0] {
		t.Errorf("separable problem at C=10: BiasLibsvm changed the solution: b %g vs %g, iterations %d vs %d",
			b.B[0], a.B[0], b.Iterations[0], a.Iterations[0])
	}
}
