package data

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
)

// exampleRef is one planted example before materialisation: where its gray pixels come from and how it is
// labelled and tinted.
type exampleRef struct {
	test   bool // from the Fashion-MNIST test file (else train file)
	index  int  // index in that file
	label  int
	group  int
	tint   int // index into the experiment's colours; -1 = gray
	fclass int // Fashion-MNIST class
}

// classPools hands out shuffled, non-repeating indices of each Fashion-MNIST class, separately for the train and
// test files, so that no image lands in two splits.
type classPools struct {
	train, test [][]int
}

func newClassPools(f *Fashion, rng *rand.Rand) *classPools {
	p := &classPools{train: make([][]int, len(FashionClasses)), test: make([][]int, len(FashionClasses))}
	for i, l := range f.TrainLabels {
		p.train[l] = append(p.train[l], i)
	}
	for i, l := range f.TestLabels {
		p.test[l] = append(p.test[l], i)
	}
	for c := range FashionClasses {
		rng.Shuffle(len(p.train[c]), func(i, j int) { p.train[c][i], p.train[c][j] = p.train[c][j], p.train[c][i] })
		rng.Shuffle(len(p.test[c]), func(i, j int) { p.test[c][i], p.test[c][j] = p.test[c][j], p.test[c][i] })
	}
	return p
}

// take removes and returns n indices of class c from the train or test file.
func (p *classPools) take(test bool, c, n int) ([]int, error) {
	src, file := &p.train[c], "train"
	if test {
		src, file = &p.test[c], "test"
	}
	if n > len(*src) {
		return nil, fmt.Errorf("need %d more %s images of class %q from the Fashion-MNIST %s file, only %d left", n, file, FashionClasses[c], file, len(*src))
	}
	out := (*src)[:n:n]
	*src = (*src)[n:]
	return out, nil
}

// materialise turns references into an in-memory RGB split, in a seeded random order.
func materialise(f *Fashion, name string, refs []exampleRef, colors []color.RGBA, attrs []string, rng *rand.Rand) *ImageSplit {
	rng.Shuffle(len(refs), func(i, j int) { refs[i], refs[j] = refs[j], refs[i] })
	h, w := f.TrainImages.H, f.TrainImages.W
	s := &ImageSplit{Name: name, IDs: make([]string, len(refs)), Labels: make([]int, len(refs)), Groups: make([]int, len(refs)),
		Attrs: map[string][]int{}, Images: NewImages(len(refs), h, w, 3)}
	for _, a := range attrs {
		s.Attrs[a] = make([]int, len(refs))
	}
	for k, r := range refs {
		src, file := f.TrainImages, "train"
		if r.test {
			src, file = f.TestImages, "test"
		}
		s.IDs[k] = fmt.Sprintf("fashion-%s-%05d", file, r.index)
		s.Labels[k], s.Groups[k] = r.label, r.group
		g := src.Pixels(r.index)
		dst := s.Images.Pixels(k)
		if r.tint >= 0 {
			TintGray(dst, g, colors[r.tint])
		} else {
			for j, v := range g {
				dst[3*j], dst[3*j+1], dst[3*j+2] = v, v, v
			}
		}
		for _, a := range attrs {
			switch a {
			case "color":
				s.Attrs[a][k] = r.tint
			case "subclass":
				s.Attrs[a][k] = r.fclass
			}
		}
	}
	return s
}

func parseColors(names []string) ([]color.RGBA, []string, error) {
	out := make([]color.RGBA, len(names))
	canon := make([]string, len(names))
	seen := map[string]bool{}
	for i, n := range names {
		c, err := ParseColor(n)
		if err != nil {
			return nil, nil, err
		}
		canon[i] = strings.ToLower(strings.TrimSpace(n))
		if seen[canon[i]] {
			return nil, nil, fmt.Errorf("colour %q given twice", n)
		}
		seen[canon[i]] = true
		out[i] = c
	}
	return out, canon, nil
}

func newRNG(seed uint64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15^stream))
}

