package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/models"
	"github.com/faildirs/faildirs/internal/atomicfile"
	"github.com/faildirs/faildirs/internal/cli"
)

// trainFlags are the options of "faildirs train".
type trainFlags struct {
	dataset, arch, dataDir, out string
	epochs, batch, size, width  int
	hidden                      string
	lr, wd                      float64
	seed                        uint64
	flip, features              bool
	preload                     string
	weights                     string
	// fashion-spurious
	classes, colors                                      string
	majority                                             float64
	trainPerClass, valPerGroup, testPerClass, poolPerCls int
	testMinorityShare                                    float64
	// fashion-rare
	superclasses, rare                 string
	rareFraction                       float64
	trainPerSub, valPerSub, poolPerSub int
	// celeba-age
	poolFraction float64
	balancedTest bool
	// imagenet
	valLabels   string
	maxPerClass int
	// folder
	valFraction, testFraction float64
	// decoding
	maxPixels int
}

// trainSummary is written to summary.json next to the checkpoint.
type trainSummary struct {
	Dataset    string              `json:"dataset"`
	Params     map[string]string   `json:"dataset_params"`
	Classes    []string            `json:"classes"`
	Groups     []data.Group        `json:"groups,omitempty"`
	Model      models.Config       `json:"model"`
	Parameters int                 `json:"parameters"`
	Backend    backend.Info        `json:"backend"`
	Epochs     []models.EpochStats `json:"epochs"`
	TrainSecs  float64             `json:"train_seconds"`
	Splits     []splitSummary      `json:"splits"`
}

type splitSummary struct {
	Name     string  `json:"name"`
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
	// GroupAcc is null for a group without examples in the split (e.g. the minority groups of train with
	// -majority 1).
	GroupAcc   []optFloat `json:"group_accuracy,omitempty"`
	GroupCount []int      `json:"group_count,omitempty"`
	// WorstGroup and BestGroup index GroupAcc (-1 without groups).
	WorstGroup int `json:"worst_group"`
	BestGroup  int `json:"best_group"`
	// Minority compares each minority group with the other groups of its class.
	Minority []minorityGap `json:"minority,omitempty"`
	CSV      string        `json:"csv"`
}

// optFloat is a float64 written to JSON as null when it is NaN (undefined), which encoding/json refuses to write.
type optFloat float64

func (v optFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(v))
}

func (v *optFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*v = optFloat(math.NaN())
		return nil
	}
	return json.Unmarshal(b, (*float64)(v))
}

// minorityGap is a minority group's accuracy against the mean accuracy of the other groups of its class.
type minorityGap struct {
	Group    int     `json:"group"`
	Name     string  `json:"name"`
	Accuracy float64 `json:"accuracy"`
	// Siblings is the mean accuracy of the class's other (non-empty) groups; GapPoints = 100·(Siblings − Accuracy).
	Siblings  float64 `json:"siblings_mean"`
	GapPoints float64 `json:"gap_points"`
}

