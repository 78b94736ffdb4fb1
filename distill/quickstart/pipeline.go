package quickstart

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/models"
	"github.com/faildirs/faildirs/distill/tinyclip"
	"github.com/gomlx/compute"
)

// splitNames are the splits the quick start uses: train (base model, whitening statistics), val (SVM fit) and
// test (every evaluation).
var splitNames = []string{"train", "val", "test"}

// Pipeline holds the state of a quick-start run. Each stage method runs the stages it needs first (from their
// caches when present), so any stage can be called on a fresh Pipeline.
type Pipeline struct {
	// Config is the run's configuration, with defaults applied.
	Config Config
	// Backend runs every GoMLX computation; BackendInfo says which it is and why.
	Backend     compute.Backend
	BackendInfo backend.Info
	// Log receives one line per stage; nil means none.
	Log io.Writer
	// Progress receives progress bars; nil means stderr (or an HTML bar in GoNB); io.Discard silences them.
	Progress io.Writer

	// Data is the planted experiment (stage LoadData).
	Data *data.Dataset
	// Base is the base classifier and Preds its predictions per split (stage BaseModel).
	Base  *models.Classifier
	Preds map[string]*data.Predictions
	// CLIP is the tiny CLIP, loaded from CLIPDir, with its Quality on Fashion-MNIST test (stage LoadCLIP).
	CLIP        *clip.Model
	CLIPDir     string
	CLIPQuality *tinyclip.Quality
	// Emb holds each split's L2-normalised image embeddings, one row per image (stage Embed).
	Emb map[string]matrix.Dense
	// SVM is the fitted method and Eval its evaluation on test (stage FitSVMs).
	SVM  *distill.FailureModel
	Eval *distill.Evaluation
	// Rankings hold each class's scored captions (stage Captions); nil for classes without an SVM.
	Rankings []*caption.Ranking
	// Checks hold each class's caption check (stage CaptionCheck); nil for classes without an SVM.
	Checks []*caption.Check
	// Timings records the wall seconds of each stage run in this process, in order.
	Timings []Timing
}

// Timing is the wall-clock time of one stage.
type Timing struct {
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
	// Cached is true when the stage loaded its result from the cache.
	Cached bool `json:"cached"`
}

// New prepares a pipeline: applies the defaults and picks the backend (package backend's rules).
func New(cfg Config) (*Pipeline, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	b, info, err := backend.New(backend.Options{})
	if err != nil {
		return nil, fmt.Errorf("quickstart: %w", err)
	}
	return &Pipeline{Config: cfg, Backend: b, BackendInfo: info}, nil
}

// Close releases the models and the backend.
func (p *Pipeline) Close() {
	if p.CLIP != nil {
		p.CLIP.Finalize()
		p.CLIP = nil
	}
	if p.Backend != nil {
		p.Backend.Finalize()
		p.Backend = nil
	}
}

func (p *Pipeline) logf(format string, args ...any) {
	if p.Log != nil {
		fmt.Fprintf(p.Log, format+"\n", args...)
	}
}

// stage runs fn once, timing it.
func (p *Pipeline) stage(name string, fn func() (cached bool, err error)) error {
	start := time.Now()
	cached, err := fn()
	if err != nil {
		return fmt.Errorf("quickstart: %s: %w", name, err)
	}
	t := Timing{Stage: name, Seconds: time.Since(start).Seconds(), Cached: cached}
	p.Timings = append(p.Timings, t)
	how := ""
	if cached {
		how = " (cached)"
	}
	p.logf("%-13s %6.1fs%s", name, t.Seconds, how)
	return nil
}

// experimentFingerprint identifies the data: the experiment and its parameters.
func (p *Pipeline) experimentFingerprint() string {
	c := p.Config
	if c.Experiment == Spurious {
		return fingerprint(c.Experiment, c.Spurious)
	}
	return fingerprint(c.Experiment, c.Rare)
}

// LoadData builds the planted experiment from Fashion-MNIST (deterministic from its seed; not cached, it takes
// about a second).
func (p *Pipeline) LoadData(ctx context.Context) error {
	if p.Data != nil {
		return nil
	}
	return p.stage("data", func() (bool, error) {
		f, err := data.LoadFashion(p.Config.FashionDir)
		if err != nil {
			return false, err
		}
		var ds *data.Dataset
		if p.Config.Experiment == Spurious {
			ds, err = data.Spurious(f, p.Config.Spurious)
		} else {
			ds, err = data.Rare(f, p.Config.Rare)
		}
		if err != nil {
			return false, err
		}
		p.Data = ds
		return false, nil
	})
}