// SpuriousConfig sets up the spurious-colour experiment (the CelebA analogue, see [Spurious]).
// Zero values take the defaults given on each field.
type SpuriousConfig struct {
	// Classes are the two Fashion-MNIST classes of the binary task (label 0 and 1). Default {0, 6}:
	// T-shirt/top vs Shirt, visually close. ({0, 0}, the zero value, means the default.)
	Classes [2]int
	// Colors are the two tints; label k's majority colour is Colors[k]. Default {"red", "green"}.
	Colors [2]string
	// MajorityFraction is the share of each class's train (and pool) images in its majority colour.
	// Default 0.8 (4:1).
	MajorityFraction float64
	// TrainPerClass is the number of train images per class. Default 2000 (1600 majority + 400 minority).
	TrainPerClass int
	// ValPerGroup is the number of validation images per group (group-balanced). Default 250.
	ValPerGroup int
	// TestPerClass is the number of test images per class, drawn from the Fashion-MNIST test file (which has
	// 1000 per class, so at most 1000). Default 1000.
	TestPerClass int
	// TestMinorityShare is the minority colour's share of each class's test images: the test split keeps a
	// natural mix, the minority more common than in train but well below half (the paper's CelebA test: 39.5% and
	// 31.7%). Default 1/3; 0.5 gives a group-balanced test.
	TestMinorityShare float64
	// PoolPerClass is the number of unlabeled-pool images per class, tinted like train (PoolMajorityFraction).
	// Default 1000; -1 means no pool.
	PoolPerClass int
	// PoolMajorityFraction is the majority-colour share in the pool. Default: MajorityFraction.
	PoolMajorityFraction float64
	// Seed makes every choice (which images, which colours, the order) reproducible.
	Seed uint64
}

// WithDefaults returns c with every zero field set to its documented default (what Spurious uses).
func (c SpuriousConfig) WithDefaults() SpuriousConfig {
	if c.Classes == [2]int{} { // {0, 0} is not a valid pair, so it means "unset"
		c.Classes = [2]int{0, 6}
	}
	if c.Colors == [2]string{} {
		c.Colors = [2]string{"red", "green"}
	}
	if c.MajorityFraction == 0 {
		c.MajorityFraction = 0.8
	}
	if c.TrainPerClass == 0 {
		c.TrainPerClass = 2000
	}
	if c.ValPerGroup == 0 {
		c.ValPerGroup = 250
	}
	if c.TestPerClass == 0 {
		c.TestPerClass = 1000
	}
	if c.TestMinorityShare == 0 {
		c.TestMinorityShare = 1.0 / 3
	}
	if c.PoolPerClass == 0 {
		c.PoolPerClass = 1000
	}
	if c.PoolMajorityFraction == 0 {
		c.PoolMajorityFraction = c.MajorityFraction
	}
	return c
}

