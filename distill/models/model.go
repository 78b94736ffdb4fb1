package models

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/progress"
)

// Examples is what Train and Predict read: labelled images fetched in batches by index. *data.ImageSplit implements it.
type Examples interface {
	// Len is the number of examples.
	Len() int
	// Label returns the class of example i.
	Label(i int) int
	// Batch returns the examples at idx as RGB images of h×w pixels.
	Batch(idx []int, h, w int) (*data.Images, error)
}

// Classifier is a base classifier (the model whose failures the method explains): its configuration and its
// variables, on one backend.
type Classifier struct {
	// Config is the architecture (with defaults applied).
	Config Config
	// Conv selects the convolution implementation; ConvAuto (the default) resolves per backend.
	Conv ConvImpl

	backend compute.Backend
	store   *model.Store
	trainer *train.Trainer
	trainLR float64
	trainWD float64
	predict *model.Exec
}

// New creates an untrained model. seed fixes the initial weights.
func New(b compute.Backend, cfg Config, seed uint64) (*Classifier, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(int64(seed)); err != nil {
		return nil, fmt.Errorf("models: seeding: %w", err)
	}
	return &Classifier{Config: cfg, backend: b, store: store}, nil
}

// Backend returns the backend the model runs on.
func (m *Classifier) Backend() compute.Backend { return m.backend }

// NumParameters returns the number of trainable network parameters, as PyTorch counts them (batch-norm running
// statistics excluded); 0 before the first Train or Predict creates the variables.
func (m *Classifier) NumParameters() int {
	n := 0
	for v := range m.store.IterVariables() {
		if isNetVar(v.Path()) && v.Trainable {
			n += v.Shape().Size()
		}
	}
	return n
}

func (m *Classifier) convImpl() ConvImpl {
	if m.Conv != ConvAuto {
		return m.Conv
	}
	// The pure Go backend names itself "Go Backend" (its configuration name is "go").
	if strings.HasPrefix(strings.ToLower(m.backend.Name()), "go") {
		return ConvIm2col
	}
	return ConvNative
}

// TrainOptions configures Train. Zero values take the defaults given on each field.
type TrainOptions struct {
	// Epochs is the number of passes over the data. Default 5.
	Epochs int
	// BatchSize is the number of examples per step. Default 128. Every step uses a full batch: the examples are
	// reshuffled every epoch and the last partial batch is dropped (so batch norm never sees padding); a set
	// smaller than one batch becomes one batch.
	BatchSize int
	// LearningRate of Adam. Default 1e-3.
	LearningRate float64
	// WeightDecay is Adam's decoupled weight decay (AdamW). Default 0.
	WeightDecay float64
	// Weights are per-example loss weights (interventions), len = number of examples; nil means all 1. They are
	// rescaled to mean 1, so only their ratios matter; zero weights drop examples; negative ones are an error.
	Weights []float32
	// Seed fixes the order of the examples (and, with Flip, the flips).
	Seed uint64
	// Flip randomly mirrors images left-right (augmentation; off by default).
	Flip bool
	// Progress receives the progress bar (one step per batch); nil means the progress package's default
	// (stderr, or an HTML bar in GoNB); io.Discard silences it.
	Progress io.Writer
	// Log receives one line per epoch; nil means none.
	Log io.Writer
	// Eval, when set, is scored (accuracy) after every epoch and reported in EpochStats and Log.
	Eval Examples
	// Checkpoint, when set, is the path the model is saved to (atomically) after every epoch.
	Checkpoint string
}

// EpochStats reports one epoch of training.
type EpochStats struct {
	Epoch int `json:"epoch"`
	// Loss is the mean (weighted) training loss of the epoch's steps.
	Loss float64 `json:"loss"`
	// EvalAccuracy is the accuracy on TrainOptions.Eval (NaN without it).
	EvalAccuracy float64 `json:"eval_accuracy"`
	// Seconds is the wall-clock time of the epoch (including graph compilation in the first).
	Seconds float64 `json:"seconds"`
}

