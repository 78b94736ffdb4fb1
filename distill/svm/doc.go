// Package svm trains many independent soft-margin linear SVMs at once, as one batched, compiled GoMLX computation.
//
//	pr, err := svm.NewProblems(b, groups, rows, dim, problemsPerGroup) // fill pr.X, pr.Y, pr.Member, pr.C
//	defer pr.Release()
//	res, err := svm.Solve(b, pr, svm.DefaultOptions())                 // res.W, res.B, res.Status, res.Gap
//
// # Problem
//
// Each problem p has a set of training rows (x_i, y_i), y_i in {−1, +1}, a cost C and per-row weights s_i, and
// is the standard soft-margin primal with an unregularised bias:
//
//	minimise over (w, b):  ½‖w‖² + C Σ_i s_i · max(0, 1 − y_i (w·x_i + b))
//
// With [Balanced] weighting s_i = n / (2 · count(y_i)), counted over the problem's own rows — scikit-learn's
// class_weight="balanced" for two classes. With [Uniform] weighting s_i = 1.
//
// Problems are organised in groups: the rows of a group (one class of a classifier, say) are stored once, and
// every problem of the group selects its training rows with a membership mask. The failure-direction recipe uses
// one group per class and, per group, one problem per (C, cross-validation fold) plus one refit per C; all of
// them are solved together.
//
// # Solver
//
// The dual, maximise Σα − ½‖Σ α_i y_i x_i‖² subject to 0 ≤ α_i ≤ C s_i and Σ α_i y_i = 0, is solved by
// accelerated projected gradient (FISTA) with:
//
//   - exact row centring: under the equality constraint Σ α_i y_i x_i does not change when a common vector is
//     subtracted from every row, so each group is centred on its mean, which removes the large eigenvalue a shared
//     offset would add and makes steps much longer (the bias absorbs the offset: b_uncentred = b − w·mean);
//   - projection onto the box ∩ hyperplane through its one-dimensional multiplier, found by three
//     Illinois (modified regula falsi) steps started from the previous multiplier inside a guaranteed bracket; the
//     multiplier times the step length is the bias b of the current iterate. When |Σ y_i a_i| is still above
//     1e-5 · Σ a_i after these steps the step is not taken, and the next iteration (same point, same step)
//     continues the root search from the bracket reached, so every accepted iterate is feasible;
//   - an adaptive step: the curvature of the quadratic along each step is measured at no extra cost (it is a
//     by-product of the matrix products the next step needs anyway); a step whose curvature exceeds the current
//     estimate L is rejected and L raised, an accepted step lowers L by 5 %, so steps follow the local curvature
//     rather than the global largest eigenvalue (often much larger);
//   - gradient-based adaptive restart of the momentum (O'Donoghue and Candès).
//
// All problems advance in lock step; a problem whose certificate is reached is frozen (its state stops changing),
// so the result of every problem is its first iterate that met the tolerance. The host runs the compiled solver
// in calls of [Options.ItersPerCall] iterations; between calls it repacks the problems still active into a
// smaller batch (fewer problems per group, and fewer groups when most are done), so converged problems stop costing
// anything: on the failure-direction workloads a handful of large-C problems run for most of the iterations.
//
// The returned decision values and certificates are those of the final iterate; the weights W and raw-row biases
// B are formed from it at the end, for the problems listed in [Options.WeightsFor] (all by default; the recipe
// needs only the refits).
//
// # Optimality certificate and tolerance
//
// Every [Options.CheckEvery] iterations each problem evaluates its primal objective P(w, b) at the current dual
// point's w = Σ α_i y_i x_i and bias b, and the dual objective D(α) = Σα − ½‖w‖², corrected for any residual
// of the equality constraint by −|b|·|Σ α_i y_i|. By weak duality P(w, b) − P* ≤ P(w, b) − D. A problem is
// converged when the relative duality gap (P − D) / max(|P|, 1e-30) is at most [Options.Tol] (default 1e-3:
// the objective of the returned solution is then within 0.1 % of the optimum, and by strong convexity in w,
// ½‖w − w*‖² ≤ P(w, b) − P*; the README gives the measured effect on the ranking). Arithmetic is float32: the
// certificate itself carries rounding of about 1e-6 to 1e-5 of the objective (more with very large C), so
// tolerances below about 1e-5 are not meaningful.
// The tests check the certificate against an exhaustive KKT solution of small problems and a float64 SMO solver.
//
// When the optimal bias is not unique (typically at tiny C, where every α_i sits at its upper bound and every row
// is inside the margin), the returned b is the one whose primal value was certified: any b of the optimal interval
// is optimal, and predictions at such C may or may not be constant.
//
// # The bias of libsvm ([BiasLibsvm])
//
// scikit-learn's SVC (libsvm's SMO) sets the bias by its ρ rule: the mean of y_i·∇_i over the free multipliers
// (0 < α_i < C s_i), or, when none is free, the middle of the interval the bounded ones allow. In the degenerate
// regime — α = C·s (every multiplier at its upper bound) is optimal, i.e. with w₀ = Σ C s_i y_i x_i,
// max_{y=+1} w₀·x − min_{y=−1} w₀·x ≤ 2, which holds below C ≈ 0.01 on classes of tens of rows — the optimum
// leaves b anywhere in an interval, and libsvm's answer depends on floating-point rounding: its SMO moves pairs of
// multipliers to their bounds, and the last update often leaves one of them a rounding error (~1e-15 relative)
// away from its bound. That multiplier counts as free, the bias is y_k − w·x_k ≈ ±1 for its row k, and every prediction is
// the same outcome (cross-validated balanced accuracy exactly 0.5). When the arithmetic happens to be exact (for
// instance when the two bounds are in a power-of-two ratio) no multiplier is free, the bias is the middle of the
// interval and the predictions are not constant. Which case occurs depends on the class counts, on C to the last
// bit and on the order in which libsvm's working-set selection visits the rows.
//
// With [Options.Bias] = BiasLibsvm, Solve detects degenerate problems (the test above, in float64) and, for groups
// of at most [LibsvmReplayMaxRows] rows, replays libsvm's solver on them: its second-order working-set selection,
// shrinking and gradient reconstruction, in float64 with libsvm's float32 kernel values, on the rows in libsvm's
// order (label −1, which scikit-learn sorts first and calls +1 internally, then label +1, each in problem order),
// with the bounds C·n/(2·count) computed as scikit-learn does. The tests check the replay against scikit-learn on
// small problems; the project README gives the agreement measured on larger benchmarks. The replay needs the
// group's kernel matrix (N²·D operations): above LibsvmReplayMaxRows rows a count-based rule is used instead, which
// performs libsvm's bound-to-bound updates in problem order rather than in the data-dependent order of its
// working-set selection; it agreed with scikit-learn on about 95% of the degenerate problems of 150 classes of the
// ImageNet-like benchmark. Replayed problems report status Converged, libsvm's iteration count and the duality gap
// of libsvm's solution (libsvm stops at a KKT violation of 1e-3, so the gap is small but not zero). Problems
// outside the degenerate regime are solved as with BiasAny: their optimal bias is (generically) unique.
//
// # Forms
//
// Products Q·v with Q = diag(y) X Xᵀ diag(y) are computed either from the features, two matrix products per
// iteration ([FormFeature]), or from a precomputed per-group Gram matrix, one product per iteration ([FormKernel],
// cheaper when a group has fewer rows than features). [FormAuto] picks the kernel form when N ≤ D.
//
// # Debugging
//
// FAILDIRS_SVM_DEBUG=1 in the environment prints, per executable call, the batch shape and its wall time, and the
// time of each repacking, to stderr.
//
// # Backends and memory
//
// [NewProblems] allocates the rows in device memory on backends that share it with the host (the Go backend), so
// filling them in place costs no extra copy.
//
// The computation is plain GoMLX (DotGeneral, element-wise ops, reductions), so it should run on any backend; the
// tests run it on the pure Go backend. Obtain a backend from package github.com/faildirs/faildirs/distill/backend. On the pure Go backend matrix products use SIMD
// kernels (build with GOEXPERIMENT=simd) but element-wise operations are scalar, so the solver keeps the
// element-wise work per iteration small.
package svm
