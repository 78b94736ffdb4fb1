package clip

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/faildirs/faildirs/distill/safetensors"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TensorShapes returns every learned tensor of an HF CLIPModel with configuration cfg, by HF name, with its shape
// (the I64 position_ids buffers are not included: they are not needed).
func TensorShapes(cfg Config) map[string][]int {
	m := map[string][]int{"logit_scale": {}}
	t, v, e := cfg.Text, cfg.Vision, cfg.ProjectionDim
	addLayers := func(prefix string, n, d, inter int) {
		for i := range n {
			p := fmt.Sprintf("%s.encoder.layers.%d.", prefix, i)
			for _, proj := range []string{"q_proj", "k_proj", "v_proj", "out_proj"} {
				m[p+"self_attn."+proj+".weight"] = []int{d, d}
				m[p+"self_attn."+proj+".bias"] = []int{d}
			}
			for _, ln := range []string{"layer_norm1", "layer_norm2"} {
				m[p+ln+".weight"] = []int{d}
				m[p+ln+".bias"] = []int{d}
			}
			m[p+"mlp.fc1.weight"] = []int{inter, d}
			m[p+"mlp.fc1.bias"] = []int{inter}
			m[p+"mlp.fc2.weight"] = []int{d, inter}
			m[p+"mlp.fc2.bias"] = []int{d}
		}
	}
	m["text_model.embeddings.token_embedding.weight"] = []int{t.VocabSize, t.HiddenSize}
	m["text_model.embeddings.position_embedding.weight"] = []int{t.MaxPositionEmbeddings, t.HiddenSize}
	addLayers("text_model", t.NumHiddenLayers, t.HiddenSize, t.IntermediateSize)
	m["text_model.final_layer_norm.weight"] = []int{t.HiddenSize}
	m["text_model.final_layer_norm.bias"] = []int{t.HiddenSize}
	m["text_projection.weight"] = []int{e, t.HiddenSize}
	m["vision_model.embeddings.class_embedding"] = []int{v.HiddenSize}
	m["vision_model.embeddings.patch_embedding.weight"] = []int{v.HiddenSize, v.NumChannels, v.PatchSize, v.PatchSize}
	m["vision_model.embeddings.position_embedding.weight"] = []int{v.NumPatches() + 1, v.HiddenSize}
	m["vision_model.pre_layrnorm.weight"] = []int{v.HiddenSize}
	m["vision_model.pre_layrnorm.bias"] = []int{v.HiddenSize}
	addLayers("vision_model", v.NumHiddenLayers, v.HiddenSize, v.IntermediateSize)
	m["vision_model.post_layernorm.weight"] = []int{v.HiddenSize}
	m["vision_model.post_layernorm.bias"] = []int{v.HiddenSize}
	m["visual_projection.weight"] = []int{e, v.HiddenSize}
	return m
}

