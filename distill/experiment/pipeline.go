package experiment

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gomlx/compute"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/tinyclip"
)

// splitNames are the splits every analysis uses: train (base model, whitening statistics), val (SVM fit) and test
// (every evaluation). The pool, when the source has one, is embedded on demand ([Pipeline.Embedding]).
var splitNames = []string{"train", "val", "test"}

// Options adjusts [New]. The zero value logs nothing and draws progress bars on stderr (or in GoNB).
type Options struct {
	// Log receives one line per stage; nil means none.
	Log io.Writer
	// Progress receives the progress bars; nil means the progress package's default (stderr, or an HTML bar in
	// GoNB), io.Discard none.
	Progress io.Writer
}

// Pipeline holds the state of one analysis. Each stage method runs the stages it needs first (from their caches
// when present), so any stage can be called on a fresh Pipeline; the exported fields hold each stage's result.
type Pipeline struct {
	// Spec is the analysis, with defaults applied.
	Spec Spec
	// Backend runs every GoMLX computation; BackendInfo says which it is and why.
	Backend     compute.Backend
	BackendInfo backend.Info
	// Log and Progress are the Options given to New.
	Log      io.Writer
	Progress io.Writer

	// Data is the dataset as the analysis uses it (stage LoadData): the source's splits, or the splits the
	// predictions CSVs define, without the images skipped as undecodable (Skipped, with SkipBad).
	Data    *data.Dataset
	Skipped []clip.BadImage
	// Minorities are the minority group ids of the surfacing metrics (nil when the data has no groups).
	Minorities []int
	// Preds are the base model's predictions per split (stage BaseModel); Base is the model when trained here.
	Preds map[string]*data.Predictions
	Base  *BaseRun
	// CLIP is the latent space's CLIP (stage LoadLatent; nil for the features latent), loaded from CLIPSource;
	// CLIPQuality is the tiny CLIP's zero-shot quality.
	CLIP        *clip.Model
	CLIPSource  string
	CLIPQuality *tinyclip.Quality
	// TrainRows are the train rows the whitening statistics come from, a seeded sample of Spec.TrainSample rows
	// (stage LoadData); nil means every row.
	TrainRows []int
	// Emb holds each split's raw image embeddings, one row per example (stage Embed); with TrainRows, the
	// sample's are under TrainSampleSplit and "train" is there only once asked for ([Pipeline.Embedding]).
	Emb map[string]matrix.Dense
	// SVM is the fitted method (stage Fit); Decisions its decision values per split (for train, the rows of
	// TrainRows when set), Eval its error-prediction quality on test.
	SVM       *distill.FailureModel
	Decisions map[string][]float32
	Eval      *distill.Evaluation
	// Rankings hold each class's scored captions (stage Captions) and Checks its caption check (stage
	// CaptionCheck); nil for classes without an SVM, and nil altogether without captions.
	Rankings []*caption.Ranking
	Checks   []*caption.Check
	// Notes record what a stage skipped or decided (e.g. no captions for the features latent).
	Notes []string
	// Timings records the wall seconds of each stage run in this process, in order.
	Timings []Timing

	dataKey     string
	ownBackend  bool
	workDefault bool
	shards      *shardIndex
	// captionsDone and checksDone mark stages that ran but left no result (no text tower, no fitted class).
	captionsDone, checksDone bool
}

// Timing is the wall-clock time of one stage.
type Timing struct {
	Stage   string  `json:"stage"`
	Seconds float64 `json:"seconds"`
	// Cached is true when the stage loaded its result from the cache.
	Cached bool `json:"cached"`
}

// New validates spec, applies its defaults and prepares a pipeline on backend b (nil: one chosen by package
// backend, released by Close). Nothing runs until a stage is asked for.
func New(b compute.Backend, spec Spec, opts Options) (*Pipeline, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("experiment: spec: %w", err)
	}
	spec = spec.WithDefaults()
	work := spec.Work
	if spec.Work == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("experiment: no user cache folder (set Spec.Work): %w", err)
		}
		spec.Work = filepath.Join(base, "faildirs", "experiment")
	}
	p := &Pipeline{Spec: spec, Log: opts.Log, Progress: opts.Progress, Backend: b, workDefault: work == ""}
	if b == nil {
		var err error
		p.Backend, p.BackendInfo, err = backend.New(backend.Options{})
		if err != nil {
			return nil, fmt.Errorf("experiment: %w", err)
		}
		p.ownBackend = true
	} else {
		p.BackendInfo = backend.Info{Name: b.Name(), Config: b.Name(), Description: b.Description(), Reason: "given by the caller",
			SIMD: backend.SIMDCompiled}
	}
	return p, nil
}

