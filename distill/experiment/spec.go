package experiment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/models"
)

// The data sources of Spec.Data.
const (
	// FashionSpurious is the planted spurious-colour experiment on Fashion-MNIST (data.Spurious).
	FashionSpurious = "fashion-spurious"
	// FashionRare is the planted rare-subclass experiment on Fashion-MNIST (data.Rare).
	FashionRare = "fashion-rare"
	// CelebA is the paper's CelebA age task (data.CelebAAge) in the dataset's own layout.
	CelebA = "celeba"
	// ImageNet is an ILSVRC2012-layout folder (data.ImageNet).
	ImageNet = "imagenet"
	// Folder is any folder of class folders (data.ImageFolder).
	Folder = "folder"
)

// The latent spaces of Spec.Latent besides a CLIP hub id or folder.
const (
	// LatentTiny is the small CLIP trained offline on tinted Fashion-MNIST (package tinyclip; trained on first
	// use and cached).
	LatentTiny = "tiny"
	// LatentRandom is an untrained CLIP of the tiny CLIP's shape with random weights and its tokenizer: fast,
	// meaningless embeddings for smoke tests of a whole run.
	LatentRandom = "random"
	// LatentFeatures is the base model's penultimate features (the reference code's "latent" option); no text
	// tower, so no captions.
	LatentFeatures = "features"
)

// DefaultTrainSample is Spec.TrainSample's default: the number of train images embedded for the whitening
// statistics (the README's "Embed less" section has the measurement behind it).
const DefaultTrainSample = 10000

// The vocabularies of Spec.Vocab besides a word-list file.
const (
	VocabAuto     = "auto"
	VocabFashion  = "fashion"
	VocabCelebA   = "celeba"
	VocabImageNet = "imagenet"
	VocabNone     = "none"
)

