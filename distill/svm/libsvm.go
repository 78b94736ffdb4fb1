package svm

import (
	"fmt"
	"math"
	"slices"

	"github.com/faildirs/faildirs/internal/parallel"
)

// BiasRule selects which bias Solve returns where the optimum does not determine it.
type BiasRule int

const (
	// BiasAny returns the bias of the certified iterate: any bias of the optimal interval (the default).
	BiasAny BiasRule = iota
	// BiasLibsvm returns, for problems in the degenerate regime (see the package documentation), the solution
	// libsvm's SMO — the solver behind scikit-learn's SVC — ends with, floating-point rounding included. Other
	// problems are solved as with BiasAny.
	BiasLibsvm
)

// String returns "any" or "libsvm".
func (r BiasRule) String() string {
	switch r {
	case BiasAny:
		return "any"
	case BiasLibsvm:
		return "libsvm"
	}
	return fmt.Sprintf("BiasRule(%d)", int(r))
}

// LibsvmReplayMaxRows bounds the rows of a group for which [BiasLibsvm] replays libsvm's SMO on the group's kernel
// matrix (computed in float64, N²·D operations, kept as N² float32). Degenerate problems of larger groups take
// the count-based rule described in the package documentation.
const LibsvmReplayMaxRows = 2048

// libsvmTau is libsvm's replacement of a non-positive curvature in its working-set selection.
const libsvmTau = 1e-12

// libsvmEps is the stopping tolerance of scikit-learn's SVC (tol=1e-3), on the maximal KKT violation.
const libsvmEps = 1e-3

// replayDegenerate solves, for BiasLibsvm, the problems of active that are in the degenerate regime (every
// multiplier at its upper bound is optimal): it fills their results, marks them inactive and returns how many it
// solved. Groups are handled in parallel.
func replayDegenerate(pr *Problems, res *Result, active []bool, weightsFor []int) int {
	G, P, N, D := pr.G, pr.P, pr.N, pr.D
	wanted := make([]bool, P)
	if weightsFor == nil {
		for p := range wanted {
			wanted[p] = true
		}
	}
	for _, p := range weightsFor {
		wanted[p] = true
	}
	solved := make([]int, G)
	parallel.For(G, func(g int) {
		var rows []int // the group's real rows
		for i := range N {
			if pr.Y[g*N+i] != 0 {
				rows = append(rows, i)
			}
		}
		x := func(i int) []float32 { return pr.X[(g*N+i)*D : (g*N+i+1)*D] }
		var gram *groupGram
		// The degenerate test scales with C: per membership (the folds and the refit share it across C), the
		// spread of w₁·x with w₁ = Σ s_i y_i x_i (bounds at C = 1).
		type spreadFor struct {
			members []int
			spread  float64
		}
		var spreads []spreadFor
		f := make([]float64, N) // w·x of every row of the group, for the problem at hand
		for p := range P {
			gp := g*P + p
			if !active[gp] {
				continue
			}
			var members []int
			for _, i := range rows {
				if pr.Member[gp*N+i] {
					members = append(members, i)
				}
			}
			y := make([]float64, len(members))
			for k, i := range members {
				y[k] = float64(pr.Y[g*N+i])
			}
			u, balanced := libsvmBounds(y, pr.C[gp], pr.Weighting)
			if !balanced {
				continue
			}
			k := slices.IndexFunc(spreads, func(e spreadFor) bool { return slices.Equal(e.members, members) })
			if k < 0 {
				u1, _ := libsvmBounds(y, 1, pr.Weighting)
				spreads = append(spreads, spreadFor{members, boundSpread(members, y, u1, x, D)})
				k = len(spreads) - 1
			}
			if pr.C[gp]*spreads[k].spread > 2 {
				continue // some row is outside its margin at the optimum: the bias is unique
			}
			var alpha []float64
			var bias float64
			iters := 0
			if len(rows) <= LibsvmReplayMaxRows {
				if gram == nil {
					gram = newGroupGram(rows, x)
				}
				alpha, bias, iters = replaySMO(members, y, u, gram)
			} else {
				alpha, bias = transferRule(members, y, u, x, D)
			}
			w := make([]float64, D)
			for k, i := range members {
				if a := alpha[k] * y[k]; a != 0 {
					for d, v := range x(i) {
						w[d] += a * float64(v)
					}
				}
			}
			for _, i := range rows {
				f[i] = dot64(w, x(i))
				res.Decision[gp*N+i] = float32(f[i] + bias)
			}
			if wanted[p] {
				for d := range D {
					res.W[gp*D+d] = float32(w[d])
				}
			}
			res.B[gp] = float32(bias)
			primal, dual := objectives(members, y, u, alpha, w, bias, f)
			res.Primal[gp], res.Dual[gp] = primal, dual
			res.Gap[gp] = (primal - dual) / math.Max(math.Abs(primal), 1e-30)
			res.Iterations[gp] = iters
			res.Status[gp] = Converged
			active[gp] = false
			solved[g]++
		}
	})
	n := 0
	for _, s := range solved {
		n += s
	}
	return n
}

