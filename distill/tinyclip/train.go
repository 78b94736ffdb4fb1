package tinyclip

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/clip/imgproc"
	"github.com/faildirs/faildirs/distill/clip/tokenizer"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/progress"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/ml/train/optimizer/cosineschedule"
)

// RecipeVersion changes whenever the training data, captions or loss change, so cached models trained by an
// older recipe are not reused. Version 2 splits each step's batch into [Options.Replicas] contrastive batches.
const RecipeVersion = 2

// Options configures training. Zero values take the defaults given on each field; the fields up to Mix form the
// [Recipe] (fingerprinted), the rest only say where things are and how to report.
type Options struct {
	// Seed drives everything random: initial weights, image order, tints, captions. Zero is a valid seed.
	Seed uint64
	// Steps is the number of optimizer steps. Default [DefaultSteps].
	Steps int
	// BatchSize is the number of image–caption pairs per step. Default 128.
	BatchSize int
	// Replicas splits each step's batch into this many equal contrastive batches (each image's negatives are the
	// captions of its own part), whose gradients are computed concurrently, one execution each, and averaged into
	// one Adam step: data parallelism that keeps every core busy on the Go backend, whose schedule runs one graph
	// node at a time. Default 2; BatchSize must be a multiple, with at least 2 pairs per part.
	Replicas int
	// LearningRate is Adam's peak learning rate, reached after WarmupSteps linear warm-up steps, then decayed
	// along a half cosine to 5% of it at the last step. Default 2e-3.
	LearningRate float64
	// WarmupSteps defaults to min(100, Steps/10).
	WarmupSteps int
	// ImageSize is the model's input side; Fashion-MNIST's 28 px images are resized with CLIP's preprocessing
	// when it differs. Default 28.
	ImageSize int
	// Patch is the ViT patch side (ImageSize must be a multiple). Default 7.
	Patch int
	// Width is both towers' transformer width (heads of 32). Default 64.
	Width int
	// Layers is both towers' depth. Default 2.
	Layers int
	// Embed is the joint embedding size. Default 64.
	Embed int
	// Activation is both towers' MLP activation (an HF hidden_act: "relu", "quick_gelu", "gelu"). Default "relu",
	// the cheapest on the Go backend.
	Activation string
	// Untinted is the fraction of training images left gray (not tinted); the rest get a palette colour drawn
	// uniformly. Default 0.1; negative means none.
	Untinted float64
	// TrainImages limits training to a seeded random subset of that many Fashion-MNIST train images; 0 means all
	// 60,000.
	TrainImages int
	// Mix sets the caption kinds (zero: 1:2:1 both : item only : colour only; colour is learned quickly, the
	// garment slowly, so item captions get the largest share).
	Mix CaptionMix

	// FashionDir is the Fashion-MNIST folder ("" = $FAILDIRS_FASHION_MNIST or the Debian path).
	FashionDir string
	// CacheDir is where [Ensure] keeps trained models ("" = os.UserCacheDir()/faildirs).
	CacheDir string
	// EvalImages is the number of test images [Ensure] evaluates the new model on (0 = all 10,000).
	EvalImages int
	// Progress receives the step progress bar; nil means the progress package's default (stderr, or an HTML bar
	// in GoNB), io.Discard none.
	Progress io.Writer
	// Log receives one line per epoch-equivalent (and evaluation results from [Ensure]); nil means none.
	Log io.Writer
}

// DefaultSteps is the default number of training steps: 900 batches of 128, about two passes over Fashion-MNIST's
// 60,000 train images.
const DefaultSteps = 900

// Recipe is everything that determines the trained weights; its hash names the cache folder.
type Recipe struct {
	Version      int        `json:"version"`
	Seed         uint64     `json:"seed"`
	Steps        int        `json:"steps"`
	BatchSize    int        `json:"batch_size"`
	Replicas     int        `json:"replicas"`
	LearningRate float64    `json:"learning_rate"`
	WarmupSteps  int        `json:"warmup_steps"`
	ImageSize    int        `json:"image_size"`
	Patch        int        `json:"patch"`
	Width        int        `json:"width"`
	Layers       int        `json:"layers"`
	Embed        int        `json:"embed"`
	Activation   string     `json:"activation"`
	Untinted     float64    `json:"untinted"`
	TrainImages  int        `json:"train_images"`
	Mix          CaptionMix `json:"caption_mix"`
}

