package benchmark

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/models"
	"github.com/faildirs/faildirs/distill/progress"
	"github.com/faildirs/faildirs/distill/tinyclip"
)

// ResultVersion is the version of the result format (benchmark.json).
const ResultVersion = 1

// FailGap is the accuracy gap that makes a setting's planted slices fail: the base model's test accuracy on the
// slices is at least this much below its accuracy on the rest of their classes.
const FailGap = 0.10

// DefaultMethods are the slice finders a benchmark runs by default, in the order of its tables.
var DefaultMethods = []string{"fd", "fd-reference", "kdirs", "kdirs-all", "domino", "confidence", "random"}

// Options configures [Run]. The zero value runs the default benchmark: 40 settings from seed 0.
type Options struct {
	// Settings is the number of planted settings (default 40); Seed the seed they are all drawn from.
	Settings int
	Seed     uint64
	// Sizes are the split sizes of every setting.
	Sizes Sizes
	// Epochs of the base model's training (an MLP per setting; default 10).
	Epochs int
	// Ks are the K of the precision-at-K columns (default 10, 25, 50).
	Ks []int
	// Methods are the finders to run, by name (default DefaultMethods).
	Methods []string
	// Domino and Sequential configure the mixture and the k-direction finders.
	Domino     DominoOptions
	Sequential distill.SequentialOptions
	// CLIP is the latent space; nil means the default tiny CLIP (package tinyclip, trained once and cached).
	CLIP *clip.Model
	// FashionDir is the Fashion-MNIST folder (default: the data package's); Fashion, when set, is used instead of
	// reading it.
	FashionDir string
	Fashion    *data.Fashion
	// Work is the cache folder of the embedding table (default <user cache>/faildirs/benchmark).
	Work string
	// EmbedBatch is the number of images per CLIP call (default 1024).
	EmbedBatch int
	// Progress receives the progress bars; nil means the progress package's default, io.Discard none.
	Progress io.Writer
	// Log receives a line per setting; nil means none.
	Log io.Writer
}

// WithDefaults returns o with zero fields set to their defaults (Sizes' too).
func (o Options) WithDefaults() Options {
	if o.Settings == 0 {
		o.Settings = 40
	}
	o.Sizes = o.Sizes.WithDefaults()
	if o.Epochs == 0 {
		o.Epochs = 10
	}
	if len(o.Ks) == 0 {
		o.Ks = []int{10, 25, 50}
	}
	if len(o.Methods) == 0 {
		o.Methods = slices.Clone(DefaultMethods)
	}
	o.Domino = o.Domino.WithDefaults()
	if o.EmbedBatch == 0 {
		o.EmbedBatch = 1024
	}
	return o
}

// Validate checks the options (after defaults): every method known, K and the sizes sensible.
func (o Options) Validate() error {
	o = o.WithDefaults()
	if o.Settings < 1 {
		return fmt.Errorf("benchmark: %d settings, want at least 1", o.Settings)
	}
	if err := o.Sizes.validate(); err != nil {
		return fmt.Errorf("benchmark: %w", err)
	}
	if o.Epochs < 1 || o.EmbedBatch < 1 {
		return fmt.Errorf("benchmark: epochs %d and embedding batch %d must be positive", o.Epochs, o.EmbedBatch)
	}
	for _, k := range o.Ks {
		if k < 1 {
			return fmt.Errorf("benchmark: K=%d, want positive values", k)
		}
	}
	seen := map[string]bool{}
	for _, m := range o.Methods {
		if _, err := NewFinder(m, o); err != nil {
			return err
		}
		if seen[m] {
			return fmt.Errorf("benchmark: method %q given twice", m)
		}
		seen[m] = true
	}
	return nil
}

// NewFinder returns the finder called name, configured by opts.
func NewFinder(name string, opts Options) (Finder, error) {
	switch name {
	case "fd":
		return FailureDirections{}, nil
	case "fd-reference":
		return FailureDirections{Compat: distill.CompatReference}, nil
	case "kdirs":
		seq := opts.Sequential
		seq.RefitAll = false
		return KDirections{Options: seq}, nil
	case "kdirs-all":
		seq := opts.Sequential
		seq.RefitAll = true
		return KDirections{Options: seq}, nil
	case "domino":
		return Domino{Options: opts.Domino}, nil
	case "confidence":
		return Confidence{}, nil
	case "random":
		return Random{}, nil
	}
	return nil, fmt.Errorf("benchmark: unknown method %q (known: %s)", name, strings.Join(DefaultMethods, ", "))
}

