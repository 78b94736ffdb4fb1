package benchmark

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/clip/imgproc"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/safetensors"
)

// The embedding table's file format.
const (
	tableFormat  = "faildirs-benchmark-embeddings"
	tableVersion = "1"
)

// untintedKey is the table's tint of gray images: tinting with white leaves them unchanged pixel for pixel.
const untintedKey = "white"

// imageKey names one image the benchmark embeds: a Fashion-MNIST image (file and index) in one tint.
type imageKey struct {
	test  bool
	index int
	tint  string // a palette name; untintedKey for gray images
}

// partKey names one file of the table: a Fashion-MNIST file in one tint.
type partKey struct {
	test bool
	tint string
}

func (k partKey) file() string {
	f := "train"
	if k.test {
		f = "test"
	}
	return f + "-" + k.tint + ".safetensors"
}

// tablePart holds the embeddings of every image of one Fashion-MNIST file in one tint: a row per image and a
// done flag per row.
type tablePart struct {
	emb   []float32
	done  []uint8
	dirty bool
}

// embeddingTable holds one CLIP image embedding per (Fashion-MNIST file, image, tint): each is computed once, when
// a setting first needs it, and kept in a cache folder named by a fingerprint of the CLIP, its preprocessing and
// the Fashion-MNIST pixels, one safetensors file per file and tint (a row per image of the file, a done flag per
// row). Every setting indexes the same embeddings, and a rerun computes none.
type embeddingTable struct {
	model    *clip.Model
	fashion  *data.Fashion
	dir      string
	dim      int
	batch    int
	progress io.Writer
	parts    map[partKey]*tablePart
	// computed counts the embeddings computed by this table (the rest came from the cache).
	computed int
}