// Spec describes one analysis: the data, the base model (trained here or given as predictions CSVs), the latent
// space, the caption vocabulary, the SVM fit and the evaluation. It is plain data; the zero value of every field
// means its documented default, so a spec file or a literal only names what differs. JSON names are the flag
// names of `faildirs analyze` with "_" for "-" (the spec file format); [Spec.WithDefaults] fills the defaults
// that do not depend on the data (the data package fills the rest and records them in Dataset.Params).
type Spec struct {
	// Data is the data source: FashionSpurious (default), FashionRare, CelebA, ImageNet or Folder.
	Data string `json:"data,omitempty"`
	// DataDir is the source's folder: Fashion-MNIST's IDX files (default $FAILDIRS_FASHION_MNIST or Debian's
	// dataset-fashion-mnist), the CelebA root, the ILSVRC2012 root, or the image folder.
	DataDir string `json:"data_dir,omitempty"`
	// ImageSize is the side in pixels the base model sees (and galleries show): default 28 for Fashion-MNIST,
	// 64 for CelebA, 128 for ImageNet and folders.
	ImageSize int `json:"image_size,omitempty"`
	// DataSeed drives the data source's sampling (planted experiments, CelebA's 4:1 split, val/test cuts).
	DataSeed uint64 `json:"data_seed,omitempty"`
	// Classes are the two Fashion-MNIST classes of fashion-spurious, by name or index (default T-shirt/top,
	// Shirt).
	Classes []string `json:"classes,omitempty"`
	// Colors are the tints: fashion-spurious's two (majority colour of class 0, then class 1; default red,
	// green), or fashion-rare's optional random tints.
	Colors []string `json:"colors,omitempty"`
	// Majority is each class's majority-group share in train (fashion-spurious, celeba; default 0.8, i.e. 4:1).
	Majority float64 `json:"majority,omitempty"`
	// TestMinorityShare is the minority's share of each class's test images in the planted experiments (default
	// 1/3, a natural mix; 0.5 balances).
	TestMinorityShare float64 `json:"test_minority_share,omitempty"`
	// TrainPerClass is the number of train images per class (fashion-spurious, default 2000) or per common
	// subclass (fashion-rare, default 1000).
	TrainPerClass int `json:"train_per_class,omitempty"`
	// ValPerGroup is the number of validation images per group (fashion-spurious 250, fashion-rare 200 per
	// subclass, celeba: the smallest group's count).
	ValPerGroup int `json:"val_per_group,omitempty"`
	// TestPerClass is the number of test images per class (fashion-spurious, default 1000) or superclass
	// (fashion-rare, default as many as fit).
	TestPerClass int `json:"test_per_class,omitempty"`
	// PoolPerClass is the number of unlabeled-pool images per class (fashion-spurious, default 1000) or subclass
	// (fashion-rare, default 500); -1 means no pool.
	PoolPerClass int `json:"pool_per_class,omitempty"`
	// Superclasses lists fashion-rare's superclasses as Fashion-MNIST class names or indices (default
	// {T-shirt/top, Pullover, Sneaker}, {Sandal, Ankle boot, Coat}, {Trouser, Dress, Bag, Shirt}).
	Superclasses [][]string `json:"superclasses,omitempty"`
	// Rare names the rare member of each superclass (default Sneaker, Coat, Shirt).
	Rare []string `json:"rare,omitempty"`
	// RareFraction is the rare subclass's train count relative to a common one (default 0.1).
	RareFraction float64 `json:"rare_fraction,omitempty"`
	// PoolFraction is the share of CelebA's train partition held out as the unlabeled pool (default 0).
	PoolFraction float64 `json:"pool_fraction,omitempty"`
	// ValLabels is the ground truth of a flat ImageNet val/ folder (LOC_val_solution.csv or "<file> <wnid>" lines).
	ValLabels string `json:"val_labels,omitempty"`
	// MaxTrainPerClass keeps at most this many ImageNet train images per class (0: all).
	MaxTrainPerClass int `json:"max_train_per_class,omitempty"`
	// ValFraction is the share of each class cut for validation: ImageNet's val images (default 0.5, the rest is
	// test) or a folder without val/ (default 0.2).
	ValFraction float64 `json:"val_fraction,omitempty"`
	// TestFraction is the share of each class cut for test from a folder without test/ (default 0.2).
	TestFraction float64 `json:"test_fraction,omitempty"`
	// WordNet is WordNet 3.0's data.noun (ImageNet class names and vocabulary; default Debian's wordnet-base).
	WordNet string `json:"wordnet,omitempty"`
	// SkipBad skips images that fail to decode (each listed in summary.json); by default the first one stops the
	// run with an error naming it.
	SkipBad bool `json:"skip_bad,omitempty"`

	// Preds is the base model's predictions from any framework instead of a model trained here: a folder with
	// {train,val,test}.csv (or pred-<split>.csv, as `faildirs train` writes them), or a path pattern with
	// "{split}". Columns id,label,pred,conf[,group], id = the image path relative to the data folder (the
	// example id for Fashion-MNIST and CelebA). The files define the splits; pool.csv is optional.
	Preds string `json:"preds,omitempty"`
	// Model is the architecture of the base model trained here: mlp (default for Fashion-MNIST), cnn or resnet18
	// (default otherwise).
	Model string `json:"model,omitempty"`
	// Epochs of base-model training (default 20 for mlp, 10 for cnn, 30 for resnet18).
	Epochs int `json:"epochs,omitempty"`
	// Seed drives the base model's initial weights and example order (default 0).
	Seed uint64 `json:"seed,omitempty"`
	// BatchSize of base-model training (default 128).
	BatchSize int `json:"batch_size,omitempty"`
	// LearningRate is Adam's (default 1e-3).
	LearningRate float64 `json:"learning_rate,omitempty"`
	// Weights is a CSV "id,weight" of per-example training weights (interventions); train ids missing from it
	// weigh 0. It enters the base model's cache key.
	Weights string `json:"weights,omitempty"`

	// Latent is the latent space: LatentTiny (default for Fashion-MNIST), LatentRandom, LatentFeatures, or a CLIP
	// in the HF layout — a hub id or a local folder (default clip.DefaultModelID otherwise).
	Latent string `json:"latent,omitempty"`
	// CLIPSteps overrides the tiny CLIP's training steps (0: package tinyclip's default).
	CLIPSteps int `json:"clip_steps,omitempty"`
	// CLIPSeed is the tiny (or random) CLIP's seed.
	CLIPSeed uint64 `json:"clip_seed,omitempty"`
	// Embeddings are embedding cache files written by `faildirs embed` (shards read together) to take image
	// embeddings from instead of embedding here; they must come from the same CLIP.
	Embeddings []string `json:"embeddings,omitempty"`
	// EmbedBatch is the number of images per CLIP call (default 256 for the tiny and random CLIPs, 32 otherwise).
	EmbedBatch int `json:"embed_batch,omitempty"`
	// TrainSample is the number of train images whose embeddings give the whitening statistics: a uniform sample
	// seeded by DataSeed (default 10000; -1 embeds every train image, which Compat "reference" defaults to). The
	// train split enters the fit only through those statistics, so a large train split (CelebA's 162,770 images)
	// need not be embedded whole; the rest of it is embedded only when asked for ([Pipeline.Embedding]). A train
	// split no larger than the sample is used whole.
	TrainSample int `json:"train_sample,omitempty"`

	// Vocab is the caption vocabulary: VocabAuto (default: the data source's own), VocabFashion, VocabCelebA,
	// VocabImageNet, VocabNone, or a JSON word-list file (see [LoadWordLists]).
	Vocab string `json:"vocab,omitempty"`

	// SVMCs is the grid of SVM costs searched by cross-validation (default the paper's 1e-6, …, 1).
	SVMCs []float64 `json:"svm_cs,omitempty"`
	// Compat is distill's compatibility mode: "" (default) or "reference".
	Compat distill.Compat `json:"compat,omitempty"`

	// Minorities are the group ids counted as minority in the surfacing metrics (default: the data source's
	// minority groups; needed when groups come only from a predictions CSV).
	Minorities []int `json:"minorities,omitempty"`
	// Ks are the K values of the top-K table (default 10, 20, 50, 100).
	Ks []int `json:"ks,omitempty"`
	// CaptionK is the number of nearest test images of the caption check (default 50).
	CaptionK int `json:"caption_k,omitempty"`
	// GalleryN is the number of hard and of easy images shown per class (default 8).
	GalleryN int `json:"gallery_n,omitempty"`
	// MaxClasses is the number of classes given galleries and per-class charts (default 12: all classes up to
	// 12, else the 12 with the lowest base-model test accuracy).
	MaxClasses int `json:"max_classes,omitempty"`

	// Work is the cache folder of the expensive stages (default <user cache>/faildirs/experiment; the tiny CLIP
	// is then cached in <user cache>/faildirs, shared with package tinyclip's default).
	Work string `json:"work,omitempty"`
	// Out is the output folder of `faildirs analyze` and Pipeline.WriteOutputs' default.
	Out string `json:"out,omitempty"`
}

