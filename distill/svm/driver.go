package svm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
	"unsafe"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// The driver runs the compiled solver in calls of Options.ItersPerCall iterations. Between calls it reads which
// problems are still active and, when the active problems fit in a batch at most half as large (fewer groups, or
// fewer problems per group), it repacks them into a smaller batch: converged problems stop costing anything.
// Every problem's state lives in a host-side master copy between batches.

// compactRatio: repack when the smallest batch holding the active problems has at most this fraction of the
// current batch's problem slots.
const compactRatio = 0.5

var debugTiming = os.Getenv("FAILDIRS_SVM_DEBUG") != ""

// master is the host-side copy of every problem's solver state, indexed like Problems: one slice per state
// tensor (see stateFields), G×P×N for vectors and G×P for scalars.
type master struct {
	G, P, N int
	f       [numStateTensors][]float32
	bools   [numStateTensors][]bool
	ints    [numStateTensors][]int32
}

func newMaster(G, P, N int) *master {
	m := &master{G: G, P: P, N: N}
	for i, fd := range stateFields {
		switch fd.kind {
		case kindVec:
			m.f[i] = make([]float32, G*P*N)
		case kindFloat:
			m.f[i] = make([]float32, G*P)
			for j := range m.f[i] {
				m.f[i][j] = fd.fill
			}
		case kindBool:
			m.bools[i] = make([]bool, G*P)
		case kindInt:
			m.ints[i] = make([]int32, G*P)
		}
	}
	return m
}

// inputs are the host-side arrays the batches are cut from.
type inputs struct {
	G, P, N, D       int
	form             Form
	x                []float32 // the rows as given, [G,N,D]
	center           []float32 // each group's mean real row [G,D]
	rowsq            []float32 // squared norms of the centred rows [G,N]
	xt               []float32 // feature form: the centred, signed rows X̃ = y ⊙ (x − m) [G,N,D]
	gram             []float32 // host copy of the Gram matrices [G,N,N] (kernel form, read when first needed)
	y, absY          []float32 // [G,N]
	u                []float32 // [G,P,N]
	uPos, uNeg, uMax []float32 // [G,P]; uMax holds 1 + max u
	fullGram         *tensors.Tensor
	xTensor          *tensors.Tensor // the rows already on the device (Problems made by NewProblems)
	xBackend         compute.Backend
}

// batch is a rectangular selection of problems: batch group j is original group groups[j], and slot (j, k)
// holds original problem index slots[j·P+k] (g·P + p), or −1 for an unused slot.
type batch struct {
	groups []int
	slots  []int
	P      int
	consts []*tensors.Tensor
	state  []*tensors.Tensor
	shared map[*tensors.Tensor]bool // consts owned by the caller, not freed with the batch
}

func (bt *batch) free() {
	for _, t := range bt.consts {
		if !bt.shared[t] {
			_ = t.FinalizeAll()
		}
	}
	bt.freeState()
}

func (bt *batch) freeState() {
	for _, t := range bt.state {
		_ = t.FinalizeAll()
	}
	bt.state = nil
}

// newTensor creates a tensor for backend b holding a copy of data. On backends with shared buffers (the Go
// backend) the data is copied once, straight into the device buffer.
func newTensor[T float32 | int32 | bool](b compute.Backend, data []T, dims ...int) *tensors.Tensor {
	shape := shapes.Make(dtypes.FromGenericsType[T](), dims...)
	var raw []byte
	if len(data) > 0 {
		raw = unsafe.Slice((*byte)(unsafe.Pointer(&data[0])), len(data)*int(unsafe.Sizeof(data[0])))
	}
	t, err := tensors.FromRaw(b, 0, shape, raw)
	if err != nil {
		return tensors.FromFlatDataAndDimensions(data, dims...)
	}
	return t
}