// libsvmBounds returns the upper bounds u_i = C·s_i computed as scikit-learn does (float64 class weights
// n / (2·count)) and whether Σ_{y=+1} u = Σ_{y=−1} u holds exactly in real arithmetic (always for balanced
// weights; for uniform weights when the two labels are equally frequent), which the degenerate regime needs.
func libsvmBounds(y []float64, c float64, weighting Weighting) (u []float64, balanced bool) {
	var npos, nneg int
	for _, v := range y {
		if v > 0 {
			npos++
		} else {
			nneg++
		}
	}
	n := npos + nneg
	wPos, wNeg := 1.0, 1.0
	if weighting == Balanced {
		wPos, wNeg = float64(n)/float64(2*npos), float64(n)/float64(2*nneg)
	}
	u = make([]float64, len(y))
	for k, v := range y {
		if v > 0 {
			u[k] = c * wPos
		} else {
			u[k] = c * wNeg
		}
	}
	return u, weighting == Balanced || npos == nneg
}

// boundSpread returns max_{y=+1} w·x − min_{y=−1} w·x over the members for w = Σ u_i y_i x_i. α = u (every
// multiplier at its upper bound) is an optimal dual solution exactly when this is at most 2: some bias then puts
// every row inside its margin.
func boundSpread(members []int, y, u []float64, x func(int) []float32, D int) float64 {
	w := make([]float64, D)
	for k, i := range members {
		a := u[k] * y[k]
		for d, v := range x(i) {
			w[d] += a * float64(v)
		}
	}
	hiPos, loNeg := math.Inf(-1), math.Inf(1)
	for k, i := range members {
		f := dot64(w, x(i))
		if y[k] > 0 {
			hiPos = max(hiPos, f)
		} else {
			loNeg = min(loNeg, f)
		}
	}
	return hiPos - loNeg
}

// objectives returns the primal ½‖w‖² + Σ u_i max(0, 1 − y_i(w·x_i + b)) and the dual Σα − ½‖w‖², in float64;
// f holds w·x of the group's rows.
func objectives(members []int, y, u, alpha, w []float64, b float64, f []float64) (primal, dual float64) {
	ww := 0.0
	for _, v := range w {
		ww += v * v
	}
	primal, dual = ww/2, -ww/2
	for k, i := range members {
		primal += u[k] * math.Max(0, 1-y[k]*(f[i]+b))
		dual += alpha[k]
	}
	return primal, dual
}

func dot64(w []float64, x []float32) float64 {
	s := 0.0
	for d, v := range x {
		s += w[d] * float64(v)
	}
	return s
}

// groupGram holds the linear kernel of a group's real rows as libsvm computes it: k(a, b) is the float64 dot
// product of the float32 rows, rounded to float32 (libsvm stores kernel rows as float32); diag is unrounded.
type groupGram struct {
	pos  map[int]int // row index → position in the matrix
	n    int
	k    []float32
	diag []float64
}

