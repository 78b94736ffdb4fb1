package clip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/faildirs/faildirs/distill/clip/imgproc"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/progress"
	"github.com/faildirs/faildirs/internal/lockfile"
)

// Embedder maps images and texts into a joint embedding space. *Model implements it; so can a small CLIP trained
// offline or any other model, so the failure-direction pipeline runs on either.
type Embedder interface {
	// EmbedImages embeds every image of src: one row (length Dim) per image, in order, in ImageResult.Embeddings.
	EmbedImages(ctx context.Context, src ImageSource, opts EmbedOptions) (*ImageResult, error)
	// EmbedTexts embeds texts: one row (length Dim) per text, in order.
	EmbedTexts(ctx context.Context, texts []string, opts EmbedOptions) (matrix.Dense, error)
	// Dim returns the embedding size.
	Dim() int
}

var _ Embedder = (*Model)(nil)

// TextEncoder is an Embedder's text side with its options fixed: EmbedTexts(ctx, texts) is the method
// text-only consumers call (package caption's TextEmbedder).
type TextEncoder struct {
	Embedder Embedder
	Options  EmbedOptions
}

// EmbedTexts embeds texts with the encoder's options.
func (t TextEncoder) EmbedTexts(ctx context.Context, texts []string) (matrix.Dense, error) {
	return t.Embedder.EmbedTexts(ctx, texts, t.Options)
}

// DefaultBatchSize is the embedding batch size when none is given.
const DefaultBatchSize = 32

// EmbedOptions adjusts [Model.EmbedImages] and [Model.EmbedTexts]. The zero value embeds in batches of 32 with a
// progress bar, no cache, stops at the first unreadable image and returns raw (not normalised) embeddings.
type EmbedOptions struct {
	// BatchSize is the number of images or texts per model call (default 32). The last batch is padded to it,
	// so one compiled graph serves every batch.
	BatchSize int
	// Progress receives the progress bar; nil means the progress package's default (stderr, or an HTML bar in
	// GoNB), io.Discard none.
	Progress io.Writer
	// Normalize scales every returned embedding to unit L2 norm (the way CLIP compares embeddings); the cache
	// keeps the raw embeddings.
	Normalize bool
	// CachePath, when set, names the embedding cache file of this image set (see the package doc): finished
	// rows are loaded from it, new ones are saved to it periodically and at the end, so an interrupted run
	// resumes. A run holds "<CachePath>.lock" while it works (package internal/lockfile): a second run on the same
	// cache fails at once naming the first one's pid, instead of overwriting its rows. An existing file that is
	// not an embedding cache is never overwritten. Text embeddings are not cached.
	CachePath string
	// RecomputeStale discards a cache whose fingerprint does not match instead of failing (only an embedding
	// cache: any other file at CachePath is still refused).
	RecomputeStale bool
	// CheckpointEvery is the time between cache saves during a run (default 30 s; a save also happens on
	// interruption, on error and at the end).
	CheckpointEvery time.Duration
	// SkipBad skips images that cannot be read or decoded, reporting them in ImageResult.Skipped; otherwise the
	// first such image stops the run with an error naming it.
	SkipBad bool
	// Workers is the number of goroutines decoding and preprocessing images (default GOMAXPROCS).
	Workers int
}

func (o EmbedOptions) batch() int {
	if o.BatchSize > 0 {
		return o.BatchSize
	}
	return DefaultBatchSize
}

func (o EmbedOptions) bar(label string, total int) *progress.Bar {
	return progress.New(o.Progress, label, total)
}

// BadImage is an image that could not be embedded.
type BadImage struct {
	// Index is the image's position in the source.
	Index int `json:"index"`
	// Name is the source's name for it (a path, or "image[i]").
	Name string `json:"name"`
	// Err is the reason.
	Err string `json:"error"`
}

// ImageResult is the outcome of [Model.EmbedImages].
type ImageResult struct {
	// Embeddings has one row per source image, in order; rows of skipped images are zero.
	Embeddings matrix.Dense
	// Skipped lists the images that could not be embedded (only with SkipBad).
	Skipped []BadImage
	// FromCache is the number of rows loaded from the cache; Computed the number embedded in this call.
	FromCache, Computed int
}

// imageBatch is a preprocessed batch: the source indices of its rows, pixels padded to the batch size, and the
// images of the chunk that failed.
type imageBatch struct {
	idx    []int
	pixels []float32
	bad    []BadImage
	err    error
}

