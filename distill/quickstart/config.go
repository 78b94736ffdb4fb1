// Package quickstart runs the whole method offline on a planted Fashion-MNIST experiment, stage by stage:
// data → base model → tiny CLIP (trained or cached) → embeddings → per-class SVMs → top-K surfacing vs the base
// model's confidence → galleries of hard and easy images → hard and easy captions → the caption check.
//
// It is what `faildirs quickstart` and notebooks/00_quickstart.ipynb run. Every expensive stage is cached on disk
// under Config.WorkDir, keyed by a fingerprint of everything it depends on (a GoNB notebook re-runs each cell as a
// fresh program, so later cells reload earlier results instead of recomputing them):
//
//	<WorkDir>/base-<fp>/model.ckpt, {train,val,test}.csv   base model and its predictions
//	<WorkDir>/emb-<fp>-{train,val,test}.safetensors        CLIP image embeddings (package clip's cache)
//	<cache>/faildirs/tinyclip-<fp>/                         the tiny CLIP (package tinyclip)
//
// Image and text embeddings are L2-normalised before the SVMs' own pre-processing (whitening with the train
// statistics, then L2), so captions go through exactly the image pipeline.
//
//	p, err := quickstart.New(quickstart.Config{Experiment: quickstart.Spurious})
//	defer p.Close()
//	summary, err := p.SaveOutputs(ctx, "results/quickstart") // runs every stage, writes PNGs and summary.json
package quickstart

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/models"
)

// Experiment names a planted Fashion-MNIST experiment.
type Experiment string

const (
	// Spurious is the spurious-colour experiment (the CelebA analogue): see data.Spurious.
	Spurious Experiment = "spurious"
	// Rare is the rare-subclass experiment (the SuperCIFAR-100 analogue): see data.Rare.
	Rare Experiment = "rare"
)

// Config sets up a quick-start run. Zero values take the defaults given on each field.
type Config struct {
	// Experiment is Spurious (default) or Rare.
	Experiment Experiment `json:"experiment"`
	// Spurious and Rare configure the planted experiment. Only the one named by Experiment is used; WithDefaults
	// fills in its defaults and clears the other.
	Spurious data.SpuriousConfig `json:"spurious,omitzero"`
	Rare     data.RareConfig     `json:"rare,omitzero"`
	// BaseModel is the base classifier's architecture; default an MLP with one hidden layer of 256 units on the
	// 28×28 RGB images. NumClasses, H and W are filled in from the data.
	BaseModel models.Config `json:"base_model"`
	// Epochs of base-model training. Default 20.
	Epochs int `json:"epochs"`
	// Seed drives the base model's initialisation and data order. Default 0.
	Seed uint64 `json:"seed"`
	// Ks are the K values of the top-K surfacing metric. Default {25, 50, 100}.
	Ks []int `json:"ks"`
	// SVMCs is the grid of SVM costs searched by cross-validation; nil means the paper's {1e-6, …, 1}
	// (distill.DefaultOptions). A single value fixes C.
	SVMCs []float64 `json:"svm_cs,omitempty"`
	// SVMCompat selects distill.CompatReference to reproduce the reference code's choices (ties to the smaller C,
	// libsvm's bias at small C); empty means distill's default.
	SVMCompat distill.Compat `json:"svm_compat,omitempty"`
	// CaptionK is the number of nearest test images of the caption check. Default 50.
	CaptionK int `json:"caption_k"`
	// GalleryN is the number of hard and of easy images shown per class. Default 8.
	GalleryN int `json:"gallery_n"`
	// CLIPModel, when set, is the CLIP to use instead of the tiny one: a local folder in the HF layout or a hub id
	// such as "openai/clip-vit-base-patch32" (loaded with clip.Load).
	CLIPModel string `json:"clip_model,omitempty"`
	// CLIPSteps overrides the tiny CLIP's training steps (0: tinyclip's default).
	CLIPSteps int `json:"clip_steps,omitempty"`
	// CLIPSeed is the tiny CLIP's seed. Default 0.
	CLIPSeed uint64 `json:"clip_seed"`
	// FashionDir is the Fashion-MNIST folder ("": $FAILDIRS_FASHION_MNIST or the Debian package's folder).
	FashionDir string `json:"-"`
	// WorkDir holds the cached stages ("": os.UserCacheDir()/faildirs/quickstart).
	WorkDir string `json:"-"`
	// CacheDir is the tiny CLIP cache root ("": os.UserCacheDir()/faildirs).
	CacheDir string `json:"-"`
}

// WithDefaults returns c with zero fields set to their defaults, including the planted experiment's own.
func (c Config) WithDefaults() (Config, error) {
	if c.Experiment == "" {
		c.Experiment = Spurious
	}
	if c.Experiment != Spurious && c.Experiment != Rare {
		return c, fmt.Errorf("quickstart: unknown experiment %q (want %q or %q)", c.Experiment, Spurious, Rare)
	}
	if c.Experiment == Spurious {
		c.Spurious, c.Rare = c.Spurious.WithDefaults(), data.RareConfig{}
	} else {
		c.Rare, c.Spurious = c.Rare.WithDefaults(), data.SpuriousConfig{}
	}
	if c.BaseModel.Arch == "" {
		c.BaseModel.Arch = models.MLP
	}
	if c.Epochs == 0 {
		c.Epochs = 20
	}
	if len(c.Ks) == 0 {
		c.Ks = []int{25, 50, 100}
	}
	if c.CaptionK == 0 {
		c.CaptionK = 50
	}
	if c.GalleryN == 0 {
		c.GalleryN = 8
	}
	if c.WorkDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return c, fmt.Errorf("quickstart: no user cache dir (set Config.WorkDir): %w", err)
		}
		c.WorkDir = filepath.Join(base, "faildirs", "quickstart")
	}
	return c, nil
}

// fingerprint hashes the JSON of the values given (configs are plain data, so their JSON is canonical).
func fingerprint(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		raw, err := json.Marshal(p)
		if err != nil {
			panic(fmt.Sprintf("quickstart: fingerprint of %T: %v", p, err)) // plain data never fails
		}
		h.Write(raw)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
