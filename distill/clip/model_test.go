package clip

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/clip/tokenizer"
	"github.com/faildirs/faildirs/distill/safetensors"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
)

// tinyConfig is a small model for tests (image 32, patch 8, width 32, 1 layer, embed 8).
func tinyConfig() Config { return TinyConfig(32, 8, 32, 1, 8) }

func TestParseConfigQuirks(t *testing.T) {
	tests := []struct {
		name  string
		json  string
		check func(c Config) string
	}{
		{"absent keys take HF defaults", `{"model_type":"clip"}`, func(c Config) string {
			if c.ProjectionDim != 512 || c.Text.HiddenSize != 512 || c.Vision.HiddenSize != 768 || c.Vision.PatchSize != 32 ||
				c.Text.HiddenAct != "quick_gelu" || c.Text.LayerNormEps != 1e-5 || c.Vision.ImageSize != 224 {
				return "defaults not applied"
			}
			return ""
		}},
		{"config_dict merged over config", `{"text_config":{"hidden_size":64,"num_attention_heads":2},
			"text_config_dict":{"hidden_size":768,"num_attention_heads":12},"vision_config_dict":{"patch_size":14,"image_size":224}}`,
			func(c Config) string {
				if c.Text.HiddenSize != 768 || c.Text.NumAttentionHeads != 12 || c.Vision.PatchSize != 14 {
					return "dict values must win"
				}
				return ""
			}},
		{"legacy special ids kept", `{"text_config":{"eos_token_id":2,"bos_token_id":0,"pad_token_id":1}}`, func(c Config) string {
			if c.Text.EosTokenID != 2 || c.Text.BosTokenID != 0 {
				return "legacy ids lost"
			}
			return ""
		}},
	}
	for _, tc := range tests {
		c, err := ParseConfig([]byte(tc.json))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if msg := tc.check(c); msg != "" {
			t.Errorf("%s: %s (%+v)", tc.name, msg, c)
		}
	}
	for _, bad := range []struct{ json, want string }{
		{`{"vision_config":{"image_size":30,"patch_size":8}}`, "multiple of patch_size"},
		{`{"text_config":{"hidden_size":30,"num_attention_heads":4}}`, "multiple of num_attention_heads"},
		{`{"text_config":{"hidden_act":"swish"}}`, "hidden_act"},
		{`{"model_type":"siglip"}`, "model_type"},
		{`{"projection_dim":0}`, "projection_dim"},
	} {
		if _, err := ParseConfig([]byte(bad.json)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ParseConfig(%s) error %v, want one mentioning %q", bad.json, err, bad.want)
		}
	}
}

// TestTensorShapesMatchSpecCounts checks the tensor list against SPEC.md's counts for the three OpenAI variants.
func TestTensorShapesMatchSpecCounts(t *testing.T) {
	b16 := ViTB32Config()
	b16.Vision.PatchSize = 16
	l14 := ViTB32Config()
	l14.ProjectionDim = 768
	l14.Text.HiddenSize, l14.Text.IntermediateSize, l14.Text.NumAttentionHeads = 768, 3072, 12
	l14.Vision.HiddenSize, l14.Vision.IntermediateSize, l14.Vision.NumAttentionHeads, l14.Vision.NumHiddenLayers = 1024, 4096, 16, 24
	l14.Vision.PatchSize = 14
	for _, tc := range []struct {
		name            string
		cfg             Config
		tensors, params int
	}{
		{"clip-vit-base-patch32", ViTB32Config(), 398, 151277313},
		{"clip-vit-base-patch16", b16, 398, 149620737},
		{"clip-vit-large-patch14", l14, 590, 427616513},
	} {
		if err := tc.cfg.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		shapes := TensorShapes(tc.cfg)
		params := 0
		for _, s := range shapes {
			n := 1
			for _, d := range s {
				n *= d
			}
			params += n
		}
		if len(shapes) != tc.tensors || params != tc.params {
			t.Errorf("%s: %d tensors, %d parameters; SPEC says %d and %d", tc.name, len(shapes), params, tc.tensors, tc.params)
		}
	}
}

// saveAndLoad saves m to a temporary folder and loads it back with LoadDir; it returns the loaded model and the
// folder.
func saveAndLoad(t *testing.T, m *Model, b compute.Backend) (*Model, string) {
	t.Helper()
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := LoadDir(b, dir)
	if err != nil {
		t.Fatal(err)
	}
	return back, dir
}