// EmbedImages embeds the images of src: decoding and preprocessing run on opts.Workers goroutines one batch ahead
// of the model; the model runs on full batches (the last one padded); a progress bar tracks the images; with
// opts.CachePath the run is resumable. The embeddings are the projected image features (HF get_image_features),
// L2-normalised only with opts.Normalize. On cancellation of ctx the run stops after the current batch (at once
// when it is waiting for images to decode), saves the cache and returns an error wrapping ctx.Err().
func (m *Model) EmbedImages(ctx context.Context, src ImageSource, opts EmbedOptions) (*ImageResult, error) {
	n, dim, bs := src.Len(), m.Dim(), opts.batch()
	st := newEmbedState(n, dim)
	res := &ImageResult{}
	var cache *embedCache
	if opts.CachePath != "" {
		if err := os.MkdirAll(filepath.Dir(opts.CachePath), 0o755); err != nil {
			return nil, fmt.Errorf("clip cache: %w", err)
		}
		lock, err := lockfile.Acquire(opts.CachePath)
		if err != nil {
			return nil, fmt.Errorf("clip cache: %w", err)
		}
		defer lock.Release()
		cache, err = m.openCache(opts.CachePath, src, opts.RecomputeStale)
		if err != nil {
			return nil, err
		}
		if cache.state != nil {
			st = cache.state
			res.FromCache = st.countDone()
		}
		cache.state = st
	}
	var todo []int
	for i := range n {
		if st.status[i] != statusDone {
			todo = append(todo, i)
		}
	}
	bar := opts.bar("embedding images", len(todo))
	defer bar.Done()
	save := func() error {
		if cache == nil {
			return nil
		}
		return cache.save()
	}

	stop := make(chan struct{})
	defer close(stop)
	batches := m.prepareBatches(src, todo, bs, opts, stop)
	lastSave := time.Now()
	every := opts.CheckpointEvery
	if every <= 0 {
		every = 30 * time.Second
	}
	interrupted := func(err error) error {
		if serr := save(); serr != nil {
			return fmt.Errorf("clip: interrupted (%w) and the cache could not be saved: %v", err, serr)
		}
		return fmt.Errorf("clip: embedding interrupted after %d of %d images (cache saved; rerun to resume): %w",
			st.countDone(), n, err)
	}
	for {
		var b imageBatch
		var more bool
		select {
		case b, more = <-batches:
		case <-ctx.Done(): // also while a decode is stuck (a slow disk, a FIFO): stop now, with what is done
			return nil, interrupted(ctx.Err())
		}
		if !more {
			break
		}
		if b.err != nil {
			_ = save()
			return nil, b.err
		}
		for _, bad := range b.bad {
			st.status[bad.Index] = statusFailed
			st.failed[bad.Index] = bad
		}
		if len(b.idx) > 0 {
			_, embeds, err := m.ImageFeaturesTensor(b.pixels, bs)
			if err != nil {
				_ = save()
				return nil, err
			}
			for r, i := range b.idx {
				row := embeds[r*dim : (r+1)*dim]
				for _, v := range row {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						_ = save()
						return nil, fmt.Errorf("clip: the model produced a non-finite embedding for image %d (%s)", i, src.Name(i))
					}
				}
				copy(st.emb[i*dim:(i+1)*dim], row)
				st.status[i] = statusDone
				delete(st.failed, i)
			}
			res.Computed += len(b.idx)
		}
		bar.Add(len(b.idx) + len(b.bad))
		if err := ctx.Err(); err != nil {
			return nil, interrupted(err)
		}
		if cache != nil && time.Since(lastSave) >= every {
			if err := save(); err != nil {
				return nil, err
			}
			lastSave = time.Now()
		}
	}
	if err := save(); err != nil {
		return nil, err
	}
	res.Embeddings = st.done()
	if opts.Normalize {
		res.Embeddings.NormalizeRows()
	}
	for i := range n {
		if bad, ok := st.failed[i]; ok {
			res.Skipped = append(res.Skipped, bad)
		}
	}
	return res, nil
}