// Spurious builds the spurious-colour experiment from Fashion-MNIST: a binary task between two visually close
// classes in which every image is tinted with one of two colours, the colour correlating with the label in
// train only.
//
//   - Labels: 0 = Classes[0], 1 = Classes[1]. Colour k is the majority colour of label k.
//   - Groups: group = label*2 + minority, minority = 1 when the image has the other label's colour. So 0 and 2 are
//     the majority groups (label 0 in Colors[0], label 1 in Colors[1]) and 1 and 3 the minority groups
//     (label 0 in Colors[1], label 1 in Colors[0]).
//   - Attrs["color"]: index into Colors (names in AttrValues["color"]).
//   - Sizes (defaults): train 2×2000 at 4:1 per class (1600 majority, 400 minority each); val 4×250,
//     group-balanced; test 2×1000 at the natural mix of TestMinorityShare (667 majority, 333 minority each); pool
//     2×1000 tinted like train. Train, val and pool come from the Fashion-MNIST train file, test from its test
//     file; no image appears twice.
//   - IDs: "fashion-train-NNNNN" / "fashion-test-NNNNN", the index in the Fashion-MNIST file.
func Spurious(f *Fashion, cfg SpuriousConfig) (*Dataset, error) {
	cfg = cfg.WithDefaults()
	a, b := cfg.Classes[0], cfg.Classes[1]
	if a < 0 || a >= len(FashionClasses) || b < 0 || b >= len(FashionClasses) || a == b {
		return nil, fmt.Errorf("spurious: classes %v must be two different Fashion-MNIST classes 0..9", cfg.Classes)
	}
	colors, colorNames, err := parseColors(cfg.Colors[:])
	if err != nil {
		return nil, fmt.Errorf("spurious: %w", err)
	}
	if cfg.MajorityFraction < 0.5 || cfg.MajorityFraction > 1 || cfg.PoolMajorityFraction < 0 || cfg.PoolMajorityFraction > 1 {
		return nil, fmt.Errorf("spurious: majority fraction %g (pool %g) must be in [0.5, 1] ([0, 1] for the pool)", cfg.MajorityFraction, cfg.PoolMajorityFraction)
	}
	if cfg.TrainPerClass < 0 || cfg.ValPerGroup < 0 || cfg.TestPerClass < 0 || cfg.PoolPerClass < -1 {
		return nil, fmt.Errorf("spurious: negative sizes in %+v", cfg)
	}
	if !(cfg.TestMinorityShare > 0 && cfg.TestMinorityShare < 1) {
		return nil, fmt.Errorf("spurious: test minority share %g must be in (0, 1)", cfg.TestMinorityShare)
	}
	rng := newRNG(cfg.Seed, 1)
	pools := newClassPools(f, rng)
	var train, val, test, pool []exampleRef
	// colored makes refs for label k: n images, the first nMaj in the majority colour.
	colored := func(test bool, k, n, nMaj int) ([]exampleRef, error) {
		idx, err := pools.take(test, cfg.Classes[k], n)
		if err != nil {
			return nil, err
		}
		out := make([]exampleRef, n)
		for j, i := range idx {
			minority := 0
			if j >= nMaj {
				minority = 1
			}
			tint := k
			if minority == 1 {
				tint = 1 - k
			}
			out[j] = exampleRef{test: test, index: i, label: k, group: 2*k + minority, tint: tint, fclass: cfg.Classes[k]}
		}
		return out, nil
	}
	for k := range 2 {
		steps := []struct {
			dst     *[]exampleRef
			test    bool
			n, nMaj int
		}{
			{&train, false, cfg.TrainPerClass, int(math.Round(cfg.MajorityFraction * float64(cfg.TrainPerClass)))},
			{&val, false, 2 * cfg.ValPerGroup, cfg.ValPerGroup},
			{&test, true, cfg.TestPerClass, cfg.TestPerClass - int(math.Round(cfg.TestMinorityShare*float64(cfg.TestPerClass)))},
		}
		if cfg.PoolPerClass > 0 {
			steps = append(steps, struct {
				dst     *[]exampleRef
				test    bool
				n, nMaj int
			}{&pool, false, cfg.PoolPerClass, int(math.Round(cfg.PoolMajorityFraction * float64(cfg.PoolPerClass)))})
		}
		for _, st := range steps {
			refs, err := colored(st.test, k, st.n, st.nMaj)
			if err != nil {
				return nil, fmt.Errorf("spurious: %w (reduce the split sizes)", err)
			}
			*st.dst = append(*st.dst, refs...)
		}
	}
	cls := []string{FashionClasses[a], FashionClasses[b]}
	d := &Dataset{
		Name:       "fashion-spurious",
		Classes:    cls,
		AttrValues: map[string][]string{"color": colorNames},
		Params: map[string]string{
			"classes": fmt.Sprintf("%s,%s", cls[0], cls[1]), "colors": strings.Join(colorNames, ","),
			"majority_fraction": fmt.Sprint(cfg.MajorityFraction), "train_per_class": fmt.Sprint(cfg.TrainPerClass),
			"val_per_group": fmt.Sprint(cfg.ValPerGroup), "test_per_class": fmt.Sprint(cfg.TestPerClass),
			"test_minority_share": fmt.Sprint(cfg.TestMinorityShare),
			"pool_per_class":      fmt.Sprint(cfg.PoolPerClass), "pool_majority_fraction": fmt.Sprint(cfg.PoolMajorityFraction),
			"seed": fmt.Sprint(cfg.Seed),
		},
	}
	for k := range 2 {
		d.Groups = append(d.Groups,
			Group{ID: 2 * k, Name: fmt.Sprintf("%s, %s (majority)", cls[k], colorNames[k]), Class: k},
			Group{ID: 2*k + 1, Name: fmt.Sprintf("%s, %s (minority)", cls[k], colorNames[1-k]), Class: k, Minority: true})
	}
	attrs := []string{"color"}
	d.Train = materialise(f, "train", train, colors, attrs, rng)
	d.Val = materialise(f, "val", val, colors, attrs, rng)
	d.Test = materialise(f, "test", test, colors, attrs, rng)
	if cfg.PoolPerClass > 0 {
		d.Pool = materialise(f, "pool", pool, colors, attrs, rng)
	}
	return d, d.Validate()
}

