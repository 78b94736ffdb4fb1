package tinyclip

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// dataParallel makes one optimizer step from several contrastive batches (replicas): the loss and gradients of
// each replica in an execution of its own, all replicas concurrently, then one optimizer step on their mean
// gradient.
//
// The Go backend runs a graph's nodes one after the other and spreads only large matmuls over the cores; the
// tiny CLIP's ops are small, so one execution keeps about one core busy, and concurrent executions of the
// replicas keep every core busy.
type dataParallel struct {
	vars    []*model.Variable // the trainable variables, in the order of the gradient outputs
	grad    *model.Exec       // a replica's inputs → its loss, then ∇loss for each of vars
	trainer *train.Trainer    // the replicas' gradients → one optimizer step on their mean
}

// newDataParallel prepares the executions on backend b for the trainable variables of store (which must exist
// already). loss builds a replica's loss from its inputs; schedule adds the per-step pieces of the optimizer's
// graph (the learning-rate schedule).
func newDataParallel(b compute.Backend, store *model.Store, loss func(scope *model.Scope, in []*graph.Node) *graph.Node,
	schedule func(scope *model.Scope, g *graph.Graph), opt optimizer.Interface) (*dataParallel, error) {
	d := &dataParallel{}
	for v := range store.IterVariables() {
		if v.Trainable {
			d.vars = append(d.vars, v)
		}
	}
	if len(d.vars) == 0 {
		return nil, errors.New("tinyclip: the model has no trainable variables")
	}
	var err error
	d.grad, err = model.NewExec(b, store, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		g := in[0].Graph()
		scope.SetTraining(g, true) // variables enter as parameters, never as constants of the graph
		l := loss(scope, in)
		nodes := make([]*graph.Node, len(d.vars))
		for i, v := range d.vars {
			nodes[i] = v.NodeValue(g)
		}
		return append([]*graph.Node{l}, graph.Gradient(l, nodes...)...)
	})
	if err != nil {
		return nil, fmt.Errorf("tinyclip: gradient executable: %w", err)
	}
	// The optimizer minimises a surrogate whose gradient with respect to each variable v is the replicas' mean
	// gradient g_v: Σ_v ⟨stop_gradient(g_v), v⟩. Its value means nothing; the replicas' losses are reported.
	nv := len(d.vars)
	step := func(scope *model.Scope, _ any, in []*graph.Node) []*graph.Node {
		g := in[0].Graph()
		schedule(scope, g)
		replicas := len(in) / nv
		var surrogate *graph.Node
		for i, v := range d.vars {
			sum := in[i]
			for r := 1; r < replicas; r++ {
				sum = graph.Add(sum, in[r*nv+i])
			}
			mean := graph.StopGradient(graph.DivScalar(sum, float64(replicas)))
			term := graph.ReduceAllSum(graph.Mul(mean, v.NodeValue(g)))
			if surrogate == nil {
				surrogate = term
			} else {
				surrogate = graph.Add(surrogate, term)
			}
		}
		train.AddMainLoss(surrogate)
		return []*graph.Node{surrogate}
	}
	d.trainer = train.NewTrainer(b, store, train.ModelFn(step), nil, opt, nil, nil)
	return d, nil
}

// step computes the gradients of every replica (each a list of input tensors) concurrently, applies one optimizer
// step on their mean and returns the replicas' mean loss. The input tensors are released.
func (d *dataParallel) step(replicas [][]*tensors.Tensor) (float64, error) {
	outs := make([][]*tensors.Tensor, len(replicas))
	errs := make([]error, len(replicas))
	var wg sync.WaitGroup
	for r, in := range replicas {
		wg.Go(func() {
			args := make([]any, len(in))
			for i, t := range in {
				args[i] = t
			}
			outs[r], errs[r] = d.grad.Call(args...)
			for _, t := range in {
				_ = t.FinalizeAll()
			}
		})
	}
	wg.Wait()
	defer func() {
		for _, o := range outs {
			for _, t := range o {
				_ = t.FinalizeAll()
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	var loss float64
	grads := make([]*tensors.Tensor, 0, len(replicas)*len(d.vars))
	for _, o := range outs {
		l, err := scalar(o[0])
		if err != nil {
			return 0, fmt.Errorf("reading the loss: %w", err)
		}
		loss += l / float64(len(replicas))
		grads = append(grads, o[1:]...)
	}
	metrics, err := d.trainer.TrainStep(train.Batch{Inputs: grads})
	for _, t := range metrics {
		_ = t.FinalizeAll()
	}
	return loss, err
}

// finalize releases the compiled executables (the optimizer's variables stay in the store until Clear).
func (d *dataParallel) finalize() {
	d.grad.Finalize()
	d.trainer.ResetComputationGraphs()
}