func newGroupGram(rows []int, x func(int) []float32) *groupGram {
	n := len(rows)
	gr := &groupGram{pos: make(map[int]int, n), n: n, k: make([]float32, n*n), diag: make([]float64, n)}
	for a, i := range rows {
		gr.pos[i] = a
	}
	for a, i := range rows {
		xa := x(i)
		for b := 0; b <= a; b++ {
			xb := x(rows[b])
			s := 0.0
			for d, v := range xa {
				s += float64(v) * float64(xb[d])
			}
			gr.k[a*n+b], gr.k[b*n+a] = float32(s), float32(s)
			if a == b {
				gr.diag[a] = s
			}
		}
	}
	return gr
}

// Multiplier states of the SMO replay.
const (
	atLower uint8 = iota
	atUpper
	free
)

// smoReplay is the state of a replay of libsvm's SMO solver (Fan, Chen and Lin, JMLR 6, 2005: second-order
// working-set selection, shrinking every min(l, 1000) iterations, gradient reconstruction) on one problem, in
// libsvm's internal form: labels s_i = −y_i (scikit-learn orders the labels −1 < +1 and gives the first the
// internal label +1), the rows of internal label +1 first, each label's rows in problem order. Arrays are indexed
// by position; shrinking swaps positions, act maps a position to the problem row.
type smoReplay struct {
	l, active  int
	s          []float64 // internal labels ±1
	c, qd      []float64 // upper bounds, kernel diagonal
	alpha, g   []float64 // multipliers, gradient of ½αᵀQα − Σα
	gbar       []float64 // gradient contribution of the multipliers at their upper bound
	status     []uint8
	act        []int
	kern       func(a, b int) float32 // float32 kernel between problem rows a and b
	unshrunk   bool
	rowI, rowJ []float64
	rowScratch []float64
	iterations int
	maxIter    int
}

// replaySMO runs libsvm's solver on one problem (members, labels y ±1, upper bounds u, kernel gram) and returns
// the multipliers (in members order), the bias of the decision w·x + b in the problem's labels, and the
// iterations.
func replaySMO(members []int, y, u []float64, gram *groupGram) (alpha []float64, bias float64, iters int) {
	l := len(members)
	order := make([]int, 0, l) // problem-member index of each libsvm position
	for _, want := range []float64{-1, 1} {
		for k := range members {
			if y[k] == want {
				order = append(order, k)
			}
		}
	}
	m := &smoReplay{l: l, active: l, s: make([]float64, l), c: make([]float64, l), qd: make([]float64, l),
		alpha: make([]float64, l), g: make([]float64, l), gbar: make([]float64, l), status: make([]uint8, l),
		act: make([]int, l), rowI: make([]float64, l), rowJ: make([]float64, l), rowScratch: make([]float64, l),
		maxIter: 10_000_000}
	gpos := make([]int, l)
	for p, k := range order {
		m.s[p] = -y[k]
		m.c[p] = u[k]
		gpos[k] = gram.pos[members[k]]
		m.qd[p] = gram.diag[gpos[k]]
		m.g[p] = -1
		m.act[p] = k
		m.status[p] = atLower
	}
	m.kern = func(a, b int) float32 { return gram.k[gpos[a]*gram.n+gpos[b]] }
	rho := m.solve()
	alpha = make([]float64, l)
	for p := range l {
		alpha[m.act[p]] = m.alpha[p]
	}
	// libsvm's decision is Σ α_i s_i k(x_i, x) − ρ; scikit-learn reports its negative for two classes, so in the
	// problem's labels (y = −s) w = Σ α_i y_i x_i and b = ρ.
	return alpha, rho, m.iterations
}

