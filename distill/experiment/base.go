package experiment

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/models"
	"github.com/faildirs/faildirs/distill/progress"
	"github.com/faildirs/faildirs/distill/safetensors"
	"github.com/faildirs/faildirs/internal/atomicfile"
)

// Training is what the base model learns from beyond the spec, for interventions: per-example loss weights and
// pool examples added to the training set. The zero value is the spec's training (its weights file, if any).
type Training struct {
	// Weights holds one loss weight per training example — the train split's examples, then the added pool
	// examples in AddPool order; nil means the spec's weights file, or all 1. Only ratios matter (rescaled to
	// mean 1); zero drops an example.
	Weights []float32
	// AddPool lists pool examples (indices into the pool split) added to the training set with their labels.
	AddPool []int
	// Seed, when set, replaces the spec's base-model seed (initial weights, example order), e.g. to repeat an
	// intervention over seeds.
	Seed *uint64
}

// BaseRun is a base model trained here and its outputs.
type BaseRun struct {
	// Model is the trained classifier.
	Model *models.Classifier
	// Preds are its predictions on every split (train, val, test and the pool when there is one).
	Preds map[string]*data.Predictions
	// Features are the penultimate features per split (only for the features latent).
	Features map[string]matrix.Dense
	// Epochs reports the training (empty when loaded from the cache).
	Epochs []models.EpochStats
	// Dir is the run's cache folder; Cached reports that it was loaded from there.
	Dir    string
	Cached bool
}

// BaseModel gives every split the base model's predictions: from the predictions CSVs (read with the data), or
// from a model trained here on train with the spec's settings ([Pipeline.TrainBase], cached).
func (p *Pipeline) BaseModel(ctx context.Context) error {
	if err := p.LoadData(ctx); err != nil {
		return err
	}
	if p.Preds != nil {
		return nil
	}
	return p.stage("base model", func() (bool, error) {
		run, err := p.TrainBase(ctx, Training{})
		if err != nil {
			return false, err
		}
		p.Base, p.Preds = run, run.Preds
		return run.Cached, nil
	})
}

// modelConfig is the base model's architecture for the data.
func (p *Pipeline) modelConfig() models.Config {
	return models.Config{Arch: models.Arch(p.Spec.Model), NumClasses: len(p.Data.Classes), Classes: p.Data.Classes,
		H: p.Spec.ImageSize, W: p.Spec.ImageSize}.WithDefaults()
}

// TrainBase trains the base model on train (plus t's pool examples, with t's weights and seed) with the spec's
// architecture, epochs, seed, batch size and learning rate, and predicts every split. Runs are cached by a
// fingerprint of all of it (data, settings, seed, weights, added examples): a rerun loads the checkpoint and the
// predictions. Interrupted training leaves no cache entry; a rerun trains again.
func (p *Pipeline) TrainBase(ctx context.Context, t Training) (*BaseRun, error) {
	if err := p.LoadData(ctx); err != nil {
		return nil, err
	}
	s := p.Spec
	if s.Preds != "" {
		return nil, fmt.Errorf("experiment: the base model comes from predictions CSVs (%s); nothing to train", s.Preds)
	}
	train := p.Data.Train
	if len(t.AddPool) > 0 {
		if p.Data.Pool == nil {
			return nil, fmt.Errorf("experiment: Training.AddPool: the data has no pool split")
		}
		for _, i := range t.AddPool {
			if i < 0 || i >= p.Data.Pool.Len() {
				return nil, fmt.Errorf("experiment: Training.AddPool: index %d outside the pool's %d examples", i, p.Data.Pool.Len())
			}
		}
	}
	weights := t.Weights
	if weights == nil && s.Weights != "" && len(t.AddPool) == 0 {
		var err error
		if weights, err = data.LoadWeights(s.Weights, train.IDs); err != nil {
			return nil, err
		}
	}
	n := train.Len() + len(t.AddPool)
	if weights != nil && len(weights) != n {
		return nil, fmt.Errorf("experiment: %d training weights for %d training examples (%d train + %d pool)", len(weights), n, train.Len(), len(t.AddPool))
	}
	cfg := p.modelConfig()
	features := s.Latent == LatentFeatures
	seed := s.Seed
	if t.Seed != nil {
		seed = *t.Seed
	}
	dir := filepath.Join(s.Work, "base-"+fingerprint(p.dataKey, cfg, s.Epochs, seed, s.BatchSize, s.LearningRate,
		weightsHash(weights), t.AddPool))
	run := &BaseRun{Dir: dir}
	if m, err := models.Load(p.Backend, filepath.Join(dir, "model.ckpt")); err == nil {
		if preds, err := p.loadBasePreds(dir); err == nil {
			run.Model, run.Preds, run.Cached = m, preds, true
			if !features {
				return run, nil
			}
			if run.Features, err = loadFeatures(dir); err == nil {
				return run, nil
			}
			// The features were not kept with this run: predict again (cheap) to get them.
			if err := p.predictAll(ctx, run, true); err != nil {
				return nil, err
			}
			return run, saveFeatures(dir, run.Features)
		}
	}
	ex, err := p.modelExamples(ctx, train, t.AddPool)
	if err != nil {
		return nil, err
	}
	m, err := models.New(p.Backend, cfg, seed)
	if err != nil {
		return nil, err
	}
	run.Model = m
	if run.Epochs, err = m.Train(ctx, ex, models.TrainOptions{Epochs: s.Epochs, BatchSize: s.BatchSize,
		LearningRate: s.LearningRate, Weights: weights, Seed: seed, Progress: p.Progress, Log: p.Log}); err != nil {
		return nil, err
	}
	if err := p.predictAll(ctx, run, features); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for name, pr := range run.Preds {
		if err := pr.Save(filepath.Join(dir, name+".csv")); err != nil {
			return nil, err
		}
	}
	if features {
		if err := saveFeatures(dir, run.Features); err != nil {
			return nil, err
		}
	}
	// The checkpoint is written last: its presence (with the CSVs) marks a complete cache entry.
	if err := m.Save(filepath.Join(dir, "model.ckpt")); err != nil {
		return nil, err
	}
	return run, nil
}