// sortedNames returns the keys of TensorShapes in order.
func sortedNames(shapes map[string][]int) []string {
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// VariablePath returns the model.Store path of an HF tensor name: "/" + name with "." replaced by "/".
func VariablePath(name string) string { return "/" + strings.ReplaceAll(name, ".", "/") }

func sameDims(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// LoadWeights reads every tensor of [TensorShapes](cfg) from st into store as float32 variables. A missing tensor,
// a non-float tensor or a shape mismatch is an error naming the tensor; other tensors in the file (such as the
// I64 position_ids buffers) are ignored.
func LoadWeights(store *model.Store, cfg Config, st *safetensors.File) error {
	want := TensorShapes(cfg)
	for _, name := range sortedNames(want) {
		info, ok := st.Info(name)
		if !ok {
			return fmt.Errorf("clip weights: tensor %q (shape %v) is missing", name, want[name])
		}
		if !sameDims(info.Shape, want[name]) {
			return fmt.Errorf("clip weights: tensor %q has shape %v in %s, config.json implies %v", name, info.Shape, info.File, want[name])
		}
		var readErr error
		t := newTensor(info.Shape, func(flat []float32) { readErr = st.ReadFloat32Into(name, flat) })
		if readErr != nil {
			return fmt.Errorf("clip weights: %w", readErr)
		}
		if err := setVariableTensor(store, name, t); err != nil {
			return err
		}
	}
	return nil
}

// newTensor allocates a float32 tensor of the given dimensions and lets fill write its values in place.
func newTensor(dims []int, fill func(flat []float32)) *tensors.Tensor {
	t := tensors.FromShape(shapes.Make(dtypes.Float32, dims...))
	_ = tensors.MutableFlatData(t, fill)
	return t
}

// setVariableTensor creates or replaces the store variable of an HF tensor.
func setVariableTensor(store *model.Store, name string, t *tensors.Tensor) error {
	path := VariablePath(name)
	if v := store.GetVariable(path); v != nil {
		if err := v.SetValue(t); err != nil {
			return fmt.Errorf("clip weights: setting %q: %w", name, err)
		}
		return nil
	}
	if _, err := store.CreateVariable(path, t); err != nil {
		return fmt.Errorf("clip weights: creating %q: %w", name, err)
	}
	return nil
}

// RandomWeights fills store with freshly initialised weights for cfg, deterministically from seed, following
// OpenAI's CLIP initialisation: token table N(0, 0.02²), text positions N(0, 0.01²), attention q/k/v std
// width^-½, attention out and fc2 std width^-½·(2·layers)^-½, fc1 std (2·width)^-½, class token, vision positions and
// projections std width^-½, patch kernel std (C·P²)^-½, layer norms 1 and 0, biases 0, logit_scale =
// cfg.LogitScaleInitValue.
func RandomWeights(store *model.Store, cfg Config, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	shapes := TensorShapes(cfg)
	for _, name := range sortedNames(shapes) {
		std, fill := initFor(cfg, name)
		t := newTensor(shapes[name], func(data []float32) {
			switch {
			case name == "logit_scale":
				data[0] = float32(cfg.LogitScaleInitValue)
			case fill != 0:
				for i := range data {
					data[i] = fill
				}
			case std > 0:
				for i := range data {
					data[i] = float32(rng.NormFloat64() * std)
				}
			}
		})
		if err := setVariableTensor(store, name, t); err != nil {
			return err
		}
	}
	return nil
}

// initFor returns the normal std (0: zeros) or constant fill value of a tensor at initialisation.
func initFor(cfg Config, name string) (std float64, fill float32) {
	width, layers := float64(cfg.Text.HiddenSize), float64(cfg.Text.NumHiddenLayers)
	if strings.HasPrefix(name, "vision_model") || name == "visual_projection.weight" {
		width, layers = float64(cfg.Vision.HiddenSize), float64(cfg.Vision.NumHiddenLayers)
	}
	attnStd := math.Pow(width, -0.5)
	projStd := attnStd * math.Pow(2*layers, -0.5)
	switch {
	case strings.Contains(name, "layer_norm") || strings.Contains(name, "layrnorm"):
		if strings.HasSuffix(name, ".weight") {
			return 0, 1
		}
		return 0, 0
	case strings.HasSuffix(name, ".bias"):
		return 0, 0
	case name == "text_model.embeddings.token_embedding.weight":
		return 0.02, 0
	case name == "text_model.embeddings.position_embedding.weight":
		return 0.01, 0
	case strings.Contains(name, "q_proj") || strings.Contains(name, "k_proj") || strings.Contains(name, "v_proj"):
		return attnStd, 0
	case strings.Contains(name, "out_proj") || strings.Contains(name, "mlp.fc2"):
		return projStd, 0
	case strings.Contains(name, "mlp.fc1"):
		return math.Pow(2*width, -0.5), 0
	case name == "vision_model.embeddings.patch_embedding.weight":
		p := float64(cfg.Vision.PatchSize)
		return 1 / math.Sqrt(float64(cfg.Vision.NumChannels)*p*p), 0
	}
	return attnStd, 0 // class embedding, vision positions, projections
}

// WeightTensors returns the model's weights from store as safetensors tensors (HF names), for writing.
func WeightTensors(store *model.Store, cfg Config) ([]safetensors.Tensor, error) {
	shapes := TensorShapes(cfg)
	out := make([]safetensors.Tensor, 0, len(shapes))
	for _, name := range sortedNames(shapes) {
		v := store.GetVariable(VariablePath(name))
		if v == nil {
			return nil, fmt.Errorf("clip weights: variable %s (tensor %q) is not in the store", VariablePath(name), name)
		}
		t, err := v.Value()
		if err != nil {
			return nil, fmt.Errorf("clip weights: reading %q: %w", name, err)
		}
		if !sameDims(t.Shape().Dimensions, shapes[name]) {
			return nil, fmt.Errorf("clip weights: variable %q has shape %v, config implies %v", name, t.Shape().Dimensions, shapes[name])
		}
		data, err := tensors.CopyFlatData[float32](t)
		if err != nil {
			return nil, fmt.Errorf("clip weights: reading %q: %w", name, err)
		}
		out = append(out, safetensors.Tensor{Name: name, Shape: shapes[name], Data: data})
	}
	return out, nil
}