// Train fits the model to ex with Adam and a (weighted) softmax cross-entropy loss. Calling it again continues
// training (the optimizer state is kept while the learning rate and weight decay stay the same).
func (m *Classifier) Train(ctx context.Context, ex Examples, opts TrainOptions) ([]EpochStats, error) {
	if opts.Epochs == 0 {
		opts.Epochs = 5
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = 128
	}
	if opts.LearningRate == 0 {
		opts.LearningRate = 1e-3
	}
	n := ex.Len()
	if n == 0 {
		return nil, fmt.Errorf("models: train: no examples")
	}
	if opts.Epochs < 0 || opts.BatchSize < 0 || opts.LearningRate < 0 || opts.WeightDecay < 0 {
		return nil, fmt.Errorf("models: train: negative option in epochs=%d batch=%d lr=%g wd=%g", opts.Epochs, opts.BatchSize, opts.LearningRate, opts.WeightDecay)
	}
	weights, err := normaliseWeights(opts.Weights, n)
	if err != nil {
		return nil, err
	}
	for i := range n {
		if l := ex.Label(i); l < 0 || l >= m.Config.NumClasses {
			return nil, fmt.Errorf("models: train: example %d has label %d outside [0,%d)", i, l, m.Config.NumClasses)
		}
	}
	bs := min(opts.BatchSize, n)
	steps := n / bs
	if m.trainer == nil || m.trainLR != opts.LearningRate || m.trainWD != opts.WeightDecay {
		m.newTrainer(opts.LearningRate, opts.WeightDecay)
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	bar := progress.New(opts.Progress, fmt.Sprintf("train %s", m.Config.Arch), opts.Epochs*steps)
	defer bar.Done()
	var stats []EpochStats
	m.weightsChanged()
	defer m.weightsChanged() // also when interrupted mid-epoch
	for epoch := 1; epoch <= opts.Epochs; epoch++ {
		start := time.Now()
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		var sum float64
		for s := range steps {
			if err := ctx.Err(); err != nil {
				return stats, err
			}
			idx := order[s*bs : (s+1)*bs]
			x, y, w, err := m.batchTensors(ex, idx, weights, opts.Flip, rng)
			if err != nil {
				return stats, fmt.Errorf("models: train epoch %d: %w", epoch, err)
			}
			metrics, err := m.trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y, w}})
			if err != nil {
				return stats, fmt.Errorf("models: train epoch %d step %d: %w", epoch, s, err)
			}
			l, err := scalarOf(metrics[0])
			for _, t := range metrics {
				_ = t.FinalizeAll()
			}
			if err != nil {
				return stats, fmt.Errorf("models: train epoch %d step %d: reading loss: %w", epoch, s, err)
			}
			if math.IsNaN(l) || math.IsInf(l, 0) {
				return stats, fmt.Errorf("models: train epoch %d step %d: loss is %v (lower the learning rate)", epoch, s, l)
			}
			sum += l
			bar.Add(1)
		}
		m.weightsChanged()
		st := EpochStats{Epoch: epoch, Loss: sum / float64(max(steps, 1)), EvalAccuracy: math.NaN()}
		if opts.Eval != nil {
			out, err := m.Predict(ctx, opts.Eval, PredictOptions{BatchSize: opts.BatchSize, Progress: io.Discard})
			if err != nil {
				return stats, fmt.Errorf("models: train epoch %d: eval: %w", epoch, err)
			}
			st.EvalAccuracy = out.Accuracy()
		}
		st.Seconds = time.Since(start).Seconds()
		stats = append(stats, st)
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "epoch %d/%d: loss %.4f", epoch, opts.Epochs, st.Loss)
			if opts.Eval != nil {
				fmt.Fprintf(opts.Log, ", eval accuracy %.4f", st.EvalAccuracy)
			}
			fmt.Fprintf(opts.Log, " (%.1fs)\n", st.Seconds)
		}
		if opts.Checkpoint != "" {
			if err := m.Save(opts.Checkpoint); err != nil {
				return stats, err
			}
		}
	}
	return stats, nil
}

// weightsChanged drops the compiled inference executable after the weights changed. Backends that prefer
// constants for variables (the Go backend) make GoMLX embed the weights of an inference graph as constants when
// it is compiled, so an executable compiled before a training step would keep predicting with the old weights.
func (m *Classifier) weightsChanged() {
	if m.predict != nil {
		m.predict.Finalize()
		m.predict = nil
	}
}