// selectActive returns the groups of the next batch and, for each, the list of its active problem indices p.
// Groups without active problems are dropped only when that removes at least half of them (kernel form) or three
// quarters of them (feature form): dropping groups means preparing their data again for the new batch.
func selectActive(m *master, form Form) (groups []int, probs [][]int) {
	var empty int
	for g := range m.G {
		var ps []int
		for p := range m.P {
			if m.bools[stActive][g*m.P+p] {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			empty++
		}
		groups = append(groups, g)
		probs = append(probs, ps)
	}
	if (form == FormKernel && 2*empty < m.G) || (form == FormFeature && 4*empty < 3*m.G) {
		return groups, probs
	}
	var g2 []int
	var p2 [][]int
	for j, ps := range probs {
		if len(ps) > 0 {
			g2 = append(g2, groups[j])
			p2 = append(p2, ps)
		}
	}
	return g2, p2
}

// buildBatch cuts a batch out of the inputs and the master state. full holds tensors of the group data for all
// groups (X̃, X̃ᵀ or the Gram matrices), reused when the batch keeps every group.
func buildBatch(b compute.Backend, in *inputs, m *master, groups []int, probs [][]int, full [2]*tensors.Tensor,
	transposeExec *graph.Exec) (*batch, error) {
	G2, N, D := len(groups), in.N, in.D
	P2 := 0
	for _, ps := range probs {
		P2 = max(P2, len(ps))
	}
	bt := &batch{groups: groups, P: P2, slots: make([]int, G2*P2), shared: map[*tensors.Tensor]bool{}}
	for i := range bt.slots {
		bt.slots[i] = -1
	}
	for j, g := range groups {
		for k, p := range probs[j] {
			bt.slots[j*P2+k] = g*in.P + p
		}
	}

	allGroups := G2 == in.G
	var qa, qb *tensors.Tensor
	if allGroups {
		qa, qb = full[0], full[1]
		bt.shared[qa], bt.shared[qb] = true, true
	} else if in.form == FormKernel {
		if in.gram == nil {
			var err error
			if in.gram, err = tensors.CopyFlatData[float32](in.fullGram); err != nil {
				return nil, fmt.Errorf("svm: reading Gram matrices: %w", err)
			}
		}
		gram := make([]float32, G2*N*N)
		for j, g := range groups {
			copy(gram[j*N*N:(j+1)*N*N], in.gram[g*N*N:(g+1)*N*N])
		}
		qa = newTensor(b, gram, G2, N, N)
		qb = newTensor(b, []float32{0}, 1)
	} else {
		xt := make([]float32, G2*N*D)
		for j, g := range groups {
			copy(xt[j*N*D:(j+1)*N*D], in.xt[g*N*D:(g+1)*N*D])
		}
		qa = newTensor(b, xt, G2, N, D)
		var err error
		if qb, err = transposeExec.Exec1(qa); err != nil {
			_ = qa.FinalizeAll()
			return nil, fmt.Errorf("svm: transposing the rows of %d groups: %w", G2, err)
		}
	}

	y := make([]float32, G2*N)
	absY := make([]float32, G2*N)
	yFull := make([]float32, G2*P2*N)
	u := make([]float32, G2*P2*N)
	uPos := make([]float32, G2*P2)
	uNeg := make([]float32, G2*P2)
	uMax := make([]float32, G2*P2)
	for j, g := range groups {
		copy(y[j*N:(j+1)*N], in.y[g*N:(g+1)*N])
		copy(absY[j*N:(j+1)*N], in.absY[g*N:(g+1)*N])
		for k := range P2 {
			s := j*P2 + k
			copy(yFull[s*N:(s+1)*N], in.y[g*N:(g+1)*N])
			src := bt.slots[s]
			if src < 0 {
				uMax[s] = 1
				continue
			}
			copy(u[s*N:(s+1)*N], in.u[src*N:(src+1)*N])
			uPos[s], uNeg[s], uMax[s] = in.uPos[src], in.uNeg[src], in.uMax[src]
		}
	}
	dims3 := []int{G2, P2, N}
	bt.consts = []*tensors.Tensor{qa, qb,
		newTensor(b, y, G2, N),
		newTensor(b, absY, G2, N),
		newTensor(b, yFull, dims3...),
		newTensor(b, u, dims3...),
		newTensor(b, uPos, G2, P2),
		newTensor(b, uNeg, G2, P2),
		newTensor(b, uMax, G2, P2),
	}
	bt.state = make([]*tensors.Tensor, numStateTensors)
	for i, fd := range stateFields {
		switch fd.kind {
		case kindVec:
			v := make([]float32, G2*P2*N)
			for s, src := range bt.slots {
				if src >= 0 {
					copy(v[s*N:(s+1)*N], m.f[i][src*N:(src+1)*N])
				}
			}
			bt.state[i] = newTensor(b, v, dims3...)
		case kindFloat:
			bt.state[i] = newTensor(b, gatherSlots(bt.slots, m.f[i], fd.fill), G2, P2)
		case kindBool:
			bt.state[i] = newTensor(b, gatherSlots(bt.slots, m.bools[i], false), G2, P2)
		case kindInt:
			bt.state[i] = newTensor(b, gatherSlots(bt.slots, m.ints[i], 0), G2, P2)
		}
	}
	return bt, nil
}

// gatherSlots returns one value per slot: src[slots[s]], or fill for an empty slot (slots[s] < 0).
func gatherSlots[T any](slots []int, src []T, fill T) []T {
	v := make([]T, len(slots))
	for s, from := range slots {
		v[s] = fill
		if from >= 0 {
			v[s] = src[from]
		}
	}
	return v
}

// writeBack copies the batch's state into the master copy.
func writeBack(m *master, bt *batch) error {
	N := m.N
	for i, fd := range stateFields {
		var err error
		switch fd.kind {
		case kindVec, kindFloat:
			var v []float32
			if v, err = tensors.CopyFlatData[float32](bt.state[i]); err != nil {
				return err
			}
			w := 1
			if fd.kind == kindVec {
				w = N
			}
			for s, src := range bt.slots {
				if src >= 0 {
					copy(m.f[i][src*w:(src+1)*w], v[s*w:(s+1)*w])
				}
			}
		case kindBool:
			var v []bool
			if v, err = tensors.CopyFlatData[bool](bt.state[i]); err != nil {
				return err
			}
			for s, src := range bt.slots {
				if src >= 0 {
					m.bools[i][src] = v[s]
				}
			}
		case kindInt:
			var v []int32
			if v, err = tensors.CopyFlatData[int32](bt.state[i]); err != nil {
				return err
			}
			for s, src := range bt.slots {
				if src >= 0 {
					m.ints[i][src] = v[s]
				}
			}
		}
	}
	return nil
}

// solveActive runs the batched solver over the non-trivial problems (active0) and fills res: decision values,
// objectives, certificates and statuses of every problem, and the weights of those in Options.WeightsFor.
func solveActive(ctx context.Context, b compute.Backend, res *Result, opts Options, in *inputs, member []bool, active0 []bool,
	total int) error {
	transposeExec, err := graph.NewExec(b, transposeGraph)
	if err != nil {
		return fmt.Errorf("svm: building the transposition: %w", err)
	}
	defer transposeExec.Finalize()
	gd, err := newGroupData(b, in, transposeExec)
	if err != nil {
		return err
	}
	defer gd.release()
	m := initialMaster(in, member, active0)
	if err := runBatches(ctx, b, res, opts, in, m, gd, transposeExec, total); err != nil {
		return err
	}
	collectStatus(res, in, m, active0)
	return formWeights(b, res, opts, in, m, gd, active0)
}

// groupData is the per-group data shared by every batch that keeps all groups, on the device: the labels, the
// group centres, and X̃ and X̃ᵀ (feature form) or the Gram matrices (kernel form; then raw holds the raw rows, for
// the final weights).
type groupData struct {
	y, center, raw *tensors.Tensor
	full           [2]*tensors.Tensor
	shared         *tensors.Tensor // the caller's rows tensor, not released here
}

func newGroupData(b compute.Backend, in *inputs, transposeExec *graph.Exec) (*groupData, error) {
	G, N, D := in.G, in.N, in.D
	gd := &groupData{y: newTensor(b, in.y, G, N), center: newTensor(b, in.center, G, D)}
	if in.xTensor != nil && in.xBackend == b {
		gd.shared = in.xTensor
	}
	if in.form == FormKernel {
		if gd.shared != nil {
			gd.raw = in.xTensor
		} else {
			gd.raw = newTensor(b, in.x, G, N, D)
		}
		gram, err := graph.ExecOnce(b, gramGraph, gd.raw, gd.y, gd.center)
		if err != nil {
			gd.release()
			return nil, fmt.Errorf("svm: computing Gram matrices [%d,%d,%d]: %w", G, N, N, err)
		}
		gd.full = [2]*tensors.Tensor{gram, newTensor(b, []float32{0}, 1)}
	} else {
		gd.raw = newTensor(b, []float32{0}, 1)
		xt := newTensor(b, in.xt, G, N, D)
		xtT, err := transposeExec.Exec1(xt)
		if err != nil {
			_ = xt.FinalizeAll()
			gd.release()
			return nil, fmt.Errorf("svm: transposing the rows [%d,%d,%d]: %w", G, N, D, err)
		}
		gd.full = [2]*tensors.Tensor{xt, xtT}
	}
	in.fullGram = gd.full[0]
	return gd, nil
}

func (gd *groupData) release() {
	for _, t := range []*tensors.Tensor{gd.y, gd.center, gd.raw, gd.full[0], gd.full[1]} {
		if t != nil && t != gd.shared {
			_ = t.FinalizeAll()
		}
	}
}

// initialMaster returns the host-side solver state before the first iteration: the active problems, and as each
// problem's initial curvature estimate the mean diagonal of Q over its members (rejected steps correct it).
func initialMaster(in *inputs, member []bool, active0 []bool) *master {
	G, P, N := in.G, in.P, in.N
	m := newMaster(G, P, N)
	copy(m.bools[stActive], active0)
	for gp := range G * P {
		var sq float64
		var n int
		g := gp / P
		for i := range N {
			if member[gp*N+i] {
				sq += float64(in.rowsq[g*N+i])
				n++
			}
		}
		if n > 0 {
			m.f[stL][gp] = float32(max(sq/float64(n), 1e-12))
		}
	}
	return m
}

// runBatches runs the compiled solver in calls of Options.ItersPerCall iterations until every problem converged or
// MaxIter is reached, repacking the active problems into a smaller batch when they fit in at most compactRatio of
// it, and leaves the final state in m. It stops with an error wrapping ctx.Err() when ctx is cancelled.
func runBatches(ctx context.Context, b compute.Backend, res *Result, opts Options, in *inputs, m *master, gd *groupData,
	transposeExec *graph.Exec, total int) error {
	chunk, err := graph.NewExec(b, chunkGraph(in.form, opts.ItersPerCall, opts.CheckEvery, opts.Tol))
	if err != nil {
		return fmt.Errorf("svm: building the solver: %w", err)
	}
	defer chunk.Finalize()
	groups, probs := selectActive(m, in.form)
	cur, err := buildBatch(b, in, m, groups, probs, gd.full, transposeExec)
	if err != nil {
		return err
	}
	defer func() {
		if cur != nil {
			cur.free()
		}
	}()
	start := time.Now()
	args := make([]any, 0, numConsts+numStateTensors)
	for res.LockstepIterations < opts.MaxIter {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("svm: stopped after %d iterations: %w", res.LockstepIterations, err)
		}
		args = args[:0]
		for _, t := range cur.consts {
			args = append(args, t)
		}
		for _, t := range cur.state {
			args = append(args, t)
		}
		callStart := time.Now()
		out, err := chunk.Exec(args...)
		if err != nil {
			return fmt.Errorf("svm: solver call (batch of %d groups × %d problems, N=%d, D=%d, form %s): %w",
				len(cur.groups), cur.P, in.N, in.D, in.form, err)
		}
		if res.Calls == 0 {
			res.FirstCallTime = time.Since(callStart)
		}
		if debugTiming {
			fmt.Fprintf(os.Stderr, "svm: call %d batch %dx%d took %v\n", res.Calls, len(cur.groups), cur.P, time.Since(callStart))
		}
		res.Calls++
		res.LockstepIterations += opts.ItersPerCall
		cur.freeState()
		cur.state = out
		nActive, groupsActive, maxPerGroup, err := countActive(cur)
		if err != nil {
			return err
		}
		if opts.Progress != nil {
			opts.Progress(Progress{Iter: res.LockstepIterations, MaxIter: opts.MaxIter, Active: nActive, Total: total})
		}
		if nActive == 0 {
			break
		}
		if float64(groupsActive*maxPerGroup) <= compactRatio*float64(len(cur.groups)*cur.P) &&
			res.LockstepIterations < opts.MaxIter {
			if err := writeBack(m, cur); err != nil {
				return fmt.Errorf("svm: reading solver state: %w", err)
			}
			cur.free()
			groups, probs := selectActive(m, in.form)
			tb := time.Now()
			if cur, err = buildBatch(b, in, m, groups, probs, gd.full, transposeExec); err != nil {
				return err
			}
			if debugTiming {
				fmt.Fprintf(os.Stderr, "svm: compaction to %dx%d took %v\n", len(cur.groups), cur.P, time.Since(tb))
			}
			res.Compactions++
		}
	}
	if err := writeBack(m, cur); err != nil {
		return fmt.Errorf("svm: reading solver state: %w", err)
	}
	cur.free()
	cur = nil
	res.SolveTime = time.Since(start)
	return nil
}