// predictAll predicts every split with run.Model (with penultimate features when asked).
func (p *Pipeline) predictAll(ctx context.Context, run *BaseRun, features bool) error {
	run.Preds = map[string]*data.Predictions{}
	if features {
		run.Features = map[string]matrix.Dense{}
	}
	for _, sp := range p.Data.Splits() {
		ex, err := p.modelExamples(ctx, sp, nil)
		if err != nil {
			return err
		}
		out, err := run.Model.Predict(ctx, ex, models.PredictOptions{Features: features, Progress: p.Progress})
		if err != nil {
			return fmt.Errorf("predicting %s: %w", sp.Name, err)
		}
		if run.Preds[sp.Name], err = out.ForSplit(sp); err != nil {
			return err
		}
		if features {
			run.Features[sp.Name] = out.Features
		}
	}
	return nil
}

// loadBasePreds reads a cached run's predictions of every split of the data.
func (p *Pipeline) loadBasePreds(dir string) (map[string]*data.Predictions, error) {
	out := map[string]*data.Predictions{}
	for _, sp := range p.Data.Splits() {
		pr, err := data.LoadPredictions(filepath.Join(dir, sp.Name+".csv"))
		if err != nil {
			return nil, err
		}
		if !slices.Equal(pr.IDs, sp.IDs) {
			return nil, fmt.Errorf("cached predictions of %s do not match the split", sp.Name)
		}
		out[sp.Name] = pr
	}
	return out, nil
}

// modelExamples returns what the base model reads for split s (plus pool examples addPool): in memory at the
// model's size when the split is in memory or small enough, else the files themselves (ImageNet), decoded batch
// by batch.
func (p *Pipeline) modelExamples(ctx context.Context, s *data.ImageSplit, addPool []int) (models.Examples, error) {
	size := p.Spec.ImageSize
	prep := func(sp *data.ImageSplit) (*data.ImageSplit, error) {
		if sp.Files == nil || p.Spec.Data == ImageNet {
			return sp, nil
		}
		return sp.Materialize(ctx, size, size, data.MaterializeOptions{Progress: p.Progress})
	}
	a, err := prep(s)
	if err != nil {
		return nil, err
	}
	if len(addPool) == 0 {
		return a, nil
	}
	b, err := prep(p.Data.Pool.Subset(addPool))
	if err != nil {
		return nil, err
	}
	return concatExamples{a, b}, nil
}

// concatExamples are the examples of a followed by those of b.
type concatExamples struct{ a, b models.Examples }

func (c concatExamples) Len() int { return c.a.Len() + c.b.Len() }

func (c concatExamples) Label(i int) int {
	if i < c.a.Len() {
		return c.a.Label(i)
	}
	return c.b.Label(i - c.a.Len())
}

func (c concatExamples) Batch(idx []int, h, w int) (*data.Images, error) {
	var ia, ib []int
	for _, i := range idx {
		if i < c.a.Len() {
			ia = append(ia, i)
		} else {
			ib = append(ib, i-c.a.Len())
		}
	}
	var parts [2]*data.Images
	for j, sub := range [][]int{ia, ib} {
		if len(sub) == 0 {
			continue
		}
		src := []models.Examples{c.a, c.b}[j]
		im, err := src.Batch(sub, h, w)
		if err != nil {
			return nil, err
		}
		parts[j] = im
	}
	ref := parts[0]
	if ref == nil {
		ref = parts[1]
	}
	out := data.NewImages(len(idx), ref.H, ref.W, ref.C)
	na, nb := 0, 0
	for k, i := range idx { // the parts hold their examples in idx order
		if i < c.a.Len() {
			copy(out.Pixels(k), parts[0].Pixels(na))
			na++
		} else {
			copy(out.Pixels(k), parts[1].Pixels(nb))
			nb++
		}
	}
	return out, nil
}