func (m *Classifier) newTrainer(lr, wd float64) {
	cfg, impl := m.Config, m.convImpl()
	modelFn := func(scope *model.Scope, x *graph.Node) *graph.Node {
		logits, _ := forward(scope, cfg, impl, x)
		return logits
	}
	opt := optimizer.Adam().LearningRate(lr)
	if wd > 0 {
		opt = opt.WeightDecay(wd)
	}
	m.trainer = train.NewTrainer(m.backend, m.store, modelFn, loss.SparseCategoricalCrossEntropyLogits, opt.Done(), nil, nil)
	m.trainLR, m.trainWD = lr, wd
}

// normaliseWeights checks per-example weights and rescales them to mean 1 (nil stays nil: all ones).
func normaliseWeights(w []float32, n int) ([]float32, error) {
	if w == nil {
		return nil, nil
	}
	if len(w) != n {
		return nil, fmt.Errorf("models: train: %d weights for %d examples", len(w), n)
	}
	var sum float64
	for i, v := range w {
		if v < 0 || math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("models: train: weight %d is %v (weights must be finite and >= 0)", i, v)
		}
		sum += float64(v)
	}
	if sum == 0 {
		return nil, fmt.Errorf("models: train: all %d weights are zero", n)
	}
	scale := float64(n) / sum
	out := make([]float32, n)
	for i, v := range w {
		out[i] = float32(float64(v) * scale)
	}
	return out, nil
}

// batchTensors builds the input [B,H,W,3] float32, labels [B,1] int32 and weights [B] float32 of one batch.
func (m *Classifier) batchTensors(ex Examples, idx []int, weights []float32, flip bool, rng *rand.Rand) (x, y, w *tensors.Tensor, err error) {
	im, err := ex.Batch(idx, m.Config.H, m.Config.W)
	if err != nil {
		return nil, nil, nil, err
	}
	if im.N != len(idx) || im.H != m.Config.H || im.W != m.Config.W || im.C != 3 {
		return nil, nil, nil, fmt.Errorf("batch has %dx%dx%dx%d images, model wants %dx%dx%dx3", im.N, im.H, im.W, im.C, len(idx), m.Config.H, m.Config.W)
	}
	pix := im.Float32()
	if flip {
		rowLen := im.W * 3
		for k := range im.N {
			if rng.IntN(2) == 0 {
				continue
			}
			for r := range im.H {
				row := pix[(k*im.H+r)*rowLen : (k*im.H+r+1)*rowLen]
				for a, b := 0, im.W-1; a < b; a, b = a+1, b-1 {
					for c := range 3 {
						row[3*a+c], row[3*b+c] = row[3*b+c], row[3*a+c]
					}
				}
			}
		}
	}
	labels := make([]int32, len(idx))
	wts := make([]float32, len(idx))
	for k, i := range idx {
		labels[k] = int32(ex.Label(i))
		wts[k] = 1
		if weights != nil {
			wts[k] = weights[i]
		}
	}
	x = tensors.FromFlatDataAndDimensions(pix, im.N, im.H, im.W, 3)
	y = tensors.FromFlatDataAndDimensions(labels, len(idx), 1)
	w = tensors.FromFlatDataAndDimensions(wts, len(idx))
	return x, y, w, nil
}

func scalarOf(t *tensors.Tensor) (float64, error) {
	switch v := t.Value().(type) {
	case float32:
		return float64(v), nil
	case float64:
		return v, nil
	}
	return 0, fmt.Errorf("unexpected loss value %v (%s)", t.Value(), t.Shape())
}

// PredictOptions configures Predict.
type PredictOptions struct {
	// BatchSize is the number of examples per call (default 256). The last batch is padded, so one graph serves all.
	BatchSize int
	// Features also returns the penultimate features.
	Features bool
	// Progress receives the progress bar (see TrainOptions.Progress).
	Progress io.Writer
}

