package smoke

import (
	"bufio"
	"fmt"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/internal/atomicfile"
)

// DefaultWNIDs are the ImageNet classes of the generated ImageNet folder: tench, goldfinch, crane (the bird),
// container ship, cowboy hat and pizza (real WordNet 3.0 noun offsets, so class names and the WordNet vocabulary
// work).
var DefaultWNIDs = []string{"n01440764", "n01531178", "n02012849", "n03095699", "n03124170", "n07873807"}

// ImageNetConfig sets up a generated ILSVRC2012-layout folder. The zero value is the notebooks' smoke data (6
// classes, 480 images).
type ImageNetConfig struct {
	// WNIDs are the classes (default DefaultWNIDs).
	WNIDs []string `json:"wnids"`
	// TrainPerClass and ValPerClass are the images per class in train/ and val/ (default 40 each); the predictions
	// put the first half of each class's val/ images in val.csv and the rest in test.csv.
	TrainPerClass int `json:"train_per_class"`
	ValPerClass   int `json:"val_per_class"`
	// Size is the side of the square images in pixels (default 32).
	Size int `json:"size"`
	// HardFraction is the share of each class's images drawn in the hard style (default 0.3).
	HardFraction float64 `json:"hard_fraction"`
	// HardError and EasyError are the made-up base model's error rates on val and test images of each style
	// (default 0.7 and 0.1); on train it errs on 2% of the images.
	HardError float64 `json:"hard_error"`
	EasyError float64 `json:"easy_error"`
	// Seed drives the images and the predictions.
	Seed uint64 `json:"seed"`
}

// WithDefaults fills the zero fields with their defaults.
func (c ImageNetConfig) WithDefaults() ImageNetConfig {
	if len(c.WNIDs) == 0 {
		c.WNIDs = slices.Clone(DefaultWNIDs)
	}
	if c.TrainPerClass == 0 {
		c.TrainPerClass = 40
	}
	if c.ValPerClass == 0 {
		c.ValPerClass = 40
	}
	if c.Size == 0 {
		c.Size = 32
	}
	if c.HardFraction == 0 {
		c.HardFraction = 0.3
	}
	if c.HardError == 0 {
		c.HardError = 0.7
	}
	if c.EasyError == 0 {
		c.EasyError = 0.1
	}
	return c
}

// ImageNet is a generated ILSVRC2012-layout folder.
type ImageNet struct {
	// Root holds train/<wnid>/<wnid>_N.JPEG and val/<wnid>/ILSVRC2012_val_<wnid>_NNNN.JPEG.
	Root string
	// Preds is the folder of the made-up base model's predictions: train.csv, val.csv and test.csv (columns
	// id,label,pred,conf; id = the image path relative to Root; label = the wnid's index in sorted order).
	Preds string
	// WNIDs are the classes in label order (sorted).
	WNIDs []string
	// Hard holds the ids of the images drawn in the hard style.
	Hard map[string]bool
}

// hardFile lists the hard images' ids, one a line.
const hardFile = "hard.txt"