// newEmbeddingTable prepares the table of model's embeddings of f's images under root.
func newEmbeddingTable(model *clip.Model, f *data.Fashion, root string, batch int, progress io.Writer) (*embeddingTable, error) {
	fp, err := model.Fingerprint()
	if err != nil {
		return nil, fmt.Errorf("benchmark: embeddings: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", fp, model.Preprocess)
	for _, im := range []*data.Images{f.TrainImages, f.TestImages} {
		fmt.Fprintf(h, "%d %d %d %d\n", im.N, im.H, im.W, im.C)
		h.Write(im.Pix)
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	return &embeddingTable{model: model, fashion: f, dir: filepath.Join(root, "embeddings-"+key), dim: model.Dim(),
		batch: batch, progress: progress, parts: map[partKey]*tablePart{}}, nil
}

// fileImages returns the gray images of a Fashion-MNIST file.
func (t *embeddingTable) fileImages(test bool) *data.Images {
	if test {
		return t.fashion.TestImages
	}
	return t.fashion.TrainImages
}

// part returns the part of key, reading it from the cache folder when there.
func (t *embeddingTable) part(key partKey) (*tablePart, error) {
	if p, ok := t.parts[key]; ok {
		return p, nil
	}
	n := t.fileImages(key.test).N
	p := &tablePart{emb: make([]float32, n*t.dim), done: make([]uint8, n)}
	path := filepath.Join(t.dir, key.file())
	f, err := safetensors.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		t.parts[key] = p
		return p, nil
	case err != nil:
		return nil, fmt.Errorf("benchmark: embedding cache %s: %w (delete the file to recompute it)", path, err)
	}
	defer f.Close()
	meta := f.Metadata
	if meta["format"] != tableFormat || meta["version"] != tableVersion || meta["tint"] != key.tint {
		return nil, fmt.Errorf("benchmark: embedding cache %s: format %q version %q tint %q, want %s %s %s (delete the file to recompute it)",
			path, meta["format"], meta["version"], meta["tint"], tableFormat, tableVersion, key.tint)
	}
	if info, ok := f.Info("embeddings"); !ok || !slices.Equal(info.Shape, []int{n, t.dim}) {
		return nil, fmt.Errorf("benchmark: embedding cache %s: embeddings of shape %v, want [%d %d] (delete the file to recompute it)", path, info.Shape, n, t.dim)
	}
	if err := f.ReadFloat32Into("embeddings", p.emb); err != nil {
		return nil, fmt.Errorf("benchmark: embedding cache %s: %w", path, err)
	}
	raw, err := f.Raw("done")
	if err != nil || len(raw) != n {
		return nil, fmt.Errorf("benchmark: embedding cache %s: done flags: %d bytes for %d images (%v)", path, len(raw), n, err)
	}
	copy(p.done, raw)
	t.parts[key] = p
	return p, nil
}

// tintedSource is the CLIP image source of images to embed: gray Fashion-MNIST images tinted on the fly.
type tintedSource struct {
	t    *embeddingTable
	keys []imageKey
}

func (s tintedSource) Len() int { return len(s.keys) }

func (s tintedSource) Name(i int) string {
	k := s.keys[i]
	f := "train"
	if k.test {
		f = "test"
	}
	return fmt.Sprintf("fashion-%s-%05d in %s", f, k.index, k.tint)
}

func (s tintedSource) ID(i int) (string, error) { return s.Name(i), nil }

func (s tintedSource) RGB(i int) (*imgproc.RGB, error) {
	k := s.keys[i]
	im := s.t.fileImages(k.test)
	out := imgproc.NewRGB(im.W, im.H)
	data.TintGray(out.Pix, im.Pixels(k.index), data.Palette[k.tint])
	return out, nil
}

// ensure embeds the images of keys that the table does not hold yet (in one pass, with a progress bar) and saves
// the parts it changed. On cancellation it saves what it computed and returns the context's error.
func (t *embeddingTable) ensure(ctx context.Context, keys []imageKey) error {
	var todo []imageKey
	seen := map[imageKey]bool{}
	for _, k := range keys {
		p, err := t.part(partKey{k.test, k.tint})
		if err != nil {
			return err
		}
		if p.done[k.index] == 0 && !seen[k] {
			seen[k] = true
			todo = append(todo, k)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	// A fixed order (file, tint, index) makes the batches the same whatever order the settings asked in.
	slices.SortFunc(todo, func(a, b imageKey) int {
		switch {
		case a.test != b.test:
			if a.test {
				return 1
			}
			return -1
		case a.tint != b.tint:
			if a.tint < b.tint {
				return -1
			}
			return 1
		}
		return a.index - b.index
	})
	const chunk = 16384
	var err error
	for start := 0; start < len(todo) && err == nil; start += chunk {
		keys := todo[start:min(start+chunk, len(todo))]
		var res *clip.ImageResult
		res, err = t.model.EmbedImages(ctx, tintedSource{t, keys}, clip.EmbedOptions{BatchSize: t.batch, Progress: t.progress})
		if err != nil {
			break
		}
		for i, k := range keys {
			p := t.parts[partKey{k.test, k.tint}]
			copy(p.emb[k.index*t.dim:(k.index+1)*t.dim], res.Embeddings.Row(i))
			p.done[k.index] = 1
			p.dirty = true
		}
		t.computed += len(keys)
	}
	if serr := t.save(); serr != nil {
		return errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("benchmark: embeddings: %w", err)
	}
	return nil
}

// save writes every changed part atomically.
func (t *embeddingTable) save() error {
	for key, p := range t.parts {
		if !p.dirty {
			continue
		}
		if err := os.MkdirAll(t.dir, 0o755); err != nil {
			return fmt.Errorf("benchmark: embedding cache: %w", err)
		}
		n := len(p.done)
		done := 0
		for _, d := range p.done {
			done += int(d)
		}
		meta := map[string]string{"format": tableFormat, "version": tableVersion, "tint": key.tint, "done": strconv.Itoa(done)}
		err := safetensors.Save(filepath.Join(t.dir, key.file()), []safetensors.Tensor{
			{Name: "embeddings", Shape: []int{n, t.dim}, Data: p.emb},
			{Name: "done", Shape: []int{n}, U8: p.done},
		}, meta)
		if err != nil {
			return fmt.Errorf("benchmark: embedding cache: %w", err)
		}
		p.dirty = false
	}
	return nil
}

// rows returns the embeddings of keys, one row each (they must have been ensured).
func (t *embeddingTable) rows(keys []imageKey) (matrix.Dense, error) {
	out := matrix.Zeros(len(keys), t.dim)
	for i, k := range keys {
		p, err := t.part(partKey{k.test, k.tint})
		if err != nil {
			return matrix.Dense{}, err
		}
		if p.done[k.index] == 0 {
			return matrix.Dense{}, fmt.Errorf("benchmark: no embedding of %s", tintedSource{t, keys}.Name(i))
		}
		copy(out.Row(i), p.emb[k.index*t.dim:(k.index+1)*t.dim])
	}
	return out, nil
}

// splitKeys returns the table keys of a planted split's examples (from their ids and colour attribute).
func splitKeys(d *data.Dataset, s *data.ImageSplit) ([]imageKey, error) {
	keys := make([]imageKey, s.Len())
	colors := s.Attrs["color"]
	names := d.AttrValues["color"]
	for i, id := range s.IDs {
		test, index, err := data.ParseFashionID(id)
		if err != nil {
			return nil, fmt.Errorf("benchmark: %s example %d: %w", s.Name, i, err)
		}
		tint := untintedKey
		if colors != nil && names[colors[i]] != data.Untinted {
			tint = names[colors[i]]
		}
		keys[i] = imageKey{test: test, index: index, tint: tint}
	}
	return keys, nil
}