// Config records what a benchmark ran: the options that shape its results, and the latent space.
type Config struct {
	Seed       uint64                    `json:"seed"`
	Settings   int                       `json:"settings"`
	Sizes      Sizes                     `json:"sizes"`
	Epochs     int                       `json:"epochs"`
	Ks         []int                     `json:"ks"`
	Methods    []string                  `json:"methods"`
	Domino     DominoOptions             `json:"domino"`
	Sequential distill.SequentialOptions `json:"sequential"`
	FailGap    float64                   `json:"fail_gap"`
	// Latent names the CLIP (its folder's name or hub id) and LatentFingerprint identifies its weights.
	Latent            string `json:"latent"`
	LatentFingerprint string `json:"latent_fingerprint"`
}

// BaseResult describes a setting's base model on the test split.
type BaseResult struct {
	// Accuracy over every test example; SliceAccuracy on the planted slices' examples and RestAccuracy on the
	// others (pooled over classes).
	Accuracy      float64 `json:"accuracy"`
	SliceAccuracy float64 `json:"slice_accuracy"`
	RestAccuracy  float64 `json:"rest_accuracy"`
	// Fails: RestAccuracy − SliceAccuracy ≥ FailGap.
	Fails bool `json:"fails"`
	// ValErrors is the number of validation examples the base model gets wrong.
	ValErrors int `json:"val_errors"`
}

// SettingResult is one setting's outcome.
type SettingResult struct {
	Setting Setting `json:"setting"`
	// Classes names the classes; Slices lists each class's planted slices.
	Classes []string   `json:"classes"`
	Slices  [][]Slice  `json:"slices"`
	Base    BaseResult `json:"base"`
	// CaptionChance is the share of the vocabulary's captions that name a planted slice, averaged over classes:
	// the caption metric of a finder that picks its hard caption at random.
	CaptionChance float64 `json:"caption_chance"`
	// Methods holds one result per finder, in Config.Methods order.
	Methods []MethodResult `json:"methods"`
}

// Result is a whole benchmark: what ran, every setting's results and the summary. It is deterministic: the same
// options, data and CLIP give the same Result (Timing aside, which is not part of it).
type Result struct {
	Version  int             `json:"version"`
	Config   Config          `json:"config"`
	Settings []SettingResult `json:"settings"`
	Summary  Summary         `json:"summary"`
	// Timing reports where the time went (benchmark's timing.json, not benchmark.json).
	Timing Timing `json:"-"`
}

// Timing reports the wall-clock seconds of a run.
type Timing struct {
	// Total is the whole run; Embeddings the embedding table (Computed embeddings computed, the rest cached).
	Total      float64 `json:"total"`
	Embeddings float64 `json:"embeddings"`
	Computed   int     `json:"embeddings_computed"`
	// Settings has one entry per setting.
	Settings []SettingTiming `json:"settings"`
	// Backend describes the compute backend.
	Backend string `json:"backend"`
}

// SettingTiming is the time of one setting: data generation, base model (training and prediction), and each
// finder (with its captions).
type SettingTiming struct {
	Index     int                `json:"index"`
	Total     float64            `json:"total"`
	Data      float64            `json:"data"`
	BaseModel float64            `json:"base_model"`
	Methods   map[string]float64 `json:"methods"`
}

