package clip

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/clip/internal/fixtures"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

type jtensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func (t jtensor) f32() []float32 {
	out := make([]float32, len(t.Data))
	for i, v := range t.Data {
		out[i] = float32(v)
	}
	return out
}

func (t jtensor) i32() []int32 {
	out := make([]int32, len(t.Data))
	for i, v := range t.Data {
		out[i] = int32(v)
	}
	return out
}

type modelGolden struct {
	PixelValues       jtensor  `json:"pixel_values"`
	Captions          []string `json:"captions"`
	InputIDs          jtensor  `json:"input_ids"`
	InputIDsEOSPadded jtensor  `json:"input_ids_eos_padded"`
	EOSPositions      []int32  `json:"eos_positions"`
	LogitScale        float64  `json:"logit_scale"`
	ImagePooled       jtensor  `json:"image_pooled"`
	ImageEmbeds       jtensor  `json:"image_embeds"`
	TextPooled        jtensor  `json:"text_pooled"`
	TextEmbeds        jtensor  `json:"text_embeds"`
	LogitsPerImage    jtensor  `json:"logits_per_image"`
	LogitsPerText     jtensor  `json:"logits_per_text"`
	DebugVisionEmb    jtensor  `json:"debug_vision_embeddings"`
	DebugVisionHidden jtensor  `json:"debug_vision_last_hidden_state"`
	DebugTextHidden   jtensor  `json:"debug_text_last_hidden_state"`
}

// goldenDirs returns the model folders of FAILDIRS_CLIP_GOLDEN (default: the committed testdata/tiny-a).
func goldenDirs(t *testing.T) []string {
	t.Helper()
	dirs, err := fixtures.Paths(fixtures.EnvCLIPGolden, "testdata/tiny-a")
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func readGolden(t *testing.T, dir string) modelGolden {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g modelGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s/golden.json: %v", dir, err)
	}
	return g
}

func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, _, err := backend.Go()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// maxAbsDiff returns the largest |got − want| and fails the test on a length mismatch.
func maxAbsDiff(t *testing.T, what string, got []float32, want jtensor) float64 {
	t.Helper()
	if len(got) != len(want.Data) {
		t.Fatalf("%s: %d values, golden has %d (shape %v)", what, len(got), len(want.Data), want.Shape)
	}
	d := 0.0
	for i, w := range want.Data {
		if v := math.Abs(float64(got[i]) - w); v > d || math.IsNaN(v) {
			d = v
		}
	}
	return d
}

func checkClose(t *testing.T, what string, got []float32, want jtensor, tol float64) {
	t.Helper()
	d := maxAbsDiff(t, what, got, want)
	t.Logf("%-36s max |Δ| = %.2g (tolerance %g)", what, d, tol)
	if !(d <= tol) {
		t.Errorf("%s: max abs error %.3g > %g", what, d, tol)
	}
}

