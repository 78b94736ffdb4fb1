package svm

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
)

// The solver graph. Shapes: G groups, P problems per group, N rows per group, D features. Every problem carries its
// own copy of the per-row vectors ([G,P,N]) and of its scalars ([G,P]).
//
// The element-wise work per iteration is kept small on purpose: the pure Go backend executes element-wise ops one
// at a time, without fusion, and an op that broadcasts a [G,P] scalar along N costs several times a same-shape op.

// consts are the graph inputs that do not change between calls.
type consts struct {
	qa, qb     *graph.Node // feature form: X̃ [G,N,D] and X̃ᵀ [G,D,N]; kernel form: qa = Gram [G,N,N], qb unused
	y          *graph.Node // labels [G,N] (0 on padding rows)
	absY       *graph.Node // |y| [G,N]
	yFull      *graph.Node // labels broadcast to [G,P,N]
	u          *graph.Node // upper bounds [G,P,N] (0 for non-members)
	uPos, uNeg *graph.Node // Σ u over positive / negative members [G,P]
	uMaxP1     *graph.Node // 1 + max u [G,P]
	form       Form
}

const numConsts = 9

func constsFromNodes(in []*graph.Node, form Form) *consts {
	return &consts{qa: in[0], qb: in[1], y: in[2], absY: in[3], yFull: in[4], u: in[5], uPos: in[6], uNeg: in[7],
		uMaxP1: in[8], form: form}
}

// state is the solver state carried between iterations; the order of nodes() is the order of the graph's state
// inputs and outputs, and of stateFields.
type state struct {
	alpha, qalpha, beta, qbeta *graph.Node // α, Qα, β (the extrapolated point), Qβ: [G,P,N]
	t, l, b                    *graph.Node // momentum parameter, curvature estimate, bias (centred rows): [G,P]
	gap, primal, dual          *graph.Node // last checked values [G,P]
	lo, hi, hlo, hhi, lam      *graph.Node // projection bracket and multiplier carried over a failed projection [G,P]
	active                     *graph.Node // [G,P] bool: not yet converged
	cont                       *graph.Node // [G,P] bool: the last projection did not converge; continue it
	iters                      *graph.Node // [G,P] int32: iterations run while active
}

// stateKind is the type and shape of a state tensor.
type stateKind int

const (
	kindVec   stateKind = iota // float32 [G,P,N]
	kindFloat                  // float32 [G,P]
	kindBool                   // bool [G,P]
	kindInt                    // int32 [G,P]
)

// stateField describes one state tensor: its kind and its value for an unused batch slot.
type stateField struct {
	kind stateKind
	fill float32
}

// State tensor positions (the order of stateFields and state.nodes()).
const (
	stAlpha = iota
	stQAlpha
	stBeta
	stQBeta
	stT
	stL
	stB
	stGap
	stPrimal
	stDual
	stLo
	stHi
	stHLo
	stHHi
	stLam
	stActive
	stCont
	stIters
	numStateTensors
)

var stateFields = [numStateTensors]stateField{
	stAlpha: {kindVec, 0}, stQAlpha: {kindVec, 0}, stBeta: {kindVec, 0}, stQBeta: {kindVec, 0},
	stT: {kindFloat, 1}, stL: {kindFloat, 1}, stB: {kindFloat, 0}, stGap: {kindFloat, 0}, stPrimal: {kindFloat, 0},
	stDual: {kindFloat, 0}, stLo: {kindFloat, 0}, stHi: {kindFloat, 0}, stHLo: {kindFloat, 0}, stHHi: {kindFloat, 0},
	stLam: {kindFloat, 0}, stActive: {kindBool, 0}, stCont: {kindBool, 0}, stIters: {kindInt, 0},
}

func (s *state) nodes() []*graph.Node {
	return []*graph.Node{s.alpha, s.qalpha, s.beta, s.qbeta, s.t, s.l, s.b, s.gap, s.primal, s.dual, s.lo, s.hi,
		s.hlo, s.hhi, s.lam, s.active, s.cont, s.iters}
}

func stateFromNodes(n []*graph.Node) *state {
	return &state{alpha: n[stAlpha], qalpha: n[stQAlpha], beta: n[stBeta], qbeta: n[stQBeta], t: n[stT], l: n[stL],
		b: n[stB], gap: n[stGap], primal: n[stPrimal], dual: n[stDual], lo: n[stLo], hi: n[stHi], hlo: n[stHLo],
		hhi: n[stHHi], lam: n[stLam], active: n[stActive], cont: n[stCont], iters: n[stIters]}
}