// newTrainFlags registers the flags of "faildirs train" on fs.
func newTrainFlags(fs *flag.FlagSet) *trainFlags {
	var f trainFlags
	// Data, output and training.
	fs.StringVar(&f.dataset, "dataset", "fashion-spurious", "fashion-spurious | fashion-rare | fashion | celeba-age | imagenet | folder")
	fs.StringVar(&f.dataDir, "data", "", "dataset directory (Fashion-MNIST: default $"+data.EnvFashionDir+" or "+data.DefaultFashionDir+"; CelebA root; ILSVRC2012 root; image-folder root)")
	fs.StringVar(&f.out, "out", "", "output directory (default runs/<dataset>-<model>)")
	fs.IntVar(&f.epochs, "epochs", 0, "training epochs, 1 to 10000 (default 5 for mlp/cnn, 30 for resnet18)")
	fs.IntVar(&f.batch, "batch", 128, "batch size, 1 to 65536")
	fs.Float64Var(&f.lr, "lr", 1e-3, "Adam learning rate, above 0 and at most 10")
	fs.Float64Var(&f.wd, "wd", 0, "AdamW weight decay, 0 to 1")
	fs.Uint64Var(&f.seed, "seed", 0, "seed for the dataset construction, initial weights and example order")
	fs.BoolVar(&f.flip, "flip", false, "random left-right flips while training")
	fs.StringVar(&f.preload, "preload", "auto", "decode file-backed images once into memory at the model's size: yes | no | auto (yes for celeba-age and folder, no for imagenet)")
	fs.BoolVar(&f.features, "features", false, "also write the penultimate features of each split (features-<split>.f32, N×D little-endian float32)")
	fs.StringVar(&f.weights, "weights", "", "CSV file id,weight with per-example training weights (interventions); train ids it does not list weigh 0")
	// The model.
	fs.StringVar(&f.arch, "model", "", "mlp | cnn | resnet18 (default: mlp for fashion datasets, resnet18 otherwise)")
	fs.IntVar(&f.size, "size", 0, fmt.Sprintf("image side in pixels fed to the model, 4 to %d (default: 28 for Fashion-MNIST, 64 for CelebA, 128 for ImageNet and folders)", trainMaxSize))
	fs.IntVar(&f.width, "width", 0, "cnn first-layer channels (default 32) or resnet18 base width (default 64), 1 to 1024")
	fs.StringVar(&f.hidden, "hidden", "256", "mlp hidden layer sizes, comma separated, each 1 to 65536")
	fs.IntVar(&f.maxPixels, "max-pixels", data.DefaultMaxPixels, "pixel budget of file-backed images: refuse images whose header gives more pixels (width × height), checked before decoding")
	// fashion-spurious.
	fs.StringVar(&f.classes, "classes", "T-shirt/top,Shirt", "fashion-spurious: the two Fashion-MNIST classes (names or 0..9)")
	fs.StringVar(&f.colors, "colors", "", "fashion-spurious: the two tints, majority colour of class 0 then class 1 (default red,green); fashion-rare: optional tints drawn at random")
	fs.Float64Var(&f.majority, "majority", 0.8, "fashion-spurious: majority-colour share of each class in train, 0.5 to 1 (0.8 = 4:1)")
	fs.IntVar(&f.trainPerClass, "train-per-class", 0, "fashion-spurious: train images per class (default 2000)")
	fs.IntVar(&f.valPerGroup, "val-per-group", 0, "fashion-spurious: validation images per group (default 250)")
	fs.IntVar(&f.testPerClass, "test-per-class", 0, "fashion-spurious: test images per class (default 1000); fashion-rare: per superclass (default: as many as fit)")
	fs.Float64Var(&f.testMinorityShare, "test-minority-share", 0, "fashion-spurious and fashion-rare: the minority's share of each class's test images (default 1/3, the natural mix; 0.5 balances)")
	fs.IntVar(&f.poolPerCls, "pool-per-class", 0, "fashion-spurious: pool images per class (default 1000, -1 none)")
	// fashion-rare.
	fs.StringVar(&f.superclasses, "superclasses", "", "fashion-rare: Fashion-MNIST classes per superclass, e.g. \"0,2,7;5,9,4;1,3,8,6\" (default)")
	fs.StringVar(&f.rare, "rare", "", "fashion-rare: the rare class of each superclass, e.g. \"7,4,6\" (default)")
	fs.Float64Var(&f.rareFraction, "rare-fraction", 0, "fashion-rare: rare subclass train count relative to a common one, above 0 and at most 1 (default 0.1)")
	fs.IntVar(&f.trainPerSub, "train-per-subclass", 0, "fashion-rare: train images per common subclass (default 1000)")
	fs.IntVar(&f.valPerSub, "val-per-subclass", 0, "fashion-rare: validation images per subclass (default 200)")
	fs.IntVar(&f.poolPerSub, "pool-per-subclass", 0, "fashion-rare: pool images per subclass (default 500, -1 none)")
	// celeba-age, imagenet and folder.
	fs.Float64Var(&f.poolFraction, "pool-fraction", 0, "celeba-age: share of the official train partition held out as the unlabeled pool, 0 to 0.9")
	fs.BoolVar(&f.balancedTest, "balanced-test", true, "celeba-age: group-balance the test split like validation")
	fs.StringVar(&f.valLabels, "val-labels", "", "imagenet: ground truth for a flat val/ folder (LOC_val_solution.csv or lines \"<file> <wnid>\")")
	fs.IntVar(&f.maxPerClass, "max-per-class", 0, "imagenet: at most this many train images per class (0 = all)")
	fs.Float64Var(&f.valFraction, "val-fraction", 0.2, "folder: share of each class used for validation when there are no split folders")
	fs.Float64Var(&f.testFraction, "test-fraction", 0.2, "folder: share of each class used for test when there are no split folders")
	return &f
}

