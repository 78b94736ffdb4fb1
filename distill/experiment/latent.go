package experiment

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/tinyclip"
)

// tinyOptions are the tiny CLIP's training options. Its cache is package tinyclip's default folder unless the
// spec names a work folder, which then holds it too.
func (p *Pipeline) tinyOptions() tinyclip.Options {
	o := tinyclip.Options{Seed: p.Spec.CLIPSeed, Steps: p.Spec.CLIPSteps, Progress: p.Progress, Log: p.Log}
	if p.Spec.fashionSource() {
		o.FashionDir = p.Spec.DataDir
	}
	if !p.workDefault {
		o.CacheDir = p.Spec.Work
	}
	return o
}

// LoadLatent loads the latent space's CLIP: the tiny CLIP (trained on Fashion-MNIST first when not cached), an
// untrained one (LatentRandom), or any CLIP in the HF layout from the hub or a folder. The features latent needs
// none.
func (p *Pipeline) LoadLatent(ctx context.Context) error {
	if p.CLIP != nil || p.Spec.Latent == LatentFeatures {
		return nil
	}
	switch p.Spec.Latent {
	case LatentTiny:
		return p.stage("tiny CLIP", func() (bool, error) {
			opts := p.tinyOptions()
			dir, err := tinyclip.Dir(opts)
			if err != nil {
				return false, err
			}
			cached := tinyclip.Complete(dir)
			if dir, err = tinyclip.Ensure(ctx, p.Backend, opts); err != nil {
				return false, err
			}
			m, err := clip.LoadDir(p.Backend, dir)
			if err != nil {
				return false, err
			}
			p.CLIP, p.CLIPSource = m, dir
			if rec, err := tinyclip.LoadRecord(dir); err == nil {
				p.CLIPQuality = rec.Quality
			}
			return cached, nil
		})
	case LatentRandom:
		return p.stage("random CLIP", func() (bool, error) {
			m, err := tinyclip.NewRandom(p.Backend, p.Spec.CLIPSeed)
			if err != nil {
				return false, err
			}
			p.CLIP, p.CLIPSource = m, m.Source
			return false, nil
		})
	}
	return p.stage("CLIP", func() (bool, error) {
		m, err := clip.Load(ctx, p.Backend, p.Spec.Latent, clip.LoadOptions{Log: p.Log})
		if err != nil {
			return false, err
		}
		p.CLIP, p.CLIPSource = m, p.Spec.Latent
		return true, nil
	})
}

// Embed computes (or loads) the raw image embeddings of val, test and the train images the whitening statistics
// come from (the whole train split, or its seeded sample: Spec.TrainSample, Pipeline.TrainRows): from the base
// model's features, from the spec's embedding files, or with the CLIP through package clip's resumable cache
// (fingerprinted by model, preprocessing and images; an interrupted run resumes where it stopped).
func (p *Pipeline) Embed(ctx context.Context) error {
	if p.Emb != nil {
		return nil
	}
	if err := p.LoadData(ctx); err != nil {
		return err
	}
	if p.Spec.Latent == LatentFeatures {
		if err := p.BaseModel(ctx); err != nil {
			return err
		}
	} else if err := p.LoadLatent(ctx); err != nil {
		return err
	}
	if p.TrainRows != nil {
		p.logf("embedding %d of %d train images (a seeded sample for the whitening statistics; %d fewer to embed), %d val, %d test",
			len(p.TrainRows), p.Data.Train.Len(), p.Data.Train.Len()-len(p.TrainRows), p.Data.Val.Len(), p.Data.Test.Len())
	}
	return p.stage("embeddings", func() (bool, error) {
		emb := map[string]matrix.Dense{}
		allCached := true
		for _, name := range splitNames {
			sp, key := p.Data.Split(name), name
			if name == "train" && p.TrainRows != nil {
				sp, key = sp.Subset(p.TrainRows), TrainSampleSplit
			}
			e, cached, err := p.embedImages(ctx, key, sp)
			if err != nil {
				return false, err
			}
			emb[key] = e
			allCached = allCached && cached
		}
		p.Emb = emb
		return allCached, nil
	})
}