// RareConfig sets up the rare-subclass experiment (the SuperCIFAR-100 analogue, see [Rare]).
// Zero values take the defaults given on each field.
type RareConfig struct {
	// Superclasses lists the Fashion-MNIST classes (subclasses) of each superclass; superclass i gets label i.
	// Default DefaultRareSuperclasses.
	Superclasses [][]int
	// Names names the superclasses; default: the member names joined with "|".
	Names []string
	// Rare gives, for each superclass, the member kept rare in train. Default DefaultRare.
	Rare []int
	// RareFraction is the rare subclass's train count relative to a common subclass's. Default 0.1 (1:10).
	RareFraction float64
	// TrainPerSubclass is the number of train images of each common subclass. Default 1000.
	TrainPerSubclass int
	// ValPerSubclass is the number of validation images per subclass (subclass-balanced). Default 200.
	ValPerSubclass int
	// TestPerClass is the number of test images per superclass, from the Fashion-MNIST test file (at most 1000
	// per subclass). Default 0: as many as fit with TestMinorityShare (3000 for a superclass of three or four
	// members, 1500 for two).
	TestPerClass int
	// TestMinorityShare is the rare subclass's share of its superclass's test images (the common subclasses share
	// the rest equally): a natural mix, the rare subclass more common than in train. Default 1/3 (three-member
	// superclasses then have subclass-balanced tests).
	TestMinorityShare float64
	// PoolPerSubclass is the number of unlabeled-pool images per subclass (subclass-balanced). Default 500;
	// -1 means no pool.
	PoolPerSubclass int
	// Colors, when not empty, tints every image with a colour drawn uniformly from it, independently of the label
	// (variety for captions; no correlation is planted). Empty: gray images (as RGB).
	Colors []string
	// Seed makes every choice reproducible.
	Seed uint64
}

// DefaultRareSuperclasses groups the ten Fashion-MNIST classes so that each superclass's rare member looks like
// another superclass more than its own: {T-shirt/top, Pullover, Sneaker}, {Sandal, Ankle boot, Coat},
// {Trouser, Dress, Bag, Shirt}.
var DefaultRareSuperclasses = [][]int{{0, 2, 7}, {5, 9, 4}, {1, 3, 8, 6}}

// DefaultRare are the default rare members of DefaultRareSuperclasses: Sneaker (looks like the footwear of
// superclass 1), Coat (looks like Pullover, superclass 0) and Shirt (looks like T-shirt/top and Pullover).
var DefaultRare = []int{7, 4, 6}

// WithDefaults returns c with every zero field set to its documented default (what Rare uses; Names stay as
// given, Rare names them from the members).
func (c RareConfig) WithDefaults() RareConfig {
	if c.Superclasses == nil {
		c.Superclasses = DefaultRareSuperclasses
		if c.Rare == nil {
			c.Rare = DefaultRare
		}
	}
	if c.RareFraction == 0 {
		c.RareFraction = 0.1
	}
	if c.TrainPerSubclass == 0 {
		c.TrainPerSubclass = 1000
	}
	if c.ValPerSubclass == 0 {
		c.ValPerSubclass = 200
	}
	if c.TestMinorityShare == 0 {
		c.TestMinorityShare = 1.0 / 3
	}
	if c.PoolPerSubclass == 0 {
		c.PoolPerSubclass = 500
	}
	return c
}

