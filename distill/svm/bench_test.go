package svm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// benchProblems builds the failure-SVM workload of the benchmark data in Go: G groups of N unit-norm rows in D
// dimensions, 10–20 % of them (a planted subgroup, displaced along a random direction) mostly labelled −1, and per
// group 7 costs × (2 cross-validation folds + 1 refit) problems, as distill.Fit batches them.
func benchProblems(G, N, D int, pMin float64) *Problems {
	rng := rand.New(rand.NewPCG(uint64(G), uint64(N)))
	costs := []float64{1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1}
	P := len(costs) * 3
	pr := &Problems{G: G, N: N, D: D, P: P, X: make([]float32, G*N*D), Y: make([]int8, G*N), Member: make([]bool, G*P*N),
		C: make([]float64, G*P)}
	for g := range G {
		dir := make([]float64, D)
		for d := range dir {
			dir[d] = rng.NormFloat64() / math.Sqrt(float64(D))
		}
		for i := range N {
			z := rng.Float64() < pMin
			row := pr.X[(g*N+i)*D : (g*N+i+1)*D]
			var n float64
			for d := range row {
				v := rng.NormFloat64()
				if z {
					v += 2 * dir[d] * math.Sqrt(float64(D))
				}
				row[d] = float32(v)
				n += v * v
			}
			for d := range row {
				row[d] /= float32(math.Sqrt(n))
			}
			correct := !(z && rng.Float64() < 0.7)
			if rng.Float64() < 0.05 {
				correct = !correct
			}
			pr.Y[g*N+i] = -1
			if correct {
				pr.Y[g*N+i] = 1
			}
			for ci, c := range costs {
				for k := range 3 {
					p := ci*3 + k
					pr.C[g*P+p] = c
					pr.Member[(g*P+p)*N+i] = k == 2 || i%2 != k
				}
			}
		}
	}
	return pr
}

func benchmarkSolve(b *testing.B, G, N, D int) {
	pr := benchProblems(G, N, D, 0.15)
	be := goBackend(b)
	b.ResetTimer()
	var res *Result
	for range b.N {
		var err error
		if res, err = Solve(be, pr, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(res.LockstepIterations), "iterations")
	b.ReportMetric(float64(G*pr.P)/b.Elapsed().Seconds()*float64(b.N), "problems/s")
}

// BenchmarkSolveCelebALike: 2 groups × 4,500 rows × 512 features × 21 problems (half the benchmark's size).
func BenchmarkSolveCelebALike(b *testing.B) { benchmarkSolve(b, 2, 4500, 512) }

// BenchmarkSolveImageNetLike: 200 groups × 50 rows × 512 features × 21 problems (a fifth of the benchmark's classes).
func BenchmarkSolveImageNetLike(b *testing.B) { benchmarkSolve(b, 200, 50, 512) }
