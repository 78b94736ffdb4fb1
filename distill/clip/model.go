package clip

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/clip/imgproc"
	"github.com/faildirs/faildirs/distill/clip/tokenizer"
	"github.com/faildirs/faildirs/distill/safetensors"
	"github.com/faildirs/faildirs/internal/atomicfile"
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// DefaultModelID is the checkpoint the paper uses.
const DefaultModelID = "openai/clip-vit-base-patch32"

// Model is a CLIP model: configuration, weights in a GoMLX model.Store, tokenizer and preprocessing, with
// compiled executables for embedding (built on first use, once per input shape). Its methods are safe for
// concurrent use; executions are serialised.
type Model struct {
	// Config is the parsed config.json.
	Config Config
	// Store holds the weights as variables named by [VariablePath].
	Store *model.Store
	// Backend runs the graphs.
	Backend compute.Backend
	// BackendInfo describes the backend when Load chose it (zero when the caller passed one).
	BackendInfo backend.Info
	// Tokenizer encodes captions; nil if the checkpoint has no tokenizer files (set it before EmbedTexts).
	Tokenizer *tokenizer.Tokenizer
	// Preprocess turns images into pixel values.
	Preprocess imgproc.Config
	// Source is the repository id or folder the model came from ("random:<seed>" for [NewRandom]).
	Source string
	// Revision is the hub commit of a downloaded model (empty for folders).
	Revision string
	// Streams is the number of row blocks each batch is split into and executed concurrently (same compiled
	// graph, one execution per block); 0 means [Model.EffectiveStreams]'s default. Results do not depend on it.
	Streams int

	mu          sync.Mutex
	imageExec   *model.Exec
	textExec    *model.Exec
	fingerprint string
}

// LoadOptions adjusts [Load]. The zero value loads revision "main" through the HF cache shared with Python (its
// default folder, endpoint and token), downloads what the cache lacks when the hub is reachable, and reports
// downloads and cache fallbacks on stderr.
type LoadOptions struct {
	// Revision is the hub revision (branch, tag or commit); "" means "main".
	Revision string
	// CacheDir is the HF hub cache folder; "" means huggingface_hub's (HF_HUB_CACHE, HF_HOME/hub,
	// XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub).
	CacheDir string
	// Endpoint is the hub URL; "" means HF_ENDPOINT or https://huggingface.co.
	Endpoint string
	// Token authenticates with the hub; "" means HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the token file in HF_HOME.
	Token string
	// Offline forbids network access: only the local cache is used (as HF_HUB_OFFLINE=1 does).
	Offline bool
	// Log receives download and cache-fallback notices; nil means os.Stderr, io.Discard silences them.
	Log io.Writer
}

// Load loads a CLIP checkpoint in HF layout onto backend b (nil: one chosen by package backend) from a local
// folder (config.json, model.safetensors or sharded safetensors, tokenizer files) or, when source is not an
// existing folder, from the hub by repository id (default [DefaultModelID] when source is ""), using and filling
// the HF cache shared with Python.
func Load(ctx context.Context, b compute.Backend, source string, opts LoadOptions) (*Model, error) {
	if opts.Revision == "" {
		opts.Revision = "main"
	}
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	if source == "" {
		source = DefaultModelID
	}
	dir, revision := source, ""
	if fi, err := os.Stat(source); err != nil || !fi.IsDir() {
		var herr error
		dir, revision, herr = hubSnapshot(ctx, source, opts)
		if herr != nil {
			return nil, herr
		}
	}
	m, err := LoadDir(b, dir)
	if err != nil {
		return nil, err
	}
	if revision != "" {
		m.Source, m.Revision = source, revision
	}
	return m, nil
}

// LoadDir loads a model from an HF-layout folder onto backend b (nil: one chosen by package backend).
func LoadDir(b compute.Backend, dir string) (*Model, error) {
	cfg, err := LoadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	st, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("clip: %w", err)
	}
	defer st.Close()
	m, err := newModel(cfg, b)
	if err != nil {
		return nil, err
	}
	if err := LoadWeights(m.Store, cfg, st); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	m.Source = dir
	if tok, err := tokenizer.LoadDir(dir); err == nil {
		m.Tokenizer = tok
	}
	if err := m.readPreprocessorConfig(filepath.Join(dir, "preprocessor_config.json")); err != nil {
		return nil, err
	}
	return m, nil
}