// Rare builds the rare-subclass experiment from Fashion-MNIST: the label is a superclass made of several
// Fashion-MNIST classes (subclasses), and one subclass per superclass is kept at a small fraction in train only.
//
//   - Labels: superclass index (names in Classes).
//   - Groups: one per subclass, numbered in the order they are listed (superclass 0's members first); a group is
//     Minority when it is a rare subclass. Attrs["subclass"] holds the Fashion-MNIST class (names in
//     AttrValues["subclass"] = FashionClasses); Attrs["color"] the tint when Colors is set.
//   - Sizes (defaults, 10 subclasses in 3 superclasses): train 1000 per common subclass and 100 per rare one
//     (7,300 images); val 200 per subclass; test 3000 per superclass at the natural mix of TestMinorityShare
//     (1000 per subclass of the three-member superclasses; 1000 rare and 667 per common subclass in the
//     four-member one); pool 500 per subclass. Train, val and pool come from the Fashion-MNIST train file, test
//     from its test file; no image appears twice.
func Rare(f *Fashion, cfg RareConfig) (*Dataset, error) {
	cfg = cfg.WithDefaults()
	if len(cfg.Superclasses) < 2 {
		return nil, fmt.Errorf("rare: need at least 2 superclasses, got %d", len(cfg.Superclasses))
	}
	if len(cfg.Rare) != len(cfg.Superclasses) {
		return nil, fmt.Errorf("rare: %d rare subclasses for %d superclasses (one each)", len(cfg.Rare), len(cfg.Superclasses))
	}
	if cfg.Names != nil && len(cfg.Names) != len(cfg.Superclasses) {
		return nil, fmt.Errorf("rare: %d names for %d superclasses", len(cfg.Names), len(cfg.Superclasses))
	}
	if cfg.RareFraction <= 0 || cfg.RareFraction > 1 {
		return nil, fmt.Errorf("rare: rare fraction %g must be in (0, 1]", cfg.RareFraction)
	}
	if cfg.TrainPerSubclass < 0 || cfg.ValPerSubclass < 0 || cfg.TestPerClass < 0 || cfg.PoolPerSubclass < -1 {
		return nil, fmt.Errorf("rare: negative sizes in %+v", cfg)
	}
	if !(cfg.TestMinorityShare > 0 && cfg.TestMinorityShare < 1) {
		return nil, fmt.Errorf("rare: test minority share %g must be in (0, 1)", cfg.TestMinorityShare)
	}
	seen := map[int]bool{}
	for s, members := range cfg.Superclasses {
		if len(members) < 2 {
			return nil, fmt.Errorf("rare: superclass %d has %d members, need at least 2", s, len(members))
		}
		found := false
		for _, m := range members {
			if m < 0 || m >= len(FashionClasses) {
				return nil, fmt.Errorf("rare: superclass %d: %d is not a Fashion-MNIST class 0..9", s, m)
			}
			if seen[m] {
				return nil, fmt.Errorf("rare: Fashion-MNIST class %q is in two superclasses", FashionClasses[m])
			}
			seen[m] = true
			found = found || m == cfg.Rare[s]
		}
		if !found {
			return nil, fmt.Errorf("rare: rare class %d is not a member of superclass %d %v", cfg.Rare[s], s, cfg.Superclasses[s])
		}
	}
	var colors []color.RGBA
	var colorNames []string
	if len(cfg.Colors) > 0 {
		var err error
		if colors, colorNames, err = parseColors(cfg.Colors); err != nil {
			return nil, fmt.Errorf("rare: %w", err)
		}
	}
	rng := newRNG(cfg.Seed, 2)
	pools := newClassPools(f, rng)
	d := &Dataset{Name: "fashion-rare", AttrValues: map[string][]string{"subclass": FashionClasses}}
	attrs := []string{"subclass"}
	if colors != nil {
		d.AttrValues["color"] = colorNames
		attrs = append(attrs, "color")
	}
	nRare := int(math.Round(cfg.RareFraction * float64(cfg.TrainPerSubclass)))
	var train, val, test, pool []exampleRef
	var desc []string
	for s, members := range cfg.Superclasses {
		name := ""
		if cfg.Names != nil {
			name = cfg.Names[s]
		} else {
			parts := make([]string, len(members))
			for i, m := range members {
				parts[i] = FashionClasses[m]
			}
			name = strings.Join(parts, "|")
		}
		d.Classes = append(d.Classes, name)
		desc = append(desc, fmt.Sprintf("%v rare %d", members, cfg.Rare[s]))
		avail := len(f.TestLabels)
		for _, m := range members {
			avail = min(avail, len(pools.test[m]))
		}
		nTest := rareTestCounts(members, cfg.Rare[s], cfg.TestPerClass, cfg.TestMinorityShare, avail)
		for k, m := range members {
			g := len(d.Groups)
			rare := m == cfg.Rare[s]
			gname := fmt.Sprintf("%s in %s", FashionClasses[m], name)
			if rare {
				gname += " (rare)"
			}
			d.Groups = append(d.Groups, Group{ID: g, Name: gname, Class: s, Minority: rare})
			nTrain := cfg.TrainPerSubclass
			if rare {
				nTrain = nRare
			}
			steps := []struct {
				dst  *[]exampleRef
				test bool
				n    int
			}{{&train, false, nTrain}, {&val, false, cfg.ValPerSubclass}, {&test, true, nTest[k]}}
			if cfg.PoolPerSubclass > 0 {
				steps = append(steps, struct {
					dst  *[]exampleRef
					test bool
					n    int
				}{&pool, false, cfg.PoolPerSubclass})
			}
			for _, st := range steps {
				idx, err := pools.take(st.test, m, st.n)
				if err != nil {
					return nil, fmt.Errorf("rare: %w (reduce the split sizes)", err)
				}
				for _, i := range idx {
					tint := -1
					if colors != nil {
						tint = rng.IntN(len(colors))
					}
					*st.dst = append(*st.dst, exampleRef{test: st.test, index: i, label: s, group: g, tint: tint, fclass: m})
				}
			}
		}
	}
	d.Params = map[string]string{
		"superclasses": strings.Join(desc, "; "), "rare_fraction": fmt.Sprint(cfg.RareFraction),
		"train_per_subclass": fmt.Sprint(cfg.TrainPerSubclass), "val_per_subclass": fmt.Sprint(cfg.ValPerSubclass),
		"test_per_class":      fmt.Sprint(cfg.TestPerClass),
		"test_minority_share": fmt.Sprint(cfg.TestMinorityShare), "pool_per_subclass": fmt.Sprint(cfg.PoolPerSubclass),
		"colors": strings.Join(colorNames, ","), "seed": fmt.Sprint(cfg.Seed),
	}
	d.Train = materialise(f, "train", train, colors, attrs, rng)
	d.Val = materialise(f, "val", val, colors, attrs, rng)
	d.Test = materialise(f, "test", test, colors, attrs, rng)
	if cfg.PoolPerSubclass > 0 {
		d.Pool = materialise(f, "pool", pool, colors, attrs, rng)
	}
	return d, d.Validate()
}