// prepareBatches decodes and preprocesses the todo images in chunks of bs on worker goroutines, one chunk ahead
// of the consumer. Unless SkipBad, the first bad image ends the stream with an error naming it.
func (m *Model) prepareBatches(src ImageSource, todo []int, bs int, opts EmbedOptions, stop <-chan struct{}) <-chan imageBatch {
	out := make(chan imageBatch, 1)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	v := m.Config.Vision
	per := v.NumChannels * v.ImageSize * v.ImageSize
	pre := m.Preprocess
	var gate *data.PixelGate
	if bs, ok := src.(budgetedSource); ok {
		gate = data.NewPixelGate(bs.pixelBudget())
	}
	go func() {
		defer close(out)
		for start := 0; start < len(todo); start += bs {
			chunk := todo[start:min(start+bs, len(todo))]
			pixels := make([]float32, bs*per)
			errs := make([]error, len(chunk))
			var wg sync.WaitGroup
			next := make(chan int)
			for range min(workers, len(chunk)) {
				wg.Go(func() {
					for k := range next {
						errs[k] = preprocessInto(src, chunk[k], pre, pixels[k*per:(k+1)*per], gate)
					}
				})
			}
			for k := range chunk {
				next <- k
			}
			close(next)
			wg.Wait()
			var b imageBatch
			for k, i := range chunk {
				if errs[k] != nil {
					if !opts.SkipBad {
						if name := src.Name(i); strings.Contains(errs[k].Error(), name) {
							b.err = fmt.Errorf("clip: image %d: %w", i, errs[k])
						} else {
							b.err = fmt.Errorf("clip: image %d (%s): %w", i, name, errs[k])
						}
						break
					}
					b.bad = append(b.bad, BadImage{Index: i, Name: src.Name(i), Err: errs[k].Error()})
					continue
				}
				if r := len(b.idx); r != k { // compact good rows to the front
					copy(pixels[r*per:(r+1)*per], pixels[k*per:(k+1)*per])
				}
				b.idx = append(b.idx, i)
			}
			if b.err == nil {
				clear(pixels[len(b.idx)*per:]) // padding rows
				b.pixels = pixels
			}
			select {
			case out <- b:
			case <-stop:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return out
}

// preprocessInto decodes image i and writes its CLIP pixel values into dst, turning a decoder panic into an error.
// For a budgetedSource it holds the image's pixels in gate from before decoding until the full-size image is
// reduced to the model's input.
func preprocessInto(src ImageSource, i int, pre imgproc.Config, dst []float32, gate *data.PixelGate) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoding panicked: %v", r)
		}
	}()
	if bs, ok := src.(budgetedSource); ok {
		n, err := bs.pixels(i)
		if err != nil {
			return err
		}
		defer gate.Acquire(n)()
	}
	rgb, err := src.RGB(i)
	if err != nil {
		return err
	}
	prepared, err := pre.PrepareRGB(rgb)
	if err != nil {
		return err
	}
	return pre.Normalize(prepared, dst)
}

// textLengthBucket rounds a needed text length up to a multiple of 8 (at most max), so that few shapes compile.
func textLengthBucket(need, max int) int {
	t := (need + 7) / 8 * 8
	if t > max {
		t = max
	}
	return t
}

// EmbedTexts embeds texts: tokenised with the model's tokenizer (truncated to 77 tokens), grouped into batches of
// similar length, and each batch cut after its last EOS (rounded up to a multiple of 8 tokens), which causal
// attention makes exact. The embeddings are the projected text features (HF get_text_features), L2-normalised
// only with opts.Normalize (opts.CachePath, SkipBad and Workers do not apply to texts).
func (m *Model) EmbedTexts(ctx context.Context, texts []string, opts EmbedOptions) (matrix.Dense, error) {
	if m.Tokenizer == nil {
		return matrix.Dense{}, errors.New("clip: the model has no tokenizer (no tokenizer.json or vocab.json + merges.txt in its folder); set Model.Tokenizer")
	}
	n, dim, bs := len(texts), m.Dim(), opts.batch()
	ctxLen := m.Config.Text.MaxPositionEmbeddings
	tok := *m.Tokenizer
	tok.ContextLength = ctxLen
	rows := tok.Batch(texts)
	flat := make([]int32, 0, n*ctxLen)
	for _, r := range rows {
		flat = append(flat, r...)
	}
	eos := PoolPositions(m.Config.Text, flat, n, ctxLen)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return eos[order[a]] < eos[order[b]] })
	out := matrix.Zeros(n, dim)
	bar := opts.bar("embedding texts", n)
	defer bar.Done()
	for start := 0; start < n; start += bs {
		if err := ctx.Err(); err != nil {
			return matrix.Dense{}, fmt.Errorf("clip: text embedding interrupted after %d of %d texts: %w", start, n, err)
		}
		chunk := order[start:min(start+bs, n)]
		need := 0
		for _, i := range chunk {
			need = max(need, int(eos[i])+1)
		}
		t := textLengthBucket(need, ctxLen)
		ids := make([]int32, bs*t)
		pos := make([]int32, bs)
		for r := range bs {
			i := chunk[min(r, len(chunk)-1)] // padding rows repeat the last text
			copy(ids[r*t:(r+1)*t], rows[i][:t])
			pos[r] = eos[i]
		}
		_, embeds, err := m.TextFeaturesTensor(ids, bs, t, pos)
		if err != nil {
			return matrix.Dense{}, err
		}
		for r, i := range chunk {
			copy(out.Row(i), embeds[r*dim:(r+1)*dim])
		}
		bar.Add(len(chunk))
	}
	if opts.Normalize {
		out.NormalizeRows()
	}
	return out, nil
}
