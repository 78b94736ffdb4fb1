package backend

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// MatmulGFLOPS measures the float32 n×n by n×n matrix multiplication throughput of b, in GFLOP/s
// (2·n³ floating point operations per product). The graph is compiled and run once before timing;
// the best of reps timed runs is reported, so a briefly busy machine does not understate the rate. A cancelled ctx
// stops it between runs with an error wrapping ctx.Err().
func MatmulGFLOPS(ctx context.Context, b compute.Backend, n, reps int) (float64, error) {
	if n <= 0 || reps <= 0 {
		return 0, fmt.Errorf("matmul benchmark: n=%d and reps=%d must be positive", n, reps)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]float32, n*n)
	for i := range data {
		data[i] = rng.Float32() - 0.5
	}
	x := tensors.FromFlatDataAndDimensions(data, n, n)
	defer func() { _ = x.FinalizeAll() }()
	exec, err := graph.NewExec(b, func(a, c *graph.Node) *graph.Node { return graph.MatMul(a, c) })
	if err != nil {
		return 0, fmt.Errorf("matmul benchmark: compiling: %w", err)
	}
	defer exec.Finalize()
	run := func() error {
		out, err := exec.Call1(x, x)
		if err != nil {
			return err
		}
		// Pull the result to the host so asynchronous backends are timed to completion.
		_, err = tensors.CopyFlatData[float32](out)
		_ = out.FinalizeAll()
		return err
	}
	if err := run(); err != nil {
		return 0, fmt.Errorf("matmul benchmark: warm-up: %w", err)
	}
	best := time.Duration(1<<63 - 1)
	for range reps {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("matmul benchmark: %w", err)
		}
		start := time.Now()
		if err := run(); err != nil {
			return 0, fmt.Errorf("matmul benchmark: %w", err)
		}
		best = min(best, time.Since(start))
	}
	return 2 * float64(n) * float64(n) * float64(n) / best.Seconds() / 1e9, nil
}