// countActive reads the batch's active flags: how many problems are active, in how many groups, and the most
// active problems of one group.
func countActive(cur *batch) (nActive, groupsActive, maxPerGroup int, err error) {
	act, err := tensors.CopyFlatData[bool](cur.state[stActive])
	if err != nil {
		return 0, 0, 0, fmt.Errorf("svm: reading solver state: %w", err)
	}
	for j := range cur.groups {
		n := 0
		for k := range cur.P {
			if act[j*cur.P+k] {
				n++
			}
		}
		nActive += n
		if n > 0 {
			groupsActive++
		}
		maxPerGroup = max(maxPerGroup, n)
	}
	return nActive, groupsActive, maxPerGroup, nil
}

// collectStatus fills the decision values of every row, the objectives, certificates, iteration counts and
// statuses of the solved problems from the final iterate.
func collectStatus(res *Result, in *inputs, m *master, active0 []bool) {
	P, N := in.P, in.N
	for gp := range in.G * P {
		if !active0[gp] {
			continue
		}
		g := gp / P
		for i := range N {
			if y := in.y[g*N+i]; y != 0 {
				res.Decision[gp*N+i] = y*m.f[stQAlpha][gp*N+i] + m.f[stB][gp]
			}
		}
		res.Primal[gp] = float64(m.f[stPrimal][gp])
		res.Dual[gp] = float64(m.f[stDual][gp])
		res.Gap[gp] = float64(m.f[stGap][gp])
		res.Iterations[gp] = int(m.ints[stIters][gp])
		if m.bools[stActive][gp] {
			res.Status[gp] = NotConverged
		} else {
			res.Status[gp] = Converged
		}
	}
}