// withDefaults fills the zero fields.
func (o Options) withDefaults() Options {
	if o.Steps == 0 {
		o.Steps = DefaultSteps
	}
	if o.BatchSize == 0 {
		o.BatchSize = 128
	}
	if o.Replicas == 0 {
		o.Replicas = 2
	}
	if o.LearningRate == 0 {
		o.LearningRate = 2e-3
	}
	if o.WarmupSteps == 0 {
		o.WarmupSteps = min(100, o.Steps/10)
	}
	if o.ImageSize == 0 {
		o.ImageSize = 28
	}
	if o.Patch == 0 {
		o.Patch = 7
	}
	if o.Width == 0 {
		o.Width = 64
	}
	if o.Layers == 0 {
		o.Layers = 2
	}
	if o.Embed == 0 {
		o.Embed = 64
	}
	if o.Activation == "" {
		o.Activation = "relu"
	}
	if o.Untinted == 0 {
		o.Untinted = 0.1
	}
	if o.Untinted < 0 {
		o.Untinted = 0
	}
	if o.Mix == (CaptionMix{}) {
		o.Mix = CaptionMix{Both: 1, ItemOnly: 2, ColourOnly: 1}
	}
	return o
}

// Recipe returns the options' recipe, defaults applied.
func (o Options) Recipe() Recipe {
	o = o.withDefaults()
	return Recipe{Version: RecipeVersion, Seed: o.Seed, Steps: o.Steps, BatchSize: o.BatchSize, Replicas: o.Replicas,
		LearningRate: o.LearningRate, WarmupSteps: o.WarmupSteps, ImageSize: o.ImageSize, Patch: o.Patch,
		Width: o.Width, Layers: o.Layers, Embed: o.Embed, Activation: o.Activation, Untinted: o.Untinted, TrainImages: o.TrainImages, Mix: o.Mix}
}