// q fills dst[0:n] with row p of Q = diag(s) K diag(s) over positions 0..n−1, as float32 values.
func (m *smoReplay) q(p, n int, dst []float64) {
	a := m.act[p]
	for t := range n {
		v := m.kern(a, m.act[t])
		if m.s[p] != m.s[t] {
			v = -v
		}
		dst[t] = float64(v)
	}
}

func (m *smoReplay) setStatus(p int) {
	switch {
	case m.alpha[p] >= m.c[p]:
		m.status[p] = atUpper
	case m.alpha[p] <= 0:
		m.status[p] = atLower
	default:
		m.status[p] = free
	}
}

func (m *smoReplay) swap(a, b int) {
	m.s[a], m.s[b] = m.s[b], m.s[a]
	m.c[a], m.c[b] = m.c[b], m.c[a]
	m.qd[a], m.qd[b] = m.qd[b], m.qd[a]
	m.alpha[a], m.alpha[b] = m.alpha[b], m.alpha[a]
	m.g[a], m.g[b] = m.g[b], m.g[a]
	m.gbar[a], m.gbar[b] = m.gbar[b], m.gbar[a]
	m.status[a], m.status[b] = m.status[b], m.status[a]
	m.act[a], m.act[b] = m.act[b], m.act[a]
}

// selectPair is libsvm's second-order working-set selection; ok is false when the maximal violation is below
// libsvmEps (optimal).
func (m *smoReplay) selectPair() (i, j int, ok bool) {
	gmax, gmax2 := math.Inf(-1), math.Inf(-1)
	i, j = -1, -1
	objMin := math.Inf(1)
	for t := range m.active {
		if m.s[t] > 0 {
			if m.status[t] != atUpper && -m.g[t] >= gmax {
				gmax, i = -m.g[t], t
			}
		} else if m.status[t] != atLower && m.g[t] >= gmax {
			gmax, i = m.g[t], t
		}
	}
	if i >= 0 {
		m.q(i, m.active, m.rowScratch)
	}
	qi := m.rowScratch
	for t := range m.active {
		var diff, quad float64
		if m.s[t] > 0 {
			if m.status[t] == atLower {
				continue
			}
			diff = gmax + m.g[t]
			gmax2 = max(gmax2, m.g[t])
			if diff <= 0 {
				continue
			}
			quad = m.qd[i] + m.qd[t] - 2.0*m.s[i]*qi[t]
		} else {
			if m.status[t] == atUpper {
				continue
			}
			diff = gmax - m.g[t]
			gmax2 = max(gmax2, -m.g[t])
			if diff <= 0 {
				continue
			}
			quad = m.qd[i] + m.qd[t] + 2.0*m.s[i]*qi[t]
		}
		if quad <= 0 {
			quad = libsvmTau
		}
		if obj := -(diff * diff) / quad; obj <= objMin {
			j, objMin = t, obj
		}
	}
	if gmax+gmax2 < libsvmEps || j == -1 {
		return 0, 0, false
	}
	return i, j, true
}

func (m *smoReplay) reconstructGradient() {
	if m.active == m.l {
		return
	}
	for t := m.active; t < m.l; t++ {
		m.g[t] = m.gbar[t] - 1
	}
	nFree := 0
	for t := range m.active {
		if m.status[t] == free {
			nFree++
		}
	}
	row := make([]float64, m.l)
	if nFree*m.l > 2*m.active*(m.l-m.active) {
		for i := m.active; i < m.l; i++ {
			m.q(i, m.active, row)
			for t := range m.active {
				if m.status[t] == free {
					m.g[i] += float64(m.alpha[t] * row[t])
				}
			}
		}
	} else {
		for i := range m.active {
			if m.status[i] == free {
				m.q(i, m.l, row)
				for t := m.active; t < m.l; t++ {
					m.g[t] += float64(m.alpha[i] * row[t])
				}
			}
		}
	}
}