// TestHeterogeneousTowers runs a random model whose towers differ in width, heads, depth and activation, with a
// 14-pixel patch, through save/load and both towers (shapes must line up everywhere).
func TestHeterogeneousTowers(t *testing.T) {
	b := goBackend(t)
	cfg := TinyConfig(28, 14, 48, 2, 12)
	cfg.Text.HiddenSize, cfg.Text.IntermediateSize, cfg.Text.NumAttentionHeads, cfg.Text.NumHiddenLayers = 40, 80, 5, 1
	cfg.Vision.HiddenAct, cfg.Text.HiddenAct = "gelu", "gelu_new"
	m, err := NewRandom(b, cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := saveAndLoad(t, m, b)
	pooled, embeds, err := back.ImageFeaturesTensor(make([]float32, 3*3*28*28), 3)
	if err != nil || len(pooled) != 3*48 || len(embeds) != 3*12 {
		t.Fatalf("image features: %d, %d values, %v", len(pooled), len(embeds), err)
	}
	ids := []int32{49406, 320, 49407, 0, 49406, 1125, 539, 49407}
	tp, te, err := back.TextFeaturesTensor(ids, 2, 4, PoolPositions(cfg.Text, ids, 2, 4))
	if err != nil || len(tp) != 2*40 || len(te) != 2*12 {
		t.Fatalf("text features: %d, %d values, %v", len(tp), len(te), err)
	}
	for _, v := range append(embeds, te...) {
		if math.IsNaN(float64(v)) {
			t.Fatal("NaN embedding")
		}
	}
}

// TestSaveLoadRoundTrip saves a random tiny model with a tokenizer and checks LoadDir reads the same weights,
// configuration, preprocessing and outputs.
func TestSaveLoadRoundTrip(t *testing.T) {
	b := goBackend(t)
	cfg := tinyConfig()
	m, err := NewRandom(b, cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	m.Tokenizer = testTokenizer(t)
	back, dir := saveAndLoad(t, m, b)
	if back.Config != cfg {
		t.Errorf("config changed: %+v vs %+v", back.Config, cfg)
	}
	if back.Preprocess != m.Preprocess {
		t.Errorf("preprocessing changed: %v vs %v", back.Preprocess, m.Preprocess)
	}
	f1, _ := m.Fingerprint()
	f2, _ := back.Fingerprint()
	if f1 != f2 {
		t.Errorf("fingerprints differ after save/load: %s vs %s", f1, f2)
	}
	if back.Tokenizer == nil {
		t.Fatal("tokenizer not saved")
	}
	px := make([]float32, 2*3*32*32)
	for i := range px {
		px[i] = float32(math.Sin(float64(i)))
	}
	_, e1, err := m.ImageFeaturesTensor(px, 2)
	if err != nil {
		t.Fatal(err)
	}
	_, e2, err := back.ImageFeaturesTensor(px, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range e1 {
		if e1[i] != e2[i] {
			t.Fatalf("embedding %d: %v vs %v", i, e1[i], e2[i])
		}
	}
	// config.json is HF's layout.
	raw, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	var top map[string]any
	if err := json.Unmarshal(raw, &top); err != nil || top["model_type"] != "clip" || top["text_config"] == nil {
		t.Errorf("config.json is not an HF CLIPConfig: %s", raw)
	}
}

// TestLoadWeightErrors checks that a missing or mis-shaped tensor is an error naming it, and that extra I64
// buffers are ignored.
func TestLoadWeightErrors(t *testing.T) {
	b := goBackend(t)
	cfg := tinyConfig()
	m, err := NewRandom(b, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := WeightTensors(m.Store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, edit func([]safetensors.Tensor) []safetensors.Tensor) string {
		dir := t.TempDir()
		if err := m.Save(dir); err != nil {
			t.Fatal(err)
		}
		if err := safetensors.Save(filepath.Join(dir, "model.safetensors"), edit(append([]safetensors.Tensor(nil), ts...)), nil); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	const victim = "vision_model.encoder.layers.0.mlp.fc1.weight"
	t.Run("missing", func(t *testing.T) {
		dir := write(t, func(ts []safetensors.Tensor) []safetensors.Tensor {
			out := ts[:0]
			for _, x := range ts {
				if x.Name != victim {
					out = append(out, x)
				}
			}
			return out
		})
		if _, err := LoadDir(b, dir); err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "missing") {
			t.Errorf("error %v must name the missing %s", err, victim)
		}
	})
	t.Run("misshaped", func(t *testing.T) {
		dir := write(t, func(ts []safetensors.Tensor) []safetensors.Tensor {
			for i, x := range ts {
				if x.Name == victim {
					ts[i] = safetensors.Tensor{Name: victim, Shape: []int{x.Shape[1], x.Shape[0]}, Data: x.Data}
				}
			}
			return ts
		})
		if _, err := LoadDir(b, dir); err == nil || !strings.Contains(err.Error(), victim) || !strings.Contains(err.Error(), "shape") {
			t.Errorf("error %v must name the mis-shaped %s", err, victim)
		}
	})
	t.Run("extra buffers ignored", func(t *testing.T) {
		dir := write(t, func(ts []safetensors.Tensor) []safetensors.Tensor {
			return append(ts, safetensors.Tensor{Name: "text_model.embeddings.position_ids", Shape: []int{1, 77}, U8: make([]uint8, 77)})
		})
		if _, err := LoadDir(b, dir); err != nil {
			t.Errorf("extra tensor must be ignored: %v", err)
		}
	})
}

// TestStreamsAgree checks that splitting batches into concurrently executed row blocks gives the same embeddings.
func TestStreamsAgree(t *testing.T) {
	b := goBackend(t)
	dir := goldenDirs(t)[0]
	g := readGolden(t, dir)
	var ref []float32
	var refText []float32
	for _, streams := range []int{1, 2, 3} {
		m, err := LoadDir(b, dir)
		if err != nil {
			t.Fatal(err)
		}
		m.Streams = streams
		_, e, err := m.ImageFeaturesTensor(g.PixelValues.f32(), g.PixelValues.Shape[0])
		if err != nil {
			t.Fatal(err)
		}
		ids := g.InputIDs.i32()
		nTxt, length := g.InputIDs.Shape[0], g.InputIDs.Shape[1]
		_, te, err := m.TextFeaturesTensor(ids, nTxt, length, PoolPositions(m.Config.Text, ids, nTxt, length))
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref, refText = e, te
			continue
		}
		for i := range e {
			if math.Abs(float64(e[i]-ref[i])) > 1e-5 {
				t.Fatalf("streams=%d image embedding %d: %v vs %v", streams, i, e[i], ref[i])
			}
		}
		for i := range te {
			if math.Abs(float64(te[i]-refText[i])) > 1e-5 {
				t.Fatalf("streams=%d text embedding %d: %v vs %v", streams, i, te[i], refText[i])
			}
		}
		m.Finalize()
	}
}

// testTokenizer loads OpenAI's BPE file beside the tokenizer golden (committed, or FAILDIRS_TOKENIZER_GOLDEN's folder).
func testTokenizer(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	dir := filepath.Dir(tokenizerGoldenPath(t))
	tok, err := tokenizer.LoadBPE(filepath.Join(dir, "bpe_simple_vocab_16e6.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestWeightsChanged doubles the visual projection in place (training does the same through the store): after
// WeightsChanged the image embeddings double and the fingerprint changes.
func TestWeightsChanged(t *testing.T) {
	b := goBackend(t)
	m, err := NewRandom(b, tinyConfig(), 3)
	if err != nil {
		t.Fatal(err)
	}
	px := make([]float32, 2*3*32*32)
	for i := range px {
		px[i] = float32(math.Cos(float64(i) / 7))
	}
	_, e1, err := m.ImageFeaturesTensor(px, 2)
	if err != nil {
		t.Fatal(err)
	}
	f1, _ := m.Fingerprint()
	v := m.Store.GetVariable(VariablePath("visual_projection.weight"))
	old, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	w := tensors.MustCopyFlatData[float32](old)
	for i := range w {
		w[i] *= 2
	}
	if err := v.SetValue(tensors.FromFlatDataAndDimensions(w, old.Shape().Dimensions...)); err != nil {
		t.Fatal(err)
	}
	m.WeightsChanged()
	_, e2, err := m.ImageFeaturesTensor(px, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range e1 {
		if math.Abs(float64(e2[i]-2*e1[i])) > 1e-5*(1+math.Abs(float64(e1[i]))) {
			t.Fatalf("embedding %d after doubling the projection: %v, want %v", i, e2[i], 2*e1[i])
		}
	}
	if f2, _ := m.Fingerprint(); f2 == f1 {
		t.Error("the fingerprint did not change with the weights")
	}
}