// baseDir is the cache folder of the base model for this data and model configuration.
func (p *Pipeline) baseDir() string {
	c := p.Config
	return filepath.Join(c.WorkDir, "base-"+fingerprint(p.experimentFingerprint(), c.BaseModel, c.Epochs, c.Seed))
}

// BaseModel trains the base classifier on train (or loads it from the cache) and predicts every split.
func (p *Pipeline) BaseModel(ctx context.Context) error {
	if p.Preds != nil {
		return nil
	}
	if err := p.LoadData(ctx); err != nil {
		return err
	}
	return p.stage("base model", func() (bool, error) {
		dir := p.baseDir()
		ckpt := filepath.Join(dir, "model.ckpt")
		if preds, err := loadPreds(dir); err == nil {
			if m, err := models.Load(p.Backend, ckpt); err == nil {
				p.Base, p.Preds = m, preds
				return true, nil
			}
		}
		cfg := p.Config.BaseModel
		cfg.NumClasses = len(p.Data.Classes)
		cfg.Classes = p.Data.Classes
		cfg.H, cfg.W = 28, 28
		m, err := models.New(p.Backend, cfg, p.Config.Seed)
		if err != nil {
			return false, err
		}
		_, err = m.Train(ctx, p.Data.Train, models.TrainOptions{Epochs: p.Config.Epochs, Seed: p.Config.Seed,
			Progress: p.Progress, Log: p.Log})
		if err != nil {
			return false, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, err
		}
		preds := map[string]*data.Predictions{}
		for _, name := range splitNames {
			s := p.Data.Split(name)
			out, err := m.Predict(ctx, s, models.PredictOptions{Progress: p.Progress})
			if err != nil {
				return false, fmt.Errorf("predicting %s: %w", name, err)
			}
			if preds[name], err = out.ForSplit(s); err != nil {
				return false, err
			}
		}
		// The checkpoint is written last: its presence (with the CSVs) marks a complete cache entry.
		for name, pr := range preds {
			if err := pr.Save(filepath.Join(dir, name+".csv")); err != nil {
				return false, err
			}
		}
		if err := m.Save(ckpt); err != nil {
			return false, err
		}
		p.Base, p.Preds = m, preds
		return false, nil
	})
}

func loadPreds(dir string) (map[string]*data.Predictions, error) {
	if _, err := os.Stat(filepath.Join(dir, "model.ckpt")); err != nil {
		return nil, err
	}
	out := map[string]*data.Predictions{}
	for _, name := range splitNames {
		pr, err := data.LoadPredictions(filepath.Join(dir, name+".csv"))
		if err != nil {
			return nil, err
		}
		out[name] = pr
	}
	return out, nil
}

// clipOptions are the tiny CLIP's training options.
func (p *Pipeline) clipOptions() tinyclip.Options {
	return tinyclip.Options{Seed: p.Config.CLIPSeed, Steps: p.Config.CLIPSteps, FashionDir: p.Config.FashionDir,
		CacheDir: p.Config.CacheDir, Progress: p.Progress, Log: p.Log}
}

// LoadCLIP loads the tiny CLIP trained on Fashion-MNIST, training it first when it is not cached.
func (p *Pipeline) LoadCLIP(ctx context.Context) error {
	if p.CLIP != nil {
		return nil
	}
	if p.Config.CLIPModel != "" {
		return p.stage("CLIP", func() (bool, error) {
			m, err := clip.Load(ctx, p.Backend, p.Config.CLIPModel, clip.LoadOptions{})
			if err != nil {
				return false, err
			}
			p.CLIP, p.CLIPDir = m, p.Config.CLIPModel
			return true, nil
		})
	}
	return p.stage("tiny CLIP", func() (bool, error) {
		opts := p.clipOptions()
		dir, err := tinyclip.Dir(opts)
		if err != nil {
			return false, err
		}
		_, statErr := os.Stat(dir)
		cached := statErr == nil
		if dir, err = tinyclip.Ensure(ctx, p.Backend, opts); err != nil {
			return false, err
		}
		m, err := clip.LoadDir(p.Backend, dir)
		if err != nil {
			return false, err
		}
		p.CLIP, p.CLIPDir = m, dir
		if rec, err := tinyclip.LoadRecord(dir); err == nil {
			p.CLIPQuality = rec.Quality
		}
		return cached, nil
	})
}