// Run runs the benchmark on backend b (nil: one chosen by package backend, released at the end): generates the
// settings, embeds every image they use once (the embedding table), then per setting trains the base model,
// runs every finder on the same inputs and measures them, and summarises.
func Run(ctx context.Context, b compute.Backend, opts Options) (*Result, error) {
	start := time.Now()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.WithDefaults()
	settings, err := Generate(opts.Seed, opts.Settings, opts.Sizes)
	if err != nil {
		return nil, err
	}
	finders := make([]Finder, len(opts.Methods))
	for i, m := range opts.Methods {
		finders[i], _ = NewFinder(m, opts)
	}
	var binfo string
	if b == nil {
		var info backend.Info
		if b, info, err = backend.New(backend.Options{}); err != nil {
			return nil, fmt.Errorf("benchmark: %w", err)
		}
		defer b.Finalize()
		binfo = info.String()
	} else {
		binfo = b.Name() + ": " + b.Description()
	}
	f := opts.Fashion
	if f == nil {
		if f, err = data.LoadFashion(opts.FashionDir); err != nil {
			return nil, fmt.Errorf("benchmark: %w", err)
		}
	}
	model := opts.CLIP
	if model == nil {
		dir, err := tinyclip.Ensure(ctx, b, tinyclip.Options{FashionDir: opts.FashionDir, Progress: opts.Progress, Log: opts.Log})
		if err != nil {
			return nil, fmt.Errorf("benchmark: %w", err)
		}
		if model, err = clip.LoadDir(b, dir); err != nil {
			return nil, fmt.Errorf("benchmark: %w", err)
		}
		defer model.Finalize()
	}
	work := opts.Work
	if work == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("benchmark: no user cache folder (set Options.Work): %w", err)
		}
		work = filepath.Join(base, "faildirs", "benchmark")
	}
	table, err := newEmbeddingTable(model, f, work, opts.EmbedBatch, opts.Progress)
	if err != nil {
		return nil, err
	}
	fp, _ := model.Fingerprint()
	res := &Result{Version: ResultVersion, Config: Config{Seed: opts.Seed, Settings: opts.Settings, Sizes: opts.Sizes,
		Epochs: opts.Epochs, Ks: opts.Ks, Methods: opts.Methods, Domino: opts.Domino, Sequential: opts.Sequential,
		FailGap: FailGap, Latent: filepath.Base(model.Source), LatentFingerprint: fp}}
	res.Timing.Backend = binfo

	// The embedding table: every (image, tint) of every setting, embedded once.
	t0 := time.Now()
	var keys []imageKey
	for _, s := range settings {
		ds, err := data.Planted(f, s.Classes, s.Seed)
		if err != nil {
			return nil, fmt.Errorf("benchmark: setting %d: %w", s.Index, err)
		}
		for _, sp := range []*data.ImageSplit{ds.Train, ds.Val, ds.Test} {
			k, err := splitKeys(ds, sp)
			if err != nil {
				return nil, err
			}
			keys = append(keys, k...)
		}
	}
	if err := table.ensure(ctx, keys); err != nil {
		return nil, err
	}
	res.Timing.Embeddings, res.Timing.Computed = time.Since(t0).Seconds(), table.computed
	logf(opts.Log, "embeddings: %d images, %d computed (%.1fs)", len(keys), table.computed, res.Timing.Embeddings)

	text := &memoText{enc: clip.TextEncoder{Embedder: model, Options: clip.EmbedOptions{BatchSize: 256, Progress: io.Discard}},
		cache: map[string][]float32{}}
	bar := progress.New(opts.Progress, "benchmark settings", len(settings))
	defer bar.Done()
	for _, s := range settings {
		sr, st, err := runSetting(ctx, b, f, table, text, finders, s, opts)
		if err != nil {
			return nil, fmt.Errorf("benchmark: setting %d (%s): %w", s.Index, s.Name, err)
		}
		res.Settings = append(res.Settings, *sr)
		res.Timing.Settings = append(res.Timing.Settings, st)
		bar.Add(1)
		logf(opts.Log, "setting %2d %-15s base slice/rest accuracy %.3f/%.3f  P@%d: %s  (%.1fs)", s.Index, s.Kind,
			sr.Base.SliceAccuracy, sr.Base.RestAccuracy, opts.Ks[min(1, len(opts.Ks)-1)], precisionLine(sr, min(1, len(opts.Ks)-1)), st.Total)
	}
	res.Summary = Summarize(res.Settings, opts.Ks, opts.Methods)
	res.Timing.Total = time.Since(start).Seconds()
	return res, nil
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

func precisionLine(sr *SettingResult, j int) string {
	var parts []string
	for _, m := range sr.Methods {
		parts = append(parts, fmt.Sprintf("%s %.2f", m.Method, m.PrecisionAtK[j]))
	}
	return strings.Join(parts, ", ")
}