func (m *smoReplay) shrinkable(p int, gmax1, gmax2 float64) bool {
	switch m.status[p] {
	case atUpper:
		if m.s[p] > 0 {
			return -m.g[p] > gmax1
		}
		return -m.g[p] > gmax2
	case atLower:
		if m.s[p] > 0 {
			return m.g[p] > gmax2
		}
		return m.g[p] > gmax1
	}
	return false
}

func (m *smoReplay) shrink() {
	gmax1, gmax2 := math.Inf(-1), math.Inf(-1)
	for t := range m.active {
		if m.s[t] > 0 {
			if m.status[t] != atUpper {
				gmax1 = max(gmax1, -m.g[t])
			}
			if m.status[t] != atLower {
				gmax2 = max(gmax2, m.g[t])
			}
		} else {
			if m.status[t] != atUpper {
				gmax2 = max(gmax2, -m.g[t])
			}
			if m.status[t] != atLower {
				gmax1 = max(gmax1, m.g[t])
			}
		}
	}
	if !m.unshrunk && gmax1+gmax2 <= libsvmEps*10 {
		m.unshrunk = true
		m.reconstructGradient()
		m.active = m.l
	}
	for p := 0; p < m.active; p++ {
		if !m.shrinkable(p, gmax1, gmax2) {
			continue
		}
		m.active--
		for m.active > p {
			if !m.shrinkable(m.active, gmax1, gmax2) {
				m.swap(p, m.active)
				break
			}
			m.active--
		}
	}
}

// step updates the pair (i, j) as libsvm does, clipping to the box along the equality constraint.
func (m *smoReplay) step(i, j int) {
	m.q(i, m.active, m.rowI)
	m.q(j, m.active, m.rowJ)
	ci, cj := m.c[i], m.c[j]
	oldI, oldJ := m.alpha[i], m.alpha[j]
	if m.s[i] != m.s[j] {
		quad := m.qd[i] + m.qd[j] + 2*m.rowI[j]
		if quad <= 0 {
			quad = libsvmTau
		}
		delta := (-m.g[i] - m.g[j]) / quad
		diff := m.alpha[i] - m.alpha[j]
		m.alpha[i] += delta
		m.alpha[j] += delta
		if diff > 0 {
			if m.alpha[j] < 0 {
				m.alpha[j], m.alpha[i] = 0, diff
			}
		} else if m.alpha[i] < 0 {
			m.alpha[i], m.alpha[j] = 0, -diff
		}
		if diff > ci-cj {
			if m.alpha[i] > ci {
				m.alpha[i], m.alpha[j] = ci, ci-diff
			}
		} else if m.alpha[j] > cj {
			m.alpha[j], m.alpha[i] = cj, cj+diff
		}
	} else {
		quad := m.qd[i] + m.qd[j] - 2*m.rowI[j]
		if quad <= 0 {
			quad = libsvmTau
		}
		delta := (m.g[i] - m.g[j]) / quad
		sum := m.alpha[i] + m.alpha[j]
		m.alpha[i] -= delta
		m.alpha[j] += delta
		if sum > ci {
			if m.alpha[i] > ci {
				m.alpha[i], m.alpha[j] = ci, sum-ci
			}
		} else if m.alpha[j] < 0 {
			m.alpha[j], m.alpha[i] = 0, sum
		}
		if sum > cj {
			if m.alpha[j] > cj {
				m.alpha[j], m.alpha[i] = cj, sum-cj
			}
		} else if m.alpha[i] < 0 {
			m.alpha[i], m.alpha[j] = 0, sum
		}
	}
	di, dj := m.alpha[i]-oldI, m.alpha[j]-oldJ
	for t := range m.active {
		// Two products rounded separately, then added (no fused multiply-add), as libsvm's C code computes it.
		m.g[t] += float64(m.rowI[t]*di) + float64(m.rowJ[t]*dj)
	}
	upI, upJ := m.status[i] == atUpper, m.status[j] == atUpper
	m.setStatus(i)
	m.setStatus(j)
	for _, e := range []struct {
		p   int
		was bool
		c   float64
	}{{i, upI, ci}, {j, upJ, cj}} {
		if e.was == (m.status[e.p] == atUpper) {
			continue
		}
		m.q(e.p, m.l, m.rowScratch)
		for t := range m.l {
			if e.was {
				m.gbar[t] -= float64(e.c * m.rowScratch[t])
			} else {
				m.gbar[t] += float64(e.c * m.rowScratch[t])
			}
		}
	}
}

