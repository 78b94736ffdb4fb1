package models

import (
	"bytes"
	"context"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/data"
)

func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, _, err := backend.Go()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	return b
}

func randomTensor(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = rng.Float32()
	}
	return tensors.FromFlatDataAndDimensions(v, dims...)
}

func maxAbsDiff(a, b []float32) float64 {
	m := 0.0
	for i := range a {
		m = max(m, math.Abs(float64(a[i]-b[i])))
	}
	return m
}

// TestConvIm2colMatchesNative checks the im2col convolution against the backend's convolution with the same kernel.
func TestConvIm2colMatchesNative(t *testing.T) {
	b := goBackend(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ h, w, cin, cout, k, s, p int }{
		{7, 6, 3, 4, 3, 1, 1}, {8, 8, 2, 5, 3, 2, 1}, {6, 5, 3, 2, 1, 2, 0}, {9, 9, 3, 4, 7, 2, 3}, {5, 5, 1, 1, 3, 1, 0},
	} {
		store := model.NewStore()
		x := randomTensor(rng, 2, c.h, c.w, c.cin)
		run := func(impl ConvImpl) []float32 {
			out, err := model.ExecOnce(b, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
				return conv2D(scope.In("conv").WithInitializer(initializer.RandomNormalFn(scope, 1)), impl, x, c.cout, c.k, c.s, c.p, true)
			}, x)
			if err != nil {
				t.Fatal(err)
			}
			want := []int{2, convOut(c.h, c.k, c.s, c.p), convOut(c.w, c.k, c.s, c.p), c.cout}
			if got := out.Shape().Dimensions; len(got) != 4 || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
				t.Fatalf("%+v %v: shape %v want %v", c, impl, got, want)
			}
			return tensors.MustCopyFlatData[float32](out)
		}
		a, n := run(ConvIm2col), run(ConvNative)
		if d := maxAbsDiff(a, n); d > 1e-4 {
			t.Errorf("%+v: im2col and native differ by %g", c, d)
		}
	}
}

// refMaxPool is a direct max pool with zero padding.
func refMaxPool(x []float32, b, h, w, c, k, s, p int) []float32 {
	ho, wo := convOut(h, k, s, p), convOut(w, k, s, p)
	out := make([]float32, b*ho*wo*c)
	for n := range b {
		for i := range ho {
			for j := range wo {
				for ch := range c {
					m := float32(0)
					for di := range k {
						for dj := range k {
							y, xx := i*s+di-p, j*s+dj-p
							if y >= 0 && y < h && xx >= 0 && xx < w {
								m = max(m, x[((n*h+y)*w+xx)*c+ch])
							}
						}
					}
					out[((n*ho+i)*wo+j)*c+ch] = m
				}
			}
		}
	}
	return out
}

