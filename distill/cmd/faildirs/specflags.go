package main

import (
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/experiment"
	"github.com/faildirs/faildirs/internal/cli"
)

// specFlags registers one flag per field of experiment.Spec on fs, named after its JSON field ("_" → "-"),
// writing into s. Lists are comma-separated; superclasses are ";"-separated lists of comma-separated classes.
func specFlags(fs *flag.FlagSet, s *experiment.Spec) {
	// Data.
	fs.StringVar(&s.Data, "data", "", "data source: fashion-spurious (default) | fashion-rare | celeba | imagenet | folder")
	fs.StringVar(&s.DataDir, "data-dir", "", "the source's folder: Fashion-MNIST IDX files (default $FAILDIRS_FASHION_MNIST or Debian's), the CelebA root, the ILSVRC2012 root, or the image folder")
	fs.IntVar(&s.ImageSize, "image-size", 0, "image side in pixels for the base model (default 28 Fashion-MNIST, 64 CelebA, 128 otherwise)")
	fs.Uint64Var(&s.DataSeed, "data-seed", 0, "seed of the data source's sampling")
	fs.Var((*stringList)(&s.Classes), "classes", "fashion-spurious: the two Fashion-MNIST classes, names or indices (default T-shirt/top,Shirt)")
	fs.Var((*stringList)(&s.Colors), "colors", "fashion-spurious: the two tints, majority of class 0 then 1 (default red,green); fashion-rare: optional random tints")
	fs.Var((*floatFlag)(&s.Majority), "majority", "fashion-spurious, celeba: majority-group share of each class in train (default 0.8, i.e. 4:1)")
	fs.Var((*floatFlag)(&s.TestMinorityShare), "test-minority-share", "fashion-spurious, fashion-rare: the minority's share of each class's test images (default 1/3, the natural mix; 0.5 balances)")
	fs.IntVar(&s.TrainPerClass, "train-per-class", 0, "fashion-spurious: train images per class (default 2000); fashion-rare: per common subclass (default 1000)")
	fs.IntVar(&s.ValPerGroup, "val-per-group", 0, "validation images per group (fashion-spurious 250, fashion-rare 200, celeba: the smallest group)")
	fs.IntVar(&s.TestPerClass, "test-per-class", 0, "fashion-spurious: test images per class (default 1000); fashion-rare: per superclass (default as many as fit)")
	fs.IntVar(&s.PoolPerClass, "pool-per-class", 0, "fashion-spurious: pool images per class (default 1000); fashion-rare: per subclass (500); -1: no pool")
	fs.Var((*groupList)(&s.Superclasses), "superclasses", "fashion-rare: superclasses as Fashion-MNIST classes, e.g. \"0,2,7;5,9,4;1,3,8,6\" (the default)")
	fs.Var((*stringList)(&s.Rare), "rare", "fashion-rare: the rare member of each superclass (default Sneaker,Coat,Shirt)")
	fs.Var((*floatFlag)(&s.RareFraction), "rare-fraction", "fashion-rare: rare subclass train count relative to a common one (default 0.1)")
	fs.Var((*floatFlag)(&s.PoolFraction), "pool-fraction", "celeba: share of the train partition held out as the unlabeled pool")
	fs.StringVar(&s.ValLabels, "val-labels", "", "imagenet: ground truth of a flat val/ folder (LOC_val_solution.csv or \"<file> <wnid>\" lines)")
	fs.IntVar(&s.MaxTrainPerClass, "max-train-per-class", 0, "imagenet: at most this many train images per class (0: all)")
	fs.Var((*floatFlag)(&s.ValFraction), "val-fraction", "imagenet: share of the val images used for validation (default 0.5, the rest is test); folder: share cut for validation (default 0.2)")
	fs.Var((*floatFlag)(&s.TestFraction), "test-fraction", "folder: share of each class cut for test when there is no test/ (default 0.2)")
	fs.StringVar(&s.WordNet, "wordnet", "", "WordNet 3.0 data.noun (ImageNet names and vocabulary; default Debian's wordnet-base)")
	fs.BoolVar(&s.SkipBad, "skip-bad", false, "skip images that fail to decode (listed in summary.json) instead of stopping at the first")
	// Base model.
	fs.StringVar(&s.Preds, "preds", "", "the base model's predictions CSVs (id,label,pred,conf[,group]) from any framework: a folder with {train,val,test}.csv or a pattern with {split}; they define the splits")
	fs.StringVar(&s.Model, "model", "", "base model trained here: mlp | cnn | resnet18 (default mlp for Fashion-MNIST, resnet18 otherwise)")
	fs.IntVar(&s.Epochs, "epochs", 0, "base-model training epochs (default 20 mlp, 10 cnn, 30 resnet18)")
	fs.Uint64Var(&s.Seed, "seed", 0, "base-model seed (initial weights, example order)")
	fs.IntVar(&s.BatchSize, "batch-size", 0, "base-model batch size (default 128)")
	fs.Var((*floatFlag)(&s.LearningRate), "learning-rate", "base-model Adam learning rate (default 1e-3)")
	fs.StringVar(&s.Weights, "weights", "", "CSV id,weight of per-example training weights (train ids it does not list weigh 0)")
	// Latent space.
	fs.StringVar(&s.Latent, "latent", "", "latent space: tiny (the offline Fashion CLIP; default for Fashion-MNIST) | random (untrained, for smoke tests) | features (the base model's) | a CLIP hub id or HF-layout folder (default "+"openai/clip-vit-base-patch32)")
	fs.IntVar(&s.CLIPSteps, "clip-steps", 0, "tiny CLIP training steps (default: package tinyclip's)")
	fs.Uint64Var(&s.CLIPSeed, "clip-seed", 0, "tiny or random CLIP seed")
	fs.Var((*stringList)(&s.Embeddings), "embeddings", "embedding files written by faildirs embed (shards read together), comma-separated, used instead of embedding here")
	fs.IntVar(&s.EmbedBatch, "embed-batch", 0, "images per CLIP call (default 256 for the tiny and random CLIPs, 32 otherwise)")
	fs.IntVar(&s.TrainSample, "train-sample", 0, "train images embedded for the whitening statistics, a seeded sample (default 10000; -1: all, the -compat reference default)")
	// Captions, fit, evaluation.
	fs.StringVar(&s.Vocab, "vocab", "", "caption vocabulary: auto (the source's own; default) | fashion | celeba | imagenet | none | a JSON word-list file")
	fs.Var((*floatList)(&s.SVMCs), "svm-cs", "SVM cost grid searched by cross-validation, comma-separated (default 1e-6,1e-5,...,1)")
	fs.Var((*compatFlag)(&s.Compat), "compat", "SVM fitting: default, or reference (the reference code's C ties and libsvm's bias)")
	fs.Var((*intList)(&s.Minorities), "minorities", "minority group ids of the surfacing metrics (default: the data source's)")
	fs.Var((*intList)(&s.Ks), "ks", "K values of the top-K table (default 10,20,50,100)")
	fs.IntVar(&s.CaptionK, "caption-k", 0, "nearest test images of the caption check (default 50)")
	fs.IntVar(&s.GalleryN, "gallery-n", 0, "hard and easy images per gallery (default 8)")
	fs.IntVar(&s.MaxClasses, "max-classes", 0, "classes given galleries and charts (default 12: the lowest test accuracy first)")
	fs.StringVar(&s.Work, "work", "", "cache folder of the base model, the embeddings and the tiny CLIP (default <user cache>/faildirs/experiment, the tiny CLIP in <user cache>/faildirs)")
	fs.StringVar(&s.Out, "out", "", "output folder")
}