// TrainSampleSplit is the key of [Pipeline.Emb] under which the train sample's embeddings are held when the
// whitening statistics come from a sample (Pipeline.TrainRows); "train" is then embedded only when asked for.
const TrainSampleSplit = "train-sample"

// trainSample is the sample of train rows the whitening statistics come from (the zero value: every row).
func (p *Pipeline) trainSample() distill.TrainSample {
	t := distill.TrainSample{Size: p.Spec.TrainSample, Seed: p.Spec.DataSeed, Of: p.Data.Train.Len()}
	if !t.Sampled() {
		return distill.TrainSample{}
	}
	return t
}

// Embedding returns the raw embeddings of split name ("train", "val", "test" or "pool"), computing them when
// needed (the whole train split even when the fit uses a sample of it; then only the rows outside the sample are
// embedded).
func (p *Pipeline) Embedding(ctx context.Context, name string) (matrix.Dense, error) {
	if err := p.Embed(ctx); err != nil {
		return matrix.Dense{}, err
	}
	if e, ok := p.Emb[name]; ok {
		return e, nil
	}
	sp := p.Data.Split(name)
	if sp == nil {
		return matrix.Dense{}, fmt.Errorf("experiment: embeddings of %s: no such split", name)
	}
	var e matrix.Dense
	var err error
	if name == "train" && p.TrainRows != nil && p.CLIP != nil && len(p.Spec.Embeddings) == 0 {
		e, err = p.embedTrainRest(ctx, sp)
	} else {
		e, _, err = p.embedImages(ctx, name, sp)
	}
	if err != nil {
		return matrix.Dense{}, fmt.Errorf("experiment: embeddings of %s: %w", name, err)
	}
	p.Emb[name] = e
	return e, nil
}

// embedTrainRest embeds the whole train split when its sample (TrainRows) is embedded already: only the rows
// outside the sample go through the CLIP (with their own cache), and the two are put back in train's order.
func (p *Pipeline) embedTrainRest(ctx context.Context, train *data.ImageSplit) (matrix.Dense, error) {
	sample, ok := p.Emb[TrainSampleSplit]
	if !ok {
		return matrix.Dense{}, fmt.Errorf("the train sample is not embedded")
	}
	inSample := make([]bool, train.Len())
	for _, i := range p.TrainRows {
		inSample[i] = true
	}
	var rest []int
	for i, in := range inSample {
		if !in {
			rest = append(rest, i)
		}
	}
	restEmb, _, err := p.embedImages(ctx, "train", train.Subset(rest))
	if err != nil {
		return matrix.Dense{}, err
	}
	full := matrix.Dense{Rows: train.Len(), Cols: sample.Cols, Data: make([]float32, train.Len()*sample.Cols)}
	for k, i := range p.TrainRows {
		copy(full.Row(i), sample.Row(k))
	}
	for k, i := range rest {
		copy(full.Row(i), restEmb.Row(k))
	}
	return full, nil
}

// embedImages embeds split sp (of Data.Split(key), or the train sample) and reports whether nothing had to be
// computed.
func (p *Pipeline) embedImages(ctx context.Context, key string, sp *data.ImageSplit) (matrix.Dense, bool, error) {
	if p.Spec.Latent == LatentFeatures {
		name := key
		if key == TrainSampleSplit {
			name = "train"
		}
		f, ok := p.Base.Features[name]
		if !ok {
			return matrix.Dense{}, false, fmt.Errorf("the base model has no features of %s", name)
		}
		if key == TrainSampleSplit {
			f = f.Select(p.TrainRows)
		}
		return f, true, nil
	}
	if len(p.Spec.Embeddings) > 0 {
		e, err := p.fromShards(sp)
		return e, true, err
	}
	name := key
	var src clip.ImageSource
	if sp.Images != nil {
		im := sp.Images
		var err error
		if src, err = clip.Uint8HWC(im.Pix, im.N, im.H, im.W, im.C); err != nil {
			return matrix.Dense{}, false, err
		}
	} else {
		src = clip.Files(sp.Files)
	}
	modelFP, err := p.CLIP.Fingerprint()
	if err != nil {
		return matrix.Dense{}, false, err
	}
	if err := os.MkdirAll(p.Spec.Work, 0o755); err != nil {
		return matrix.Dense{}, false, err
	}
	cache := p.embedCachePath(sp, modelFP)
	res, err := p.CLIP.EmbedImages(ctx, src, clip.EmbedOptions{BatchSize: p.Spec.EmbedBatch, Progress: p.Progress,
		CachePath: cache, RecomputeStale: true})
	if err != nil {
		return matrix.Dense{}, false, fmt.Errorf("embedding %s: %w", name, err)
	}
	return res.Embeddings, res.Computed == 0, nil
}

