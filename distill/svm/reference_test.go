package svm

import (
	"math"
	"math/rand/v2"
)

// Independent float64 reference solvers for the tests: an exhaustive KKT enumeration (exact, tiny problems) and a
// textbook SMO with maximal-violating-pair working sets (medium problems, to a 1e-10 KKT tolerance).

// refProblem is one SVM problem in plain form: rows x, labels y (±1), upper bounds u_i = C·s_i.
type refProblem struct {
	x [][]float64
	y []float64
	u []float64
}

// refSolution is (w, b) with the primal objective.
type refSolution struct {
	w      []float64
	b      float64
	bLo    float64 // the optimal biases form [bLo, bHi] (equal when unique)
	bHi    float64
	primal float64
}

func (p *refProblem) gram() [][]float64 {
	n := len(p.y)
	q := make([][]float64, n)
	for i := range n {
		q[i] = make([]float64, n)
		for j := range n {
			q[i][j] = p.y[i] * p.y[j] * dot(p.x[i], p.x[j])
		}
	}
	return q
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// primal evaluates ½‖w‖² + Σ u_i max(0, 1 − y_i(w·x_i + b)).
func (p *refProblem) primal(w []float64, b float64) float64 {
	obj := 0.5 * dot(w, w)
	for i, x := range p.x {
		obj += p.u[i] * math.Max(0, 1-p.y[i]*(dot(w, x)+b))
	}
	return obj
}

func (p *refProblem) weights(alpha []float64) []float64 {
	w := make([]float64, len(p.x[0]))
	for i, x := range p.x {
		for d := range w {
			w[d] += alpha[i] * p.y[i] * x[d]
		}
	}
	return w
}

// solveExact enumerates every assignment of the dual variables to {0, u_i, free}, solves the KKT equations of the
// free ones (with the bias as the multiplier of Σ α_i y_i = 0) and keeps a point satisfying all KKT conditions.
// Exponential: only for n ≤ 9.
func (p *refProblem) solveExact() (refSolution, bool) {
	n := len(p.y)
	q := p.gram()
	state := make([]int, n) // 0: at 0, 1: at u, 2: free
	best := refSolution{primal: math.Inf(1)}
	found := false
	var rec func(i int)
	rec = func(i int) {
		if i < n {
			for s := range 3 {
				state[i] = s
				rec(i + 1)
			}
			return
		}
		var free []int
		alpha := make([]float64, n)
		for j, s := range state {
			if s == 1 {
				alpha[j] = p.u[j]
			} else if s == 2 {
				free = append(free, j)
			}
		}
		k := len(free)
		// Unknowns: α_F (k) and b. Rows: (Qα)_f − 1 + b y_f = 0 for f in F; Σ y α = 0.
		a := make([][]float64, k+1)
		rhs := make([]float64, k+1)
		for r, f := range free {
			a[r] = make([]float64, k+1)
			for c, g := range free {
				a[r][c] = q[f][g]
			}
			a[r][k] = p.y[f]
			rhs[r] = 1
			for j := range n {
				if state[j] == 1 {
					rhs[r] -= q[f][j] * alpha[j]
				}
			}
		}
		a[k] = make([]float64, k+1)
		for c, g := range free {
			a[k][c] = p.y[g]
		}
		for j := range n {
			if state[j] == 1 {
				rhs[k] -= p.y[j] * alpha[j]
			}
		}
		var bLo, bHi float64
		if k == 0 {
			// b is only constrained by the inequalities; the equality must hold by itself.
			if math.Abs(rhs[0]) > 1e-9 {
				return
			}
			bLo, bHi = math.Inf(-1), math.Inf(1)
		} else {
			sol, ok := solveLinear(a, rhs)
			if !ok {
				return
			}
			for c, g := range free {
				if sol[c] <= 1e-12 || sol[c] >= p.u[g]-1e-12 {
					return
				}
				alpha[g] = sol[c]
			}
			bLo, bHi = sol[k], sol[k]
		}
		// Inequalities: ∇_j + b y_j ≥ 0 at 0, ≤ 0 at u.
		for j := range n {
			if state[j] == 2 {
				continue
			}
			grad := -1.0
			for l := range n {
				grad += q[j][l] * alpha[l]
			}
			// grad + b y_j ≥ 0 (state 0) or ≤ 0 (state 1) → bound on b.
			sign := 1.0
			if state[j] == 1 {
				sign = -1
			}
			// sign·(grad + b y_j) ≥ 0  ⇔  b·(sign·y_j) ≥ −sign·grad
			coef, lim := sign*p.y[j], -sign*grad
			if coef > 0 {
				bLo = math.Max(bLo, lim/coef)
			} else {
				bHi = math.Min(bHi, lim/coef)
			}
		}
		if bLo > bHi+1e-9 {
			return
		}
		w := p.weights(alpha)
		b := bLo
		if math.IsInf(bLo, -1) {
			b = bHi
		}
		if !math.IsInf(bLo, -1) && !math.IsInf(bHi, 1) {
			b = (bLo + bHi) / 2
		}
		obj := p.primal(w, b)
		if obj < best.primal {
			best = refSolution{w: w, b: b, bLo: bLo, bHi: bHi, primal: obj}
			found = true
		}
	}
	rec(0)
	return best, found
}

// solveLinear solves a·x = rhs by Gaussian elimination with partial pivoting.
func solveLinear(a [][]float64, rhs []float64) ([]float64, bool) {
	n := len(rhs)
	m := make([][]float64, n)
	for i := range n {
		m[i] = append(append([]float64(nil), a[i]...), rhs[i])
	}
	for c := range n {
		piv := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[piv][c]) {
				piv = r
			}
		}
		if math.Abs(m[piv][c]) < 1e-12 {
			return nil, false
		}
		m[c], m[piv] = m[piv], m[c]
		for r := range n {
			if r == c {
				continue
			}
			f := m[r][c] / m[c][c]
			for k := c; k <= n; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	x := make([]float64, n)
	for i := range n {
		x[i] = m[i][n] / m[i][i]
	}
	return x, true
}

// solveSMO runs sequential minimal optimisation with the maximal violating pair until the KKT violation is
// below tol; the bias is the midpoint of the interval left by the optimality conditions.
func (p *refProblem) solveSMO(tol float64, maxIter int) refSolution {
	n := len(p.y)
	q := p.gram()
	alpha := make([]float64, n)
	grad := make([]float64, n) // ∇f = Qα − 1
	for i := range grad {
		grad[i] = -1
	}
	up := func(i int) bool { return (p.y[i] > 0 && alpha[i] < p.u[i]) || (p.y[i] < 0 && alpha[i] > 0) }
	low := func(i int) bool { return (p.y[i] > 0 && alpha[i] > 0) || (p.y[i] < 0 && alpha[i] < p.u[i]) }
	for range maxIter {
		i, j := -1, -1
		gmax, gmin := math.Inf(-1), math.Inf(1)
		for t := range n {
			v := -p.y[t] * grad[t]
			if up(t) && v > gmax {
				gmax, i = v, t
			}
			if low(t) && v < gmin {
				gmin, j = v, t
			}
		}
		if i < 0 || j < 0 || gmax-gmin < tol {
			break
		}
		// Move along y_i e_i − y_j e_j.
		eta := q[i][i] + q[j][j] - 2*p.y[i]*p.y[j]*q[i][j]
		if eta <= 1e-15 {
			eta = 1e-15
		}
		step := (gmax - gmin) / eta
		// Box limits for α_i + y_i·step·... : α_i += y_i·t, α_j −= y_j·t with t ≥ 0.
		limit := math.Inf(1)
		if p.y[i] > 0 {
			limit = math.Min(limit, p.u[i]-alpha[i])
		} else {
			limit = math.Min(limit, alpha[i])
		}
		if p.y[j] > 0 {
			limit = math.Min(limit, alpha[j])
		} else {
			limit = math.Min(limit, p.u[j]-alpha[j])
		}
		step = math.Min(step, limit)
		di, dj := p.y[i]*step, -p.y[j]*step
		alpha[i] += di
		alpha[j] += dj
		for t := range n {
			grad[t] += q[t][i]*di + q[t][j]*dj
		}
	}
	// Bias: b = −y_t ∇_t for free variables; otherwise the midpoint of [max over "up" of −y∇, min over "low"].
	var sum float64
	var nFree int
	for t := range n {
		if alpha[t] > 1e-12 && alpha[t] < p.u[t]-1e-12 {
			sum += -p.y[t] * grad[t]
			nFree++
		}
	}
	w := p.weights(alpha)
	var b float64
	if nFree > 0 {
		b = sum / float64(nFree)
	} else {
		lo, hi := math.Inf(-1), math.Inf(1)
		for t := range n {
			v := -p.y[t] * grad[t]
			if up(t) {
				lo = math.Max(lo, v)
			}
			if low(t) {
				hi = math.Min(hi, v)
			}
		}
		b = (lo + hi) / 2
	}
	return refSolution{w: w, b: b, primal: p.primal(w, b)}
}

// randomProblem returns n rows in dim d with labels from a noisy linear rule and balanced weights times c.
func randomProblem(rng *rand.Rand, n, d int, c float64, shift float64) *refProblem {
	p := &refProblem{}
	dir := make([]float64, d)
	for k := range dir {
		dir[k] = rng.NormFloat64()
	}
	npos := 0
	for range n {
		x := make([]float64, d)
		for k := range x {
			x[k] = rng.NormFloat64() + shift
		}
		y := 1.0
		if dot(x, dir)+0.7*rng.NormFloat64() < shift*float64(d)*0.2 {
			y = -1
		}
		p.x = append(p.x, x)
		p.y = append(p.y, y)
		if y > 0 {
			npos++
		}
	}
	if npos == 0 {
		p.y[0] = 1
		npos = 1
	}
	if npos == n {
		p.y[0] = -1
		npos--
	}
	for _, y := range p.y {
		cnt := float64(npos)
		if y < 0 {
			cnt = float64(n - npos)
		}
		p.u = append(p.u, c*float64(n)/(2*cnt))
	}
	return p
}