// fashionSource reports whether the data source is one of the planted Fashion-MNIST experiments.
func (s Spec) fashionSource() bool { return s.Data == FashionSpurious || s.Data == FashionRare }

// WithDefaults returns s with the data-independent defaults filled in: the source, image size, base model,
// latent space, vocabulary and evaluation settings. It does not validate; see [Spec.Validate].
func (s Spec) WithDefaults() Spec {
	if s.Data == "" {
		s.Data = FashionSpurious
	}
	if s.ImageSize == 0 {
		switch s.Data {
		case FashionSpurious, FashionRare:
			s.ImageSize = 28
		case CelebA:
			s.ImageSize = 64
		default:
			s.ImageSize = 128
		}
	}
	if s.Preds == "" {
		if s.Model == "" {
			s.Model = string(models.ResNet18)
			if s.fashionSource() {
				s.Model = string(models.MLP)
			}
		}
		if s.Epochs == 0 {
			switch models.Arch(s.Model) {
			case models.CNN:
				s.Epochs = 10
			case models.ResNet18:
				s.Epochs = 30
			default:
				s.Epochs = 20
			}
		}
		if s.BatchSize == 0 {
			s.BatchSize = 128
		}
		if s.LearningRate == 0 {
			s.LearningRate = 1e-3
		}
	}
	if s.Latent == "" {
		s.Latent = clip.DefaultModelID
		if s.fashionSource() {
			s.Latent = LatentTiny
		}
	}
	if s.EmbedBatch == 0 {
		s.EmbedBatch = clip.DefaultBatchSize
		if s.Latent == LatentTiny || s.Latent == LatentRandom {
			s.EmbedBatch = 256
		}
	}
	if s.TrainSample == 0 {
		s.TrainSample = DefaultTrainSample
		if s.Compat == distill.CompatReference {
			s.TrainSample = -1
		}
	}
	if s.Vocab == "" {
		s.Vocab = VocabAuto
	}
	if len(s.Ks) == 0 {
		s.Ks = []int{10, 20, 50, 100}
	}
	if s.CaptionK == 0 {
		s.CaptionK = 50
	}
	if s.GalleryN == 0 {
		s.GalleryN = 8
	}
	if s.MaxClasses == 0 {
		s.MaxClasses = 12
	}
	return s
}

