package quickstart

import (
	"context"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"slices"
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
	s, err := p.SaveOutputs(ctx, out)
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
		a, b := p.Emb[name].Data, p2.Emb[name].Data
		if len(a) != len(b) || p.Emb[name].Cols != p2.Emb[name].Cols {
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
	if c.Spurious.Classes != [2]int{0, 6} || c.Spurious.MajorityFraction != 0.8 || c.Spurious.TestPerGroup != 500 {
		t.Fatalf("spurious defaults not resolved: %+v", c.Spurious)
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	if _, ok := fields["rare"]; ok {
		t.Errorf("spurious config records the unused rare settings: %s", raw)
	}
	r, err := Config{Experiment: Rare, Spurious: data.SpuriousConfig{Seed: 4}, WorkDir: "/tmp/x"}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if r.Rare.RareFraction != 0.1 || len(r.Rare.Superclasses) != 3 || r.Spurious != (data.SpuriousConfig{}) {
		t.Fatalf("rare defaults: %+v, spurious %+v", r.Rare, r.Spurious)
	}
	again, _ := c.WithDefaults()
	if fingerprint(again) != fingerprint(c) {
		t.Fatal("WithDefaults is not idempotent")
	}
	if _, err := (Config{Experiment: "nope", WorkDir: "/tmp/x"}).WithDefaults(); err == nil {
		t.Fatal("unknown experiment accepted")
	}
	if fileStem("T-shirt/top") != "t-shirt_top" {
		t.Fatalf("fileStem = %q", fileStem("T-shirt/top"))
	}
}

// TestVocabulary checks the caption vocabularies the experiments use: in the spurious-colour task both classes
// share every noun of both items and every caption names one of the two tints (no colourless caption), while the
// reference still names the class's own item; a rare-subclass superclass gets its members' nouns, "none" plus the
// experiment's tints as adjectives, and the neutral reference noun "item".
func TestVocabulary(t *testing.T) {
	tests := []struct {
		name      string
		p         *Pipeline
		wantRefs  []string
		wantNouns [][]string
		wantAdjs  []string
	}{
		{
			name: "spurious",
			p: &Pipeline{Config: Config{Experiment: Spurious, Spurious: data.SpuriousConfig{Classes: [2]int{2, 4}}},
				Data: &data.Dataset{AttrValues: map[string][]string{"color": {"blue", "yellow"}}}},
			wantRefs: []string{"a photo of a pullover", "a photo of a coat"},
			wantNouns: [][]string{
				{"pullover", "sweater", "jumper", "coat", "jacket", "overcoat"},
				{"pullover", "sweater", "jumper", "coat", "jacket", "overcoat"},
			},
			wantAdjs: []string{"blue", "yellow"},
		},
		{
			name: "rare",
			p: &Pipeline{Config: Config{Experiment: Rare, Rare: data.RareConfig{Superclasses: [][]int{{5, 7}, {0, 6}},
				Colors: []string{"red", "green"}}}, Data: &data.Dataset{Classes: []string{"shoes", "tops"}}},
			wantRefs:  []string{"a photo of a item", "a photo of a item"},
			wantNouns: [][]string{{"sandal", "flip-flop", "open shoe", "sneaker", "trainer", "running shoe"}, {"t-shirt", "top", "tee", "shirt", "blouse", "button-down shirt"}},
			wantAdjs:  []string{"", "red", "green"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.p.vocabulary()
			if err != nil {
				t.Fatal(err)
			}
			if len(v.Classes) != len(tc.wantRefs) {
				t.Fatalf("%d classes, want %d", len(v.Classes), len(tc.wantRefs))
			}
			for i, c := range v.Classes {
				if got := c.Reference(); got != tc.wantRefs[i] {
					t.Errorf("class %d reference %q, want %q", i, got, tc.wantRefs[i])
				}
				if !slices.Equal(c.Nouns, tc.wantNouns[i]) {
					t.Errorf("class %d nouns %q, want %q", i, c.Nouns, tc.wantNouns[i])
				}
				if !slices.Equal(c.Adjectives, tc.wantAdjs) {
					t.Errorf("class %d adjectives %q, want %q", i, c.Adjectives, tc.wantAdjs)
				}
			}
		})
	}
	// Changing one class's nouns must not change the other's (no shared backing array).
	p := tests[0].p
	v, _ := p.vocabulary()
	v.Classes[0].Nouns[0] = "changed"
	if v.Classes[1].Nouns[0] != "pullover" {
		t.Fatalf("the classes' noun lists share memory")
	}
}

// TestTrainMixSubset checks the test resampling of SurfacingTrainMix: every majority test example stays, each
// class keeps minority examples in its train share (here 1:4 for class 0, 1:9 for class 1), a class without a
// minority in train keeps none, and the draw is deterministic per seed.
func TestTrainMixSubset(t *testing.T) {
	mk := func(name string, counts [4]int) *data.ImageSplit {
		s := &data.ImageSplit{Name: name}
		for g, n := range counts {
			for range n {
				s.Labels = append(s.Labels, g/2)
				s.Groups = append(s.Groups, g)
			}
		}
		return s
	}
	d := &data.Dataset{Classes: []string{"a", "b"},
		Groups: []data.Group{{ID: 0, Class: 0}, {ID: 1, Class: 0, Minority: true}, {ID: 2, Class: 1}, {ID: 3, Class: 1, Minority: true}},
		Train:  mk("train", [4]int{800, 200, 900, 100}),
		Val:    mk("val", [4]int{10, 10, 10, 10}),
		Test:   mk("test", [4]int{200, 200, 180, 200}),
	}
	idx, err := trainMixSubset(d, 7)
	if err != nil {
		t.Fatal(err)
	}
	count := [4]int{}
	for _, i := range idx {
		count[d.Test.Groups[i]]++
	}
	if want := [4]int{200, 50, 180, 20}; count != want {
		t.Fatalf("kept per group %v, want %v", count, want)
	}
	again, _ := trainMixSubset(d, 7)
	if !slices.Equal(idx, again) {
		t.Fatal("same seed, different subset")
	}
	other, _ := trainMixSubset(d, 8)
	if slices.Equal(idx, other) {
		t.Fatal("seeds 7 and 8 drew the same minority examples")
	}
	d.Train = mk("train", [4]int{800, 0, 900, 100})
	idx, _ = trainMixSubset(d, 7)
	count = [4]int{}
	for _, i := range idx {
		count[d.Test.Groups[i]]++
	}
	if want := [4]int{200, 0, 180, 20}; count != want {
		t.Fatalf("no class-0 minority in train: kept per group %v, want %v", count, want)
	}
	d.Test.Groups = nil
	if _, err := trainMixSubset(d, 7); err == nil {
		t.Fatal("test without groups accepted")
	}
}
