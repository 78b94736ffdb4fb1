package tinyclip

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/clip/imgproc"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
)

var (
	fashionOnce sync.Once
	fashion     *data.Fashion
	fashionErr  error
	goOnce      sync.Once
	goB         compute.Backend
	goErr       error
)

// loadFashion reads Fashion-MNIST once ($FAILDIRS_FASHION_MNIST or the Debian path; the tests need it).
func loadFashion(t *testing.T) *data.Fashion {
	t.Helper()
	fashionOnce.Do(func() { fashion, fashionErr = data.LoadFashion("") })
	if fashionErr != nil {
		t.Fatalf("these tests need Fashion-MNIST: %v", fashionErr)
	}
	return fashion
}

func goBackend(t *testing.T) compute.Backend {
	t.Helper()
	goOnce.Do(func() { goB, _, goErr = backend.Go() })
	if goErr != nil {
		t.Fatal(goErr)
	}
	return goB
}

// quickOptions is a small, fast training setting (the default model on 6,000 images, batch 64) that still has
// to learn.
func quickOptions(t *testing.T, seed uint64, steps int) Options {
	return Options{Seed: seed, Steps: steps, BatchSize: 64, TrainImages: 6000, LearningRate: 3e-3,
		Progress: io.Discard}
}

func TestMultiPositiveLossGolden(t *testing.T) {
	b := goBackend(t)
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 5
	logits := make([][]float32, n)
	eye := make([][]float32, n)
	for i := range n {
		logits[i] = make([]float32, n)
		eye[i] = make([]float32, n)
		eye[i][i] = 1
		for j := range n {
			logits[i][j] = float32(rng.NormFloat64() * 3)
		}
	}
	// With identity targets it is CLIP's loss.
	got := graph.MustExecOnce(b, MultiPositiveLoss, logits, eye).Value().(float32)
	want := graph.MustExecOnce(b, clip.ContrastiveLoss, logits).Value().(float32)
	if math.Abs(float64(got-want)) > 1e-5 {
		t.Fatalf("identity targets: loss %v, clip.ContrastiveLoss %v", got, want)
	}
	// By hand on 2×2 logits [[0, ln 3], [0, 0]] with all pairs true: each row's and each column's target is
	// uniform, so each term is -½(log p1 + log p2). Row 0: p = (1/4, 3/4); row 1: (½, ½); column 0 (softmax
	// over images): (½, ½); column 1: (3/4, 1/4).
	l3 := float32(math.Log(3))
	h := func(p, q float64) float64 { return -(math.Log(p) + math.Log(q)) / 2 }
	wantAll := ((h(0.25, 0.75)+h(0.5, 0.5))/2 + (h(0.5, 0.5)+h(0.75, 0.25))/2) / 2
	gotAll := graph.MustExecOnce(b, MultiPositiveLoss, [][]float32{{0, l3}, {0, 0}}, [][]float32{{1, 1}, {1, 1}}).Value().(float32)
	if math.Abs(float64(gotAll)-wantAll) > 1e-6 {
		t.Fatalf("all-true targets: loss %v, want %v", gotAll, wantAll)
	}
}

func TestRecipeDefaultsAndFingerprint(t *testing.T) {
	def := Options{}.Recipe()
	explicit := Options{Steps: DefaultSteps, BatchSize: def.BatchSize, Replicas: 2, LearningRate: def.LearningRate,
		WarmupSteps: def.WarmupSteps, ImageSize: 28, Patch: 7, Width: 64, Layers: 2, Embed: 64, Activation: def.Activation,
		Untinted: def.Untinted, Mix: def.Mix}.Recipe()
	if def != explicit {
		t.Fatalf("defaults %+v differ from the same values given explicitly %+v", def, explicit)
	}
	if def.Fingerprint() != explicit.Fingerprint() {
		t.Fatal("equal recipes, different fingerprints")
	}
	seen := map[string]string{def.Fingerprint(): "default"}
	for name, o := range map[string]Options{
		"seed": {Seed: 1}, "steps": {Steps: 10}, "width": {Width: 32}, "untinted none": {Untinted: -1},
		"mix": {Mix: CaptionMix{Both: 1}}, "subset": {TrainImages: 100}, "one replica": {Replicas: 1},
	} {
		fp := o.Recipe().Fingerprint()
		if prev, dup := seen[fp]; dup {
			t.Errorf("recipes %q and %q share fingerprint %s", name, prev, fp)
		}
		seen[fp] = name
	}
	// Runtime options are not part of the recipe.
	if (Options{FashionDir: "/x", CacheDir: "/y", Log: io.Discard}).Recipe() != def {
		t.Error("runtime options changed the recipe")
	}
	if err := def.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]Options{
		"batch 1": {BatchSize: 1}, "patch 5": {Patch: 5}, "warmup ≥ steps": {Steps: 10, WarmupSteps: 10},
		"untinted > 1": {Untinted: 2}, "bad activation": {Activation: "swish9"},
		"batch not a multiple of the replicas": {BatchSize: 65}, "one pair per replica": {BatchSize: 4, Replicas: 4},
	} {
		if err := o.Recipe().Validate(); err == nil {
			t.Errorf("%s: invalid recipe accepted", name)
		}
	}
	dir, err := Dir(Options{CacheDir: "/cache"})
	if err != nil || dir != filepath.Join("/cache", "tinyclip-"+def.Fingerprint()) {
		t.Fatalf("Dir = %q, %v", dir, err)
	}
}