// NewRandom returns a model on backend b (nil: one chosen by package backend) with freshly initialised weights
// (see [RandomWeights]) and no tokenizer; for benchmarks, tests and training from scratch.
func NewRandom(b compute.Backend, cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newModel(cfg, b)
	if err != nil {
		return nil, err
	}
	if err := RandomWeights(m.Store, cfg, seed); err != nil {
		return nil, err
	}
	m.Source = fmt.Sprintf("random:%d", seed)
	return m, nil
}

func newModel(cfg Config, b compute.Backend) (*Model, error) {
	m := &Model{Config: cfg, Store: model.NewStore(), Backend: b, Preprocess: imgproc.CLIPConfig(cfg.Vision.ImageSize)}
	if b == nil {
		var err error
		m.Backend, m.BackendInfo, err = backend.New(backend.Options{})
		if err != nil {
			return nil, fmt.Errorf("clip: %w", err)
		}
	}
	return m, nil
}

// readPreprocessorConfig applies image_mean / image_std from an HF preprocessor_config.json, if present.
func (m *Model) readPreprocessorConfig(path string) error {
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("clip: %w", err)
	}
	var pc struct {
		Mean []float64 `json:"image_mean"`
		Std  []float64 `json:"image_std"`
	}
	if err := json.Unmarshal(raw, &pc); err != nil {
		return fmt.Errorf("clip: parsing %s: %w", path, err)
	}
	if len(pc.Mean) == 3 && len(pc.Std) == 3 {
		for i := range 3 {
			if pc.Std[i] <= 0 {
				return fmt.Errorf("clip: %s: image_std %v must be positive", path, pc.Std)
			}
			m.Preprocess.Mean[i], m.Preprocess.Std[i] = float32(pc.Mean[i]), float32(pc.Std[i])
		}
	}
	return nil
}

// Dim returns the embedding size (projection_dim).
func (m *Model) Dim() int { return m.Config.ProjectionDim }

// Save writes the model in HF layout into dir (created if needed): config.json, model.safetensors (F32, HF tensor
// names) and, when the model has a tokenizer, vocab.json, merges.txt and the tokenizer configs; each file
// atomically. [Load] and HF's CLIPModel.from_pretrained read it back.
func (m *Model) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("clip save: %w", err)
	}
	cfg, err := json.MarshalIndent(m.Config.hfJSON(), "", "  ")
	if err != nil {
		return fmt.Errorf("clip save: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, "config.json"), append(cfg, '\n')); err != nil {
		return fmt.Errorf("clip save: %w", err)
	}
	ts, err := WeightTensors(m.Store, m.Config)
	if err != nil {
		return fmt.Errorf("clip save: %w", err)
	}
	if err := safetensors.Save(filepath.Join(dir, "model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("clip save: %w", err)
	}
	pre, _ := json.MarshalIndent(map[string]any{
		"image_processor_type": "CLIPImageProcessor", "do_resize": true, "size": map[string]int{"shortest_edge": m.Preprocess.Size},
		"resample": 3, "do_center_crop": true, "crop_size": map[string]int{"height": m.Preprocess.Size, "width": m.Preprocess.Size},
		"do_rescale": true, "rescale_factor": 1.0 / 255, "do_normalize": true, "do_convert_rgb": true,
		"image_mean": m.Preprocess.Mean, "image_std": m.Preprocess.Std,
	}, "", "  ")
	if err := atomicfile.WriteBytes(filepath.Join(dir, "preprocessor_config.json"), append(pre, '\n')); err != nil {
		return fmt.Errorf("clip save: %w", err)
	}
	if m.Tokenizer != nil {
		if err := m.Tokenizer.Save(dir); err != nil {
			return fmt.Errorf("clip save: %w", err)
		}
	}
	return nil
}

// Fingerprint identifies the model's computation: a SHA-256 over the configuration, the preprocessing and every
// weight value, computed once and memoised. Call [Model.WeightsChanged] after changing weights in place.
func (m *Model) Fingerprint() (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fingerprint != "" {
		return m.fingerprint, nil
	}
	h := sha256.New()
	cfg, _ := json.Marshal(m.Config)
	h.Write(cfg)
	fmt.Fprintf(h, "\n%s\n", m.Preprocess)
	shapes := TensorShapes(m.Config)
	for _, name := range sortedNames(shapes) {
		v := m.Store.GetVariable(VariablePath(name))
		if v == nil {
			return "", fmt.Errorf("clip: variable %s (tensor %q) is not in the store", VariablePath(name), name)
		}
		t, err := v.Value()
		if err != nil {
			return "", fmt.Errorf("clip: reading %q: %w", name, err)
		}
		fmt.Fprintf(h, "%s%v", name, shapes[name])
		// Raw host bytes: little-endian float32 on the platforms GoMLX supports.
		if err := t.ConstBytes(func(b []byte) { h.Write(b) }); err != nil {
			return "", fmt.Errorf("clip: reading %q: %w", name, err)
		}
	}
	m.fingerprint = hex.EncodeToString(h.Sum(nil))
	return m.fingerprint, nil
}

// WeightsChanged must be called after weights were changed in place (training): it forgets the memoised
// fingerprint and the compiled executables. Backends that prefer constants for variables (the Go backend) make
// GoMLX embed the weights of an inference graph as constants when it is compiled, so an executable compiled before
// the change would keep computing with the old weights.
func (m *Model) WeightsChanged() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fingerprint = ""
	m.finalizeExecs()
}

