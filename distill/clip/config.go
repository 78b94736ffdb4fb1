package clip

import (
	"encoding/json"
	"fmt"
	"os"
)

// TextConfig is the text tower's part of an HF CLIPConfig ("text_config").
type TextConfig struct {
	// VocabSize is the number of token embeddings (49408 for OpenAI's BPE).
	VocabSize int `json:"vocab_size"`
	// HiddenSize is the transformer width Dt.
	HiddenSize int `json:"hidden_size"`
	// IntermediateSize is the MLP width (4·Dt in OpenAI's models).
	IntermediateSize int `json:"intermediate_size"`
	// NumAttentionHeads is the number of heads; HiddenSize must be a multiple of it.
	NumAttentionHeads int `json:"num_attention_heads"`
	// NumHiddenLayers is the number of encoder layers.
	NumHiddenLayers int `json:"num_hidden_layers"`
	// MaxPositionEmbeddings is the context length (77).
	MaxPositionEmbeddings int `json:"max_position_embeddings"`
	// HiddenAct is the MLP activation: "quick_gelu" (OpenAI), "gelu" (erf) or "gelu_new"/"gelu_pytorch_tanh".
	HiddenAct string `json:"hidden_act"`
	// LayerNormEps is the layer-norm epsilon (1e-5).
	LayerNormEps float64 `json:"layer_norm_eps"`
	// BosTokenID, EosTokenID and PadTokenID are the special ids. The hub configs of the openai checkpoints keep
	// the legacy values 0/2/1; EosTokenID == 2 then means "pool at argmax(ids)", as HF does.
	BosTokenID int `json:"bos_token_id"`
	EosTokenID int `json:"eos_token_id"`
	PadTokenID int `json:"pad_token_id"`
}

// VisionConfig is the vision tower's part of an HF CLIPConfig ("vision_config").
type VisionConfig struct {
	// HiddenSize is the transformer width Dv.
	HiddenSize int `json:"hidden_size"`
	// IntermediateSize is the MLP width.
	IntermediateSize int `json:"intermediate_size"`
	// NumAttentionHeads is the number of heads.
	NumAttentionHeads int `json:"num_attention_heads"`
	// NumHiddenLayers is the number of encoder layers.
	NumHiddenLayers int `json:"num_hidden_layers"`
	// ImageSize is the input side in pixels (square inputs).
	ImageSize int `json:"image_size"`
	// PatchSize is the patch side; ImageSize must be a multiple of it.
	PatchSize int `json:"patch_size"`
	// NumChannels is the number of input channels (3).
	NumChannels int `json:"num_channels"`
	// HiddenAct is the MLP activation, as in [TextConfig].
	HiddenAct string `json:"hidden_act"`
	// LayerNormEps is the layer-norm epsilon.
	LayerNormEps float64 `json:"layer_norm_eps"`
}

// Config is an HF CLIPConfig (config.json), the subset the forward pass needs.
type Config struct {
	// ModelType is "clip".
	ModelType string `json:"model_type"`
	// ProjectionDim is the joint embedding size E.
	ProjectionDim int `json:"projection_dim"`
	// LogitScaleInitValue is the initial logit scale (log), used only by [NewRandom]; loaded models read the
	// "logit_scale" tensor.
	LogitScaleInitValue float64 `json:"logit_scale_init_value"`
	// Text is the text tower configuration.
	Text TextConfig `json:"text_config"`
	// Vision is the vision tower configuration.
	Vision VisionConfig `json:"vision_config"`
}

// DefaultTextConfig returns HF's CLIPTextConfig defaults (the ViT-B text tower), used for absent keys.
func DefaultTextConfig() TextConfig {
	return TextConfig{VocabSize: 49408, HiddenSize: 512, IntermediateSize: 2048, NumAttentionHeads: 8,
		NumHiddenLayers: 12, MaxPositionEmbeddings: 77, HiddenAct: "quick_gelu", LayerNormEps: 1e-5,
		BosTokenID: 49406, EosTokenID: 49407, PadTokenID: 1}
}

