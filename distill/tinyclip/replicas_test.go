package tinyclip

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// TestDataParallelEqualsMeanGradientStep checks the optimizer step of dataParallel on a least-squares model: with
// two replicas it must equal a plain training step on the mean of the two replicas' losses (the gradient of a mean
// is the mean of the gradients), and with one replica a plain step on its loss.
func TestDataParallelEqualsMeanGradientStep(t *testing.T) {
	b := goBackend(t)
	// loss_r = mean((x_r·w + c − y_r)²) for a [3] weight w and a scalar c.
	lossOf := func(scope *model.Scope, x, y *graph.Node) *graph.Node {
		g := x.Graph()
		w := scope.WithInitializer(initializer.Zero).VariableWithShape("w", shapes.Make(dtypes.Float32, 3, 1)).NodeValue(g)
		c := scope.WithInitializer(initializer.Zero).VariableWithShape("c", shapes.Make(dtypes.Float32)).NodeValue(g)
		d := graph.Sub(graph.Add(graph.Dot(x, w).Product(), c), y)
		return graph.ReduceAllMean(graph.Square(d))
	}
	xs := [][]float32{{1, 2, 3, 0, 1, 0, 2, 2, 1, 1, 1, 1}, {3, 0, 1, 1, 1, 2, 0, 0, 1, 2, 1, 0}}
	ys := [][]float32{{1, 2, 3, 4}, {-1, 0, 2, 5}}
	batch := func(r int) []*tensors.Tensor {
		return []*tensors.Tensor{tensors.FromFlatDataAndDimensions(xs[r], 4, 3), tensors.FromFlatDataAndDimensions(ys[r], 4, 1)}
	}
	values := func(s *model.Store) []float32 {
		var out []float32
		for _, name := range []string{"/w", "/c"} {
			v, err := s.GetVariable(name).Value()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, tensors.MustCopyFlatData[float32](v)...)
		}
		return out
	}
	newStore := func() *model.Store {
		s := model.NewStore()
		// Create the variables (a dataParallel needs them before it is built).
		if _, err := model.ExecOnceN(b, s, func(scope *model.Scope, x, y *graph.Node) *graph.Node {
			return lossOf(scope, x, y)
		}, batch(0)[0], batch(0)[1]); err != nil {
			t.Fatal(err)
		}
		return s
	}
	noSchedule := func(*model.Scope, *graph.Graph) {}
	// Plain SGD: unlike Adam, its step is proportional to the gradient, so a wrong scale shows.
	sgd := func() optimizer.Interface {
		return optimizer.StochasticGradientDescent().WithDecay(false).WithLearningRate(0.05)
	}
	for _, replicas := range []int{1, 2} {
		// Reference: the Trainer on the mean of the replicas' losses, all inputs in one graph.
		ref := newStore()
		refTrainer := train.NewTrainer(b, ref, train.ModelFn(func(scope *model.Scope, _ any, in []*graph.Node) []*graph.Node {
			var sum *graph.Node
			for r := range replicas {
				l := lossOf(scope, in[2*r], in[2*r+1])
				if sum == nil {
					sum = l
				} else {
					sum = graph.Add(sum, l)
				}
			}
			loss := graph.DivScalar(sum, float64(replicas))
			train.AddMainLoss(loss)
			return []*graph.Node{loss}
		}), nil, sgd(), nil, nil)

		got := newStore()
		dp, err := newDataParallel(b, got, func(scope *model.Scope, in []*graph.Node) *graph.Node {
			return lossOf(scope, in[0], in[1])
		}, noSchedule, sgd())
		if err != nil {
			t.Fatal(err)
		}
		for step := range 3 {
			var all []*tensors.Tensor
			var parts [][]*tensors.Tensor
			for r := range replicas {
				all = append(all, batch(r)...)
				parts = append(parts, batch(r))
			}
			if _, err := refTrainer.TrainStep(train.Batch{Inputs: all}); err != nil {
				t.Fatal(err)
			}
			loss, err := dp.step(parts)
			if err != nil {
				t.Fatal(err)
			}
			if math.IsNaN(loss) || loss <= 0 {
				t.Fatalf("replicas %d step %d: loss %v", replicas, step, loss)
			}
			want, have := values(ref), values(got)
			for i := range want {
				if math.Abs(float64(want[i]-have[i])) > 1e-6 {
					t.Fatalf("replicas %d step %d: variable %d is %v, want %v (a plain step on the mean loss)", replicas, step, i, have[i], want[i])
				}
			}
			if step > 0 && want[0] == 0 {
				t.Fatalf("replicas %d: the weights did not move", replicas)
			}
		}
		dp.finalize()
		refTrainer.ResetComputationGraphs()
	}
}