// trainMaxSize bounds -size: a ResNet-18 batch of 128 images of 512² holds about 30 GB of activations.
const trainMaxSize = 512

// check validates every flag value before any work: ranges, NaN, lists, and the output folder. Flags whose default
// depends on the dataset or the model (-epochs, -size, -width, the fashion sizes) are checked only when given:
// leaving them out is the explicit "default".
func (f *trainFlags) check(fs *flag.FlagSet) error {
	var c cli.Checks
	c.OneOf("dataset", f.dataset, "fashion-spurious", "fashion-rare", "fashion", "celeba-age", "imagenet", "folder")
	if f.arch != "" {
		c.OneOf("model", f.arch, string(models.MLP), string(models.CNN), string(models.ResNet18))
	}
	c.OneOf("preload", f.preload, "yes", "no", "auto")
	set := func(name string) bool { return cli.IsSet(fs, name) }
	if set("epochs") {
		c.IntIn("epochs", f.epochs, 1, 10000)
	}
	c.IntIn("batch", f.batch, 1, 65536)
	c.FloatAbove("lr", f.lr, 0, 10)
	c.FloatIn("wd", f.wd, 0, 1)
	if set("size") {
		c.IntIn("size", f.size, 4, trainMaxSize)
	}
	if set("width") {
		c.IntIn("width", f.width, 1, 1024)
	}
	if _, err := parseHidden(f.hidden); err != nil {
		c.Add(err)
	}
	c.FloatIn("majority", f.majority, 0.5, 1)
	if set("test-minority-share") {
		c.FloatAbove("test-minority-share", f.testMinorityShare, 0, 1)
	}
	for _, n := range []struct {
		name     string
		v        int
		none     bool // -1 means "none"
		minValue int
	}{{"train-per-class", f.trainPerClass, false, 1}, {"val-per-group", f.valPerGroup, false, 1},
		{"test-per-class", f.testPerClass, false, 1}, {"pool-per-class", f.poolPerCls, true, 1},
		{"train-per-subclass", f.trainPerSub, false, 1}, {"val-per-subclass", f.valPerSub, false, 1},
		{"pool-per-subclass", f.poolPerSub, true, 1}} {
		if set(n.name) && !(n.none && n.v == -1) {
			c.IntIn(n.name, n.v, n.minValue, 60000)
		}
	}
	if set("rare-fraction") {
		c.FloatAbove("rare-fraction", f.rareFraction, 0, 1)
	}
	c.FloatIn("pool-fraction", f.poolFraction, 0, 0.9)
	c.FloatIn("val-fraction", f.valFraction, 0, 0.9)
	c.FloatIn("test-fraction", f.testFraction, 0, 0.9)
	if f.valFraction+f.testFraction >= 1 {
		c.Addf("-val-fraction %g and -test-fraction %g leave nothing to train on", f.valFraction, f.testFraction)
	}
	f.checkPlanted(&c)
	c.IntIn("max-per-class", f.maxPerClass, 0, math.MaxInt32)
	c.IntIn("max-pixels", f.maxPixels, 1, math.MaxInt32)
	f.resolveNames()
	c.Add(cli.OutputDir("out", f.out, recognizeTrainDir))
	return c.Err()
}