// rareTestCounts returns the number of test images of each member of a superclass: the rare member gets the
// share s of n images, the others split the rest equally (the first ones one more when it does not divide). n = 0
// means the largest n for which no member needs more than avail images.
func rareTestCounts(members []int, rare, n int, s float64, avail int) []int {
	m := len(members)
	if n == 0 {
		n = int(math.Floor(min(float64(avail)/s, float64(avail*(m-1))/(1-s)) + 1e-9))
	}
	nRare := int(math.Round(s * float64(n)))
	rest := n - nRare
	out := make([]int, m)
	k := 0
	for i, c := range members {
		if c == rare {
			out[i] = nRare
			continue
		}
		out[i] = rest / (m - 1)
		if k < rest%(m-1) {
			out[i]++
		}
		k++
	}
	return out
}

// FashionConfig sets up the plain ten-class Fashion-MNIST dataset (see [FashionDataset]).
type FashionConfig struct {
	// TrainPerClass is the number of train images per class. Default 5000.
	TrainPerClass int
	// ValPerClass is the number of validation images per class. Default 1000.
	ValPerClass int
	// Seed makes the choice reproducible.
	Seed uint64
}

// FashionDataset returns plain Fashion-MNIST (ten classes, gray images as RGB, no groups): train and val are
// drawn per class from the Fashion-MNIST train file (defaults 5000 + 1000 per class), test is the whole test file.
func FashionDataset(f *Fashion, cfg FashionConfig) (*Dataset, error) {
	if cfg.TrainPerClass == 0 {
		cfg.TrainPerClass = 5000
	}
	if cfg.ValPerClass == 0 {
		cfg.ValPerClass = 1000
	}
	rng := newRNG(cfg.Seed, 3)
	pools := newClassPools(f, rng)
	var train, val, test []exampleRef
	for c := range FashionClasses {
		for _, st := range []struct {
			dst  *[]exampleRef
			test bool
			n    int
		}{{&train, false, cfg.TrainPerClass}, {&val, false, cfg.ValPerClass}, {&test, true, len(pools.test[c])}} {
			idx, err := pools.take(st.test, c, st.n)
			if err != nil {
				return nil, fmt.Errorf("fashion: %w", err)
			}
			for _, i := range idx {
				*st.dst = append(*st.dst, exampleRef{test: st.test, index: i, label: c, tint: -1, fclass: c})
			}
		}
	}
	d := &Dataset{Name: "fashion", Classes: FashionClasses, Params: map[string]string{
		"train_per_class": fmt.Sprint(cfg.TrainPerClass), "val_per_class": fmt.Sprint(cfg.ValPerClass), "seed": fmt.Sprint(cfg.Seed)}}
	d.Train = materialise(f, "train", train, nil, nil, rng)
	d.Val = materialise(f, "val", val, nil, nil, rng)
	d.Test = materialise(f, "test", test, nil, nil, rng)
	for _, s := range d.Splits() {
		s.Groups, s.Attrs = nil, nil
	}
	return d, d.Validate()
}