// parseSpec parses args as the spec flags of fs (registered with specFlags on a scratch spec) plus -spec FILE: the
// file's spec with every flag given on the command line applied on top. Positional arguments are rejected.
func parseSpec(fs *flag.FlagSet, args []string) (experiment.Spec, error) {
	var scratch experiment.Spec
	specFlags(fs, &scratch)
	specFile := fs.String("spec", "", "JSON spec file (fields named like these flags, with _ for -); flags given as well override it")
	if err := cli.Parse(fs, args); err != nil { // every setting is a flag: positional arguments are an error
		return experiment.Spec{}, err
	}
	if err := zeroMeansDefault(fs, specZeroDefaults...); err != nil {
		return experiment.Spec{}, err
	}
	if *specFile == "" {
		return scratch, nil
	}
	s, err := experiment.LoadSpec(*specFile)
	if err != nil {
		return experiment.Spec{}, &cli.UsageError{Err: err}
	}
	if err := applySetFlags(fs, &s); err != nil {
		return experiment.Spec{}, &cli.UsageError{Err: err}
	}
	return s, nil
}

// applySetFlags applies every spec flag set on fs to s.
func applySetFlags(fs *flag.FlagSet, s *experiment.Spec) error {
	onto := flag.NewFlagSet("spec", flag.ContinueOnError)
	saved := *s
	specFlags(onto, s) // registering a flag sets its variable to the flag's default: restore the spec
	*s = saved
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil && onto.Lookup(f.Name) != nil {
			if e := onto.Set(f.Name, f.Value.String()); e != nil {
				err = fmt.Errorf("-%s: %w", f.Name, e)
			}
		}
	})
	return err
}