// checkPlanted checks the planted experiments' lists before any work: two different classes and two different
// known tints for fashion-spurious; superclasses and rare members that are Fashion-MNIST classes, the rare members
// all different, for fashion-rare.
func (f *trainFlags) checkPlanted(c *cli.Checks) {
	switch f.dataset {
	case "fashion-spurious":
		switch ids, err := trainFashionIDs(f.classes); {
		case err != nil:
			c.Addf("-classes %q: %v", f.classes, err)
		case len(ids) != 2:
			c.Addf("-classes %q: want two classes (Fashion-MNIST names or 0..9)", f.classes)
		case ids[0] == ids[1]:
			c.Addf("-classes %q: want two different classes", f.classes)
		}
		if f.colors != "" {
			cols := trainSplitList(f.colors, ",")
			var rgb []color.RGBA
			for _, name := range cols {
				if v, err := data.ParseColor(name); err == nil {
					rgb = append(rgb, v)
				}
			}
			if len(cols) != 2 || len(rgb) != 2 || rgb[0] == rgb[1] {
				c.Addf("-colors %q: want two different known colours", f.colors)
			}
		}
	case "fashion-rare":
		for _, grp := range trainSplitList(f.superclasses, ";") {
			if _, err := trainFashionIDs(grp); err != nil {
				c.Addf("-superclasses %q: %v", f.superclasses, err)
			}
		}
		if f.rare != "" {
			ids, err := trainFashionIDs(f.rare)
			seen := map[int]bool{}
			for _, id := range ids {
				if seen[id] {
					err = fmt.Errorf("class %d is named twice", id)
				}
				seen[id] = true
			}
			if err != nil {
				c.Addf("-rare %q: %v; want one different rare class per superclass", f.rare, err)
			}
		}
	}
}

// resolveNames fills the defaults that depend only on other flags: the model, the epochs and the output folder.
func (f *trainFlags) resolveNames() {
	if f.arch == "" {
		f.arch = string(models.ResNet18)
		if strings.HasPrefix(f.dataset, "fashion") {
			f.arch = string(models.MLP)
		}
	}
	if f.epochs == 0 {
		f.epochs = 5
		if f.arch == string(models.ResNet18) {
			f.epochs = 30
		}
	}
	if f.out == "" {
		f.out = filepath.Join("runs", f.dataset+"-"+f.arch)
	}
}

// trainOutputs matches the names train writes into its output folder.
var trainOutputs = regexp.MustCompile(`^(model\.safetensors|summary\.json|pred-[a-z]+\.csv|features-[a-z]+\.f32)$`)

// recognizeTrainDir accepts an existing -out folder only if it is empty or holds nothing but train's own outputs
// (a previous run, replaced as a whole at the end of this one).
func recognizeTrainDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !trainOutputs.MatchString(e.Name()) {
			return fmt.Errorf("holds %s, which train does not write; the folder is replaced as a whole at the end of the run, so give a new or empty folder (or one of train's)", e.Name())
		}
	}
	return nil
}

// parseHidden parses the -hidden list of layer sizes.
func parseHidden(s string) ([]int, error) {
	var hidden []int
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		h, err := strconv.Atoi(part)
		if err != nil || h < 1 || h > 65536 {
			return nil, cli.Usagef("-hidden %q: %q is not a layer size in [1, 65536]", s, part)
		}
		hidden = append(hidden, h)
	}
	if len(hidden) > 16 {
		return nil, cli.Usagef("-hidden %q: more than 16 layers", s)
	}
	return hidden, nil
}

// modelConfig is the base model's configuration for ds.
func (f *trainFlags) modelConfig(ds *data.Dataset) (models.Config, error) {
	var hidden []int
	if f.arch == string(models.MLP) {
		var err error
		if hidden, err = parseHidden(f.hidden); err != nil {
			return models.Config{}, err
		}
	}
	return models.Config{Arch: models.Arch(f.arch), NumClasses: len(ds.Classes), Classes: ds.Classes, H: f.size,
		W: f.size, Hidden: hidden, Width: f.width}, nil
}