// TestTintsAreThePlantedExperiments checks that training images are tinted (or left gray) byte for byte as the
// data package's planted experiments make them, so their embeddings are in-distribution.
func TestTintsAreThePlantedExperiments(t *testing.T) {
	f := loadFashion(t)
	smp, err := newSampler(f.TrainImages, f.TrainLabels, 0.1, imgproc.CLIPConfig(28), rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	colours := Colours()
	sp, err := data.Spurious(f, data.SpuriousConfig{Colors: [2]string{"blue", "yellow"}, TrainPerClass: 20, ValPerGroup: 1, TestPerClass: 2, PoolPerClass: -1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	rare, err := data.Rare(f, data.RareConfig{TrainPerSubclass: 5, RareFraction: 0.2, ValPerSubclass: 1, TestPerClass: 3, PoolPerSubclass: -1, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	check := func(s *data.ImageSplit, colourName func(k int) (string, bool)) {
		for k := range s.Len() {
			idx, err := strconv.Atoi(strings.TrimPrefix(s.IDs[k], "fashion-train-"))
			if err != nil {
				t.Fatalf("id %q: %v", s.IDs[k], err)
			}
			name, tinted := colourName(k)
			c := Concept{Item: f.TrainLabels[idx], Colour: slices.Index(colours, name)}
			got := smp.rgb(idx, c, tinted).Pix
			if !slices.Equal(got, s.Images.Pixels(k)) {
				t.Fatalf("%s image %s (%s, tinted %v): pixels differ from the planted experiment's", s.Name, s.IDs[k], name, tinted)
			}
			if !tinted { // untinted equals the white tint, the label Evaluate gives it
				if white := smp.rgb(idx, Concept{Colour: slices.Index(colours, White)}, true).Pix; !slices.Equal(got, white) {
					t.Fatalf("untinted image %s differs from its white tint", s.IDs[k])
				}
			}
		}
	}
	check(sp.Train, func(k int) (string, bool) { return sp.AttrValues["color"][sp.Train.Attrs["color"][k]], true })
	check(rare.Train, func(int) (string, bool) { return White, false })
}

func TestTrainLearnsSavesAndLoads(t *testing.T) {
	f := loadFashion(t)
	ctx := context.Background()
	// Short trainings learn each concept well above chance (10% for items, 1/12 for colours) from captions
	// naming only it. (With both kinds of caption, as by default, learning takes a few hundred steps; the
	// acceptance figures come from "faildirs train-clip".)
	for _, tc := range []struct {
		name             string
		mix              CaptionMix
		steps            int
		minItem, minColr float64
	}{
		{"item captions", CaptionMix{ItemOnly: 1}, 150, 0.35, 0},
		{"colour captions", CaptionMix{ColourOnly: 1}, 100, 0, 0.7},
	} {
		opts := quickOptions(t, 7, tc.steps)
		opts.Mix = tc.mix
		m, rec, err := Train(ctx, goBackend(t), f, opts)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Evaluate(ctx, m, f, EvalOptions{Seed: 1, Images: 1000, Progress: io.Discard})
		m.Finalize()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s, %d steps of %d: %s; loss %.3f → %.3f", tc.name, opts.Steps, opts.BatchSize, q, rec.Loss[0].Loss, rec.Loss[len(rec.Loss)-1].Loss)
		if q.ItemAccuracy < tc.minItem || q.ColourAccuracy < tc.minColr {
			t.Errorf("%s: item accuracy %.3f (want ≥ %.2f), colour accuracy %.3f (want ≥ %.2f)", tc.name, q.ItemAccuracy, tc.minItem, q.ColourAccuracy, tc.minColr)
		}
		if last := rec.Loss[len(rec.Loss)-1].Loss; last > rec.Loss[0].Loss-0.5 {
			t.Errorf("%s: loss fell only from %.3f to %.3f", tc.name, rec.Loss[0].Loss, last)
		}
	}

	// Save → Load.
	m, rec, err := Train(ctx, goBackend(t), f, quickOptions(t, 7, 20))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Finalize()
	dir := filepath.Join(t.TempDir(), "model")
	if err := Save(m, rec, dir, false); err != nil {
		t.Fatal(err)
	}
	if err := Save(m, rec, dir, false); err == nil {
		t.Error("Save over an existing folder without replace succeeded")
	}
	if err := Save(m, rec, dir, true); err != nil {
		t.Fatalf("Save with replace: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("the parent holds %d entries after Save, want only the model folder (no temporaries)", len(entries))
	}
	loaded, err := clip.Load(ctx, goBackend(t), dir, clip.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Finalize()
	rec2, err := LoadRecord(dir)
	if err != nil || rec2.Fingerprint != rec.Fingerprint || rec2.Quality != nil {
		t.Fatalf("record read back: %+v, %v", rec2, err)
	}

	// Identical embeddings through the same calls.
	texts := []string{ItemPrompt(7), ColourPrompt("red"), "a photo of a red sneaker on a black background", "a gown in cyan"}
	e1, err := TextEmbeddings(m, texts)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := TextEmbeddings(loaded, texts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e1.Data, e2.Data) {
		t.Fatalf("text embeddings differ after Save→Load")
	}
	sp, err := data.Spurious(f, data.SpuriousConfig{TrainPerClass: 8, ValPerGroup: 1, TestPerClass: 2, PoolPerClass: -1})
	if err != nil {
		t.Fatal(err)
	}
	imgs := sp.Train
	n := imgs.Len()
	px := make([]float32, n*3*28*28)
	for k := range n {
		rgb := &imgproc.RGB{W: 28, H: 28, Pix: imgs.Images.Pixels(k)}
		if err := m.Preprocess.Normalize(rgb, px[k*3*28*28:(k+1)*3*28*28]); err != nil {
			t.Fatal(err)
		}
	}
	_, i1, err := m.ImageFeaturesTensor(px, n)
	if err != nil {
		t.Fatal(err)
	}
	_, i2, err := loaded.ImageFeaturesTensor(px, n)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(i1, i2) {
		t.Fatalf("image embeddings differ after Save→Load")
	}

	// The standard clip pipeline on the loaded model (texts padded to 77 tokens and cut in buckets, images
	// through its own preprocessing) agrees with the training-time path.
	src, err := clip.Uint8HWC(imgs.Images.Pix, n, 28, 28, 3)
	if err != nil {
		t.Fatal(err)
	}
	res, err := loaded.EmbedImages(ctx, src, clip.EmbedOptions{BatchSize: n, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	d := m.Dim()
	for k := range res.Embeddings.Rows {
		if diff := maxAbsDiff(res.Embeddings.Row(k), i1[k*d:(k+1)*d]); diff > 1e-5 {
			t.Fatalf("image %d: clip.EmbedImages differs from the training path by %g", k, diff)
		}
	}
	rows, err := loaded.EmbedTexts(ctx, texts, clip.EmbedOptions{Progress: io.Discard, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	for k := range rows.Rows {
		if diff := maxAbsDiff(rows.Row(k), e1.Row(k)); diff > 1e-5 {
			t.Fatalf("text %q: clip.EmbedTexts differs from the training path by %g", texts[k], diff)
		}
	}
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

func TestTrainDeterministic(t *testing.T) {
	f := loadFashion(t)
	ctx := context.Background()
	fp := func(seed uint64) (string, []LossPoint) {
		m, rec, err := Train(ctx, goBackend(t), f, quickOptions(t, seed, 6))
		if err != nil {
			t.Fatal(err)
		}
		defer m.Finalize()
		s, err := m.Fingerprint()
		if err != nil {
			t.Fatal(err)
		}
		return s, rec.Loss
	}
	a, la := fp(11)
	b, lb := fp(11)
	c, _ := fp(12)
	if a != b || !slices.Equal(la, lb) {
		t.Fatalf("same seed, different models: %s vs %s, losses %v vs %v", a, b, la, lb)
	}
	if a == c {
		t.Fatal("different seeds, same model")
	}
}

func TestEnsureTrainsOnceThenUsesTheCache(t *testing.T) {
	loadFashion(t)
	ctx := context.Background()
	opts := quickOptions(t, 3, 5)
	opts.CacheDir = t.TempDir()
	opts.EvalImages = 200
	var log strings.Builder
	opts.Log = &log
	dir, err := Ensure(ctx, goBackend(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := Dir(opts); dir != want {
		t.Fatalf("Ensure returned %s, Dir says %s", dir, want)
	}
	rec, err := LoadRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Quality == nil || rec.Quality.Images != 200 || rec.Recipe != opts.Recipe() {
		t.Fatalf("record %+v: want the recipe and a quality on 200 images", rec)
	}
	if !strings.Contains(log.String(), "item accuracy") {
		t.Errorf("log %q lacks the quality line", log.String())
	}
	// A second call must not train: with no Fashion-MNIST available it still succeeds.
	opts.FashionDir = filepath.Join(t.TempDir(), "missing")
	dir2, err := Ensure(ctx, goBackend(t), opts)
	if err != nil || dir2 != dir {
		t.Fatalf("second Ensure: %s, %v", dir2, err)
	}
	m, err := clip.Load(ctx, goBackend(t), dir, clip.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Finalize()
	if m.Tokenizer == nil || m.Config.Text.VocabSize != m.Tokenizer.VocabSize() {
		t.Fatalf("loaded model: tokenizer %v, vocab %d", m.Tokenizer != nil, m.Config.Text.VocabSize)
	}
	// A different recipe is a different folder.
	other := opts
	other.Seed = 4
	if d, _ := Dir(other); d == dir {
		t.Fatal("different seeds share a cache folder")
	}
}
