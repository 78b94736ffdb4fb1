package quickstart

import (
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/faildirs/faildirs/distill/data"
)

// TestPipelineSmall runs every stage on a small spurious-colour experiment with a briefly trained tiny CLIP and
// checks the planted failure is found: the SVM's hardest test images are mostly the minority colour (well above
// the base rate), the summary holds every section, and the figures render.
func TestPipelineSmall(t *testing.T) {
	if _, err := data.LoadFashion(""); err != nil {
		t.Fatalf("Fashion-MNIST is needed (make setup installs Debian's dataset-fashion-mnist): %v", err)
	}
	work := t.TempDir()
	cfg := Config{
		Experiment: Spurious,
		Spurious: data.SpuriousConfig{TrainPerClass: 600, ValPerGroup: 100, TestPerGroup: 100, PoolPerClass: -1,
			Seed: 3},
		Epochs:    3,
		CLIPSteps: 40,
		Ks:        []int{10, 25},
		CaptionK:  25,
		GalleryN:  4,
		WorkDir:   work,
		CacheDir:  work,
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	p.Progress = devnull
	ctx := context.Background()
	out := filepath.Join(work, "out")
	s, err := p.WriteOutputs(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.SVM) != 2 || len(s.TopK.Mean) != 2 || len(s.Timings) == 0 {
		t.Fatalf("summary incomplete: %d SVM classes, %d mean top-K points, %d timings", len(s.SVM), len(s.TopK.Mean), len(s.Timings))
	}
	if s.BaseModel.WorstGroupAcc >= s.BaseModel.BestGroupAccuracy {
		t.Fatalf("no planted failure: worst group %.3f, best %.3f", s.BaseModel.WorstGroupAcc, s.BaseModel.BestGroupAccuracy)
	}
	for _, pt := range s.TopK.Mean {
		if pt.SVM < pt.BaseRate+0.2 {
			t.Errorf("K=%d: SVM minority fraction %.2f, not clearly above the base rate %.2f", pt.K, pt.SVM, pt.BaseRate)
		}
	}
	for _, c := range s.Captions {
		if len(c.Hard) != 3 || len(c.Easy) != 3 || c.Hard[0].Score > c.Easy[0].Score {
			t.Errorf("class %s: captions %+v", c.Name, c)
		}
	}
	raw, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"experiment", "backend", "base_model", "svm", "topk", "captions", "caption_check", "timings"} {
		if _, ok := generic[key]; !ok {
			t.Errorf("summary.json lacks %q", key)
		}
	}
	for _, name := range []string{"topk", "decisions", "svm_balanced_accuracy", "caption_check", "gallery_t-shirt_top", "gallery_shirt"} {
		f, err := os.Open(filepath.Join(out, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s.png: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() < 200 || b.Dy() < 100 {
			t.Errorf("%s.png is only %v", name, b)
		}
	}

	// A second pipeline reloads the base model, the tiny CLIP and the embeddings from the caches.
	p2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	p2.Progress = devnull
	if err := p2.Embed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p2.BaseModel(ctx); err != nil {
		t.Fatal(err)
	}
	cached := map[string]bool{}
	for _, tm := range p2.Timings {
		cached[tm.Stage] = tm.Cached
	}
	for _, st := range []string{"base model", "tiny CLIP", "embeddings"} {
		if !cached[st] {
			t.Errorf("stage %q was recomputed, want it loaded from the cache (timings %+v)", st, p2.Timings)
		}
	}
	for _, name := range splitNames {
		a, b := p.Emb[name], p2.Emb[name]
		if len(a) != len(b) {
			t.Fatalf("%s: cached embeddings have %d values, want %d", name, len(b), len(a))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%s: cached embedding %d differs: %v vs %v", name, i, b[i], a[i])
			}
		}
	}
}

func TestCheckKs(t *testing.T) {
	tests := []struct {
		k    int
		want []int
	}{
		{50, []int{5, 10, 25, 50, 75, 100}},
		{25, []int{5, 10, 25}},
		{7, []int{5, 7}},
	}
	for _, tc := range tests {
		got := checkKs(tc.k)
		if len(got) != len(tc.want) {
			t.Fatalf("checkKs(%d) = %v, want %v", tc.k, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("checkKs(%d) = %v, want %v", tc.k, got, tc.want)
			}
		}
	}
}

func TestConfigDefaultsAndErrors(t *testing.T) {
	c, err := Config{WorkDir: "/tmp/x"}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.Experiment != Spurious || c.Epochs != 20 || c.CaptionK != 50 || len(c.Ks) != 3 {
		t.Fatalf("defaults: %+v", c)
	}
	if _, err := (Config{Experiment: "nope", WorkDir: "/tmp/x"}).WithDefaults(); err == nil {
		t.Fatal("unknown experiment accepted")
	}
	if fileStem("T-shirt/top") != "t-shirt_top" {
		t.Fatalf("fileStem = %q", fileStem("T-shirt/top"))
	}
}