// runTrain trains a base model and writes, into a temporary folder beside -out renamed to -out at the very end, the
// model, its summary and the predictions of every split: an interrupted or failed run leaves the previous -out as
// it was, never a half-trained model beside an old summary. The per-epoch checkpoint lives in that temporary folder.
func runTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := newTrainFlags(fs)
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := f.check(fs); err != nil {
		return err
	}
	start := time.Now()
	ds, defSize, err := loadTrainDataset(f)
	if err != nil {
		return err
	}
	if f.size == 0 {
		f.size = defSize
	}
	for _, sp := range ds.Splits() {
		sp.Decoder = data.Decoder{MaxPixels: f.maxPixels}
	}
	fmt.Fprintf(stdout, "dataset %s (%s): train %d, val %d, test %d", ds.Name, trainParamString(ds.Params), ds.Train.Len(), ds.Val.Len(), ds.Test.Len())
	if ds.Pool != nil {
		fmt.Fprintf(stdout, ", pool %d", ds.Pool.Len())
	}
	fmt.Fprintf(stdout, " (built in %.1fs)\n", time.Since(start).Seconds())
	if f.preload == "yes" || (f.preload == "auto" && f.dataset != "imagenet") {
		if err := preloadSplits(ctx, ds, f.size, stderr); err != nil {
			return err
		}
	}
	cfg, err := f.modelConfig(ds)
	if err != nil {
		return err
	}
	b, info, err := backend.New(backend.Options{})
	if err != nil {
		return err
	}
	defer b.Finalize()
	m, err := models.New(b, cfg, f.seed)
	if err != nil {
		return err
	}
	var weights []float32
	if f.weights != "" {
		if weights, err = data.LoadWeights(f.weights, ds.Train.IDs); err != nil {
			return fmt.Errorf("-weights: %w", err)
		}
	}
	return atomicfile.WriteDir(f.out, true, func(tmp string) error {
		return trainInto(ctx, tmp, f, ds, m, info, weights, stdout, stderr)
	})
}

// trainInto trains m and writes the outputs into the folder tmp, which becomes f.out when it returns nil (the
// paths printed and recorded are those under f.out).
func trainInto(ctx context.Context, tmp string, f *trainFlags, ds *data.Dataset, m *models.Classifier, info backend.Info,
	weights []float32, stdout, stderr io.Writer) error {
	ckpt := filepath.Join(tmp, "checkpoint.safetensors")
	fmt.Fprintf(stdout, "model %s on %s; training %d epochs, batch %d, lr %g\n", m.Config, info.Config, f.epochs, f.batch, f.lr)
	trainStart := time.Now()
	stats, err := m.Train(ctx, ds.Train, models.TrainOptions{Epochs: f.epochs, BatchSize: f.batch, LearningRate: f.lr, WeightDecay: f.wd,
		Weights: weights, Seed: f.seed, Flip: f.flip, Log: stdout, Progress: stderr, Eval: ds.Val, Checkpoint: ckpt})
	if err != nil {
		return err
	}
	if err := m.Save(filepath.Join(tmp, "model.safetensors")); err != nil {
		return err
	}
	if err := os.Remove(ckpt); err != nil {
		return err
	}
	sum := trainSummary{Dataset: ds.Name, Params: ds.Params, Classes: ds.Classes, Groups: ds.Groups, Model: m.Config,
		Parameters: m.NumParameters(), Backend: info, Epochs: stats, TrainSecs: time.Since(trainStart).Seconds()}
	fmt.Fprintf(stdout, "trained in %.1fs\n", sum.TrainSecs)
	for _, s := range ds.Splits() {
		ss, err := predictSplit(ctx, m, ds, s, f, tmp, stderr)
		if err != nil {
			return err
		}
		sum.Splits = append(sum.Splits, ss)
		trainPrintSplit(stdout, ds, ss, s.Name == "test")
	}
	js, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(tmp, "summary.json"), append(js, '\n')); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: model.safetensors, summary.json and pred-<split>.csv\n", f.out)
	return nil
}

// preloadSplits decodes the file-backed splits of ds once into memory at size×size.
func preloadSplits(ctx context.Context, ds *data.Dataset, size int, stderr io.Writer) error {
	for _, sp := range []**data.ImageSplit{&ds.Train, &ds.Val, &ds.Test, &ds.Pool} {
		if *sp == nil || (*sp).Files == nil {
			continue
		}
		m, err := (*sp).Materialize(ctx, size, size, data.MaterializeOptions{Progress: stderr})
		if err != nil {
			return err
		}
		*sp = m
	}
	return nil
}