// Output holds the predictions for a set of examples, in order.
type Output struct {
	// Labels are the true classes, Preds the arg-max predictions.
	Labels, Preds []int
	// Conf is the softmax probability of the true class.
	Conf []float32
	// Probs is the softmax output: one row of NumClasses probabilities per example.
	Probs matrix.Dense
	// Features are the penultimate activations, one row of Config.FeatureDim() values per example (only with
	// PredictOptions.Features; a latent space of its own).
	Features matrix.Dense
}

// Accuracy is the fraction of correct predictions (NaN when empty).
func (o *Output) Accuracy() float64 {
	if len(o.Labels) == 0 {
		return math.NaN()
	}
	c := 0
	for i, l := range o.Labels {
		if o.Preds[i] == l {
			c++
		}
	}
	return float64(c) / float64(len(o.Labels))
}

// ForSplit returns the predictions as data.Predictions with the split's IDs and groups attached (for CSV export and
// group metrics). The split must be the one that was predicted.
func (o *Output) ForSplit(s *data.ImageSplit) (*data.Predictions, error) {
	if s.Len() != len(o.Labels) {
		return nil, fmt.Errorf("models: %d predictions for split %q of %d examples", len(o.Labels), s.Name, s.Len())
	}
	p := &data.Predictions{IDs: s.IDs, Labels: o.Labels, Preds: o.Preds, Conf: o.Conf, Groups: s.Groups}
	return p, p.Validate()
}

// Predict runs the model (in inference mode) on every example.
func (m *Classifier) Predict(ctx context.Context, ex Examples, opts PredictOptions) (*Output, error) {
	if opts.BatchSize == 0 {
		opts.BatchSize = 256
	}
	n := ex.Len()
	bs := max(1, min(opts.BatchSize, n))
	if m.predict == nil {
		cfg, impl := m.Config, m.convImpl()
		exec, err := model.NewExec(m.backend, m.store, func(scope *model.Scope, x *graph.Node) []*graph.Node {
			logits, feats := forward(scope, cfg, impl, x)
			return []*graph.Node{graph.Softmax(logits, -1), feats}
		})
		if err != nil {
			return nil, fmt.Errorf("models: predict: %w", err)
		}
		m.predict = exec
	}
	k := m.Config.NumClasses
	out := &Output{Labels: make([]int, n), Preds: make([]int, n), Conf: make([]float32, n), Probs: matrix.Zeros(n, k)}
	if opts.Features {
		out.Features = matrix.Zeros(n, m.Config.FeatureDim())
	}
	bar := progress.New(opts.Progress, fmt.Sprintf("predict %s", m.Config.Arch), n)
	defer bar.Done()
	idx := make([]int, bs)
	for start := 0; start < n; start += bs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cnt := min(bs, n-start)
		for j := range bs {
			idx[j] = start + min(j, cnt-1) // pad with the last real example
		}
		x, _, _, err := m.batchTensors(ex, idx, nil, false, nil)
		if err != nil {
			return nil, fmt.Errorf("models: predict: %w", err)
		}
		res, err := m.predict.Call(x)
		_ = x.FinalizeAll()
		if err != nil {
			return nil, fmt.Errorf("models: predict: %w", err)
		}
		probs, err := tensors.CopyFlatData[float32](res[0])
		if err != nil {
			return nil, fmt.Errorf("models: predict: %w", err)
		}
		copy(out.Probs.Data[start*k:(start+cnt)*k], probs[:cnt*k])
		if opts.Features {
			f, err := tensors.CopyFlatData[float32](res[1])
			if err != nil {
				return nil, fmt.Errorf("models: predict: %w", err)
			}
			d := out.Features.Cols
			copy(out.Features.Data[start*d:(start+cnt)*d], f[:cnt*d])
		}
		for _, t := range res {
			_ = t.FinalizeAll()
		}
		bar.Add(cnt)
	}
	for i := range n {
		row := out.Probs.Row(i)
		best := 0
		for c := range row {
			if row[c] > row[best] {
				best = c
			}
		}
		l := ex.Label(i)
		out.Labels[i], out.Preds[i] = l, best
		if l >= 0 && l < k {
			out.Conf[i] = row[l]
		}
	}
	return out, nil
}