// WriteImageNet writes a generated ImageNet folder at dir (see [ImageNet]) and returns its description. It does
// nothing but read the list of hard images when dir already holds the same generated data.
func WriteImageNet(dir string, cfg ImageNetConfig) (*ImageNet, error) {
	cfg = cfg.WithDefaults()
	wnids := slices.Clone(cfg.WNIDs)
	slices.Sort(wnids)
	if len(slices.Compact(slices.Clone(wnids))) != len(wnids) || len(wnids) < 2 {
		return nil, fmt.Errorf("smoke: imagenet: want at least two distinct wnids, got %q", cfg.WNIDs)
	}
	for _, w := range wnids {
		if len(w) != 9 || w[0] != 'n' || strings.Trim(w[1:], "0123456789") != "" {
			return nil, fmt.Errorf("smoke: imagenet: %q is not a wnid (n + 8 digits)", w)
		}
	}
	if cfg.TrainPerClass < 1 || cfg.ValPerClass < 2 || cfg.Size < 8 {
		return nil, fmt.Errorf("smoke: imagenet: want train_per_class ≥ 1, val_per_class ≥ 2, size ≥ 8; got %d, %d, %d",
			cfg.TrainPerClass, cfg.ValPerClass, cfg.Size)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"hard_fraction", cfg.HardFraction}, {"hard_error", cfg.HardError}, {"easy_error", cfg.EasyError}} {
		if !(f.v > 0 && f.v < 1) {
			return nil, fmt.Errorf("smoke: imagenet: %s %v is outside (0, 1)", f.name, f.v)
		}
	}
	out := &ImageNet{Root: dir, Preds: filepath.Join(dir, "preds"), WNIDs: wnids, Hard: map[string]bool{}}
	want, err := manifest("imagenet", cfg)
	if err != nil {
		return nil, err
	}
	if upToDate(dir, want) {
		if err := out.readHard(); err != nil {
			return nil, err
		}
		return out, nil
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x1A9E7))
	preds := map[string]*data.Predictions{"train": {}, "val": {}, "test": {}}
	n := len(wnids)
	for label, w := range wnids {
		hue := classColor(label, n)
		write := func(split, rel string, hard bool, errRate float64) error {
			if err := picture(cfg.Size, hue, hard, rng).writeJPEG(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
				return err
			}
			if hard {
				out.Hard[rel] = true
			}
			pr := preds[split]
			pred, conf := label, float32(0.45+0.55*rng.Float64())
			if rng.Float64() < errRate {
				pred, conf = (label+1)%n, float32(0.4*rng.Float64())
			}
			pr.IDs = append(pr.IDs, rel)
			pr.Labels = append(pr.Labels, label)
			pr.Preds = append(pr.Preds, pred)
			pr.Conf = append(pr.Conf, conf)
			return nil
		}
		for i := range cfg.TrainPerClass {
			hard := rng.Float64() < cfg.HardFraction
			if err := write("train", fmt.Sprintf("train/%s/%s_%d.JPEG", w, w, i), hard, 0.02); err != nil {
				return nil, err
			}
		}
		for i := range cfg.ValPerClass {
			hard := rng.Float64() < cfg.HardFraction
			split, rate := "val", cfg.EasyError
			if i >= cfg.ValPerClass/2 {
				split = "test"
			}
			if hard {
				rate = cfg.HardError
			}
			if err := write(split, fmt.Sprintf("val/%s/ILSVRC2012_val_%s_%04d.JPEG", w, w[1:], i), hard, rate); err != nil {
				return nil, err
			}
		}
	}
	if err := os.MkdirAll(out.Preds, 0o755); err != nil {
		return nil, fmt.Errorf("smoke: imagenet: %w", err)
	}
	for split, pr := range preds {
		if err := pr.Save(filepath.Join(out.Preds, split+".csv")); err != nil {
			return nil, fmt.Errorf("smoke: imagenet: %w", err)
		}
	}
	hard := make([]string, 0, len(out.Hard))
	for id := range out.Hard {
		hard = append(hard, id)
	}
	slices.Sort(hard)
	if err := atomicfile.WriteBytes(filepath.Join(dir, hardFile), []byte(strings.Join(hard, "\n")+"\n")); err != nil {
		return nil, fmt.Errorf("smoke: imagenet: %w", err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, manifestName), want); err != nil {
		return nil, fmt.Errorf("smoke: imagenet: %w", err)
	}
	return out, nil
}

// readHard reads the list of hard images written with the folder.
func (m *ImageNet) readHard() error {
	path := filepath.Join(m.Root, hardFile)
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("smoke: imagenet: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id := strings.TrimSpace(sc.Text()); id != "" {
			m.Hard[id] = true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("smoke: imagenet: %s: %w", path, err)
	}
	return nil
}

// classColor is class i of n's colour: hues spread around the colour wheel.
func classColor(i, n int) color.RGBA {
	h := float64(i) / float64(n) * 6
	x := 1 - abs(mod2(h)-1)
	var r, g, b float64
	switch int(h) {
	case 0:
		r, g = 1, x
	case 1:
		r, g = x, 1
	case 2:
		g, b = 1, x
	case 3:
		g, b = x, 1
	case 4:
		r, b = x, 1
	default:
		r, b = 1, x
	}
	f := func(v float64) uint8 { return uint8(60 + 160*v) }
	return color.RGBA{f(r), f(g), f(b), 255}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// mod2 is x modulo 2 for x ≥ 0.
func mod2(x float64) float64 { return x - 2*float64(int(x/2)) }

// picture draws one image of a class: its colour with a lighter blob (easy style), or the colour darkened to a
// third with a bright square (hard style), with noise.
func picture(size int, hue color.RGBA, hard bool, rng *rand.Rand) canvas {
	s := float64(size)
	if !hard {
		c := newCanvas(size, size, hue)
		light := color.RGBA{uint8(min(int(hue.R)+40, 255)), uint8(min(int(hue.G)+40, 255)), uint8(min(int(hue.B)+40, 255)), 255}
		c.ellipse(s*(0.3+0.4*rng.Float64()), s*(0.3+0.4*rng.Float64()), s*0.2, s*0.2, light)
		c.noise(20, rng)
		return c
	}
	dark := color.RGBA{hue.R / 3, hue.G / 3, hue.B / 3, 255}
	c := newCanvas(size, size, dark)
	x, y := int(s*0.5*rng.Float64()), int(s*0.5*rng.Float64())
	w := int(s * 0.4)
	c.rect(x, y, x+w, y+w, color.RGBA{235, 235, 235, 255})
	c.noise(20, rng)
	return c
}