// weightsHash identifies a weight vector (nil: "none").
func weightsHash(w []float32) string {
	if w == nil {
		return "none"
	}
	buf := make([]byte, 4*len(w))
	for i, v := range w {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	return fingerprint(buf)
}

func saveFeatures(dir string, feats map[string]matrix.Dense) error {
	var ts []safetensors.Tensor
	names := make([]string, 0, len(feats))
	for k := range feats {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		f := feats[k]
		ts = append(ts, safetensors.Tensor{Name: k, Shape: []int{f.Rows, f.Cols}, Data: f.Data})
	}
	return safetensors.Save(filepath.Join(dir, "features.safetensors"), ts, map[string]string{"format": "faildirs-base-features"})
}

func loadFeatures(dir string) (map[string]matrix.Dense, error) {
	f, err := safetensors.Open(filepath.Join(dir, "features.safetensors"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]matrix.Dense{}
	for _, name := range f.Names() {
		v, shape, err := f.Float32(name)
		if err != nil {
			return nil, err
		}
		if len(shape) != 2 {
			return nil, fmt.Errorf("features %s: shape %v", name, shape)
		}
		out[name] = matrix.Dense{Rows: shape[0], Cols: shape[1], Data: v}
	}
	return out, nil
}

// badList is the cached result of decoding every image file once: the files, in order, and those that failed.
type badList struct {
	Files  []string        `json:"files"`
	Failed []clip.BadImage `json:"failed"`
}

// dropBad decodes every file-backed image of d once (in parallel, with a progress bar; the result is cached by the
// files' paths, sizes and times) and removes the undecodable ones from the splits (and from the predictions CSVs'
// rows), recording them in p.Skipped.
func (p *Pipeline) dropBad(ctx context.Context, d *data.Dataset) error {
	var files []string
	for _, sp := range d.Splits() {
		files = append(files, sp.Files...)
	}
	if len(files) == 0 {
		return nil
	}
	src := clip.Files(files)
	h := make([]string, len(files))
	for i := range files {
		id, err := src.ID(i)
		if err != nil {
			id = "unreadable:" + files[i]
		}
		h[i] = id
	}
	cache := filepath.Join(p.Spec.Work, "check-"+fingerprint(h)+".json")
	var bad badList
	if raw, err := os.ReadFile(cache); err == nil && json.Unmarshal(raw, &bad) == nil && slices.Equal(bad.Files, files) {
		p.logf("image check: %d undecodable images (cached in %s)", len(bad.Failed), cache)
	} else {
		bad = badList{Files: files}
		bar := progress.New(p.Progress, "checking images", len(files))
		errs := make([]error, len(files))
		var wg sync.WaitGroup
		next := make(chan int)
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for i := range next {
					_, errs[i] = data.DecodeFile(files[i])
					bar.Add(1)
				}
			})
		}
		for i := range files {
			if ctx.Err() != nil {
				break
			}
			next <- i
		}
		close(next)
		wg.Wait()
		bar.Done()
		if err := ctx.Err(); err != nil {
			return err
		}
		for i, err := range errs {
			if err != nil {
				bad.Failed = append(bad.Failed, clip.BadImage{Index: i, Name: files[i], Err: err.Error()})
			}
		}
		if err := os.MkdirAll(p.Spec.Work, 0o755); err != nil {
			return err
		}
		raw, _ := json.MarshalIndent(bad, "", " ")
		if err := atomicfile.WriteBytes(cache, raw); err != nil {
			return err
		}
	}
	if len(bad.Failed) == 0 {
		return nil
	}
	badSet := map[string]bool{}
	for _, b := range bad.Failed {
		badSet[b.Name] = true
	}
	for _, sp := range []**data.ImageSplit{&d.Train, &d.Val, &d.Test, &d.Pool} {
		if *sp == nil || (*sp).Files == nil {
			continue
		}
		var keep []int
		for i, f := range (*sp).Files {
			if !badSet[f] {
				keep = append(keep, i)
			}
		}
		if len(keep) == (*sp).Len() {
			continue
		}
		name := (*sp).Name
		*sp = (*sp).Subset(keep)
		if pr := p.Preds[name]; pr != nil {
			p.Preds[name] = subsetPreds(pr, keep)
		}
	}
	p.Skipped = bad.Failed
	p.note("%d images failed to decode and were skipped (listed in summary.json under dataset.skipped)", len(bad.Failed))
	return nil
}

// subsetPreds returns the rows idx of pr.
func subsetPreds(pr *data.Predictions, idx []int) *data.Predictions {
	out := &data.Predictions{}
	for _, i := range idx {
		out.IDs = append(out.IDs, pr.IDs[i])
		out.Labels = append(out.Labels, pr.Labels[i])
		out.Preds = append(out.Preds, pr.Preds[i])
		out.Conf = append(out.Conf, pr.Conf[i])
		if pr.Groups != nil {
			out.Groups = append(out.Groups, pr.Groups[i])
		}
	}
	return out
}