// idsFingerprint identifies a split's examples in order.
func idsFingerprint(sp *data.ImageSplit) string {
	return fingerprint(sp.Name, sp.IDs, sp.Files)
}

// shardIndex maps image files to rows of the spec's embedding files.
type shardIndex struct {
	rows   map[string]shardRow
	dim    int
	caches []*clip.Cache
}

type shardRow struct{ cache, row int }

// loadShards reads the spec's embedding files (as written by `faildirs embed`, shards of one image list or
// several lists), checks they come from the pipeline's CLIP and preprocessing, and indexes their finished rows by
// absolute file path.
func (p *Pipeline) loadShards() (*shardIndex, error) {
	if p.shards != nil {
		return p.shards, nil
	}
	modelFP, err := p.CLIP.Fingerprint()
	if err != nil {
		return nil, err
	}
	idx := &shardIndex{rows: map[string]shardRow{}}
	for ci, path := range p.Spec.Embeddings {
		c, err := clip.LoadCache(path)
		if err != nil {
			return nil, fmt.Errorf("embeddings: %w", err)
		}
		if c.ModelFingerprint != modelFP {
			return nil, fmt.Errorf("embeddings: %s was made by model %s (fingerprint %.12s), the analysis uses %s (%.12s): an embedding cache from another model",
				path, c.Model, c.ModelFingerprint, p.CLIPSource, modelFP)
		}
		if c.Preprocess != p.CLIP.Preprocess.String() {
			return nil, fmt.Errorf("embeddings: %s used preprocessing %q, the analysis's CLIP uses %q", path, c.Preprocess, p.CLIP.Preprocess.String())
		}
		if idx.dim == 0 {
			idx.dim = c.Dim
		}
		for r, name := range c.Names {
			if !c.Finished[r] {
				continue
			}
			abs, err := filepath.Abs(name)
			if err != nil {
				abs = name
			}
			idx.rows[abs] = shardRow{ci, r}
		}
		idx.caches = append(idx.caches, c)
	}
	p.shards = idx
	return idx, nil
}

// fromShards returns the rows of the spec's embedding files for the split's images.
func (p *Pipeline) fromShards(sp *data.ImageSplit) (matrix.Dense, error) {
	if sp.Files == nil {
		return matrix.Dense{}, fmt.Errorf("embeddings: split %s holds its images in memory; embedding files index image files", sp.Name)
	}
	idx, err := p.loadShards()
	if err != nil {
		return matrix.Dense{}, err
	}
	out := matrix.Zeros(sp.Len(), idx.dim)
	missing := 0
	first := ""
	for i, f := range sp.Files {
		abs, err := filepath.Abs(f)
		if err != nil {
			abs = f
		}
		r, ok := idx.rows[abs]
		if !ok {
			missing++
			if first == "" {
				first = f
			}
			continue
		}
		copy(out.Row(i), idx.caches[r.cache].Embeddings.Row(r.row))
	}
	if missing > 0 {
		return matrix.Dense{}, fmt.Errorf("embeddings: the files %s hold no finished row for %d of the %d images of %s (first: %s); embed them (faildirs embed) or resume the unfinished shard",
			strings.Join(p.Spec.Embeddings, ", "), missing, sp.Len(), sp.Name, first)
	}
	return out, nil
}
