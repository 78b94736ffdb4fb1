package svm

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// Weighting selects the per-row weights s_i of the hinge loss.
type Weighting int

const (
	// Balanced weights each row by n / (2 · count of its label), counted over the problem's own rows
	// (scikit-learn's class_weight="balanced").
	Balanced Weighting = iota
	// Uniform weights every row by 1.
	Uniform
)

// String returns "balanced" or "uniform".
func (w Weighting) String() string {
	switch w {
	case Balanced:
		return "balanced"
	case Uniform:
		return "uniform"
	}
	return fmt.Sprintf("Weighting(%d)", int(w))
}

// Problems is a batch of independent SVM problems sharing data by group (see the package documentation).
//
// Index conventions (all slices row-major): X[(g·N + i)·D + d], Y[g·N + i], Member[(g·P + p)·N + i], C[g·P + p].
type Problems struct {
	// G is the number of groups, N the number of rows per group (groups with fewer rows pad with Y = 0),
	// D the number of features and P the number of problems per group.
	G, N, D, P int
	// X holds the rows of every group, G×N×D.
	X []float32
	// Y holds the labels, G×N: +1 or −1; 0 marks an unused padding row.
	Y []int8
	// Member selects, G×P×N, the training rows of each problem. Padding rows must not be members.
	Member []bool
	// C holds each problem's cost, G×P; it must be positive and finite.
	C []float64
	// Weighting of the rows (default Balanced).
	Weighting Weighting

	// xTensor, when set by NewProblems, holds X on the device (sharing its memory on backends with shared
	// buffers), so Solve does not copy it.
	xTensor  *tensors.Tensor
	xBackend compute.Backend
}

// NewProblems allocates Problems of the given sizes. On backends whose buffers are shared with the host (the Go
// backend) X is allocated in device memory, so filling it in place and calling [Solve] with the same backend
// avoids copying it; elsewhere it behaves like a plain allocation. Call [Problems.Release] when done.
func NewProblems(b compute.Backend, G, N, D, P int) (*Problems, error) {
	if G <= 0 || N <= 0 || D <= 0 || P <= 0 {
		return nil, fmt.Errorf("svm: G=%d, N=%d, D=%d and P=%d must all be positive", G, N, D, P)
	}
	pr := &Problems{G: G, N: N, D: D, P: P, Y: make([]int8, G*N), Member: make([]bool, G*P*N), C: make([]float64, G*P)}
	if b != nil && b.HasSharedBuffers() {
		t, err := tensors.FromShapeForBackend(b, 0, shapes.Make(dtypes.Float32, G, N, D))
		if err == nil {
			tensors.MustMutableFlatData[float32](t, func(flat []float32) { pr.X = flat })
			pr.xTensor, pr.xBackend = t, b
			return pr, nil
		}
	}
	pr.X = make([]float32, G*N*D)
	return pr, nil
}

// Release frees the device memory of Problems made by [NewProblems] (X must not be used afterwards).
func (pr *Problems) Release() {
	if pr.xTensor != nil {
		_ = pr.xTensor.FinalizeAll()
		pr.xTensor, pr.X = nil, nil
	}
}