// Validate checks a spec before any work: known names, values in range (no NaN), and no field that contradicts
// another (a base model's training settings with predictions CSVs, a source's settings with another source, the
// features latent without a trained model, ...). Run it on the spec as given (before [Spec.WithDefaults]): a
// non-zero field counts as set; the files and folders it names must exist. Errors name the field by its JSON
// (flag) name.
func (s Spec) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	src := s.Data
	if src == "" {
		src = FashionSpurious
	}
	switch src {
	case FashionSpurious, FashionRare, CelebA, ImageNet, Folder:
	default:
		bad("data", "unknown source %q (want %s, %s, %s, %s or %s)", s.Data, FashionSpurious, FashionRare, CelebA, ImageNet, Folder)
	}
	if (src == CelebA || src == ImageNet || src == Folder) && s.DataDir == "" {
		bad("data_dir", "data %q needs its folder", src)
	}
	// Fields that belong to some sources only.
	only := func(field string, set bool, sources ...string) {
		if set && !slices.Contains(sources, src) {
			bad(field, "applies to data %s only, not %q", strings.Join(sources, ", "), src)
		}
	}
	only("classes", len(s.Classes) > 0, FashionSpurious)
	only("colors", len(s.Colors) > 0, FashionSpurious, FashionRare)
	only("majority", s.Majority != 0, FashionSpurious, CelebA)
	only("test_minority_share", s.TestMinorityShare != 0, FashionSpurious, FashionRare)
	only("train_per_class", s.TrainPerClass != 0, FashionSpurious, FashionRare)
	only("val_per_group", s.ValPerGroup != 0, FashionSpurious, FashionRare, CelebA)
	only("test_per_class", s.TestPerClass != 0, FashionSpurious, FashionRare)
	only("pool_per_class", s.PoolPerClass != 0, FashionSpurious, FashionRare)
	only("superclasses", len(s.Superclasses) > 0, FashionRare)
	only("rare", len(s.Rare) > 0, FashionRare)
	only("rare_fraction", s.RareFraction != 0, FashionRare)
	only("pool_fraction", s.PoolFraction != 0, CelebA)
	only("val_labels", s.ValLabels != "", ImageNet)
	only("max_train_per_class", s.MaxTrainPerClass != 0, ImageNet)
	only("val_fraction", s.ValFraction != 0, ImageNet, Folder)
	only("test_fraction", s.TestFraction != 0, Folder)
	if len(s.Classes) > 0 && len(s.Classes) != 2 {
		bad("classes", "want two Fashion-MNIST classes, got %d (%q)", len(s.Classes), s.Classes)
	}
	if src == FashionSpurious && len(s.Colors) > 0 && len(s.Colors) != 2 {
		bad("colors", "want two colours, got %d (%q)", len(s.Colors), s.Colors)
	}
	if len(s.Rare) > 0 && len(s.Superclasses) > 0 && len(s.Rare) != len(s.Superclasses) {
		bad("rare", "%d rare classes for %d superclasses (one each)", len(s.Rare), len(s.Superclasses))
	}
	fraction := func(field string, v, lo, hi float64, loOpen, hiOpen bool) {
		if v == 0 {
			return
		}
		ok := !math.IsNaN(v) && (v > lo || (!loOpen && v == lo)) && (v < hi || (!hiOpen && v == hi))
		if !ok {
			l, r := "[", "]"
			if loOpen {
				l = "("
			}
			if hiOpen {
				r = ")"
			}
			bad(field, "%v is outside %s%g, %g%s", v, l, lo, hi, r)
		}
	}
	fraction("majority", s.Majority, 0.5, 1, false, true)
	fraction("test_minority_share", s.TestMinorityShare, 0, 1, true, true)
	fraction("rare_fraction", s.RareFraction, 0, 1, true, false)
	fraction("pool_fraction", s.PoolFraction, 0, 1, false, true)
	fraction("val_fraction", s.ValFraction, 0, 1, true, true)
	fraction("test_fraction", s.TestFraction, 0, 1, true, true)
	fraction("learning_rate", s.LearningRate, 0, math.Inf(1), true, true)
	for _, f := range []struct {
		name string
		v    int
		min  int
	}{{"image_size", s.ImageSize, 1}, {"train_per_class", s.TrainPerClass, 1}, {"val_per_group", s.ValPerGroup, 1},
		{"test_per_class", s.TestPerClass, 1}, {"pool_per_class", s.PoolPerClass, -1},
		{"max_train_per_class", s.MaxTrainPerClass, 1}, {"epochs", s.Epochs, 1}, {"batch_size", s.BatchSize, 1},
		{"clip_steps", s.CLIPSteps, 1}, {"embed_batch", s.EmbedBatch, 1}, {"train_sample", s.TrainSample, -1}, {"caption_k", s.CaptionK, 1},
		{"gallery_n", s.GalleryN, 1}, {"max_classes", s.MaxClasses, 1}} {
		if f.v != 0 && f.v < f.min {
			bad(f.name, "%d must be at least %d", f.v, f.min)
		}
	}
	for i, k := range s.Ks {
		if k <= 0 {
			bad("ks", "K[%d] = %d, want > 0", i, k)
		}
	}
	for i, g := range s.Minorities {
		if g < 0 {
			bad("minorities", "group id [%d] = %d, want ≥ 0", i, g)
		}
	}
	for i, c := range s.SVMCs {
		if !(c > 0) || math.IsInf(c, 0) {
			bad("svm_cs", "cost [%d] = %v is not positive and finite", i, c)
		}
	}
	if _, err := distill.ParseCompat(string(s.Compat)); err != nil {
		bad("compat", "%v", err)
	}
	// The base model: predictions from elsewhere, or trained here.
	if s.Preds != "" {
		for _, f := range []struct {
			name string
			set  bool
		}{{"model", s.Model != ""}, {"epochs", s.Epochs != 0}, {"seed", s.Seed != 0}, {"batch_size", s.BatchSize != 0},
			{"learning_rate", s.LearningRate != 0}, {"weights", s.Weights != ""}} {
			if f.set {
				bad(f.name, "sets up a base model trained here, but preds gives the base model's predictions")
			}
		}
	} else if s.Model != "" {
		switch models.Arch(strings.ToLower(s.Model)) {
		case models.MLP, models.CNN, models.ResNet18:
		default:
			bad("model", "unknown architecture %q (want mlp, cnn or resnet18)", s.Model)
		}
	}
	// The latent space.
	switch s.Latent {
	case LatentFeatures:
		if s.Preds != "" {
			bad("latent", "features needs a base model trained here, but preds gives predictions only")
		}
		if len(s.Embeddings) > 0 {
			bad("embeddings", "embedding files contradict latent features (the base model's own features)")
		}
		if s.CLIPSteps != 0 || s.CLIPSeed != 0 {
			bad("clip_steps", "tiny-CLIP settings contradict latent features")
		}
	case "", LatentTiny, LatentRandom:
		if s.Latent == LatentRandom && s.CLIPSteps != 0 {
			bad("clip_steps", "the random CLIP is not trained")
		}
	default:
		if s.CLIPSteps != 0 || s.CLIPSeed != 0 {
			bad("clip_steps", "tiny-CLIP settings contradict latent %q (a given CLIP)", s.Latent)
		}
	}
	switch s.Vocab {
	case "", VocabAuto, VocabNone, VocabCelebA, VocabImageNet:
	case VocabFashion:
		if src != FashionSpurious && src != FashionRare {
			bad("vocab", "fashion needs a Fashion-MNIST source (its classes are Fashion-MNIST items); give a word-list file")
		}
	default:
		if _, err := os.Stat(s.Vocab); err != nil {
			bad("vocab", "%q is neither auto, fashion, celeba, imagenet, none nor a readable word-list file (%v)", s.Vocab, err)
		}
	}
	if s.Latent == LatentFeatures && s.Vocab != "" && s.Vocab != VocabAuto && s.Vocab != VocabNone {
		bad("vocab", "captions need a CLIP text tower; latent features has none")
	}
	// Files and folders named by the spec must exist before any work starts.
	exists := func(field, path string, dir bool) {
		if path == "" {
			return
		}
		st, err := os.Stat(path)
		switch {
		case err != nil:
			bad(field, "%v", err)
		case dir && !st.IsDir():
			bad(field, "%s is not a folder", path)
		case !dir && st.IsDir():
			bad(field, "%s is a folder, want a file", path)
		}
	}
	if src == CelebA || src == ImageNet || src == Folder {
		exists("data_dir", s.DataDir, true)
	}
	exists("val_labels", s.ValLabels, false)
	exists("wordnet", s.WordNet, false)
	exists("weights", s.Weights, false)
	for _, e := range s.Embeddings {
		exists("embeddings", e, false)
	}
	if s.Preds != "" {
		if strings.Contains(s.Preds, "{split}") {
			exists("preds", filepath.Dir(s.Preds), true)
		} else {
			exists("preds", s.Preds, true)
		}
	}
	return errors.Join(errs...)
}