// Embed computes (or loads from the cache) the L2-normalised CLIP image embeddings of every split. The cache is
// package clip's embedding cache (fingerprinted by model, preprocessing and image bytes; resumable).
func (p *Pipeline) Embed(ctx context.Context) error {
	if p.Emb != nil {
		return nil
	}
	if err := p.LoadData(ctx); err != nil {
		return err
	}
	if err := p.LoadCLIP(ctx); err != nil {
		return err
	}
	return p.stage("embeddings", func() (bool, error) {
		emb := map[string]matrix.Dense{}
		allCached := true
		for _, name := range splitNames {
			s := p.Data.Split(name)
			im := s.Images
			if im == nil {
				return false, fmt.Errorf("split %s is not held in memory", name)
			}
			src, err := clip.Uint8HWC(im.Pix, im.N, im.H, im.W, im.C)
			if err != nil {
				return false, err
			}
			cache := filepath.Join(p.Config.WorkDir, fmt.Sprintf("emb-%s-%s.safetensors", p.experimentFingerprint(), name))
			if err := os.MkdirAll(p.Config.WorkDir, 0o755); err != nil {
				return false, err
			}
			res, err := p.CLIP.EmbedImages(ctx, src, clip.EmbedOptions{BatchSize: embedBatch, Progress: p.Progress,
				CachePath: cache, RecomputeStale: true, Normalize: true})
			if err != nil {
				return false, fmt.Errorf("embedding %s: %w", name, err)
			}
			allCached = allCached && res.Computed == 0
			emb[name] = res.Embeddings
		}
		p.Emb = emb
		return allCached, nil
	})
}

// embedBatch is the number of images per call of the CLIP vision tower.
const embedBatch = 256

// Split returns the method's view of a split: embeddings, labels, predictions, confidences and 0/1 minority
// membership as groups (1 = a minority group of the planted experiment).
func (p *Pipeline) Split(ctx context.Context, name string) (distill.Split, error) {
	if err := p.BaseModel(ctx); err != nil {
		return distill.Split{}, err
	}
	if err := p.Embed(ctx); err != nil {
		return distill.Split{}, err
	}
	pr := p.Preds[name]
	ds := p.Data.Split(name)
	if pr == nil || ds == nil {
		return distill.Split{}, fmt.Errorf("quickstart: no split %q", name)
	}
	minority := make([]int, ds.Len())
	for i, g := range ds.Groups {
		if g >= 0 && g < len(p.Data.Groups) && p.Data.Groups[g].Minority {
			minority[i] = 1
		}
	}
	s := distill.Split{Name: name, Latents: p.Emb[name], Labels: pr.Labels, Preds: pr.Preds,
		Confs: pr.Conf, Groups: minority, IDs: pr.IDs}
	return s, s.Validate()
}

// FitSVMs fits the per-class SVMs on val (whitening statistics from train) and evaluates them on test.
func (p *Pipeline) FitSVMs(ctx context.Context) error {
	if p.SVM != nil {
		return nil
	}
	train, err := p.Split(ctx, "train")
	if err != nil {
		return err
	}
	val, err := p.Split(ctx, "val")
	if err != nil {
		return err
	}
	test, err := p.Split(ctx, "test")
	if err != nil {
		return err
	}
	return p.stage("SVMs", func() (bool, error) {
		opts := distill.DefaultOptions()
		opts.NumClasses = len(p.Data.Classes)
		opts.Progress = p.Progress
		if p.Config.SVMCs != nil {
			opts.Cs = p.Config.SVMCs
		}
		m, err := distill.FitContext(ctx, p.Backend, train, val, opts)
		if err != nil {
			return false, err
		}
		ev, err := m.Evaluate(test, 1, p.Config.Ks)
		if err != nil {
			return false, err
		}
		p.SVM, p.Eval = m, ev
		return false, nil
	})
}

// vocabulary returns the caption vocabulary of the experiment's classes.
//
// Spurious colour (the CelebA analogue): like CelebA's {person, man, woman} shared by "old" and "young", both
// classes share the task's nouns — every noun of both items — so a hard caption can say that the failing images
// look like the other class ("a photo of a green shirt" for T-shirts), and the adjectives are the two tint
// colours. Every image of the experiment is tinted, so every caption names a tint: a colourless caption describes
// no image in the data (the tiny CLIP learned item-only captions as "this item in any colour"). The vocabulary
// does not say which colour is the minority of which class; the SVM has to find that.
//
// Rare subclass (the SuperCIFAR-100 analogue): each superclass's nouns are its members' nouns, the adjectives
// none plus the tint colours when the experiment tints its images.
func (p *Pipeline) vocabulary() (caption.Vocabulary, error) {
	if p.Config.Experiment == Spurious {
		cls := p.spuriousClasses()
		v, err := caption.Fashion(nil, [][]int{{cls[0]}, {cls[1]}})
		if err != nil {
			return v, err
		}
		shared := append(slices.Clone(caption.FashionNouns[cls[0]]), caption.FashionNouns[cls[1]]...)
		for i := range v.Classes {
			v.Classes[i].Nouns = slices.Clone(shared)
			v.Classes[i].Adjectives = slices.Clone(p.Data.AttrValues["color"])
		}
		return v, v.Validate()
	}
	v, err := caption.Fashion(p.Data.Classes, p.rareSuperclasses())
	if err != nil {
		return v, err
	}
	for i := range v.Classes {
		v.Classes[i].Adjectives = append([]string{""}, p.Config.Rare.Colors...)
		v.Classes[i].RefNoun = "item" // a superclass has no noun of its own; "item" names none of its members
	}
	return v, v.Validate()
}