// qmul returns Q·v for v [G,P,N].
func (c *consts) qmul(v *graph.Node) *graph.Node {
	if c.form == FormKernel {
		return graph.Einsum("gpj,gji->gpi", v, c.qa)
	}
	w := graph.Einsum("gpn,gnd->gpd", v, c.qa)
	return graph.Einsum("gpd,gdn->gpn", w, c.qb)
}

// expand3 turns [G,P] into [G,P,1].
func expand3(x *graph.Node) *graph.Node { return graph.ExpandAxes(x, -1) }

// spread broadcasts per-problem values [G,P] to [G,P,N] explicitly: on the Go backend an explicit broadcast
// followed by a same-shape op is several times faster than the implicit broadcasting of a binary op, most of all
// when N is small.
func spread(x *graph.Node, dims []int) *graph.Node {
	return graph.BroadcastToDims(graph.ExpandAxes(x, -1), dims...)
}

// iterate runs one accelerated projected-gradient step for every active problem.
func (c *consts) iterate(s *state) *state {
	g := s.alpha.Graph()
	dt := s.alpha.DType()
	zero := graph.ScalarZero(g, dt)
	one := graph.ScalarOne(g, dt)
	tiny := graph.Scalar(g, dt, 1e-30)

	dims := s.alpha.Shape().Dimensions
	invL := graph.Reciprocal(s.l)
	omq := graph.OneMinus(s.qbeta) // −∇f(β)
	v := graph.Add(s.beta, graph.Mul(omq, spread(invL, dims)))

	// Projection onto {0 ≤ a ≤ u, Σ y a = 0}: a(λ) = clamp(v − λy, 0, u); h(λ) = Σ y a(λ) decreases from
	// h(−M) = Σ_{y>0} u to h(M) = −Σ_{y<0} u for M = max|v| + max u + 1. Illinois steps from the previous
	// multiplier b/L keep a bracket [lo, hi] with h(lo) ≥ 0 ≥ h(hi).
	m := graph.Add(graph.ReduceMax(graph.Abs(v), -1), c.uMaxP1)
	// A projection that did not converge in the previous iteration (whose state, hence v, did not change)
	// continues from its bracket and multiplier.
	lo := graph.Where(s.cont, s.lo, graph.Neg(m))
	hi := graph.Where(s.cont, s.hi, m)
	hlo := graph.Where(s.cont, s.hlo, c.uPos)
	hhi := graph.Where(s.cont, s.hhi, graph.Neg(c.uNeg))
	lam := graph.Where(s.cont, s.lam, graph.Clamp(lo, graph.Mul(s.b, invL), hi))
	project := func(lam *graph.Node) *graph.Node {
		return graph.Clamp(zero, graph.Sub(v, graph.Mul(c.yFull, spread(lam, dims))), c.u)
	}
	var movedLo, movedHi *graph.Node
	half := graph.Scalar(g, dt, 0.5)
	for k := range projectionSteps {
		h := graph.Einsum("gpn,gn->gp", project(lam), c.y)
		pos := graph.GreaterThan(h, zero)
		neg := graph.LessThan(h, zero)
		if k > 0 { // Illinois: an end kept twice in a row has its value halved.
			hhi = graph.Where(graph.LogicalAnd(pos, movedLo), graph.Mul(hhi, half), hhi)
			hlo = graph.Where(graph.LogicalAnd(neg, movedHi), graph.Mul(hlo, half), hlo)
		}
		lo = graph.Where(pos, lam, lo)
		hlo = graph.Where(pos, h, hlo)
		hi = graph.Where(neg, lam, hi)
		hhi = graph.Where(neg, h, hhi)
		movedLo, movedHi = pos, neg
		denom := graph.Sub(hlo, hhi)
		secant := graph.Add(lo, graph.Mul(graph.Sub(hi, lo), graph.Div(hlo, graph.Max(denom, tiny))))
		keep := graph.LogicalOr(graph.Equal(h, zero), graph.LessOrEqual(denom, zero))
		lam = graph.Where(keep, lam, secant)
	}
	aNew := project(lam)
	// The projection converged when Σ y a is negligible; otherwise the step is not taken and the next iteration
	// continues the root search.
	resid := graph.Abs(graph.Einsum("gpn,gn->gp", aNew, c.y))
	mass := graph.Einsum("gpn,gn->gp", aNew, c.absY)
	projOK := graph.LessOrEqual(resid, graph.Add(graph.MulScalar(mass, projectionTol), graph.MulScalar(c.uMaxP1, 1e-7)))
	qNew := c.qmul(aNew)

	// Curvature of the quadratic along the step d = aNew − β: dᵀQd / dᵀd, with Qd = qNew − qβ.
	d := graph.Sub(aNew, s.beta)
	num := graph.Einsum("gpn,gpn->gp", d, graph.Sub(qNew, s.qbeta))
	den := graph.Einsum("gpn,gpn->gp", d, d)
	curv := graph.Div(num, graph.Max(den, tiny))
	ok := graph.LogicalOr(graph.LessOrEqual(curv, graph.MulScalar(s.l, 1+curvatureSlack)), graph.LessOrEqual(den, zero))
	accept := graph.LogicalAnd(graph.LogicalAnd(ok, projOK), s.active)
	reject := graph.LogicalAnd(graph.LogicalAnd(graph.LogicalNot(ok), projOK), s.active)
	cont := graph.LogicalAnd(graph.LogicalNot(projOK), s.active)

	// Momentum with gradient-based restart: restart when ∇f(β)·(aNew − α) > 0.
	delta := graph.Sub(aNew, s.alpha)
	restart := graph.LessThan(graph.Einsum("gpn,gpn->gp", omq, delta), zero)
	tPrev := graph.Where(restart, graph.OnesLike(s.t), s.t)
	tNew := graph.MulScalar(graph.OnePlus(graph.Sqrt(graph.OnePlus(graph.MulScalar(graph.Square(tPrev), 4)))), 0.5)
	mom := spread(graph.Div(graph.Sub(tPrev, one), tNew), dims)
	betaNew := graph.Add(aNew, graph.Mul(mom, delta))
	qbetaNew := graph.Add(qNew, graph.Mul(mom, graph.Sub(qNew, s.qalpha)))
	// The accepted problems' rows, as a 0/1 blend: on the Go backend a Where whose condition is broadcast from
	// [G,P] takes a slow element-by-element path, while m·new + (1−m)·old is three fast same-shape passes, and
	// exact for finite values (1·x + 0·y = x).
	keep := spread(graph.ConvertDType(accept, dt), dims)
	drop := graph.OneMinus(keep)
	blend := func(onAccept, old *graph.Node) *graph.Node {
		return graph.Add(graph.Mul(keep, onAccept), graph.Mul(drop, old))
	}

	lGrown := graph.Max(curv, graph.MulScalar(s.l, stepGrow))
	lNew := graph.Where(accept, graph.MulScalar(s.l, stepDecrease), graph.Where(reject, lGrown, s.l))
	lNew = graph.Clamp(graph.Scalar(g, dt, 1e-12), lNew, graph.Scalar(g, dt, 1e12))
	return &state{
		alpha:  blend(aNew, s.alpha),
		qalpha: blend(qNew, s.qalpha),
		beta:   blend(betaNew, s.beta),
		qbeta:  blend(qbetaNew, s.qbeta),
		t:      graph.Where(accept, tNew, s.t),
		l:      lNew,
		b:      graph.Where(accept, graph.Mul(lam, s.l), s.b),
		gap:    s.gap, primal: s.primal, dual: s.dual,
		lo: lo, hi: hi, hlo: hlo, hhi: hhi, lam: lam,
		active: s.active,
		cont:   cont,
		iters:  graph.Add(s.iters, graph.ConvertDType(s.active, dtypes.Int32)),
	}
}