// ReadSpec parses a JSON spec from r. Unknown fields are errors; errors give the line (name names the source in
// messages, e.g. the file path).
func ReadSpec(r io.Reader, name string) (Spec, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return Spec{}, fmt.Errorf("spec %s: %w", name, err)
	}
	var s Spec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, fmt.Errorf("spec %s: %w", name, jsonError(raw, err))
	}
	if dec.More() {
		return Spec{}, fmt.Errorf("spec %s: line %d: text after the JSON object", name, lineOf(raw, dec.InputOffset()))
	}
	return s, nil
}

// LoadSpec reads a JSON spec file ([ReadSpec]).
func LoadSpec(path string) (Spec, error) {
	f, err := os.Open(path)
	if err != nil {
		return Spec{}, fmt.Errorf("spec: %w", err)
	}
	defer f.Close()
	return ReadSpec(f, path)
}

// jsonError turns a JSON decoding error into one naming the line (and the field for type errors and unknown
// fields).
func jsonError(raw []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("line %d: %v", lineOf(raw, syn.Offset), syn)
	case errors.As(err, &typ):
		return fmt.Errorf("line %d: field %q: %s where %s is expected", lineOf(raw, typ.Offset), typ.Field, typ.Value, typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		line := 0
		if i := bytes.Index(raw, []byte(field)); i >= 0 {
			line = lineOf(raw, int64(i))
		}
		return fmt.Errorf("line %d: unknown field %s (see `faildirs analyze -h` for the fields)", line, field)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("unexpected end of the JSON text")
	}
	return err
}

// lineOf returns the 1-based line of byte offset off in raw.
func lineOf(raw []byte, off int64) int {
	off = min(max(off, 0), int64(len(raw)))
	return 1 + bytes.Count(raw[:off], []byte{'\n'})
}

// Write writes the spec as indented JSON (only the fields that are set).
func (s Spec) Write(w io.Writer) error {
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(raw, '\n'))
	return err
}

// Fields returns the JSON (flag) names of every field of Spec, in declaration order; the CLI checks it registers
// a flag for each.
func Fields() []string {
	t := reflect.TypeFor[Spec]()
	out := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}

// CheckOut checks that the output folder dir can be created and written, before any heavy work.
func CheckOut(dir string) error {
	if dir == "" {
		return fmt.Errorf("out: no output folder given")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("out: %w", err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("out: folder %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