// Validate checks sizes and values and returns an error naming the first offending entry.
func (pr *Problems) Validate() error {
	if pr == nil {
		return fmt.Errorf("svm: nil problems")
	}
	if pr.G <= 0 || pr.N <= 0 || pr.D <= 0 || pr.P <= 0 {
		return fmt.Errorf("svm: G=%d, N=%d, D=%d and P=%d must all be positive", pr.G, pr.N, pr.D, pr.P)
	}
	if got, want := len(pr.X), pr.G*pr.N*pr.D; got != want {
		return fmt.Errorf("svm: len(X)=%d, want G·N·D=%d", got, want)
	}
	if got, want := len(pr.Y), pr.G*pr.N; got != want {
		return fmt.Errorf("svm: len(Y)=%d, want G·N=%d", got, want)
	}
	if got, want := len(pr.Member), pr.G*pr.P*pr.N; got != want {
		return fmt.Errorf("svm: len(Member)=%d, want G·P·N=%d", got, want)
	}
	if got, want := len(pr.C), pr.G*pr.P; got != want {
		return fmt.Errorf("svm: len(C)=%d, want G·P=%d", got, want)
	}
	if pr.Weighting != Balanced && pr.Weighting != Uniform {
		return fmt.Errorf("svm: unknown weighting %d", int(pr.Weighting))
	}
	for i, v := range pr.X {
		if v-v != 0 { // NaN or ±Inf
			g, r := i/(pr.N*pr.D), (i/pr.D)%pr.N
			return fmt.Errorf("svm: X[group %d, row %d, feature %d] = %v is not finite", g, r, i%pr.D, v)
		}
	}
	for i, y := range pr.Y {
		if y != 1 && y != -1 && y != 0 {
			return fmt.Errorf("svm: Y[group %d, row %d] = %d, want +1, -1 or 0 (padding)", i/pr.N, i%pr.N, y)
		}
	}
	for i, m := range pr.Member {
		if m && pr.Y[(i/(pr.P*pr.N))*pr.N+i%pr.N] == 0 {
			g, p := i/(pr.P*pr.N), (i/pr.N)%pr.P
			return fmt.Errorf("svm: problem (group %d, %d) has padding row %d (Y=0) as a member", g, p, i%pr.N)
		}
	}
	for i, c := range pr.C {
		if !(c > 0) || math.IsInf(c, 0) {
			return fmt.Errorf("svm: C[group %d, problem %d] = %v, want a positive finite cost", i/pr.P, i%pr.P, c)
		}
	}
	return nil
}

// Status describes how a problem ended.
type Status int

const (
	// Converged: the relative duality gap reached the tolerance.
	Converged Status = iota
	// NotConverged: the iteration limit was reached first; Gap says how far from optimal the result is.
	NotConverged
	// OneClass: all training rows have the same label. The optimum is w = 0, b = that label (every row exactly on
	// its margin, zero loss); it is returned without iterating.
	OneClass
	// Empty: the problem has no training rows; w = 0, b = 0.
	Empty
)

// String returns a short lower-case name.
func (s Status) String() string {
	switch s {
	case Converged:
		return "converged"
	case NotConverged:
		return "not-converged"
	case OneClass:
		return "one-class"
	case Empty:
		return "empty"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// upperBounds computes u = C·s for every (group, problem, row), zero for non-members, and per problem the
// numbers of positive and negative members.
func (pr *Problems) upperBounds() (u []float32, npos, nneg []int) {
	G, N, P := pr.G, pr.N, pr.P
	u = make([]float32, G*P*N)
	npos = make([]int, G*P)
	nneg = make([]int, G*P)
	for g := range G {
		for p := range P {
			gp := g*P + p
			base := gp * N
			for i := range N {
				if !pr.Member[base+i] {
					continue
				}
				if pr.Y[g*N+i] > 0 {
					npos[gp]++
				} else {
					nneg[gp]++
				}
			}
			if npos[gp] == 0 || nneg[gp] == 0 {
				continue // trivial problem: no iterations, u stays 0
			}
			n := float64(npos[gp] + nneg[gp])
			wPos, wNeg := 1.0, 1.0
			if pr.Weighting == Balanced {
				wPos, wNeg = n/(2*float64(npos[gp])), n/(2*float64(nneg[gp]))
			}
			c := pr.C[gp]
			for i := range N {
				if !pr.Member[base+i] {
					continue
				}
				if pr.Y[g*N+i] > 0 {
					u[base+i] = float32(c * wPos)
				} else {
					u[base+i] = float32(c * wNeg)
				}
			}
		}
	}
	return u, npos, nneg
}