// solve runs the SMO iterations from α = 0 and returns libsvm's ρ (the mean of s_i·G_i over the free multipliers,
// else the middle of the interval the bounded ones allow).
func (m *smoReplay) solve() float64 {
	counter := min(m.l, 1000) + 1
	for m.iterations < m.maxIter {
		counter--
		if counter == 0 {
			counter = min(m.l, 1000)
			m.shrink()
		}
		i, j, ok := m.selectPair()
		if !ok {
			m.reconstructGradient()
			m.active = m.l
			if i, j, ok = m.selectPair(); !ok {
				break
			}
			counter = 1
		}
		m.iterations++
		m.step(i, j)
	}
	nFree := 0
	ub, lb, sumFree := math.Inf(1), math.Inf(-1), 0.0
	for p := range m.active {
		sg := m.s[p] * m.g[p]
		switch m.status[p] {
		case atUpper:
			if m.s[p] < 0 {
				ub = min(ub, sg)
			} else {
				lb = max(lb, sg)
			}
		case atLower:
			if m.s[p] > 0 {
				ub = min(ub, sg)
			} else {
				lb = max(lb, sg)
			}
		default:
			nFree++
			sumFree += sg
		}
	}
	if nFree > 0 {
		return sumFree / float64(nFree)
	}
	return (ub + lb) / 2
}

// transferRule is the count-based rule for degenerate problems of groups above LibsvmReplayMaxRows. In the
// degenerate regime every SMO step moves a pair of multipliers of opposite labels to a bound, so the solution is
// α = u except for floating-point residue, and libsvm's ρ depends only on which multipliers the residue leaves
// strictly inside their box: ρ is then theirs (a constant prediction), or the middle of the interval when none is.
// The replay's order depends on the data; this rule transfers the bounds in problem order instead (same arithmetic
// as libsvm's update), which agreed with scikit-learn on about 95% of the degenerate problems measured.
func transferRule(members []int, y, u []float64, x func(int) []float32, D int) (alpha []float64, bias float64) {
	l := len(members)
	alpha = make([]float64, l)
	var first, second []int // internal labels +1 (y = −1) and −1 (y = +1), in problem order
	for k := range members {
		if y[k] < 0 {
			first = append(first, k)
		} else {
			second = append(second, k)
		}
	}
	a, b := 0, 0
	for a < len(first) && b < len(second) {
		i, j := first[a], second[b]
		ci, cj := u[i], u[j]
		diff := alpha[i] - alpha[j]
		if diff > ci-cj {
			alpha[i], alpha[j] = ci, ci-diff
		} else {
			alpha[j], alpha[i] = cj, cj+diff
		}
		if alpha[i] >= ci {
			a++
		}
		if alpha[j] >= cj {
			b++
		}
	}
	w := make([]float64, D)
	for k, i := range members {
		for d, v := range x(i) {
			w[d] += alpha[k] * y[k] * float64(v)
		}
	}
	var sum float64
	nFree := 0
	hiPos, loNeg := math.Inf(-1), math.Inf(1)
	for k, i := range members {
		f := dot64(w, x(i))
		if alpha[k] > 0 && alpha[k] < u[k] {
			sum += y[k] - f
			nFree++
		}
		if y[k] > 0 {
			hiPos = max(hiPos, f)
		} else {
			loNeg = min(loNeg, f)
		}
	}
	if nFree > 0 {
		return alpha, sum / float64(nFree)
	}
	return alpha, -(hiPos + loNeg) / 2
}
