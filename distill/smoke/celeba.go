package smoke

import (
	"fmt"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/faildirs/faildirs/internal/atomicfile"
)

// CelebAAttributes are the 40 attribute names of CelebA's list_attr_celeba.txt, in the file's order.
var CelebAAttributes = strings.Fields(`5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips
Big_Nose Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair
Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose
Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat
Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young`)

// CelebAConfig sets up a generated CelebA folder. The zero value is the notebooks' smoke data (840 images).
type CelebAConfig struct {
	// Counts[p][g] is the number of images of partition p (0 train, 1 validation, 2 test) in group g, in the order
	// of the age task's groups: old male, old female, young female, young male. Default: train {200, 50, 200, 50}
	// (4:1 majority : minority per class, as the age task keeps it), validation 40 per group, test {60, 30, 60,
	// 30} (a natural mix, the minority a third of each class).
	Counts [3][4]int `json:"counts"`
	// Size is the side of the square images in pixels (default 32).
	Size int `json:"size"`
	// AgeSignal is how much lighter a young face is than an old one, in 8-bit levels; faces also vary by ±30
	// levels, so age is only partly visible (default 60). Gender is always plainly visible (the hair band).
	AgeSignal int `json:"age_signal"`
	// Seed drives the images and the random attributes.
	Seed uint64 `json:"seed"`
}

// WithDefaults fills the zero fields with their defaults.
func (c CelebAConfig) WithDefaults() CelebAConfig {
	if c.Counts == ([3][4]int{}) {
		c.Counts = [3][4]int{{200, 50, 200, 50}, {40, 40, 40, 40}, {60, 30, 60, 30}}
	}
	if c.Size == 0 {
		c.Size = 32
	}
	if c.AgeSignal == 0 {
		c.AgeSignal = 60
	}
	return c
}

// WriteCelebA writes a generated CelebA folder at dir in the dataset's own layout: img_align_celeba/NNNNNN.jpg,
// list_attr_celeba.txt (the image count, the 40 attribute names, one ±1 row per image) and
// list_eval_partition.txt ("<file> 0|1|2"). Within each partition the images come group by group. It does nothing
// when dir already holds the same generated data.
func WriteCelebA(dir string, cfg CelebAConfig) error {
	cfg = cfg.WithDefaults()
	for p, groups := range cfg.Counts {
		for g, n := range groups {
			if n < 0 {
				return fmt.Errorf("smoke: celeba: counts[%d][%d] = %d is negative", p, g, n)
			}
		}
	}
	if cfg.Size < 8 {
		return fmt.Errorf("smoke: celeba: size %d, want at least 8", cfg.Size)
	}
	want, err := manifest("celeba", cfg)
	if err != nil {
		return err
	}
	if upToDate(dir, want) {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(dir, "img_align_celeba"), 0o755); err != nil {
		return fmt.Errorf("smoke: celeba: %w", err)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xCE1EBA))
	var attr, part strings.Builder
	n := 0
	for p, groups := range cfg.Counts {
		for g, count := range groups {
			young, male := g >= 2, g == 0 || g == 3
			for range count {
				n++
				name := fmt.Sprintf("%06d.jpg", n)
				attr.WriteString(name)
				for _, a := range CelebAAttributes {
					v := rng.IntN(2) == 0
					switch a {
					case "Young":
						v = young
					case "Male":
						v = male
					}
					if v {
						attr.WriteString("  1")
					} else {
						attr.WriteString(" -1")
					}
				}
				attr.WriteString("\n")
				fmt.Fprintf(&part, "%s %d\n", name, p)
				if err := face(cfg, young, male, rng).writeJPEG(filepath.Join(dir, "img_align_celeba", name)); err != nil {
					return err
				}
			}
		}
	}
	files := []struct{ name, text string }{
		{"list_attr_celeba.txt", fmt.Sprintf("%d\n%s\n%s", n, strings.Join(CelebAAttributes, " "), attr.String())},
		{"list_eval_partition.txt", part.String()},
		{manifestName, string(want)},
	}
	for _, f := range files {
		if err := atomicfile.WriteBytes(filepath.Join(dir, f.name), []byte(f.text)); err != nil {
			return fmt.Errorf("smoke: celeba: %w", err)
		}
	}
	return nil
}

// face draws one portrait: a face ellipse, lighter for young, under a hair band, blue for men and brown for
// women, on a grey background, with noise.
func face(cfg CelebAConfig, young, male bool, rng *rand.Rand) canvas {
	s := float64(cfg.Size)
	bg := jitter(110, 30, rng)
	c := newCanvas(cfg.Size, cfg.Size, color.RGBA{bg, bg, bg, 255})
	tone := 150
	if young {
		tone += cfg.AgeSignal
	}
	tone += rng.IntN(61) - 30
	skin := color.RGBA{uint8(min(tone+30, 255)), uint8(min(max(tone, 0), 255)), uint8(min(max(tone-25, 0), 255)), 255}
	c.ellipse(s/2, s*0.58, s*0.3, s*0.36, skin)
	hair := color.RGBA{jitter(120, 15, rng), jitter(80, 15, rng), jitter(50, 15, rng), 255}
	if male {
		hair = color.RGBA{jitter(50, 15, rng), jitter(70, 15, rng), jitter(190, 15, rng), 255}
	}
	c.rect(int(s*0.2), int(s*0.1), int(s*0.8), int(s*0.3), hair)
	c.noise(12, rng)
	return c
}