// formWeights forms the weights and raw-row biases of the problems in Options.WeightsFor (all by default) from
// the final iterate, for all of them in one computation.
func formWeights(b compute.Backend, res *Result, opts Options, in *inputs, m *master, gd *groupData, active0 []bool) error {
	G, P, N, D := in.G, in.P, in.N, in.D
	sel := opts.WeightsFor
	if sel == nil {
		sel = make([]int, P)
		for p := range P {
			sel[p] = p
		}
	}
	if len(sel) == 0 {
		return nil
	}
	S := len(sel)
	alphaSel := make([]float32, G*S*N)
	biasSel := make([]float32, G*S)
	for g := range G {
		for k, p := range sel {
			copy(alphaSel[(g*S+k)*N:(g*S+k+1)*N], m.f[stAlpha][(g*P+p)*N:(g*P+p+1)*N])
			biasSel[g*S+k] = m.f[stB][g*P+p]
		}
	}
	weightsIn := []*tensors.Tensor{newTensor(b, alphaSel, G, S, N), newTensor(b, biasSel, G, S)}
	defer func() {
		for _, t := range weightsIn {
			_ = t.FinalizeAll()
		}
	}()
	data := gd.full[0]
	if in.form == FormKernel {
		data = gd.raw
	}
	outs, err := graph.ExecOnceN(b, weightsGraph(in.form), data, gd.y, weightsIn[0], weightsIn[1], gd.center)
	if err != nil {
		return fmt.Errorf("svm: forming the weights: %w", err)
	}
	defer func() {
		for _, t := range outs {
			_ = t.FinalizeAll()
		}
	}()
	w, err1 := tensors.CopyFlatData[float32](outs[0])
	bias, err2 := tensors.CopyFlatData[float32](outs[1])
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("svm: reading results: %w", err)
	}
	for g := range G {
		for k, p := range sel {
			gp := g*P + p
			if !active0[gp] {
				continue
			}
			copy(res.W[gp*D:(gp+1)*D], w[(g*S+k)*D:(g*S+k+1)*D])
			res.B[gp] = bias[g*S+k]
		}
	}
	return nil
}
