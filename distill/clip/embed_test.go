package clip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faildirs/faildirs/distill/clip/imgproc"
	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/gomlx/gomlx/core/tensors"
)

// testImages returns n deterministic RGB images of varied sizes (some larger, some smaller than 32 px).
func testImages(n int, seed uint64) []image.Image {
	rng := rand.New(rand.NewPCG(seed, 99))
	out := make([]image.Image, n)
	for k := range n {
		w, h := 20+rng.IntN(40), 20+rng.IntN(40)
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		fx, fy := rng.Float64()*0.5, rng.Float64()*0.5
		for y := range h {
			for x := range w {
				img.SetNRGBA(x, y, color.NRGBA{uint8(128 + 120*math.Sin(fx*float64(x))), uint8(rng.IntN(256)),
					uint8(128 + 120*math.Cos(fy*float64(y))), 255})
			}
		}
		out[k] = img
	}
	return out
}

// directEmbeddings preprocesses images one by one and runs each alone through the model.
func directEmbeddings(t *testing.T, m *Model, imgs []image.Image) matrix.Dense {
	t.Helper()
	s := m.Config.Vision.ImageSize
	out := matrix.Zeros(len(imgs), m.Dim())
	for i, img := range imgs {
		px := make([]float32, 3*s*s)
		if err := m.Preprocess.Pixels(img, px); err != nil {
			t.Fatal(err)
		}
		_, e, err := m.ImageFeaturesTensor(px, 1)
		if err != nil {
			t.Fatal(err)
		}
		copy(out.Row(i), e)
	}
	return out
}

func maxRowDiff(t *testing.T, a, b matrix.Dense) float64 {
	t.Helper()
	if a.Rows != b.Rows || a.Cols != b.Cols {
		t.Fatalf("%d×%d vs %d×%d", a.Rows, a.Cols, b.Rows, b.Cols)
	}
	d := 0.0
	for i, v := range a.Data {
		d = math.Max(d, math.Abs(float64(v-b.Data[i])))
	}
	return d
}