// DefaultVisionConfig returns HF's CLIPVisionConfig defaults (ViT-B/32), used for absent keys.
func DefaultVisionConfig() VisionConfig {
	return VisionConfig{HiddenSize: 768, IntermediateSize: 3072, NumAttentionHeads: 12, NumHiddenLayers: 12,
		ImageSize: 224, PatchSize: 32, NumChannels: 3, HiddenAct: "quick_gelu", LayerNormEps: 1e-5}
}

// ViTB32Config returns the configuration of openai/clip-vit-base-patch32 (with its legacy special ids).
func ViTB32Config() Config {
	c := Config{ModelType: "clip", ProjectionDim: 512, LogitScaleInitValue: 2.6592,
		Text: DefaultTextConfig(), Vision: DefaultVisionConfig()}
	c.Text.BosTokenID, c.Text.EosTokenID, c.Text.PadTokenID = 0, 2, 1
	return c
}

// TinyConfig returns a small configuration for training from scratch (e.g. on Fashion-MNIST): images of side
// imageSize cut into patches of side patch, both towers of the given width (head_dim 32 or less), layers
// encoder layers each, embedding size embed. Vocabulary and context length are CLIP's (49408, 77) so the
// standard tokenizer applies; tokens never used simply keep their initial embedding.
func TinyConfig(imageSize, patch, width, layers, embed int) Config {
	heads := max(1, width/32)
	for width%heads != 0 {
		heads--
	}
	c := Config{ModelType: "clip", ProjectionDim: embed, LogitScaleInitValue: 2.6592}
	c.Text = DefaultTextConfig()
	c.Text.HiddenSize, c.Text.IntermediateSize, c.Text.NumAttentionHeads, c.Text.NumHiddenLayers = width, 4*width, heads, layers
	c.Vision = DefaultVisionConfig()
	c.Vision.HiddenSize, c.Vision.IntermediateSize, c.Vision.NumAttentionHeads, c.Vision.NumHiddenLayers = width, 4*width, heads, layers
	c.Vision.ImageSize, c.Vision.PatchSize = imageSize, patch
	return c
}