// objectives returns the primal P(w, b), the equality-corrected dual and the relative gap of the current iterate.
func (c *consts) objectives(s *state) (primal, dual, gap *graph.Node) {
	g := s.alpha.Graph()
	dt := s.alpha.DType()
	w2 := graph.Einsum("gpn,gpn->gp", s.alpha, s.qalpha) // ‖w‖²
	sumA := graph.Einsum("gpn,gn->gp", s.alpha, c.absY)
	margin := graph.Add(s.qalpha, graph.Mul(c.yFull, spread(s.b, s.alpha.Shape().Dimensions))) // y_i (w·x̃_i + b)
	hinge := graph.Max(graph.OneMinus(margin), graph.ScalarZero(g, dt))
	loss := graph.Einsum("gpn,gpn->gp", hinge, c.u)
	half := graph.MulScalar(w2, 0.5)
	primal = graph.Add(half, loss)
	resid := graph.Einsum("gpn,gn->gp", s.alpha, c.y)
	dual = graph.Sub(graph.Sub(sumA, half), graph.Mul(graph.Abs(s.b), graph.Abs(resid)))
	gap = graph.Div(graph.Sub(primal, dual), graph.Max(graph.Abs(primal), graph.Scalar(g, dt, 1e-30)))
	return primal, dual, gap
}