// Close releases the models and, when New chose it, the backend.
func (p *Pipeline) Close() {
	if p.CLIP != nil {
		p.CLIP.Finalize()
		p.CLIP = nil
	}
	if p.Backend != nil && p.ownBackend {
		p.Backend.Finalize()
	}
	p.Backend = nil
}

func (p *Pipeline) logf(format string, args ...any) {
	if p.Log != nil {
		fmt.Fprintf(p.Log, format+"\n", args...)
	}
}

func (p *Pipeline) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !slices.Contains(p.Notes, n) {
		p.Notes = append(p.Notes, n)
		p.logf("note: %s", n)
	}
}

// stage runs fn once, timing it.
func (p *Pipeline) stage(name string, fn func() (cached bool, err error)) error {
	start := time.Now()
	cached, err := fn()
	if err != nil {
		return fmt.Errorf("experiment: %s: %w", name, err)
	}
	t := Timing{Stage: name, Seconds: time.Since(start).Seconds(), Cached: cached}
	p.Timings = append(p.Timings, t)
	how := ""
	if cached {
		how = " (cached)"
	}
	p.logf("%-14s %7.1fs%s", name, t.Seconds, how)
	return nil
}

// LoadData builds the dataset: the source's own splits, or, with predictions CSVs, the splits they list (joined to
// the source's images by id; the predictions are kept for stage BaseModel). With SkipBad, file-backed images are
// decoded once (cached) and the undecodable ones dropped.
func (p *Pipeline) LoadData(ctx context.Context) error {
	if p.Data != nil {
		return nil
	}
	return p.stage("data", func() (bool, error) {
		s := p.Spec
		var d *data.Dataset
		if s.Preds != "" {
			meta, index, err := loadIndex(s)
			if err != nil {
				return false, err
			}
			var preds map[string]*data.Predictions
			if d, preds, err = joinPredictions(s, meta, index); err != nil {
				return false, err
			}
			p.Preds = preds
		} else {
			var err error
			if d, err = loadSource(s); err != nil {
				return false, err
			}
		}
		if s.SkipBad {
			if err := p.dropBad(ctx, d); err != nil {
				return false, err
			}
		}
		p.Minorities = s.Minorities
		if p.Minorities == nil {
			p.Minorities = d.Minority()
		}
		for _, g := range p.Minorities {
			if g >= len(d.Groups) {
				return false, fmt.Errorf("minorities: group %d, but the data has %d groups", g, len(d.Groups))
			}
		}
		if d.Test.Groups == nil {
			p.Minorities = nil
		} else if len(p.Minorities) == 0 {
			p.note("the data has groups but none is a minority group: give minorities (-minorities) for the surfacing metrics")
		}
		p.Data = d
		p.dataKey = splitsFingerprint(d)
		if t := p.trainSample(); t.Sampled() {
			p.TrainRows = t.Rows()
		}
		return false, nil
	})
}

// Split returns the method's view of split name: embeddings, labels, predictions, confidences, groups and IDs.
// "train" is the whole split (embedded when asked for); [TrainSampleSplit] is the train rows of the whitening
// statistics.
func (p *Pipeline) Split(ctx context.Context, name string) (distill.Split, error) {
	if err := p.BaseModel(ctx); err != nil {
		return distill.Split{}, err
	}
	var rows []int
	if name == TrainSampleSplit {
		name, rows = "train", p.TrainRows
	}
	key := name
	if rows != nil {
		key = TrainSampleSplit
	}
	emb, err := p.Embedding(ctx, key)
	if err != nil {
		return distill.Split{}, err
	}
	pr := p.Preds[name]
	ds := p.Data.Split(name)
	if pr == nil || ds == nil {
		return distill.Split{}, fmt.Errorf("experiment: no split %q", name)
	}
	if rows != nil {
		pr, ds = subsetPreds(pr, rows), ds.Subset(rows)
	}
	s := distill.Split{Name: name, Latents: emb, Labels: pr.Labels, Preds: pr.Preds, Confs: pr.Conf,
		Groups: ds.Groups, IDs: ds.IDs}
	return s, s.Validate()
}

// RunAll runs every stage: data, base model, latent space, embeddings, SVMs, captions and the caption check.
func (p *Pipeline) RunAll(ctx context.Context) error {
	return p.CaptionCheck(ctx)
}