func TestMaxPools(t *testing.T) {
	b := goBackend(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, hw := range [][2]int{{8, 8}, {7, 9}, {4, 6}} {
		xt := randomTensor(rng, 2, hw[0], hw[1], 3)
		x := tensors.MustCopyFlatData[float32](xt)
		got2 := tensors.MustCopyFlatData[float32](graph.MustExecOnce(b, maxPool2, xt))
		want2 := refMaxPool(x, 2, hw[0]-hw[0]%2, hw[1], 3, 2, 2, 0)
		if hw[1]%2 == 0 && hw[0]%2 == 0 {
			if d := maxAbsDiff(got2, want2); d != 0 {
				t.Errorf("%v: maxPool2 differs by %g", hw, d)
			}
		} else if len(got2) != 2*(hw[0]/2)*(hw[1]/2)*3 {
			t.Errorf("%v: maxPool2 output size %d", hw, len(got2))
		}
		got3 := tensors.MustCopyFlatData[float32](graph.MustExecOnce(b, maxPool3s2, xt))
		if d := maxAbsDiff(got3, refMaxPool(x, 2, hw[0], hw[1], 3, 3, 2, 1)); d != 0 {
			t.Errorf("%v: maxPool3s2 differs by %g", hw, d)
		}
	}
}

// colorSplit is a synthetic in-memory split: label 1 images are reddish, label 0 greenish, with noise.
func colorSplit(n, size int, seed uint64) *data.ImageSplit {
	rng := rand.New(rand.NewPCG(seed, 9))
	im := data.NewImages(n, size, size, 3)
	s := &data.ImageSplit{Name: "syn", IDs: make([]string, n), Labels: make([]int, n), Images: im}
	for i := range n {
		l := i % 2
		s.Labels[i] = l
		s.IDs[i] = string(rune('a' + i%26))
		px := im.Pixels(i)
		for j := 0; j < len(px); j += 3 {
			r, g := rng.IntN(120), rng.IntN(120)
			if l == 1 {
				r += 100
			} else {
				g += 100
			}
			px[j], px[j+1], px[j+2] = uint8(r), uint8(g), uint8(rng.IntN(200))
		}
	}
	return s
}

func TestMLPAndCNNLearnPlantedSignal(t *testing.T) {
	b := goBackend(t)
	train, test := colorSplit(256, 12, 1), colorSplit(128, 12, 2)
	for _, arch := range []Arch{MLP, CNN} {
		m, err := New(b, Config{Arch: arch, NumClasses: 2, H: 12, W: 12, Width: 8}, 1)
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		stats, err := m.Train(context.Background(), train, TrainOptions{Epochs: 4, BatchSize: 32, Progress: io.Discard, Log: &log, Eval: test, Flip: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(stats) != 4 || !strings.Contains(log.String(), "epoch 4/4") || stats[3].Loss >= stats[0].Loss {
			t.Errorf("%s: stats %+v log %q", arch, stats, log.String())
		}
		out, err := m.Predict(context.Background(), test, PredictOptions{BatchSize: 50, Features: true, Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		if acc := out.Accuracy(); acc < 0.95 || math.Abs(acc-stats[3].EvalAccuracy) > 1e-9 {
			t.Errorf("%s: test accuracy %.3f (eval in training %.3f)", arch, acc, stats[3].EvalAccuracy)
		}
		if out.Features.Cols != m.Config.FeatureDim() || out.Features.Rows != 128 || out.Features.CheckShape() != nil {
			t.Errorf("%s: features %d×%d", arch, out.Features.Rows, out.Features.Cols)
		}
		for i := range out.Labels {
			p := out.Probs.Row(i)
			if math.Abs(float64(p[0]+p[1])-1) > 1e-5 || out.Conf[i] != p[out.Labels[i]] || (p[1] > p[0]) != (out.Preds[i] == 1) {
				t.Fatalf("%s: row %d probs %v conf %v pred %d label %d", arch, i, p, out.Conf[i], out.Preds[i], out.Labels[i])
			}
		}
	}
}

// TestWeightsDecideConflicts trains on two copies of the same images with opposite labels: the per-example weights
// decide which labelling the model learns.
func TestWeightsDecideConflicts(t *testing.T) {
	b := goBackend(t)
	base := colorSplit(64, 6, 3)
	n := base.Len()
	both := base.Subset(append(seqN(n), seqN(n)...))
	for i := n; i < 2*n; i++ {
		both.Labels[i] = 1 - both.Labels[i]
	}
	for _, favourFlipped := range []bool{false, true} {
		w := make([]float32, 2*n)
		for i := range w {
			if (i >= n) == favourFlipped {
				w[i] = 3 // rescaled to mean 1 internally; only the ratio matters
			}
		}
		m, err := New(b, Config{Arch: MLP, NumClasses: 2, H: 6, W: 6, Hidden: []int{16}}, 2)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Train(context.Background(), both, TrainOptions{Epochs: 15, BatchSize: 32, Weights: w, Progress: io.Discard}); err != nil {
			t.Fatal(err)
		}
		out, err := m.Predict(context.Background(), base, PredictOptions{Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		acc := out.Accuracy() // against the original labels
		if favourFlipped && acc > 0.05 || !favourFlipped && acc < 0.95 {
			t.Errorf("favour flipped=%v: accuracy against the original labels %.3f", favourFlipped, acc)
		}
	}
	m, _ := New(b, Config{Arch: MLP, NumClasses: 2, H: 6, W: 6}, 2)
	for _, bad := range [][]float32{make([]float32, 3), make([]float32, 2*n), append(make([]float32, 2*n-1), -1)} {
		if _, err := m.Train(context.Background(), both, TrainOptions{Epochs: 1, Weights: bad, Progress: io.Discard}); err == nil {
			t.Errorf("weights %v... accepted", bad[:3])
		}
	}
}

func seqN(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestCheckpointRoundTrip(t *testing.T) {
	b := goBackend(t)
	train := colorSplit(64, 8, 4)
	for _, cfg := range []Config{
		{Arch: MLP, NumClasses: 2, H: 8, W: 8, Hidden: []int{12, 7}, Classes: []string{"green", "red"}},
		{Arch: CNN, NumClasses: 2, H: 8, W: 8, Width: 4},
		{Arch: ResNet18, NumClasses: 2, H: 8, W: 8, Width: 2},
	} {
		m, err := New(b, cfg, 5)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.safetensors")
		if err := m.Save(path); err == nil {
			t.Errorf("%s: saving an untrained, unbuilt model worked", cfg.Arch)
		}
		if _, err := m.Train(context.Background(), train, TrainOptions{Epochs: 2, BatchSize: 16, Progress: io.Discard, Checkpoint: path}); err != nil {
			t.Fatal(err)
		}
		want, err := m.Predict(context.Background(), train, PredictOptions{Features: true, Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		m2, err := Load(b, path)
		if err != nil {
			t.Fatal(err)
		}
		if m2.Config.String() != m.Config.String() || m2.NumParameters() != m.NumParameters() {
			t.Errorf("%s: loaded config %s (%d params), want %s (%d)", cfg.Arch, m2.Config, m2.NumParameters(), m.Config, m.NumParameters())
		}
		got, err := m2.Predict(context.Background(), train, PredictOptions{Features: true, Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(got.Probs.Data, want.Probs.Data); d > 1e-6 {
			t.Errorf("%s: loaded model's probabilities differ by %g", cfg.Arch, d)
		}
		if d := maxAbsDiff(got.Features.Data, want.Features.Data); d > 1e-5 {
			t.Errorf("%s: loaded model's features differ by %g", cfg.Arch, d)
		}
		// Write and Read round-trip through a stream too.
		var buf bytes.Buffer
		if err := m.Write(&buf); err != nil {
			t.Fatal(err)
		}
		m3, err := Read(b, &buf)
		if err != nil {
			t.Fatal(err)
		}
		got3, err := m3.Predict(context.Background(), train, PredictOptions{Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(got3.Probs.Data, want.Probs.Data); d > 1e-6 {
			t.Errorf("%s: model read from a stream: probabilities differ by %g", cfg.Arch, d)
		}
		// Corrupt files fail with a message naming the file.
		raw, _ := os.ReadFile(path)
		for name, bad := range map[string][]byte{"truncated": raw[:len(raw)-9], "not a checkpoint": []byte("hello world, not safetensors at all"), "empty": nil} {
			p := filepath.Join(t.TempDir(), "bad.safetensors")
			os.WriteFile(p, bad, 0o644)
			if _, err := Load(b, p); err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("%s %s: err = %v", cfg.Arch, name, err)
			}
		}
	}
}

func TestConfigValidate(t *testing.T) {
	for _, bad := range []Config{
		{Arch: "vit", NumClasses: 2, H: 8, W: 8},
		{Arch: MLP, NumClasses: 0, H: 8, W: 8},
		{Arch: MLP, NumClasses: 2, H: 0, W: 8},
		{Arch: MLP, NumClasses: 2, H: 8, W: 8, Classes: []string{"a"}},
		{Arch: MLP, NumClasses: 2, H: 8, W: 8, Hidden: []int{4, 0}},
		{Arch: ResNet18, NumClasses: 2, H: 16, W: 16, Stem: StemImageNet},
		{Arch: ResNet18, NumClasses: 2, H: 16, W: 16, Stem: "huge"},
	} {
		if _, err := New(goBackend(t), bad, 0); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
	if c := (Config{Arch: "ResNet18", NumClasses: 2, H: 75, W: 75}).WithDefaults(); c.Stem != StemImageNet || c.Width != 64 || c.Arch != ResNet18 {
		t.Errorf("defaults %+v", c)
	}
}

// TestResNet18Shapes checks output shapes and, as a golden value, the parameter count of torchvision's resnet18
// (11,689,512 with 1000 classes; 11,181,642 with 10).
func TestResNet18Shapes(t *testing.T) {
	b := goBackend(t)
	for _, c := range []struct {
		classes, size int
		stem          string
		params        int
	}{{1000, 32, StemImageNet, 11689512}, {10, 12, StemSmall, 11181642 - 9408 + 1728}} {
		m, err := New(b, Config{Arch: ResNet18, NumClasses: c.classes, H: c.size, W: c.size, Stem: c.stem}, 1)
		if err != nil {
			t.Fatal(err)
		}
		ex := colorSplit(3, c.size, 5)
		out, err := m.Predict(context.Background(), ex, PredictOptions{Features: true, BatchSize: 2, Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		if out.Probs.Rows != 3 || out.Probs.Cols != c.classes || out.Features.Cols != 512 || out.Features.Rows != 3 {
			t.Errorf("%d classes: probs %d×%d features %d×%d", c.classes, out.Probs.Rows, out.Probs.Cols, out.Features.Rows, out.Features.Cols)
		}
		if got := m.NumParameters(); got != c.params {
			t.Errorf("%d classes, %s stem: %d parameters, want %d", c.classes, c.stem, got, c.params)
		}
	}
}

// TestResNet18Overfits trains ResNet-18 (the full depth, base width 16 instead of 64 to keep the Go backend fast)
// on 32 random-noise images with random labels: the training loss must fall by 10x and the model, in inference
// mode (running batch-norm statistics), must then classify its 32 training images.
func TestResNet18Overfits(t *testing.T) {
	b := goBackend(t)
	rng := rand.New(rand.NewPCG(7, 7))
	n, size := 32, 16
	im := data.NewImages(n, size, size, 3)
	for i := range im.Pix {
		im.Pix[i] = uint8(rng.IntN(256))
	}
	s := &data.ImageSplit{Name: "noise", IDs: make([]string, n), Labels: make([]int, n), Images: im}
	for i := range n {
		s.Labels[i] = rng.IntN(4)
	}
	m, err := New(b, Config{Arch: ResNet18, NumClasses: 4, H: size, W: size, Width: 16}, 3)
	if err != nil {
		t.Fatal(err)
	}
	stats, err := m.Train(context.Background(), s, TrainOptions{Epochs: 8, BatchSize: 32, Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	first, last := stats[0].Loss, stats[len(stats)-1].Loss
	t.Logf("loss %.3f -> %.4f", first, last)
	if !(last < 0.1*first) {
		t.Errorf("loss fell only from %.3f to %.3f on 32 images", first, last)
	}
	for i := 1; i < len(stats); i++ {
		if stats[i].Loss > stats[i-1].Loss {
			t.Errorf("loss rose at epoch %d: %.4f -> %.4f", i+1, stats[i-1].Loss, stats[i].Loss)
		}
	}
	out, err := m.Predict(context.Background(), s, PredictOptions{Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if acc := out.Accuracy(); acc < 0.9 {
		t.Errorf("inference accuracy on the 32 training images %.3f", acc)
	}
}

// TestPredictAfterMoreTraining predicts, trains on, and predicts again with the same batch size: the second
// prediction must use the new weights (equal to a reloaded checkpoint's), not the weights the inference executable
// was compiled with (the Go backend embeds an inference graph's weights as constants).
func TestPredictAfterMoreTraining(t *testing.T) {
	b := goBackend(t)
	train, test := colorSplit(96, 8, 11), colorSplit(40, 8, 12)
	for _, arch := range []Arch{MLP, CNN} {
		m, err := New(b, Config{Arch: arch, NumClasses: 2, H: 8, W: 8, Width: 4, Hidden: []int{16}}, 3)
		if err != nil {
			t.Fatal(err)
		}
		opts := TrainOptions{Epochs: 1, BatchSize: 16, Progress: io.Discard}
		if _, err := m.Train(context.Background(), train, opts); err != nil {
			t.Fatal(err)
		}
		popts := PredictOptions{BatchSize: 8, Progress: io.Discard}
		before, err := m.Predict(context.Background(), test, popts)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "m.safetensors")
		opts.Epochs, opts.Checkpoint, opts.Eval = 2, path, test // Eval compiles an inference executable mid-training
		if _, err := m.Train(context.Background(), train, opts); err != nil {
			t.Fatal(err)
		}
		after, err := m.Predict(context.Background(), test, popts)
		if err != nil {
			t.Fatal(err)
		}
		reloaded, err := Load(b, path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := reloaded.Predict(context.Background(), test, popts)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(after.Probs.Data, want.Probs.Data); d > 1e-6 {
			t.Errorf("%s: predictions after more training differ from the saved weights' by %g", arch, d)
		}
		if d := maxAbsDiff(after.Probs.Data, before.Probs.Data); d == 0 {
			t.Errorf("%s: predictions did not change with two more epochs of training", arch)
		}
	}
}