// ParseConfig parses an HF CLIPConfig. Absent keys take HF's defaults; "text_config_dict" and
// "vision_config_dict", present in some older hub configs, are merged over "text_config" / "vision_config"
// as HF does. The result is validated.
func ParseConfig(data []byte) (Config, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return Config{}, fmt.Errorf("clip config: %w", err)
	}
	c := Config{ModelType: "clip", ProjectionDim: 512, LogitScaleInitValue: 2.6592,
		Text: DefaultTextConfig(), Vision: DefaultVisionConfig()}
	for _, key := range []string{"model_type", "projection_dim", "logit_scale_init_value"} {
		if raw, ok := top[key]; ok {
			var err error
			switch key {
			case "model_type":
				err = json.Unmarshal(raw, &c.ModelType)
			case "projection_dim":
				err = json.Unmarshal(raw, &c.ProjectionDim)
			case "logit_scale_init_value":
				err = json.Unmarshal(raw, &c.LogitScaleInitValue)
			}
			if err != nil {
				return Config{}, fmt.Errorf("clip config: key %q: %w", key, err)
			}
		}
	}
	for _, key := range []string{"text_config", "text_config_dict"} {
		if raw, ok := top[key]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &c.Text); err != nil {
				return Config{}, fmt.Errorf("clip config: key %q: %w", key, err)
			}
		}
	}
	for _, key := range []string{"vision_config", "vision_config_dict"} {
		if raw, ok := top[key]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &c.Vision); err != nil {
				return Config{}, fmt.Errorf("clip config: key %q: %w", key, err)
			}
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LoadConfig reads and parses a config.json file.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("clip config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate checks that the sizes are positive and consistent.
func (c Config) Validate() error {
	if c.ModelType != "" && c.ModelType != "clip" {
		return fmt.Errorf("clip config: model_type %q is not \"clip\"", c.ModelType)
	}
	if c.ProjectionDim <= 0 {
		return fmt.Errorf("clip config: projection_dim %d must be positive", c.ProjectionDim)
	}
	t, v := c.Text, c.Vision
	for _, chk := range []struct {
		name string
		val  int
	}{{"text_config.vocab_size", t.VocabSize}, {"text_config.hidden_size", t.HiddenSize},
		{"text_config.intermediate_size", t.IntermediateSize}, {"text_config.num_attention_heads", t.NumAttentionHeads},
		{"text_config.num_hidden_layers", t.NumHiddenLayers}, {"text_config.max_position_embeddings", t.MaxPositionEmbeddings},
		{"vision_config.hidden_size", v.HiddenSize}, {"vision_config.intermediate_size", v.IntermediateSize},
		{"vision_config.num_attention_heads", v.NumAttentionHeads}, {"vision_config.num_hidden_layers", v.NumHiddenLayers},
		{"vision_config.image_size", v.ImageSize}, {"vision_config.patch_size", v.PatchSize},
		{"vision_config.num_channels", v.NumChannels}} {
		if chk.val <= 0 {
			return fmt.Errorf("clip config: %s = %d must be positive", chk.name, chk.val)
		}
	}
	if t.HiddenSize%t.NumAttentionHeads != 0 {
		return fmt.Errorf("clip config: text hidden_size %d is not a multiple of num_attention_heads %d", t.HiddenSize, t.NumAttentionHeads)
	}
	if v.HiddenSize%v.NumAttentionHeads != 0 {
		return fmt.Errorf("clip config: vision hidden_size %d is not a multiple of num_attention_heads %d", v.HiddenSize, v.NumAttentionHeads)
	}
	if v.ImageSize%v.PatchSize != 0 {
		return fmt.Errorf("clip config: vision image_size %d is not a multiple of patch_size %d", v.ImageSize, v.PatchSize)
	}
	for _, act := range []string{t.HiddenAct, v.HiddenAct} {
		if _, err := activationOf(act); err != nil {
			return err
		}
	}
	if t.LayerNormEps <= 0 || v.LayerNormEps <= 0 {
		return fmt.Errorf("clip config: layer_norm_eps must be positive (text %g, vision %g)", t.LayerNormEps, v.LayerNormEps)
	}
	return nil
}

// NumPatches returns the number of image patches, (ImageSize/PatchSize)².
func (v VisionConfig) NumPatches() int {
	g := v.ImageSize / v.PatchSize
	return g * g
}

// hfJSON returns the configuration as an HF config.json object (used by Save).
func (c Config) hfJSON() map[string]any {
	text := map[string]any{
		"model_type": "clip_text_model", "vocab_size": c.Text.VocabSize, "hidden_size": c.Text.HiddenSize,
		"intermediate_size": c.Text.IntermediateSize, "projection_dim": c.ProjectionDim,
		"num_hidden_layers": c.Text.NumHiddenLayers, "num_attention_heads": c.Text.NumAttentionHeads,
		"max_position_embeddings": c.Text.MaxPositionEmbeddings, "hidden_act": c.Text.HiddenAct,
		"layer_norm_eps": c.Text.LayerNormEps, "attention_dropout": 0.0, "initializer_range": 0.02,
		"initializer_factor": 1.0, "bos_token_id": c.Text.BosTokenID, "eos_token_id": c.Text.EosTokenID,
		"pad_token_id": c.Text.PadTokenID,
	}
	vision := map[string]any{
		"model_type": "clip_vision_model", "hidden_size": c.Vision.HiddenSize,
		"intermediate_size": c.Vision.IntermediateSize, "projection_dim": c.ProjectionDim,
		"num_hidden_layers": c.Vision.NumHiddenLayers, "num_attention_heads": c.Vision.NumAttentionHeads,
		"num_channels": c.Vision.NumChannels, "image_size": c.Vision.ImageSize, "patch_size": c.Vision.PatchSize,
		"hidden_act": c.Vision.HiddenAct, "layer_norm_eps": c.Vision.LayerNormEps, "attention_dropout": 0.0,
		"initializer_range": 0.02, "initializer_factor": 1.0,
	}
	return map[string]any{
		"architectures": []string{"CLIPModel"}, "model_type": "clip", "projection_dim": c.ProjectionDim,
		"logit_scale_init_value": c.LogitScaleInitValue, "initializer_factor": 1.0, "torch_dtype": "float32",
		"text_config": text, "vision_config": vision,
	}
}