// check updates gap, primal and dual of the active problems and freezes those that reached tol.
func (c *consts) check(s *state, tol float64) *state {
	primal, dual, gap := c.objectives(s)
	conv := graph.LessOrEqual(gap, graph.Scalar(s.alpha.Graph(), gap.DType(), tol))
	out := *s
	out.primal = graph.Where(s.active, primal, s.primal)
	out.dual = graph.Where(s.active, dual, s.dual)
	out.gap = graph.Where(s.active, gap, s.gap)
	out.active = graph.LogicalAnd(s.active, graph.LogicalNot(conv))
	return &out
}

// chunkGraph builds the executable body: iters iterations with a check every checkEvery.
func chunkGraph(form Form, iters, checkEvery int, tol float64) func(in []*graph.Node) []*graph.Node {
	return func(in []*graph.Node) []*graph.Node {
		c := constsFromNodes(in[:numConsts], form)
		s := stateFromNodes(in[numConsts:])
		for k := 1; k <= iters; k++ {
			s = c.iterate(s)
			if k%checkEvery == 0 {
				s = c.check(s, tol)
			}
		}
		return s.nodes()
	}
}

// gramGraph returns the Gram matrices of the centred, signed rows, K̃_ij = y_i y_j (x_i − m)·(x_j − m), from the raw
// rows x [G,N,D], labels y [G,N] and centres m [G,D], without materialising the centred rows:
// K̃ = y yᵀ ⊙ (X Xᵀ − r 1ᵀ − 1 rᵀ + m·m) with r = X m.
func gramGraph(x, y, center *graph.Node) *graph.Node {
	dims := []int{x.Shape().Dimensions[0], x.Shape().Dimensions[1], x.Shape().Dimensions[1]}
	k := graph.Einsum("gnd,gmd->gnm", x, x)
	r := graph.Einsum("gnd,gd->gn", x, center)
	mm := graph.ReduceSum(graph.Square(center), -1)
	ri := graph.BroadcastToDims(graph.ExpandAxes(r, -1), dims...)
	rj := graph.BroadcastToDims(graph.ExpandAxes(r, 1), dims...)
	mm3 := graph.BroadcastToDims(graph.Reshape(mm, dims[0], 1, 1), dims...)
	yy := graph.Einsum("gn,gm->gnm", y, y)
	return graph.Mul(yy, graph.Add(graph.Sub(graph.Sub(k, ri), rj), mm3))
}

// transposeGraph returns X̃ᵀ [G,D,N] for X̃ [G,N,D].
func transposeGraph(x *graph.Node) *graph.Node { return graph.TransposeAllDims(x, 0, 2, 1) }

// weightsGraph returns the step that turns dual solutions α [G,S,N] and biases b for centred rows [G,S] into the
// weights w = Σ α_i y_i (x_i − m) [G,S,D] and the biases for raw rows B = b − w·m [G,S]. Its first input is X̃
// [G,N,D] in the feature form (w = X̃ᵀα) and the raw rows in the kernel form (w = Xᵀ(α⊙y) − (Σ α⊙y) m).
func weightsGraph(form Form) func(data, y, alpha, bias, center *graph.Node) []*graph.Node {
	return func(data, y, alpha, bias, center *graph.Node) []*graph.Node {
		var w *graph.Node
		if form == FormKernel {
			ay := graph.Mul(alpha, graph.BroadcastToDims(graph.ExpandAxes(y, 1), alpha.Shape().Dimensions...))
			w = graph.Sub(graph.Einsum("gpn,gnd->gpd", ay, data), graph.Einsum("gp,gd->gpd", graph.ReduceSum(ay, -1), center))
		} else {
			w = graph.Einsum("gpn,gnd->gpd", alpha, data)
		}
		return []*graph.Node{w, graph.Sub(bias, graph.Einsum("gpd,gd->gp", w, center))}
	}
}