// Fingerprint is the first 16 hex digits of the SHA-256 of the recipe's JSON.
func (r Recipe) Fingerprint() string {
	raw, _ := json.Marshal(r)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

// Validate checks the recipe's values.
func (r Recipe) Validate() error {
	switch {
	case r.Steps < 1:
		return fmt.Errorf("tinyclip: steps %d must be at least 1", r.Steps)
	case r.BatchSize < 2:
		return fmt.Errorf("tinyclip: batch size %d must be at least 2 (contrastive pairs)", r.BatchSize)
	case r.Replicas < 1 || r.BatchSize%r.Replicas != 0 || r.BatchSize/r.Replicas < 2:
		return fmt.Errorf("tinyclip: batch size %d must split into %d replicas of at least 2 pairs each", r.BatchSize, r.Replicas)
	case r.LearningRate <= 0 || math.IsNaN(r.LearningRate) || math.IsInf(r.LearningRate, 0):
		return fmt.Errorf("tinyclip: learning rate %g must be positive and finite", r.LearningRate)
	case r.WarmupSteps < 0 || r.WarmupSteps >= r.Steps:
		return fmt.Errorf("tinyclip: warm-up steps %d must be in [0, steps=%d)", r.WarmupSteps, r.Steps)
	case r.Untinted < 0 || r.Untinted > 1:
		return fmt.Errorf("tinyclip: untinted fraction %g must be in [0, 1]", r.Untinted)
	case r.TrainImages < 0:
		return fmt.Errorf("tinyclip: train images %d must not be negative", r.TrainImages)
	case r.Patch < 1 || r.ImageSize%r.Patch != 0:
		return fmt.Errorf("tinyclip: image size %d is not a multiple of patch %d", r.ImageSize, r.Patch)
	}
	if _, _, err := r.Mix.normalised(); err != nil {
		return err
	}
	return r.Config(1).Validate()
}

// Config returns the clip configuration of the recipe for a tokenizer of vocabSize ids whose BOS and EOS are the
// last two (the layout of [NewTokenizer]): [clip.TinyConfig] with that vocabulary and those special ids. The
// context length stays 77, so any CLIP text pipeline applies; training uses only the first [TextLength]
// positions, and with causal attention the later ones never influence a caption's embedding.
func (r Recipe) Config(vocabSize int) clip.Config {
	c := clip.TinyConfig(r.ImageSize, r.Patch, r.Width, r.Layers, r.Embed)
	c.Text.VocabSize = max(vocabSize, 2)
	c.Text.BosTokenID, c.Text.EosTokenID = c.Text.VocabSize-2, c.Text.VocabSize-1
	c.Text.PadTokenID = c.Text.EosTokenID
	c.Text.HiddenAct, c.Vision.HiddenAct = r.Activation, r.Activation
	return c
}

// TextLength returns the longest tokenization (BOS and EOS included) of any generated caption or prompt.
func TextLength(tok *tokenizer.Tokenizer) int {
	n := 0
	for _, c := range AllCaptions() {
		n = max(n, len(tok.Encode(c)))
	}
	return n
}

// LossPoint is the mean training loss over a window of steps ending at Step.
type LossPoint struct {
	Step int     `json:"step"`
	Loss float64 `json:"loss"`
}

// Record describes a training run; [Save] writes it as tinyclip.json beside the model.
type Record struct {
	// Recipe is what was trained, Fingerprint its hash.
	Recipe      Recipe `json:"recipe"`
	Fingerprint string `json:"fingerprint"`
	// TextLength is the token row length used in training.
	TextLength int `json:"text_length"`
	// VocabSize is the tokenizer's size.
	VocabSize int `json:"vocab_size"`
	// Parameters counts the model's weights.
	Parameters int `json:"parameters"`
	// Backend is the backend that trained it (zero when the caller passed one).
	Backend backend.Info `json:"backend"`
	// Seconds is the training wall time (graph compilation included), StepsPerSecond the rate.
	Seconds        float64 `json:"seconds"`
	StepsPerSecond float64 `json:"steps_per_second"`
	// Loss is the mean loss per window of steps (about one pass over the training images, at most 20 windows).
	Loss []LossPoint `json:"loss"`
	// LogitScale is the learned logit multiplier exp(logit_scale).
	LogitScale float64 `json:"logit_scale"`
	// Quality is the zero-shot quality on the test set, when evaluated.
	Quality *Quality `json:"quality,omitempty"`
}

// sampler draws training (or evaluation) examples: a gray Fashion-MNIST image and its tint.
type sampler struct {
	gray     *data.Images
	labels   []int
	colours  []color.RGBA
	white    int
	untinted float64
	prep     imgproc.Config
	rng      *rand.Rand
}

func newSampler(gray *data.Images, labels []int, untinted float64, prep imgproc.Config, rng *rand.Rand) (*sampler, error) {
	names := Colours()
	s := &sampler{gray: gray, labels: labels, untinted: untinted, prep: prep, rng: rng, white: -1}
	for i, n := range names {
		s.colours = append(s.colours, data.Palette[n])
		if n == White {
			s.white = i
		}
	}
	if s.white < 0 {
		return nil, fmt.Errorf("tinyclip: the palette has no %q, which untinted images are", White)
	}
	return s, nil
}

// concept draws the colour of image i: untinted (= white) with the untinted probability, else a palette colour.
func (s *sampler) concept(i int) (c Concept, tinted bool) {
	c.Item = s.labels[i]
	if s.rng.Float64() < s.untinted {
		return Concept{Item: c.Item, Colour: s.white}, false
	}
	c.Colour = s.rng.IntN(len(s.colours))
	return c, true
}

// rgb returns image i tinted with c's colour exactly as the planted experiments tint images ([data.TintGray]), or
// left gray (replicated to RGB, as they make untinted images) when tinted is false.
func (s *sampler) rgb(i int, c Concept, tinted bool) *imgproc.RGB {
	g := s.gray.Pixels(i)
	out := &imgproc.RGB{W: s.gray.W, H: s.gray.H, Pix: make([]uint8, 3*len(g))}
	if tinted {
		data.TintGray(out.Pix, g, s.colours[c.Colour])
	} else {
		for j, v := range g {
			out.Pix[3*j], out.Pix[3*j+1], out.Pix[3*j+2] = v, v, v
		}
	}
	return out
}

// pixels writes image i (see rgb), preprocessed as the model's embedder does, into dst (CHW).
func (s *sampler) pixels(i int, c Concept, tinted bool, dst []float32) error {
	prepared, err := s.prep.PrepareRGB(s.rgb(i, c, tinted))
	if err != nil {
		return fmt.Errorf("tinyclip: image %d: %w", i, err)
	}
	return s.prep.Normalize(prepared, dst)
}

// batch is one training batch on the host.
type batch struct {
	pixels  []float32 // [B, 3, S, S]
	ids     []int32   // [B, T]
	eos     []int32   // [B]
	targets []float32 // [B, B]
}

// makeBatch draws tints and captions (with capt) for images idx.
func (s *sampler) makeBatch(idx []int, capt *captioner, tok *tokenizer.Tokenizer, cfg clip.Config, length int) (*batch, error) {
	b := len(idx)
	px := 3 * s.prep.Size * s.prep.Size
	out := &batch{pixels: make([]float32, b*px), ids: make([]int32, b*length), eos: make([]int32, b)}
	imgs := make([]Concept, b)
	claims := make([]Concept, b)
	for k, i := range idx {
		c, tinted := s.concept(i)
		imgs[k] = c
		if err := s.pixels(i, c, tinted, out.pixels[k*px:(k+1)*px]); err != nil {
			return nil, err
		}
		cap := capt.draw(s.rng, c)
		claims[k] = cap.Claim
		ids := tok.Encode(cap.Text)
		if len(ids) > length {
			return nil, fmt.Errorf("tinyclip: caption %q has %d tokens, more than the text length %d", cap.Text, len(ids), length)
		}
		row := out.ids[k*length : (k+1)*length]
		copy(row, ids)
		for j := len(ids); j < length; j++ {
			row[j] = int32(cfg.Text.PadTokenID)
		}
	}
	copy(out.eos, clip.PoolPositions(cfg.Text, out.ids, b, length))
	out.targets = Targets(imgs, claims)
	return out, nil
}

// MultiPositiveLoss is the symmetric InfoNCE loss of CLIP generalised to several true pairs: logits [N, N]
// (images × captions) and targets [N, N] with 1 where caption j is true of image i (diagonal included). Each
// image's cross-entropy is taken against the uniform distribution over its true captions, each caption's against
// its true images, and the two means are averaged. With the identity as targets it equals
// [clip.ContrastiveLoss]. Generated captions repeat within a batch ("a photo of a red sneaker" twice), and
// treating the repeat as a negative would push identical texts apart; this avoids that.
func MultiPositiveLoss(logits, targets *graph.Node) *graph.Node {
	rowT := graph.Div(targets, graph.ReduceAndKeep(targets, graph.ReduceSum, 1))
	colT := graph.Div(targets, graph.ReduceAndKeep(targets, graph.ReduceSum, 0))
	lossI := graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(graph.LogSoftmax(logits, -1), rowT), -1)))
	lossT := graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(graph.LogSoftmax(logits, 0), colT), 0)))
	return graph.DivScalar(graph.Add(lossI, lossT), 2)
}

