package clip

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// ImageFLOPs returns the floating-point operations (multiply and add counted separately) of one image through
// the vision tower and projection: patch embedding, per layer the four attention projections, scores and
// weighted sum, and the MLP.
func (c Config) ImageFLOPs() float64 {
	v := c.Vision
	n := float64(v.NumPatches())
	s, d, i := n+1, float64(v.HiddenSize), float64(v.IntermediateSize)
	patch := 2 * n * float64(v.NumChannels*v.PatchSize*v.PatchSize) * d
	layer := 8*s*d*d + 4*s*s*d + 4*s*d*i
	return patch + float64(v.NumHiddenLayers)*layer + 2*d*float64(c.ProjectionDim)
}

// TextFLOPs returns the floating-point operations of one text of length tokens through the text tower and
// projection (attention over all tokens counted, as a dense causal implementation computes it).
func (c Config) TextFLOPs(length int) float64 {
	t := c.Text
	s, d, i := float64(length), float64(t.HiddenSize), float64(t.IntermediateSize)
	layer := 8*s*d*d + 4*s*s*d + 4*s*d*i
	return float64(t.NumHiddenLayers)*layer + 2*d*float64(c.ProjectionDim)
}

// BenchResult is the throughput of one tower at one batch size.
type BenchResult struct {
	// Batch is the batch size.
	Batch int `json:"batch"`
	// Length is the text length in tokens (0 for images).
	Length int `json:"length,omitempty"`
	// PerSecond is items (images or texts) per second, from the median timed run.
	PerSecond float64 `json:"per_second"`
	// GFLOPS is the achieved GFLOP/s of the median run.
	GFLOPS float64 `json:"gflops"`
	// Runs holds every timed run, in seconds.
	Runs []float64 `json:"runs_s"`
	// Compile is the first (untimed) call's duration in seconds, compilation included.
	Compile float64 `json:"first_call_s"`
}

// BenchImages times the vision tower on random pixel batches: one untimed call (compiles), then runs timed calls;
// the median is reported. A cancelled ctx stops it between calls with an error wrapping ctx.Err().
func (m *Model) BenchImages(ctx context.Context, batch, runs int) (BenchResult, error) {
	v := m.Config.Vision
	rng := rand.New(rand.NewPCG(1, 2))
	px := make([]float32, batch*v.NumChannels*v.ImageSize*v.ImageSize)
	for i := range px {
		px[i] = float32(rng.NormFloat64())
	}
	res, err := timeRuns(ctx, runs, func() error {
		_, _, err := m.ImageFeaturesTensor(px, batch)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("clip bench images: %w", err)
	}
	res.Batch = batch
	res.PerSecond = float64(batch) / median(res.Runs)
	res.GFLOPS = res.PerSecond * m.Config.ImageFLOPs() / 1e9
	return res, nil
}

// BenchTexts times the text tower on random ids of the given length, each row ending with EOS (pooled at the
// last position, so no position is cut off). A cancelled ctx stops it between calls.
func (m *Model) BenchTexts(ctx context.Context, batch, length, runs int) (BenchResult, error) {
	t := m.Config.Text
	rng := rand.New(rand.NewPCG(3, 4))
	ids := make([]int32, batch*length)
	eos := make([]int32, batch)
	for r := range batch {
		for j := range length {
			ids[r*length+j] = int32(rng.IntN(t.VocabSize - 1))
		}
		ids[r*length+length-1] = int32(t.VocabSize - 1)
		eos[r] = int32(length - 1)
	}
	res, err := timeRuns(ctx, runs, func() error {
		_, _, err := m.TextFeaturesTensor(ids, batch, length, eos)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("clip bench texts: %w", err)
	}
	res.Batch, res.Length = batch, length
	res.PerSecond = float64(batch) / median(res.Runs)
	res.GFLOPS = res.PerSecond * m.Config.TextFLOPs(length) / 1e9
	return res, nil
}

func timeRuns(ctx context.Context, runs int, fn func() error) (BenchResult, error) {
	var res BenchResult
	if runs < 1 {
		return res, fmt.Errorf("runs = %d must be at least 1", runs)
	}
	start := time.Now()
	if err := fn(); err != nil {
		return res, err
	}
	res.Compile = time.Since(start).Seconds()
	for range runs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		start := time.Now()
		if err := fn(); err != nil {
			return res, err
		}
		res.Runs = append(res.Runs, time.Since(start).Seconds())
	}
	return res, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