// predictSplit predicts split s with m, writes its predictions CSV (and features with -features) into the folder
// dir (which becomes f.out) and returns its summary: accuracy, per-group accuracy, worst and best group, minority
// gaps.
func predictSplit(ctx context.Context, m *models.Classifier, ds *data.Dataset, s *data.ImageSplit, f *trainFlags,
	dir string, stderr io.Writer) (splitSummary, error) {
	out, err := m.Predict(ctx, s, models.PredictOptions{BatchSize: 256, Features: f.features, Progress: stderr})
	if err != nil {
		return splitSummary{}, fmt.Errorf("predict %s: %w", s.Name, err)
	}
	p, err := out.ForSplit(s)
	if err != nil {
		return splitSummary{}, err
	}
	csvName := "pred-" + s.Name + ".csv"
	if err := p.Save(filepath.Join(dir, csvName)); err != nil {
		return splitSummary{}, err
	}
	if f.features {
		if err := trainWriteFloat32s(filepath.Join(dir, "features-"+s.Name+".f32"), out.Features.Data); err != nil {
			return splitSummary{}, err
		}
	}
	ss := splitSummary{Name: s.Name, N: s.Len(), Accuracy: p.Accuracy(), WorstGroup: -1, BestGroup: -1,
		CSV: filepath.Join(f.out, csvName)}
	if s.Groups != nil && len(ds.Groups) > 0 {
		var acc []float64
		acc, ss.GroupCount = p.GroupAccuracy(len(ds.Groups))
		ss.GroupAcc = make([]optFloat, len(acc))
		for g, a := range acc {
			ss.GroupAcc[g] = optFloat(a)
			if math.IsNaN(a) {
				continue
			}
			if ss.WorstGroup < 0 || a < acc[ss.WorstGroup] {
				ss.WorstGroup = g
			}
			if ss.BestGroup < 0 || a > acc[ss.BestGroup] {
				ss.BestGroup = g
			}
		}
	}
	ss.Minority = trainMinorityGaps(ds, ss)
	return ss, nil
}

// trainMinorityGaps compares every minority group with the mean of the other groups of its class.
func trainMinorityGaps(ds *data.Dataset, ss splitSummary) []minorityGap {
	var out []minorityGap
	for _, g := range ds.Groups {
		if !g.Minority || ss.GroupCount == nil || ss.GroupCount[g.ID] == 0 {
			continue
		}
		var sum float64
		n := 0
		for _, o := range ds.Groups {
			if o.Class == g.Class && o.ID != g.ID && ss.GroupCount[o.ID] > 0 {
				sum += float64(ss.GroupAcc[o.ID])
				n++
			}
		}
		if n == 0 {
			continue
		}
		sib := sum / float64(n)
		a := float64(ss.GroupAcc[g.ID])
		out = append(out, minorityGap{Group: g.ID, Name: g.Name, Accuracy: a, Siblings: sib, GapPoints: 100 * (sib - a)})
	}
	return out
}

// trainPrintSplit prints a split's accuracy, worst and best group, and (with details) every group and the
// minority-group gaps.
func trainPrintSplit(w io.Writer, ds *data.Dataset, ss splitSummary, details bool) {
	fmt.Fprintf(w, "%-5s n=%-6d accuracy %.4f", ss.Name, ss.N, ss.Accuracy)
	if ss.WorstGroup >= 0 {
		fmt.Fprintf(w, "  worst group %.4f (%s), best %.4f (%s), gap %.1f points",
			ss.GroupAcc[ss.WorstGroup], ds.GroupName(ss.WorstGroup), ss.GroupAcc[ss.BestGroup], ds.GroupName(ss.BestGroup),
			100*(ss.GroupAcc[ss.BestGroup]-ss.GroupAcc[ss.WorstGroup]))
	}
	fmt.Fprintln(w)
	if !details {
		return
	}
	for g, a := range ss.GroupAcc {
		if ss.GroupCount[g] == 0 {
			continue
		}
		fmt.Fprintf(w, "      group %2d %-50s n=%-5d acc %.4f\n", g, ds.GroupName(g), ss.GroupCount[g], a)
	}
	for _, m := range ss.Minority {
		fmt.Fprintf(w, "      minority %-47s acc %.4f vs %.4f for the rest of its class: %.1f points below\n", m.Name, m.Accuracy, m.Siblings, m.GapPoints)
	}
}