func (m *Model) finalizeExecs() {
	if m.imageExec != nil {
		m.imageExec.Finalize()
		m.imageExec = nil
	}
	if m.textExec != nil {
		m.textExec.Finalize()
		m.textExec = nil
	}
}

// Finalize releases the compiled executables and the weights.
func (m *Model) Finalize() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.finalizeExecs()
	m.Store.Finalize()
}

// ImageFeaturesTensor runs the vision tower on pixel values [B, C, S, S] (flat, CHW per image, CLIP-normalised)
// and returns pooled [B·Dv] and embeds [B·E], flat row-major. The executable is compiled once per batch size.
func (m *Model) ImageFeaturesTensor(pixels []float32, batch int) (pooled, embeds []float32, err error) {
	v := m.Config.Vision
	if len(pixels) != batch*v.NumChannels*v.ImageSize*v.ImageSize {
		return nil, nil, fmt.Errorf("clip: %d pixel values for a batch of %d %dx%dx%d images", len(pixels), batch, v.NumChannels, v.ImageSize, v.ImageSize)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.imageExec == nil {
		cfg := m.Config
		m.imageExec, err = model.NewExec(m.Backend, m.Store, func(scope *model.Scope, px *Node) (*Node, *Node) {
			return ImageFeatures(scope, cfg, px)
		})
		if err != nil {
			return nil, nil, fmt.Errorf("clip: building the image executable: %w", err)
		}
		m.imageExec.SetMaxCache(16)
	}
	per := v.NumChannels * v.ImageSize * v.ImageSize
	exec := m.imageExec
	return splitCalls(batch, m.EffectiveStreams(), func(lo, hi int) ([]float32, []float32, error) {
		in := tensors.FromFlatDataAndDimensions(pixels[lo*per:hi*per], hi-lo, v.NumChannels, v.ImageSize, v.ImageSize)
		defer func() { _ = in.FinalizeAll() }()
		return callTwo(exec, in)
	})
}

// splitCalls runs fn on up to parts contiguous row blocks of a batch concurrently and concatenates each of the
// two outputs in row order.
func splitCalls(batch, parts int, fn func(lo, hi int) ([]float32, []float32, error)) ([]float32, []float32, error) {
	parts = max(1, min(parts, batch))
	if parts == 1 {
		return fn(0, batch)
	}
	type result struct {
		a, b []float32
		err  error
	}
	res := make([]result, parts)
	var wg sync.WaitGroup
	start := 0
	for k := range parts {
		lo, hi := start, start+(batch-start)/(parts-k)
		wg.Go(func() {
			a, b, err := fn(lo, hi)
			res[k] = result{a, b, err}
		})
		start = hi
	}
	wg.Wait()
	var a, b []float32
	for _, r := range res {
		if r.err != nil {
			return nil, nil, r.err
		}
		a, b = append(a, r.a...), append(b, r.b...)
	}
	return a, b, nil
}

// TextFeaturesTensor runs the text tower on ids [B, T] (flat, int32, T ≤ 77) with pooling positions eos [B] and
// returns pooled [B·Dt] and embeds [B·E], flat row-major. The executable is compiled once per (B, T).
func (m *Model) TextFeaturesTensor(ids []int32, batch, length int, eos []int32) (pooled, embeds []float32, err error) {
	if len(ids) != batch*length || len(eos) != batch {
		return nil, nil, fmt.Errorf("clip: %d ids and %d EOS positions for a batch of %d×%d", len(ids), len(eos), batch, length)
	}
	for i, p := range eos {
		if p < 0 || int(p) >= length {
			return nil, nil, fmt.Errorf("clip: row %d pools at position %d, outside [0, %d)", i, p, length)
		}
	}
	for i, id := range ids {
		if id < 0 || int(id) >= m.Config.Text.VocabSize {
			return nil, nil, fmt.Errorf("clip: token id %d at row %d, position %d is outside the vocabulary of %d", id, i/length, i%length, m.Config.Text.VocabSize)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.textExec == nil {
		cfg := m.Config
		m.textExec, err = model.NewExec(m.Backend, m.Store, func(scope *model.Scope, idsN, eosN *Node) (*Node, *Node) {
			return TextFeatures(scope, cfg, idsN, eosN)
		})
		if err != nil {
			return nil, nil, fmt.Errorf("clip: building the text executable: %w", err)
		}
		m.textExec.SetMaxCache(32)
	}
	exec := m.textExec
	return splitCalls(batch, m.EffectiveStreams(), func(lo, hi int) ([]float32, []float32, error) {
		idsT := tensors.FromFlatDataAndDimensions(ids[lo*length:hi*length], hi-lo, length)
		eosT := tensors.FromFlatDataAndDimensions(eos[lo:hi], hi-lo)
		defer func() { _ = idsT.FinalizeAll(); _ = eosT.FinalizeAll() }()
		return callTwo(exec, idsT, eosT)
	})
}

// callTwo executes e and copies its two float32 outputs to the host.
func callTwo(e *model.Exec, args ...any) (a, b []float32, err error) {
	outs, err := e.Call(args...)
	if err != nil {
		return nil, nil, fmt.Errorf("clip: executing: %w", err)
	}
	defer func() {
		for _, o := range outs {
			_ = o.FinalizeAll()
		}
	}()
	if len(outs) != 2 {
		return nil, nil, fmt.Errorf("clip: executable returned %d outputs, want 2", len(outs))
	}
	if a, err = tensors.CopyFlatData[float32](outs[0]); err != nil {
		return nil, nil, err
	}
	if b, err = tensors.CopyFlatData[float32](outs[1]); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// EffectiveStreams returns the number of concurrent executions each batch is split into: Streams if set,
// else 2 on the Go backend (its element-wise ops are single-threaded, so one execution's element-wise work
// overlaps the other's multi-threaded matmuls), else 1.
func (m *Model) EffectiveStreams() int {
	if m.Streams > 0 {
		return m.Streams
	}
	if m.Backend != nil && m.Backend.Name() == goBackendName {
		return 2
	}
	return 1
}

// goBackendName is the Name() of GoMLX's pure Go backend.
const goBackendName = "Go Backend"

// PoolPositions returns the pooling position of each row of ids [B, T] under cfg's rule: when eos_token_id is 2
// (the legacy value in the openai hub configs) the first position of the largest id (OpenAI's argmax, the first
// 49407), otherwise the first position equal to eos_token_id (falling back to argmax when absent).
func PoolPositions(cfg TextConfig, ids []int32, batch, length int) []int32 {
	out := make([]int32, batch)
	for r := range batch {
		row := ids[r*length : (r+1)*length]
		arg := 0
		for j, id := range row {
			if id > row[arg] {
				arg = j
			}
		}
		pos := arg
		if cfg.EosTokenID != 2 {
			for j, id := range row {
				if int(id) == cfg.EosTokenID {
					pos = j
					break
				}
			}
		}
		out[r] = int32(pos)
	}
	return out
}