func (p *Pipeline) spuriousClasses() [2]int {
	c := p.Config.Spurious.Classes
	if c == [2]int{} {
		c = [2]int{0, 6} // data.Spurious's default pair
	}
	return c
}

func (p *Pipeline) rareSuperclasses() [][]int {
	if p.Config.Rare.Superclasses != nil {
		return p.Config.Rare.Superclasses
	}
	return data.DefaultRareSuperclasses
}

// TextEmbedder returns the pipeline's CLIP text tower as a caption.TextEmbedder (L2-normalised rows, like the
// image embeddings); it loads the CLIP first when needed.
func (p *Pipeline) TextEmbedder(ctx context.Context) (caption.TextEmbedder, error) {
	if err := p.LoadCLIP(ctx); err != nil {
		return nil, err
	}
	return clip.TextEncoder{Embedder: p.CLIP, Options: clip.EmbedOptions{BatchSize: 256, Progress: p.Progress, Normalize: true}}, nil
}

// Captions scores the caption vocabulary of every class with an SVM: hard (lowest score) to easy.
func (p *Pipeline) Captions(ctx context.Context) error {
	if p.Rankings != nil {
		return nil
	}
	if err := p.FitSVMs(ctx); err != nil {
		return err
	}
	return p.stage("captions", func() (bool, error) {
		v, err := p.vocabulary()
		if err != nil {
			return false, err
		}
		var which []int
		for _, c := range p.SVM.Classes() {
			if c.Status.HasClassifier() {
				which = append(which, c.Class)
			}
		}
		if len(which) == 0 {
			return false, errors.New("no class has a failure direction (the base model's validation errors give no signal)")
		}
		te, err := p.TextEmbedder(ctx)
		if err != nil {
			return false, err
		}
		r, err := caption.ScoreAll(ctx, te, p.SVM, v, caption.ScoreOptions{Classes: which, Progress: p.Progress})
		if err != nil {
			return false, err
		}
		p.Rankings = r
		return false, nil
	})
}

// CaptionCheck ranks each class's test images by similarity to its hard and its easy caption and measures the
// base model's accuracy on the nearest ones, against the class average.
func (p *Pipeline) CaptionCheck(ctx context.Context) error {
	if p.Checks != nil {
		return nil
	}
	if err := p.Captions(ctx); err != nil {
		return err
	}
	test, err := p.Split(ctx, "test")
	if err != nil {
		return err
	}
	return p.stage("caption check", func() (bool, error) {
		te, err := p.TextEmbedder(ctx)
		if err != nil {
			return false, err
		}
		checks := make([]*caption.Check, len(p.Rankings))
		ks := checkKs(p.Config.CaptionK)
		for c, r := range p.Rankings {
			if r == nil || len(r.Captions) == 0 {
				continue
			}
			var idx []int
			var correct []bool
			for i, l := range test.Labels {
				if l == c {
					idx = append(idx, i)
					correct = append(correct, test.Correct(i))
				}
			}
			ck, err := caption.CheckCaptions(ctx, te, r.Name, test.Latents.Select(idx), correct,
				r.Hard(1)[0].Text, r.Easy(1)[0].Text, ks)
			if err != nil {
				return false, fmt.Errorf("class %d (%s): %w", c, r.Name, err)
			}
			checks[c] = ck
		}
		p.Checks = checks
		return false, nil
	})
}

// checkKs are the K values of the caption-check curves: a range up to twice k that includes k.
func checkKs(k int) []int {
	out := []int{}
	for _, v := range []int{5, 10, 25, 50, 75, 100, 150, 200} {
		if v < k {
			out = append(out, v)
		}
	}
	out = append(out, k)
	for _, v := range []int{75, 100, 150, 200} {
		if v > k && v <= 2*k {
			out = append(out, v)
		}
	}
	return out
}

// RunAll runs every stage.
func (p *Pipeline) RunAll(ctx context.Context) error {
	return p.CaptionCheck(ctx)
}