func trainParamString(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + p[k]
	}
	return strings.Join(parts, " ")
}

// loadTrainDataset builds the dataset named by -dataset and returns it with its default model input size.
func loadTrainDataset(f *trainFlags) (*data.Dataset, int, error) {
	switch f.dataset {
	case "fashion-spurious", "fashion-rare", "fashion":
		fm, err := data.LoadFashion(f.dataDir)
		if err != nil {
			return nil, 0, err
		}
		var ds *data.Dataset
		switch f.dataset {
		case "fashion":
			ds, err = data.FashionDataset(fm, data.FashionConfig{Seed: f.seed})
		case "fashion-spurious":
			cfg := data.SpuriousConfig{MajorityFraction: f.majority, TrainPerClass: f.trainPerClass, ValPerGroup: f.valPerGroup,
				TestPerClass: f.testPerClass, TestMinorityShare: f.testMinorityShare, PoolPerClass: f.poolPerCls, Seed: f.seed}
			cls := trainSplitList(f.classes, ",")
			if len(cls) != 2 {
				return nil, 0, fmt.Errorf("-classes %q: want two classes", f.classes)
			}
			for i, c := range cls {
				if cfg.Classes[i], err = data.FashionClassIndex(c); err != nil {
					return nil, 0, fmt.Errorf("-classes: %w", err)
				}
			}
			if f.colors != "" {
				cols := trainSplitList(f.colors, ",")
				if len(cols) != 2 {
					return nil, 0, fmt.Errorf("-colors %q: want two colours", f.colors)
				}
				cfg.Colors = [2]string{cols[0], cols[1]}
			}
			ds, err = data.Spurious(fm, cfg)
		case "fashion-rare":
			cfg := data.RareConfig{RareFraction: f.rareFraction, TrainPerSubclass: f.trainPerSub, ValPerSubclass: f.valPerSub,
				TestPerClass: f.testPerClass, TestMinorityShare: f.testMinorityShare, PoolPerSubclass: f.poolPerSub, Colors: trainSplitList(f.colors, ","), Seed: f.seed}
			if f.superclasses != "" {
				for _, grp := range trainSplitList(f.superclasses, ";") {
					ids, err := trainFashionIDs(grp)
					if err != nil {
						return nil, 0, fmt.Errorf("-superclasses: %w", err)
					}
					cfg.Superclasses = append(cfg.Superclasses, ids)
				}
			}
			if f.rare != "" {
				if cfg.Rare, err = trainFashionIDs(f.rare); err != nil {
					return nil, 0, fmt.Errorf("-rare: %w", err)
				}
			}
			ds, err = data.Rare(fm, cfg)
		}
		return ds, 28, err
	case "celeba-age":
		ds, err := data.CelebAAge(f.dataDir, data.CelebAConfig{PoolFraction: f.poolFraction, BalancedTest: f.balancedTest, Seed: f.seed})
		return ds, 64, err
	case "imagenet":
		ds, err := data.ImageNet(f.dataDir, data.ImageNetConfig{ValLabels: f.valLabels, MaxTrainPerClass: f.maxPerClass, Seed: f.seed})
		return ds, 128, err
	case "folder":
		ds, err := data.ImageFolder(f.dataDir, data.FolderConfig{ValFraction: f.valFraction, TestFraction: f.testFraction, Seed: f.seed})
		return ds, 128, err
	}
	return nil, 0, fmt.Errorf("unknown -dataset %q (want fashion-spurious, fashion-rare, fashion, celeba-age, imagenet or folder)", f.dataset)
}

func trainSplitList(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func trainFashionIDs(s string) ([]int, error) {
	var out []int
	for _, p := range trainSplitList(s, ",") {
		c, err := data.FashionClassIndex(p)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func trainWriteFloat32s(path string, v []float32) error {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		u := math.Float32bits(x)
		buf[4*i], buf[4*i+1], buf[4*i+2], buf[4*i+3] = byte(u), byte(u>>8), byte(u>>16), byte(u>>24)
	}
	return atomicfile.WriteBytes(path, buf)
}