// runSetting trains one setting's base model and runs and measures every finder.
func runSetting(ctx context.Context, b compute.Backend, f *data.Fashion, table *embeddingTable, text *memoText, finders []Finder,
	s Setting, opts Options) (*SettingResult, SettingTiming, error) {
	st := SettingTiming{Index: s.Index, Methods: map[string]float64{}}
	t0 := time.Now()
	ds, err := data.Planted(f, s.Classes, s.Seed)
	if err != nil {
		return nil, st, err
	}
	vocab, err := vocabulary(s)
	if err != nil {
		return nil, st, err
	}
	st.Data = time.Since(t0).Seconds()
	t1 := time.Now()
	nc := len(s.Classes)
	clf, err := models.New(b, models.Config{Arch: models.MLP, NumClasses: nc, Classes: ds.Classes, H: 28, W: 28}, s.Seed)
	if err != nil {
		return nil, st, err
	}
	if _, err := clf.Train(ctx, ds.Train, models.TrainOptions{Epochs: opts.Epochs, Seed: s.Seed, Progress: io.Discard}); err != nil {
		return nil, st, err
	}
	splits := map[string]distill.Split{}
	for _, sp := range []*data.ImageSplit{ds.Train, ds.Val, ds.Test} {
		keys, err := splitKeys(ds, sp)
		if err != nil {
			return nil, st, err
		}
		lat, err := table.rows(keys)
		if err != nil {
			return nil, st, err
		}
		split := distill.Split{Name: sp.Name, Latents: lat, IDs: sp.IDs}
		if sp.Name != "train" {
			out, err := clf.Predict(ctx, sp, models.PredictOptions{Progress: io.Discard})
			if err != nil {
				return nil, st, err
			}
			split.Labels, split.Preds, split.Confs = out.Labels, out.Preds, out.Conf
		}
		splits[sp.Name] = split
	}
	st.BaseModel = time.Since(t1).Seconds()
	wh, err := distill.FitWhitening(splits["train"])
	if err != nil {
		return nil, st, err
	}
	in := Input{Train: splits["train"], Val: splits["val"], Test: splits["test"], NumClasses: nc, Whitening: wh,
		Seed: s.Seed, Backend: b}
	withGroups := in.Test
	withGroups.Groups = ds.Test.Groups
	view := testView{split: withGroups, slices: s.Slices(), ks: opts.Ks}
	sr := &SettingResult{Setting: s, Classes: ds.Classes, Slices: view.slices, Base: baseResult(view, in.Val),
		CaptionChance: captionChance(vocab, view.slices)}
	for _, fd := range finders {
		tm := time.Now()
		finding, err := fd.Find(ctx, in)
		if err != nil {
			return nil, st, fmt.Errorf("%s: %w", fd.Name(), err)
		}
		hard := make([]string, nc)
		if finding.Describe != nil && len(finding.Described) > 0 {
			if err := hardCaptions(ctx, text, finding.Describe, vocab, finding.Described, hard, nil); err != nil {
				return nil, st, fmt.Errorf("%s: captions: %w", fd.Name(), err)
			}
		}
		var second []*caption.Ranking
		if len(finding.Directions) > 1 {
			second = make([]*caption.Ranking, nc)
			var two []int
			for c, sl := range view.slices {
				if len(sl) == 2 && slices.Contains(finding.Directions[1].Classes, c) {
					two = append(two, c)
				}
			}
			if len(two) > 0 {
				if err := hardCaptions(ctx, text, finding.Directions[1].Describe, vocab, two, nil, second); err != nil {
					return nil, st, fmt.Errorf("%s: second direction's captions: %w", fd.Name(), err)
				}
			}
		}
		mr, err := view.evaluate(fd.Name(), finding, hard, second)
		if err != nil {
			return nil, st, err
		}
		sr.Methods = append(sr.Methods, mr)
		st.Methods[fd.Name()] = time.Since(tm).Seconds()
	}
	st.Total = time.Since(t0).Seconds()
	return sr, st, nil
}

// hardCaptions scores the vocabulary of the classes with sc and stores each class's hard caption in hard and its
// ranking in rankings (either may be nil).
func hardCaptions(ctx context.Context, text caption.TextEmbedder, sc caption.Scorer, v caption.Vocabulary, classes []int,
	hard []string, rankings []*caption.Ranking) error {
	rs, err := caption.ScoreAll(ctx, text, sc, v, caption.ScoreOptions{Classes: classes, Progress: io.Discard})
	if err != nil {
		return err
	}
	for k, c := range classes {
		if hard != nil && len(rs[k].Captions) > 0 {
			hard[c] = rs[k].Captions[0].Text
		}
		if rankings != nil {
			rankings[c] = rs[k]
		}
	}
	return nil
}