// stringList is a comma-separated list flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = nil
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// groupList is a ";"-separated list of comma-separated lists.
type groupList [][]string

func (l *groupList) String() string {
	parts := make([]string, len(*l))
	for i, g := range *l {
		parts[i] = strings.Join(g, ",")
	}
	return strings.Join(parts, ";")
}

func (l *groupList) Set(v string) error {
	*l = nil
	for _, g := range strings.Split(v, ";") {
		var s stringList
		_ = s.Set(g)
		if len(s) > 0 {
			*l = append(*l, s)
		}
	}
	return nil
}

// intList is a comma-separated list of integers.
type intList []int

func (l *intList) String() string {
	parts := make([]string, len(*l))
	for i, v := range *l {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

func (l *intList) Set(v string) error {
	*l = nil
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("%q is not an integer", p)
		}
		*l = append(*l, n)
	}
	return nil
}

// floatList is a comma-separated list of finite numbers.
type floatList []float64

func (l *floatList) String() string {
	parts := make([]string, len(*l))
	for i, v := range *l {
		parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

func (l *floatList) Set(v string) error {
	*l = nil
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%q is not a finite number", p)
		}
		*l = append(*l, f)
	}
	return nil
}

// floatFlag is a finite number (flag.Float64 accepts NaN and Inf).
type floatFlag float64

// specZeroDefaults are the spec flags whose zero value means "the default" (a Spec field left out): given as 0
// explicitly they are refused rather than silently replaced.
var specZeroDefaults = []string{"image-size", "majority", "test-minority-share", "train-per-class", "val-per-group",
	"test-per-class", "pool-per-class", "rare-fraction", "pool-fraction", "val-fraction", "test-fraction", "epochs",
	"batch-size", "learning-rate", "clip-steps", "embed-batch", "train-sample", "caption-k", "gallery-n", "max-classes"}

// zeroMeansDefault refuses the flags among names that were given explicitly with the value 0, which their Spec
// field reads as "use the default".
func zeroMeansDefault(fs *flag.FlagSet, names ...string) error {
	var c cli.Checks
	for _, name := range names {
		f := fs.Lookup(name)
		if f == nil || !cli.IsSet(fs, name) {
			continue
		}
		if v, err := strconv.ParseFloat(f.Value.String(), 64); err == nil && v == 0 {
			c.Addf("-%s 0: zero would mean the default; leave the flag out for the default, or give a value", name)
		}
	}
	return c.Err()
}

func (f *floatFlag) String() string { return strconv.FormatFloat(float64(*f), 'g', -1, 64) }

func (f *floatFlag) Set(v string) error {
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Errorf("%q is not a finite number", v)
	}
	*f = floatFlag(x)
	return nil
}

// compatFlag is distill's compatibility mode.
type compatFlag distill.Compat

func (c *compatFlag) String() string { return string(*c) }

func (c *compatFlag) Set(v string) error {
	m, err := distill.ParseCompat(v)
	if err != nil {
		return err
	}
	*c = compatFlag(m)
	return nil
}
