package experiment

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/clip"
)

// Fit fits the per-class SVMs on val (whitening statistics from train, or its seeded sample: Pipeline.TrainRows),
// computes the decision values of the embedded splits and evaluates the error prediction on test.
func (p *Pipeline) Fit(ctx context.Context) error {
	if p.SVM != nil {
		return nil
	}
	train, err := p.Split(ctx, TrainSampleSplit)
	if err != nil {
		return err
	}
	val, err := p.Split(ctx, "val")
	if err != nil {
		return err
	}
	if err := p.stage("SVMs", func() (bool, error) {
		opts := distill.DefaultOptions()
		opts.NumClasses = len(p.Data.Classes)
		opts.Progress = p.Progress
		if p.Spec.SVMCs != nil {
			opts.Cs = p.Spec.SVMCs
		}
		opts.Compat = p.Spec.Compat
		opts.TrainSample = p.trainSample()
		// The fit is cached by a hash of everything it reads: a notebook cell re-runs it as a new process.
		cache := filepath.Join(p.Spec.Work, "svm-"+fitKey(train, val, opts)+".json")
		if m, err := distill.Load(cache); err == nil {
			p.SVM = m
			return true, nil
		}
		m, err := distill.FitContext(ctx, p.Backend, train, val, opts)
		if err != nil {
			return false, err
		}
		if err := os.MkdirAll(p.Spec.Work, 0o755); err == nil {
			_ = m.Save(cache) // a cache that cannot be written only costs the next run a refit
		}
		p.SVM = m
		return false, nil
	}); err != nil {
		return err
	}
	return p.decide(ctx)
}

// fitKey hashes the inputs of a fit: the train and val latents, val's labels and predictions, and the options.
func fitKey(train, val distill.Split, opts distill.Options) string {
	h := sha256.New()
	for _, s := range []distill.Split{train, val} {
		binary.Write(h, binary.LittleEndian, int64(s.Latents.Rows))
		binary.Write(h, binary.LittleEndian, int64(s.Latents.Cols))
		binary.Write(h, binary.LittleEndian, s.Latents.Data)
	}
	for _, v := range [][]int{val.Labels, val.Preds} {
		for _, x := range v {
			binary.Write(h, binary.LittleEndian, int64(x))
		}
	}
	raw, _ := json.Marshal(opts) // plain data; Progress and the solver's callbacks are not part of the JSON
	h.Write(raw)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// UseModel makes m (e.g. read back with distill.Load from an earlier fit's model.json) the pipeline's fitted
// model instead of fitting, after checking it matches the latent space and the classes.
func (p *Pipeline) UseModel(ctx context.Context, m *distill.FailureModel) error {
	test, err := p.Split(ctx, "test")
	if err != nil {
		return err
	}
	if m.Dim() != test.Dim() {
		return fmt.Errorf("experiment: the model is %d-dimensional, the latent space %d", m.Dim(), test.Dim())
	}
	if m.NumClasses() != len(p.Data.Classes) {
		return fmt.Errorf("experiment: the model has %d classes, the data %d", m.NumClasses(), len(p.Data.Classes))
	}
	p.SVM = m
	return p.decide(ctx)
}

// decide computes the decision values of train (its sample's rows with TrainRows), val and test and the
// error-prediction metrics on test.
func (p *Pipeline) decide(ctx context.Context) error {
	p.Decisions = map[string][]float32{}
	for _, name := range splitNames {
		key := name
		if name == "train" {
			key = TrainSampleSplit
		}
		s, err := p.Split(ctx, key)
		if err != nil {
			return err
		}
		if p.Decisions[name], err = p.SVM.Decision(s); err != nil {
			return err
		}
		if name == "test" {
			if p.Eval, err = p.SVM.Evaluate(s, 0, nil); err != nil {
				return err
			}
		}
	}
	if len(p.fittedClasses()) == 0 {
		p.note("no class has a failure direction: every class's validation errors are too few (or all) for an SVM")
	}
	return nil
}

// fittedClasses lists the classes with an SVM.
func (p *Pipeline) fittedClasses() []int {
	var out []int
	for _, c := range p.SVM.Classes() {
		if c.Status.HasClassifier() {
			out = append(out, c.Class)
		}
	}
	return out
}

// TextEmbedder returns the CLIP's text tower as a caption.TextEmbedder (raw embeddings, as the image side).
func (p *Pipeline) TextEmbedder(ctx context.Context) (caption.TextEmbedder, error) {
	if err := p.LoadLatent(ctx); err != nil {
		return nil, err
	}
	if p.CLIP == nil {
		return nil, fmt.Errorf("experiment: latent %s has no text tower", p.Spec.Latent)
	}
	return clip.TextEncoder{Embedder: p.CLIP, Options: clip.EmbedOptions{BatchSize: 256, Progress: p.Progress}}, nil
}

// Captions scores the caption vocabulary of every class with an SVM: hard (lowest score) to easy. Without a text
// tower (features latent), with VocabNone or without any fitted class it records a note and leaves Rankings nil.
func (p *Pipeline) Captions(ctx context.Context) error {
	if p.Rankings != nil || p.captionsDone {
		return nil
	}
	if err := p.Fit(ctx); err != nil {
		return err
	}
	return p.stage("captions", func() (bool, error) {
		p.captionsDone = true
		if p.Spec.Latent == LatentFeatures {
			p.note("no captions: the features latent has no text tower")
			return false, nil
		}
		v, ok, err := p.Vocabulary()
		if err != nil {
			return false, err
		}
		if !ok {
			p.note("no captions (vocab none)")
			return false, nil
		}
		which := p.fittedClasses()
		if len(which) == 0 {
			return false, nil
		}
		te, err := p.TextEmbedder(ctx)
		if err != nil {
			return false, err
		}
		r, err := caption.ScoreAll(ctx, te, p.SVM, v, caption.ScoreOptions{Classes: which, Progress: p.Progress})
		if err != nil {
			return false, err
		}
		p.Rankings = make([]*caption.Ranking, len(p.Data.Classes))
		for k, c := range which {
			p.Rankings[c] = r[k]
		}
		return false, nil
	})
}

// CaptionCheck ranks each class's test images by similarity to its hard and its easy caption and measures the
// base model's accuracy on the nearest ones, against the class average.
func (p *Pipeline) CaptionCheck(ctx context.Context) error {
	if p.Checks != nil || p.checksDone {
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
		p.checksDone = true
		if p.Rankings == nil {
			return false, nil
		}
		te, err := p.TextEmbedder(ctx)
		if err != nil {
			return false, err
		}
		checks := make([]*caption.Check, len(p.Rankings))
		ks := checkKs(p.Spec.CaptionK)
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
			if len(idx) == 0 {
				continue
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