// MaxLogitScale bounds the learned logit_scale (the log of the multiplier), as CLIP clips it at ln 100.
var MaxLogitScale = math.Log(100)

// lossGraph builds the training loss of one batch.
func lossGraph(scope *model.Scope, cfg clip.Config, pixels, ids, eos, targets *graph.Node) *graph.Node {
	_, img := clip.ImageFeatures(scope, cfg, pixels)
	_, txt := clip.TextFeatures(scope, cfg, ids, eos)
	scale := clip.LogitScale(scope, pixels.Graph())
	scale = graph.MaxScalar(graph.MinScalar(scale, MaxLogitScale), 0.0)
	return MultiPositiveLoss(clip.Logits(img, txt, scale), targets)
}

// Train trains a tiny CLIP on backend b (nil: one chosen by package backend) on Fashion-MNIST's train images
// (tinted, with generated captions) and returns it with its tokenizer set, and the run's record.
func Train(ctx context.Context, b compute.Backend, f *data.Fashion, opts Options) (_ *clip.Model, _ *Record, err error) {
	o := opts.withDefaults()
	rec := &Record{Recipe: o.Recipe()}
	rec.Fingerprint = rec.Recipe.Fingerprint()
	if err := rec.Recipe.Validate(); err != nil {
		return nil, nil, err
	}
	if f == nil || f.TrainImages == nil || f.TrainImages.N == 0 {
		return nil, nil, fmt.Errorf("tinyclip: no Fashion-MNIST train images")
	}
	tok := NewTokenizer()
	cfg := rec.Recipe.Config(tok.VocabSize())
	rec.TextLength, rec.VocabSize = TextLength(tok), tok.VocabSize()
	m, err := clip.NewRandom(b, cfg, o.Seed)
	if err != nil {
		return nil, nil, fmt.Errorf("tinyclip: %w", err)
	}
	defer func() {
		if err != nil {
			m.Finalize()
		}
	}()
	m.Tokenizer = tok
	rec.Backend = m.BackendInfo
	for _, dims := range clip.TensorShapes(cfg) {
		n := 1
		for _, d := range dims {
			n *= d
		}
		rec.Parameters += n
	}

	// The images: all, or a seeded subset.
	pool := make([]int, f.TrainImages.N)
	for i := range pool {
		pool[i] = i
	}
	orderRNG := rand.New(rand.NewPCG(o.Seed, 0x7c11_0001))
	if o.TrainImages > 0 && o.TrainImages < len(pool) {
		orderRNG.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		pool = pool[:o.TrainImages]
	}
	smp, err := newSampler(f.TrainImages, f.TrainLabels, o.Untinted, m.Preprocess, rand.New(rand.NewPCG(o.Seed, 0x7c11_0002)))
	if err != nil {
		return nil, nil, err
	}
	capt, err := newCaptioner(o.Mix)
	if err != nil {
		return nil, nil, err
	}
	// Each step draws bs pairs: replicas contrastive batches of rb pairs.
	replicas := o.Replicas
	bs := min(o.BatchSize, len(pool))
	if bs/replicas < 2 {
		return nil, nil, fmt.Errorf("tinyclip: %d training images, need at least 2 per replica (%d replicas)", len(pool), replicas)
	}
	rb := bs / replicas
	bs = rb * replicas

	steps, warm, lr := o.Steps, o.WarmupSteps, o.LearningRate
	schedule := func(scope *model.Scope, g *graph.Graph) {
		cosineschedule.New(scope, g, dtypes.Float32).LearningRate(lr).MinLearningRate(lr / 20).
			WarmUpSteps(warm).PeriodSteps(max(1, steps-warm)).Done()
	}
	loss := func(scope *model.Scope, in []*graph.Node) *graph.Node {
		return lossGraph(scope, cfg, in[0], in[1], in[2], in[3])
	}
	dp, err := newDataParallel(m.Backend, m.Store, loss, schedule, optimizer.Adam().LearningRate(lr).Done())
	if err != nil {
		return nil, nil, err
	}
	defer dp.finalize() // frees the compiled training graphs

	window := max(1, min(len(pool)/bs, (steps+19)/20))
	bar := progress.New(o.Progress, "train tiny CLIP", steps)
	defer bar.Done()
	start := time.Now()
	var sum float64
	var n int
	// Batches are prepared (tinted, preprocessed, captioned) one step ahead, on a goroutine of their own, while
	// the replicas compute; one producer keeps the random streams in step order.
	type stepBatch struct {
		parts [][]*tensors.Tensor
		err   error
	}
	batches := make(chan stepBatch, 1)
	stop := make(chan struct{})
	defer func() {
		close(stop)
		for b := range batches { // release what was prepared but not used
			for _, part := range b.parts {
				for _, t := range part {
					_ = t.FinalizeAll()
				}
			}
		}
	}()
	length := rec.TextLength
	go func() {
		defer close(batches)
		pos := len(pool) // forces a shuffle first
		for range steps {
			if pos+bs > len(pool) {
				orderRNG.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
				pos = 0
			}
			var b stepBatch
			for range replicas {
				bt, err := smp.makeBatch(pool[pos:pos+rb], capt, tok, cfg, length)
				if err != nil {
					b.err = err
					break
				}
				pos += rb
				b.parts = append(b.parts, []*tensors.Tensor{
					tensors.FromFlatDataAndDimensions(bt.pixels, rb, 3, o.ImageSize, o.ImageSize),
					tensors.FromFlatDataAndDimensions(bt.ids, rb, length),
					tensors.FromFlatDataAndDimensions(bt.eos, rb),
					tensors.FromFlatDataAndDimensions(bt.targets, rb, rb),
				})
			}
			select {
			case batches <- b:
			case <-stop:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	for step := 1; step <= steps; step++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("tinyclip: training interrupted at step %d: %w", step, err)
		}
		b := <-batches
		if b.err != nil {
			return nil, nil, b.err
		}
		parts := b.parts
		loss, err := dp.step(parts)
		if err != nil {
			return nil, nil, fmt.Errorf("tinyclip: step %d: %w", step, err)
		}
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return nil, nil, fmt.Errorf("tinyclip: step %d: loss is %v (lower the learning rate)", step, loss)
		}
		sum += loss
		n++
		bar.Add(1)
		if n == window || step == steps {
			rec.Loss = append(rec.Loss, LossPoint{Step: step, Loss: sum / float64(n)})
			if o.Log != nil {
				fmt.Fprintf(o.Log, "tinyclip: step %d/%d: loss %.4f (%.1fs)\n", step, steps, sum/float64(n), time.Since(start).Seconds())
			}
			sum, n = 0, 0
		}
	}
	rec.Seconds = time.Since(start).Seconds()
	rec.StepsPerSecond = float64(steps) / rec.Seconds
	if err := clampLogitScale(m); err != nil {
		return nil, nil, err
	}
	v, err := m.Store.GetVariable(clip.VariablePath("logit_scale")).Value()
	if err != nil {
		return nil, nil, fmt.Errorf("tinyclip: reading logit_scale: %w", err)
	}
	ls, err := scalar(v)
	if err != nil {
		return nil, nil, fmt.Errorf("tinyclip: reading logit_scale: %w", err)
	}
	rec.LogitScale = math.Exp(ls)
	m.Source = "tinyclip:" + rec.Fingerprint
	m.WeightsChanged()
	return m, rec, nil
}

// clampLogitScale stores the logit scale clipped to [0, MaxLogitScale], as the loss used it.
func clampLogitScale(m *clip.Model) error {
	v := m.Store.GetVariable(clip.VariablePath("logit_scale"))
	if v == nil {
		return fmt.Errorf("tinyclip: the model has no logit_scale variable")
	}
	t, err := v.Value()
	if err != nil {
		return fmt.Errorf("tinyclip: reading logit_scale: %w", err)
	}
	s, err := scalar(t)
	if err != nil {
		return fmt.Errorf("tinyclip: reading logit_scale: %w", err)
	}
	c := float32(math.Max(0, math.Min(s, MaxLogitScale)))
	if float64(c) == s {
		return nil
	}
	if err := v.SetValue(tensors.FromScalar(c)); err != nil {
		return fmt.Errorf("tinyclip: setting logit_scale: %w", err)
	}
	return nil
}

// scalar reads a float32 scalar tensor.
func scalar(t *tensors.Tensor) (float64, error) {
	vals, err := tensors.CopyFlatData[float32](t)
	if err != nil {
		return 0, err
	}
	if len(vals) != 1 {
		return 0, fmt.Errorf("want a scalar, got %d values", len(vals))
	}
	return float64(vals[0]), nil
}