// TestGoldenModels loads each golden model folder and compares every recorded output with OpenAI's reference:
// pooled outputs, embeddings and debug tensors within 1e-4, logits within 1e-3, for zero- and EOS-padded ids.
func TestGoldenModels(t *testing.T) {
	b := goBackend(t)
	for _, dir := range goldenDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			g := readGolden(t, dir)
			m, err := LoadDir(b, dir)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Finalize()
			nImg := g.PixelValues.Shape[0]
			pooled, embeds, err := m.ImageFeaturesTensor(g.PixelValues.f32(), nImg)
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "image_pooled", pooled, g.ImagePooled, 1e-4)
			checkClose(t, "image_embeds", embeds, g.ImageEmbeds, 1e-4)

			nTxt, length := g.InputIDs.Shape[0], g.InputIDs.Shape[1]
			var textEmbeds []float32
			for _, ids := range []struct {
				name string
				t    jtensor
			}{{"zero-padded", g.InputIDs}, {"eos-padded", g.InputIDsEOSPadded}} {
				flat := ids.t.i32()
				eos := PoolPositions(m.Config.Text, flat, nTxt, length)
				for i, p := range eos {
					if p != g.EOSPositions[i] {
						t.Errorf("%s row %d pools at %d, golden EOS position %d", ids.name, i, p, g.EOSPositions[i])
					}
				}
				tp, te, err := m.TextFeaturesTensor(flat, nTxt, length, eos)
				if err != nil {
					t.Fatal(err)
				}
				checkClose(t, "text_pooled "+ids.name, tp, g.TextPooled, 1e-4)
				checkClose(t, "text_embeds "+ids.name, te, g.TextEmbeds, 1e-4)
				textEmbeds = te
			}

			// Cutting the ids after the last EOS must not change anything (causal attention): rows whose EOS is
			// before the end, cut just after their last EOS.
			var rows []int
			cut := 0
			for r, p := range g.EOSPositions {
				if int(p) < length-1 {
					rows = append(rows, r)
					cut = max(cut, int(p)+1)
				}
			}
			if len(rows) > 0 {
				flat := g.InputIDs.i32()
				short := make([]int32, 0, len(rows)*cut)
				var want jtensor
				e := m.Dim()
				for _, r := range rows {
					short = append(short, flat[r*length:r*length+cut]...)
					want.Data = append(want.Data, g.TextEmbeds.Data[r*e:(r+1)*e]...)
				}
				_, te, err := m.TextFeaturesTensor(short, len(rows), cut, PoolPositions(m.Config.Text, short, len(rows), cut))
				if err != nil {
					t.Fatal(err)
				}
				checkClose(t, fmt.Sprintf("text_embeds of %d rows cut to %d", len(rows), cut), te, want, 1e-4)
			}

			// Logits through the graph helpers.
			logits, err := model.ExecOnce(b, m.Store, func(scope *model.Scope, img, txt *Node) *Node {
				return Logits(img, txt, LogitScale(scope, img.Graph()))
			}, tensors.FromFlatDataAndDimensions(embeds, nImg, m.Dim()), tensors.FromFlatDataAndDimensions(textEmbeds, nTxt, m.Dim()))
			if err != nil {
				t.Fatal(err)
			}
			lp := tensors.MustCopyFlatData[float32](logits)
			checkClose(t, "logits_per_image", lp, g.LogitsPerImage, 1e-3)
			lt := make([]float32, len(lp))
			for i := range nImg {
				for j := range nTxt {
					lt[j*nImg+i] = lp[i*nTxt+j]
				}
			}
			checkClose(t, "logits_per_text", lt, g.LogitsPerText, 1e-3)

			// Debug tensors, for bisecting.
			outs, err := model.ExecOnceN(b, m.Store, func(scope *model.Scope, px, ids *Node) []*Node {
				emb, hidden := visionHidden(scope, m.Config.Vision, px)
				th := textHidden(scope, m.Config.Text, ids)
				th = layerNorm(scope.At("text_model").At("final_layer_norm"), th, m.Config.Text.LayerNormEps)
				return []*Node{emb, hidden, th}
			}, tensors.FromFlatDataAndDimensions(g.PixelValues.f32(), g.PixelValues.Shape...),
				tensors.FromFlatDataAndDimensions(g.InputIDsEOSPadded.i32(), nTxt, length))
			if err != nil {
				t.Fatal(err)
			}
			checkClose(t, "debug_vision_embeddings", tensors.MustCopyFlatData[float32](outs[0]), g.DebugVisionEmb, 1e-4)
			checkClose(t, "debug_vision_last_hidden_state", tensors.MustCopyFlatData[float32](outs[1]), g.DebugVisionHidden, 1e-4)
			// The golden's all-position text states were recorded with the EOS-padded ids (positions after EOS
			// depend on the padding value).
			th := tensors.MustCopyFlatData[float32](outs[2])
			checkClose(t, "debug_text_last_hidden_state", th, g.DebugTextHidden, 1e-4)
			if d := math.Abs(float64(scalarVar(t, m, "logit_scale")) - g.LogitScale); d > 1e-6 {
				t.Errorf("logit_scale %v, golden %v", scalarVar(t, m, "logit_scale"), g.LogitScale)
			}
		})
	}
}

func scalarVar(t *testing.T, m *Model, name string) float32 {
	t.Helper()
	v := m.Store.GetVariable(VariablePath(name))
	if v == nil {
		t.Fatalf("variable %s missing", name)
	}
	val, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](val)[0]
}

func tokenizerGoldenPath(t *testing.T) string {
	t.Helper()
	paths, err := fixtures.Paths(fixtures.EnvTokenizerGolden, "tokenizer/testdata/tokenizer_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	return paths[0]
}
