package svm

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/gomlx/compute"
)

func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, _, err := backend.Go()
	if err != nil {
		t.Fatalf("Go backend: %v", err)
	}
	return b
}

// pack puts one reference problem per group (padded to the largest), one problem per group, cost cs[g].
func pack(probs []*refProblem, cs []float64) *Problems {
	G, D := len(probs), len(probs[0].x[0])
	N := 0
	for _, p := range probs {
		N = max(N, len(p.y))
	}
	pr := &Problems{G: G, N: N, D: D, P: 1, X: make([]float32, G*N*D), Y: make([]int8, G*N),
		Member: make([]bool, G*N), C: cs}
	for g, p := range probs {
		for i, x := range p.x {
			for d, v := range x {
				pr.X[(g*N+i)*D+d] = float32(v)
			}
			pr.Y[g*N+i] = int8(p.y[i])
			pr.Member[g*N+i] = true
		}
	}
	return pr
}

// checkAgainst verifies a solution against an (exact or tightly solved) reference: the primal value of the
// returned (w, b), evaluated in float64, must exceed the optimum by no more than the reported relative gap, which
// must be at most tol; by strong convexity ½‖w − w*‖² ≤ P(w, b) − P*; and the reported primal and dual values
// must bracket the optimum.
func checkAgainst(t *testing.T, name string, res *Result, gp int, p *refProblem, ref refSolution, tol float64) {
	t.Helper()
	D := res.D
	w := make([]float64, D)
	for d := range D {
		w[d] = float64(res.W[gp*D+d])
	}
	b := float64(res.B[gp])
	got := p.primal(w, b)
	scale := math.Max(ref.primal, 1e-12)
	if res.Status[gp] != Converged {
		t.Errorf("%s: status %s, gap %.3g", name, res.Status[gp], res.Gap[gp])
	}
	t.Logf("%s: P(w,b)=%.8g optimum %.8g relative %.2e; certified gap %.2e after %d iterations", name, got,
		ref.primal, (got-ref.primal)/scale, res.Gap[gp], res.Iterations[gp])
	// The reported gap bounds the suboptimality of the returned (w, b) (up to float32 evaluation), and must itself
	// be within the accuracy this test expects. Slack 2e-5: float32 evaluation.
	if rel := (got - ref.primal) / scale; rel > res.Gap[gp]+2e-5 || rel < -1e-5 {
		t.Errorf("%s: primal %.8g vs optimum %.8g: relative excess %.3g not bounded by the reported gap %.3g", name,
			got, ref.primal, rel, res.Gap[gp])
	}
	if res.Gap[gp] > tol {
		t.Errorf("%s: reported gap %.3g above the expected accuracy %.g", name, res.Gap[gp], tol)
	}
	var dist2 float64
	for d := range D {
		dist2 += (w[d] - ref.w[d]) * (w[d] - ref.w[d])
	}
	if bound := 2*math.Max(got-ref.primal, 0) + 1e-5*scale; dist2 > bound {
		t.Errorf("%s: ‖w − w*‖² = %.3g exceeds 2(P − P*) = %.3g", name, dist2, bound)
	}
	if res.Primal[gp] < ref.primal*(1-1e-4)-1e-6 || res.Dual[gp] > ref.primal*(1+1e-4)+1e-6 {
		t.Errorf("%s: certificate [dual %.8g, primal %.8g] does not bracket the optimum %.8g", name,
			res.Dual[gp], res.Primal[gp], ref.primal)
	}
	// Decision values of member rows are w·x + b.
	for i, x := range p.x {
		want := dot(w, x) + b
		if d := float64(res.Decision[gp*res.N+i]); math.Abs(d-want) > 1e-3*(1+math.Abs(want)) {
			t.Errorf("%s: decision of row %d = %.6g, want w·x+b = %.6g", name, i, d, want)
			break
		}
	}
}

func TestSolveMatchesExactKKT(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	cases := []struct {
		n, d  int
		c     float64
		shift float64
	}{
		{6, 2, 0.05, 0}, {7, 2, 1, 0.5}, {8, 3, 10, 0}, {8, 2, 0.3, 2}, {5, 3, 100, 0}, {9, 2, 1e-3, 0}, {8, 3, 1, -1},
	}
	var probs []*refProblem
	var cs []float64
	for _, c := range cases {
		probs = append(probs, randomProblem(rng, c.n, c.d, c.c, c.shift))
		cs = append(cs, c.c)
	}
	// Groups need one D: pad lower-dimensional cases with zero features.
	for _, p := range probs {
		for i := range p.x {
			for len(p.x[i]) < 3 {
				p.x[i] = append(p.x[i], 0)
			}
		}
	}
	for _, form := range []Form{FormFeature, FormKernel} {
		res, err := Solve(goBackend(t), pack(probs, cs), Options{Tol: 1e-6, Form: form})
		if err != nil {
			t.Fatal(err)
		}
		for g, p := range probs {
			ref, ok := p.solveExact()
			if !ok {
				t.Fatalf("case %d: exhaustive KKT search found no optimum", g)
			}
			checkAgainst(t, form.String()+" case "+string(rune('A'+g)), res, g, p, ref, 5e-5)
			if b := float64(res.B[g]); b < ref.bLo-1e-3 || b > ref.bHi+1e-3 {
				t.Errorf("%s case %d: bias %.6g outside the optimal interval [%.6g, %.6g]", form, g, b, ref.bLo, ref.bHi)
			}
		}
	}
}

