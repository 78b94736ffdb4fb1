package experiment

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/data"
)

// EmbedEstimate says how long stage Embed will take before it runs: the images of train, val and test whose
// embeddings are not in the cache yet, times this backend's CLIP image throughput measured on the spot.
type EmbedEstimate struct {
	// Pending is the number of images still to embed per split; Images their sum. With the whitening statistics
	// from a train sample (Pipeline.TrainRows), train counts only the sample's images.
	Pending map[string]int
	Images  int
	// TrainAll is the train split's size and Sampled the train images of the whitening sample (0: every one).
	TrainAll, Sampled int
	// ImagesPerSecond is the measured image-tower throughput ([clip.Model.BenchImages], one timed batch of
	// Spec.EmbedBatch after a warm-up call; decoding the image files comes on top), 0 when nothing is pending.
	ImagesPerSecond float64
	// Seconds is Images / ImagesPerSecond (0 when nothing is pending); SavedSeconds the time the train images
	// left out of the sample would have taken.
	Seconds, SavedSeconds float64
	// Backend and Model say what was measured.
	Backend, Model string
}

// String says it in one line, e.g. "embedding 202599 images at 11.8 images/s (ViT ..., go backend): about 4h46m".
func (e EmbedEstimate) String() string {
	if e.Images == 0 {
		return "embeddings: every image is in the cache (nothing to compute)"
	}
	dur := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)).Round(time.Second) }
	out := fmt.Sprintf("embedding %d images (train %d, val %d, test %d) at %.1f images/s (%s on the %s backend, measured now): about %s",
		e.Images, e.Pending["train"], e.Pending["val"], e.Pending["test"], e.ImagesPerSecond, e.Model, e.Backend,
		dur(e.Seconds))
	if e.Sampled > 0 {
		out += fmt.Sprintf("; train is a seeded sample of %d of its %d images for the whitening statistics, saving about %s",
			e.Sampled, e.TrainAll, dur(e.SavedSeconds))
	}
	return out
}

// EstimateEmbed loads the data and the CLIP (stages LoadData and LoadLatent) and estimates stage Embed. It
// measures the throughput only when some image is pending, so on a cached re-run it costs nothing. With the
// features latent or embedding files there is nothing to estimate (Images 0).
func (p *Pipeline) EstimateEmbed(ctx context.Context) (EmbedEstimate, error) {
	e := EmbedEstimate{Pending: map[string]int{}, Backend: p.BackendInfo.Config}
	if p.Spec.Latent == LatentFeatures || len(p.Spec.Embeddings) > 0 || p.Emb != nil {
		return e, nil
	}
	if err := p.LoadData(ctx); err != nil {
		return e, err
	}
	if err := p.LoadLatent(ctx); err != nil {
		return e, err
	}
	e.Model = p.CLIPSource
	modelFP, err := p.CLIP.Fingerprint()
	if err != nil {
		return e, err
	}
	e.TrainAll = p.Data.Train.Len()
	for _, name := range splitNames {
		sp := p.Data.Split(name)
		if sp == nil {
			continue
		}
		if name == "train" && p.TrainRows != nil {
			sp, e.Sampled = sp.Subset(p.TrainRows), len(p.TrainRows)
		}
		n := sp.Len()
		if c, err := clip.LoadCache(p.embedCachePath(sp, modelFP)); err == nil && c.Count == n {
			n -= c.Done
		}
		e.Pending[name] = n
		e.Images += n
	}
	if e.Images == 0 {
		return e, nil
	}
	r, err := p.CLIP.BenchImages(ctx, min(p.Spec.EmbedBatch, e.Images), 1)
	if err != nil {
		return e, fmt.Errorf("experiment: measuring the CLIP's throughput: %w", err)
	}
	e.ImagesPerSecond = r.PerSecond
	e.Seconds = float64(e.Images) / r.PerSecond
	if e.Sampled > 0 {
		e.SavedSeconds = float64(e.TrainAll-e.Sampled) / r.PerSecond
	}
	return e, nil
}

// embedCachePath is the embedding cache file of split sp for the CLIP with fingerprint modelFP.
func (p *Pipeline) embedCachePath(sp *data.ImageSplit, modelFP string) string {
	return filepath.Join(p.Spec.Work, fmt.Sprintf("emb-%s-%s.safetensors", fingerprint(modelFP, p.CLIP.Preprocess.String(),
		idsFingerprint(sp)), sp.Name))
}