// baseResult measures the base model on the test split's planted slices against the rest.
func baseResult(v testView, val distill.Split) BaseResult {
	t := v.split
	inSlice := map[int]bool{}
	for _, g := range v.minorities() {
		inSlice[g] = true
	}
	var right, n, sr, sn int
	for i := range t.Len() {
		ok := t.Correct(i)
		if inSlice[t.Groups[i]] {
			sn++
			if ok {
				sr++
			}
			continue
		}
		n++
		if ok {
			right++
		}
	}
	r := BaseResult{Accuracy: float64(right+sr) / float64(max(1, n+sn))}
	if sn > 0 {
		r.SliceAccuracy = float64(sr) / float64(sn)
	}
	if n > 0 {
		r.RestAccuracy = float64(right) / float64(n)
	}
	r.Fails = r.RestAccuracy-r.SliceAccuracy >= FailGap
	for i := range val.Len() {
		if !val.Correct(i) {
			r.ValErrors++
		}
	}
	return r
}

// captionChance is the mean over classes of the share of a class's captions that name one of its slices.
func captionChance(v caption.Vocabulary, sl [][]Slice) float64 {
	var shares []float64
	for c, cl := range v.Classes {
		caps := cl.Captions()
		n := 0
		for _, cp := range caps {
			if names(cp.Text, sl[c]) {
				n++
			}
		}
		shares = append(shares, float64(n)/float64(max(1, len(caps))))
	}
	return mean(shares)
}

// memoText embeds caption texts once each (captions repeat across finders and settings).
type memoText struct {
	enc   caption.TextEmbedder
	cache map[string][]float32
}

// EmbedTexts returns the texts' embeddings, computing the new ones in one call.
func (m *memoText) EmbedTexts(ctx context.Context, texts []string) (matrix.Dense, error) {
	var todo []string
	for _, t := range texts {
		if _, ok := m.cache[t]; !ok && !slices.Contains(todo, t) {
			todo = append(todo, t)
		}
	}
	if len(todo) > 0 {
		e, err := m.enc.EmbedTexts(ctx, todo)
		if err != nil {
			return matrix.Dense{}, err
		}
		for i, t := range todo {
			m.cache[t] = slices.Clone(e.Row(i))
		}
	}
	var out matrix.Dense
	for i, t := range texts {
		v := m.cache[t]
		if i == 0 {
			out = matrix.Zeros(len(texts), len(v))
		}
		copy(out.Row(i), v)
	}
	return out, nil
}

// fashionNouns are the caption nouns of a Fashion-MNIST item.
func fashionNouns(item int) []string { return caption.FashionNouns[item] }

// vocabulary is a setting's caption vocabulary, in the style of the experiment package's: spurious settings share
// the nouns of all their items between classes, with the setting's tints as adjectives (every image is tinted);
// rare settings give each superclass its members' nouns, no adjective (gray images) and the reference noun "item".
func vocabulary(s Setting) (caption.Vocabulary, error) {
	v := caption.Vocabulary{Name: "fashion-benchmark"}
	spurious := s.Kind == KindSpurious || s.Kind == KindSpuriousTriple
	var shared, colors []string
	if spurious {
		for _, c := range s.Classes {
			shared = append(shared, fashionNouns(c.Groups[0].Item)...)
			colors = append(colors, c.Groups[0].Color)
		}
	}
	for _, c := range s.Classes {
		var items []int
		for _, g := range c.Groups {
			if !slices.Contains(items, g.Item) {
				items = append(items, g.Item)
			}
		}
		name := c.Name
		cl, err := caption.FashionClass(name, items...)
		if err != nil {
			return v, err
		}
		if spurious {
			cl.Nouns, cl.Adjectives = slices.Clone(shared), slices.Clone(colors)
		} else {
			cl.Adjectives, cl.RefNoun = []string{""}, "item"
		}
		v.Classes = append(v.Classes, cl)
	}
	return v, v.Validate()
}