func TestSolveMatchesSMO(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	type tc struct {
		n, d  int
		c     float64
		shift float64
	}
	cases := []tc{{150, 8, 0.05, 0}, {150, 8, 1, 0.3}, {120, 8, 20, 0}, {40, 8, 1, 0}, {90, 8, 0.002, 1}}
	var probs []*refProblem
	var cs []float64
	for _, c := range cases {
		probs = append(probs, randomProblem(rng, c.n, c.d, c.c, c.shift))
		cs = append(cs, c.c)
	}
	for _, form := range []Form{FormFeature, FormKernel} {
		res, err := Solve(goBackend(t), pack(probs, cs), Options{Tol: 1e-5, Form: form})
		if err != nil {
			t.Fatal(err)
		}
		for g, p := range probs {
			ref := p.solveSMO(1e-10, 2_000_000)
			checkAgainst(t, form.String()+" case "+string(rune('A'+g)), res, g, p, ref, 1e-4)
		}
	}
}

// TestCrossValidationBatch solves, in one batch, the problems of a 2-fold cross-validation (each half) and the
// refit, at two costs, and checks each against a separate reference solve of its subset, and the held-out
// decision values against w·x + b.
func TestCrossValidationBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	full := randomProblem(rng, 120, 6, 1, 0.2)
	n, d := len(full.y), len(full.x[0])
	costs := []float64{0.01, 1}
	subsets := []func(i int) bool{func(i int) bool { return i%2 == 0 }, func(i int) bool { return i%2 == 1 },
		func(int) bool { return true }}
	P := len(costs) * len(subsets)
	pr := &Problems{G: 1, N: n, D: d, P: P, X: make([]float32, n*d), Y: make([]int8, n), Member: make([]bool, P*n),
		C: make([]float64, P)}
	for i, x := range full.x {
		for k, v := range x {
			pr.X[i*d+k] = float32(v)
		}
		pr.Y[i] = int8(full.y[i])
	}
	for ci, c := range costs {
		for si, in := range subsets {
			p := ci*len(subsets) + si
			pr.C[p] = c
			for i := range n {
				pr.Member[p*n+i] = in(i)
			}
		}
	}
	res, err := Solve(goBackend(t), pr, Options{Tol: 1e-5})
	if err != nil {
		t.Fatal(err)
	}
	for ci, c := range costs {
		for si, in := range subsets {
			p := ci*len(subsets) + si
			sub := &refProblem{}
			npos := 0
			for i := range n {
				if in(i) {
					sub.x = append(sub.x, full.x[i])
					sub.y = append(sub.y, full.y[i])
					if full.y[i] > 0 {
						npos++
					}
				}
			}
			m := len(sub.y)
			for _, y := range sub.y {
				cnt := float64(npos)
				if y < 0 {
					cnt = float64(m - npos)
				}
				sub.u = append(sub.u, c*float64(m)/(2*cnt)) // balanced weights of the subset itself
			}
			ref := sub.solveSMO(1e-10, 2_000_000)
			name := "C=" + strconv.FormatFloat(c, 'g', -1, 64) + " subset " + strconv.Itoa(si)
			w := make([]float64, d)
			for k := range d {
				w[k] = float64(res.W[p*d+k])
			}
			got := sub.primal(w, float64(res.B[p]))
			if rel := (got - ref.primal) / ref.primal; rel > 1e-4 || rel < -1e-5 {
				t.Errorf("%s: primal %.8g vs reference %.8g", name, got, ref.primal)
			}
			for i := range n { // every row, held out or not
				want := dot(w, full.x[i]) + float64(res.B[p])
				if dv := float64(res.Decision[p*n+i]); math.Abs(dv-want) > 1e-3*(1+math.Abs(want)) {
					t.Fatalf("%s: decision of row %d = %.6g, want %.6g", name, i, dv, want)
				}
			}
		}
	}
}

func TestTrivialProblems(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	p := randomProblem(rng, 10, 3, 1, 0)
	pr := pack([]*refProblem{p}, []float64{1})
	// Four problems: all rows, only positives, only negatives, none.
	pr.P = 4
	pr.C = []float64{1, 1, 1, 1}
	pr.Member = make([]bool, 4*pr.N)
	for i := range pr.N {
		pr.Member[i] = true
		pr.Member[pr.N+i] = pr.Y[i] > 0
		pr.Member[2*pr.N+i] = pr.Y[i] < 0
	}
	res, err := Solve(goBackend(t), pr, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		status Status
		b      float32
	}{{Converged, res.B[0]}, {OneClass, 1}, {OneClass, -1}, {Empty, 0}}
	for k, w := range want {
		if res.Status[k] != w.status || res.B[k] != w.b {
			t.Errorf("problem %d: status %s b %v, want %s b %v", k, res.Status[k], res.B[k], w.status, w.b)
		}
		if k > 0 {
			for d := range pr.D {
				if res.W[k*pr.D+d] != 0 {
					t.Errorf("problem %d: w[%d] = %v, want 0", k, d, res.W[k*pr.D+d])
				}
			}
			if math.IsNaN(res.Gap[k]) {
				t.Errorf("problem %d: NaN gap", k)
			}
		}
	}
}