func tinyA(t *testing.T) *Model {
	t.Helper()
	m, err := LoadDir(goBackend(t), goldenDirs(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	m.Tokenizer = testTokenizer(t)
	return m
}

// TestEmbedImagesBatching checks that batched embedding (padded last batch, several batch sizes, in-memory and
// uint8 sources) equals embedding each image alone.
func TestEmbedImagesBatching(t *testing.T) {
	m := tinyA(t)
	imgs := testImages(7, 1)
	want := directEmbeddings(t, m, imgs)
	for _, bs := range []int{1, 3, 8} {
		got, err := m.EmbedImages(context.Background(), Images(imgs), EmbedOptions{BatchSize: bs, Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		if d := maxRowDiff(t, got.Embeddings, want); d > 1e-5 {
			t.Errorf("batch %d: max diff %.3g from one-by-one embedding", bs, d)
		}
		if got.Computed != len(imgs) || len(got.Skipped) != 0 {
			t.Errorf("batch %d: computed %d, skipped %v", bs, got.Computed, got.Skipped)
		}
	}
	// The same images as a uint8 [n, h, w, 3] array (all cropped to 20×20 so they share a shape).
	const side = 20
	data := make([]uint8, 0, len(imgs)*side*side*3)
	var cropped []image.Image
	for _, img := range imgs {
		c := image.NewNRGBA(image.Rect(0, 0, side, side))
		for y := range side {
			for x := range side {
				r, g, b, _ := img.At(x, y).RGBA()
				c.SetNRGBA(x, y, color.NRGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), 255})
				data = append(data, uint8(r>>8), uint8(g>>8), uint8(b>>8))
			}
		}
		cropped = append(cropped, c)
	}
	src, err := Uint8HWC(data, len(imgs), side, side, 3)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.EmbedImages(context.Background(), src, EmbedOptions{Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxRowDiff(t, got.Embeddings, directEmbeddings(t, m, cropped)); d > 1e-5 {
		t.Errorf("uint8 source: max diff %.3g", d)
	}
	tsrc, err := Uint8Tensor(tensors.FromFlatDataAndDimensions(data, len(imgs), side, side, 3))
	if err != nil {
		t.Fatal(err)
	}
	gotT, err := m.EmbedImages(context.Background(), tsrc, EmbedOptions{Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxRowDiff(t, gotT.Embeddings, got.Embeddings); d != 0 {
		t.Errorf("uint8 tensor source differs from the slice source by %.3g", d)
	}
	if _, err := Uint8HWC(data, len(imgs), side, side, 2); err == nil {
		t.Error("Uint8HWC must reject 2 channels")
	}
}

// writeImageFiles writes images as alternating PNG and JPEG files and returns their paths.
func writeImageFiles(t *testing.T, dir string, imgs []image.Image) []string {
	t.Helper()
	var paths []string
	for i, img := range imgs {
		var buf bytes.Buffer
		name := fmt.Sprintf("img%03d.png", i)
		if i%2 == 1 {
			name = fmt.Sprintf("img%03d.jpg", i)
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
				t.Fatal(err)
			}
		} else if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// TestEmbedBadImages checks that a truncated JPEG stops a run with an error naming it, or is skipped and reported
// with SkipBad while the other images get the same embeddings.
func TestEmbedBadImages(t *testing.T) {
	m := tinyA(t)
	dir := t.TempDir()
	paths := writeImageFiles(t, dir, testImages(6, 2))
	full, _ := os.ReadFile(paths[3]) // a JPEG
	truncated := filepath.Join(dir, "truncated.jpg")
	if err := os.WriteFile(truncated, full[:len(full)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.png")
	withBad := append(append(append([]string{}, paths[:2]...), truncated), paths[2:]...)
	withBad = append(withBad, missing)

	_, err := m.EmbedImages(context.Background(), Files(withBad), EmbedOptions{BatchSize: 4, Progress: io.Discard})
	if err == nil || !strings.Contains(err.Error(), truncated) {
		t.Fatalf("error %v must name %s", err, truncated)
	}
	res, err := m.EmbedImages(context.Background(), Files(withBad), EmbedOptions{BatchSize: 4, Progress: io.Discard, SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 2 || res.Skipped[0].Name != truncated || res.Skipped[1].Name != missing {
		t.Fatalf("skipped %+v, want the truncated and the missing file", res.Skipped)
	}
	for _, i := range []int{2, len(withBad) - 1} {
		if slices.ContainsFunc(res.Embeddings.Row(i), func(v float32) bool { return v != 0 }) {
			t.Errorf("skipped image %d must have a zero row", i)
		}
	}
	clean, err := m.EmbedImages(context.Background(), Files(paths), EmbedOptions{BatchSize: 4, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	kept := res.Embeddings.Select([]int{0, 1, 3, 4, 5, 6})
	if d := maxRowDiff(t, kept, clean.Embeddings); d > 1e-5 {
		t.Errorf("good images differ by %.3g when bad ones are skipped", d)
	}
}

// cancelAt wraps a source and cancels a context when image `at` is first read.
type cancelAt struct {
	ImageSource
	at     int
	cancel context.CancelFunc
}

func (c cancelAt) RGB(i int) (*imgproc.RGB, error) {
	if i == c.at {
		c.cancel()
	}
	return c.ImageSource.RGB(i)
}

// TestEmbedCacheResume interrupts a cached run, resumes it and compares with an uninterrupted run; then checks a
// changed input set is detected as stale.
func TestEmbedCacheResume(t *testing.T) {
	m := tinyA(t)
	dir := t.TempDir()
	paths := writeImageFiles(t, dir, testImages(30, 3))
	cache := filepath.Join(dir, "cache", "emb.safetensors")
	opts := EmbedOptions{BatchSize: 4, Progress: io.Discard, CachePath: cache}

	ctx, cancel := context.WithCancel(context.Background())
	_, err := m.EmbedImages(ctx, cancelAt{Files(paths), 13, cancel}, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: error %v, want context.Canceled", err)
	}
	info, err := LoadCache(cache)
	if err != nil {
		t.Fatal(err)
	}
	if info.Done == 0 || info.Done >= len(paths) || info.Count != len(paths) || info.Embeddings.Rows != len(paths) {
		t.Fatalf("after interruption the cache holds %d of %d", info.Done, info.Count)
	}
	t.Logf("interrupted after %d of %d images", info.Done, info.Count)
	for i, done := range info.Finished {
		if done != (i < info.Done) {
			t.Fatalf("row %d done=%v, want the first %d done", i, done, info.Done)
		}
	}
	raw, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := ReadCache(bytes.NewReader(raw)); err != nil || !slices.Equal(r.Embeddings.Data, info.Embeddings.Data) {
		t.Fatalf("ReadCache of the file's bytes differs from LoadCache (err %v)", err)
	}

	resumed, err := m.EmbedImages(context.Background(), Files(paths), opts)
	if err != nil {
		t.Fatal(err)
	}
	if resumed.FromCache != info.Done || resumed.Computed != len(paths)-info.Done {
		t.Errorf("resume: %d from cache, %d computed; want %d and %d", resumed.FromCache, resumed.Computed, info.Done, len(paths)-info.Done)
	}
	fresh, err := m.EmbedImages(context.Background(), Files(paths), EmbedOptions{BatchSize: 4, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	d := maxRowDiff(t, resumed.Embeddings, fresh.Embeddings)
	t.Logf("resumed vs uninterrupted: max |Δ| = %.3g", d)
	if d > 1e-6 {
		t.Errorf("resumed run differs from an uninterrupted one by %.3g", d)
	}
	// A third run computes nothing.
	again, err := m.EmbedImages(context.Background(), Files(paths), opts)
	if err != nil || again.Computed != 0 || again.FromCache != len(paths) {
		t.Errorf("complete cache: computed %d, from cache %d, err %v", again.Computed, again.FromCache, err)
	}

	// Changing a file makes the cache stale.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(paths[5], later, later); err != nil {
		t.Fatal(err)
	}
	_, err = m.EmbedImages(context.Background(), Files(paths), opts)
	if err == nil || !strings.Contains(err.Error(), "stale") || !strings.Contains(err.Error(), "images") {
		t.Fatalf("changed input: error %v, want a stale-cache error naming the images", err)
	}
	opts.RecomputeStale = true
	re, err := m.EmbedImages(context.Background(), Files(paths), opts)
	if err != nil || re.Computed != len(paths) {
		t.Fatalf("recompute stale: computed %d, err %v", re.Computed, err)
	}
}

// TestEmbedTexts checks length-bucketed, reordered text batches against full-length (77) embedding, in order.
func TestEmbedTexts(t *testing.T) {
	m := tinyA(t)
	texts := []string{"a photo of a cat", "a photo of a young man who has a goatee and a very long description " +
		strings.Repeat("with many words ", 10), "", "dog", "a photo of an old woman", "a sketch of a tench."}
	got, err := m.EmbedTexts(context.Background(), texts, EmbedOptions{BatchSize: 4, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	rows := m.Tokenizer.Batch(texts)
	for i, row := range rows {
		eos := PoolPositions(m.Config.Text, row, 1, 77)
		_, e, err := m.TextFeaturesTensor(row, 1, 77, eos)
		if err != nil {
			t.Fatal(err)
		}
		for j := range e {
			if d := math.Abs(float64(e[j] - got.Row(i)[j])); d > 1e-5 {
				t.Fatalf("text %d (%q) value %d differs by %.3g", i, texts[i], j, d)
			}
		}
	}
	norm, err := m.EmbedTexts(context.Background(), texts[:2], EmbedOptions{Normalize: true, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	for i := range norm.Rows {
		var s float64
		for _, v := range norm.Row(i) {
			s += float64(v) * float64(v)
		}
		if math.Abs(s-1) > 1e-5 {
			t.Errorf("Normalize: row %d has squared norm %v", i, s)
		}
	}
	m.Tokenizer = nil
	if _, err := m.EmbedTexts(context.Background(), texts, EmbedOptions{Progress: io.Discard}); err == nil {
		t.Error("no tokenizer must be an error")
	}
}