func TestPlantedDirection(t *testing.T) {
	// Labels are the sign of a planted direction with a margin; the SVM direction must recover it.
	rng := rand.New(rand.NewPCG(5, 8))
	const n, d = 400, 16
	dir := make([]float64, d)
	for k := range dir {
		dir[k] = rng.NormFloat64()
	}
	norm := math.Sqrt(dot(dir, dir))
	for k := range dir {
		dir[k] /= norm
	}
	pr := &Problems{G: 1, N: n, D: d, P: 1, X: make([]float32, n*d), Y: make([]int8, n), Member: make([]bool, n),
		C: []float64{10}}
	for i := range n {
		x := make([]float64, d)
		for k := range x {
			x[k] = rng.NormFloat64()
		}
		s := dot(x, dir)
		if math.Abs(s) < 0.3 { // margin
			for k := range x {
				x[k] += (0.3 - math.Abs(s) + 0.05) * math.Copysign(1, s) * dir[k]
			}
		}
		for k, v := range x {
			pr.X[i*d+k] = float32(v + 3) // a common offset, absorbed by the bias
		}
		pr.Y[i] = 1
		if s < 0 {
			pr.Y[i] = -1
		}
		pr.Member[i] = true
	}
	res, err := Solve(goBackend(t), pr, Options{Tol: 1e-5})
	if err != nil {
		t.Fatal(err)
	}
	var wn, cos float64
	for k := range d {
		w := float64(res.W[k])
		wn += w * w
		cos += w * dir[k]
	}
	cos /= math.Sqrt(wn)
	if cos < 0.99 {
		t.Errorf("cosine between the SVM direction and the planted one = %.4f, want ≥ 0.99", cos)
	}
	errs := 0
	for i := range n {
		if (res.Decision[i] > 0) != (pr.Y[i] > 0) {
			errs++
		}
	}
	if errs > 0 {
		t.Errorf("%d training errors on separable data", errs)
	}
}

func TestIterationLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	p := randomProblem(rng, 200, 8, 100, 0)
	res, err := Solve(goBackend(t), pack([]*refProblem{p}, []float64{100}), Options{Tol: 1e-7, MaxIter: 5, CheckEvery: 5,
		ItersPerCall: 5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status[0] != NotConverged || !(res.Gap[0] > 1e-7) || math.IsNaN(res.Gap[0]) || res.Iterations[0] != 5 {
		t.Errorf("status %s gap %v iterations %d, want not-converged with a finite gap above the tolerance after 5",
			res.Status[0], res.Gap[0], res.Iterations[0])
	}
}

// TestSolveContextStops cancels the solve from its progress callback after the first call: SolveContext must
// return promptly (before the iteration limit) with an error wrapping context.Canceled.
func TestSolveContextStops(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	p := randomProblem(rng, 200, 8, 100, 0)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := SolveContext(ctx, goBackend(t), pack([]*refProblem{p}, []float64{100}), Options{Tol: 1e-9, MaxIter: 100000,
		Progress: func(Progress) { calls++; cancel() }})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Fatalf("err = %v after %d calls, want context.Canceled after 1", err, calls)
	}
}

func TestValidate(t *testing.T) {
	good := func() *Problems {
		return &Problems{G: 1, N: 2, D: 1, P: 1, X: []float32{0, 1}, Y: []int8{1, -1}, Member: []bool{true, true},
			C: []float64{1}}
	}
	cases := []struct {
		name   string
		modify func(*Problems)
		want   string
	}{
		{"sizes", func(p *Problems) { p.N = 0 }, "must all be positive"},
		{"X length", func(p *Problems) { p.X = p.X[:1] }, "len(X)=1"},
		{"NaN", func(p *Problems) { p.X[1] = float32(math.NaN()) }, "row 1, feature 0"},
		{"label", func(p *Problems) { p.Y[0] = 2 }, "Y[group 0, row 0] = 2"},
		{"padding member", func(p *Problems) { p.Y[1] = 0 }, "padding row 1"},
		{"cost", func(p *Problems) { p.C[0] = 0 }, "positive finite cost"},
		{"weighting", func(p *Problems) { p.Weighting = 7 }, "unknown weighting"},
	}
	for _, c := range cases {
		p := good()
		c.modify(p)
		err := p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if err := good().Validate(); err != nil {
		t.Errorf("valid problems: %v", err)
	}
	if _, err := Solve(goBackend(t), good(), Options{Tol: -1}); err == nil {
		t.Errorf("negative tolerance accepted")
	}
}
