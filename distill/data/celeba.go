package data

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// CelebA attribute table, as read from list_attr_celeba.txt (or Kaggle's list_attr_celeba.csv).
type CelebA struct {
	// Root is the dataset directory; ImageDir holds the aligned JPEGs.
	Root, ImageDir string
	// Files are the image file names ("000001.jpg") in file order.
	Files []string
	// AttrNames are the 40 attribute names in column order ("5_o_Clock_Shadow", ..., "Young").
	AttrNames []string
	// Attrs[i][a] is true when image i has attribute a (+1 in the file).
	Attrs [][]bool
	// Partition[i] is the official split: 0 train, 1 validation, 2 test.
	Partition []int
}

// LoadCelebA reads CelebA in its standard layout under root:
//
//	img_align_celeba/000001.jpg ...   (Kaggle's doubled img_align_celeba/img_align_celeba/ also works)
//	list_attr_celeba.txt              (count line, names line, then "<file> ±1 ×40"; or list_attr_celeba.csv)
//	list_eval_partition.txt           ("<file> 0|1|2"; or list_eval_partition.csv)
//
// Errors name the missing file, or the file and line of a malformed entry. Image files are only checked to
// exist; they are decoded when a batch is read.
func LoadCelebA(root string) (*CelebA, error) {
	if root == "" {
		return nil, fmt.Errorf("celeba: no dataset directory given")
	}
	c := &CelebA{Root: root}
	c.ImageDir = filepath.Join(root, "img_align_celeba")
	if st, err := os.Stat(filepath.Join(c.ImageDir, "img_align_celeba")); err == nil && st.IsDir() {
		c.ImageDir = filepath.Join(c.ImageDir, "img_align_celeba")
	}
	if st, err := os.Stat(c.ImageDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("celeba: image directory %s not found (expected the standard layout: img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt)", c.ImageDir)
	}
	attrPath, err := firstExisting(root, "list_attr_celeba.txt", "list_attr_celeba.csv")
	if err != nil {
		return nil, fmt.Errorf("celeba: %w", err)
	}
	if err := c.readAttrs(attrPath); err != nil {
		return nil, err
	}
	partPath, err := firstExisting(root, "list_eval_partition.txt", "list_eval_partition.csv")
	if err != nil {
		return nil, fmt.Errorf("celeba: %w", err)
	}
	if err := c.readPartition(partPath); err != nil {
		return nil, err
	}
	return c, nil
}

func firstExisting(dir string, names ...string) (string, error) {
	for _, n := range names {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("none of %s found in %s", strings.Join(names, ", "), dir)
}

// fields splits a line on whitespace, or on commas for CSV files.
func fields(line string, csv bool) []string {
	if csv {
		parts := strings.Split(line, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts
	}
	return strings.Fields(line)
}

func (c *CelebA) readAttrs(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("celeba: %w", err)
	}
	defer f.Close()
	return c.parseAttrs(f, path, strings.HasSuffix(path, ".csv"))
}

// parseAttrs reads an attribute table from r (named path in errors): the text layout, or Kaggle's CSV when csv is
// set. Lines longer than 1 MB are an error.
func (c *CelebA) parseAttrs(r io.Reader, path string, csv bool) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	want := -1
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		fs := fields(text, csv)
		switch {
		case !csv && line == 1:
			n, err := strconv.Atoi(strings.TrimSpace(text))
			if err != nil || n < 0 {
				return fmt.Errorf("celeba: %s:%d: want the image count, got %q", path, line, text)
			}
			want = n
			continue
		case c.AttrNames == nil:
			if csv {
				fs = fs[1:] // "image_id" column
			}
			if len(fs) == 0 {
				return fmt.Errorf("celeba: %s:%d: empty attribute-name line", path, line)
			}
			c.AttrNames = fs
			continue
		}
		if len(fs) != len(c.AttrNames)+1 {
			return fmt.Errorf("celeba: %s:%d: %d fields, want a file name and %d attribute values", path, line, len(fs), len(c.AttrNames))
		}
		row := make([]bool, len(c.AttrNames))
		for a, v := range fs[1:] {
			switch v {
			case "1":
				row[a] = true
			case "-1", "0":
			default:
				return fmt.Errorf("celeba: %s:%d: attribute %s = %q, want 1 or -1", path, line, c.AttrNames[a], v)
			}
		}
		c.Files = append(c.Files, fs[0])
		c.Attrs = append(c.Attrs, row)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("celeba: %s: %w", path, err)
	}
	if c.AttrNames == nil {
		return fmt.Errorf("celeba: %s: no attribute names", path)
	}
	if want >= 0 && want != len(c.Files) {
		return fmt.Errorf("celeba: %s: header says %d images, found %d rows", path, want, len(c.Files))
	}
	return nil
}

func (c *CelebA) readPartition(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("celeba: %w", err)
	}
	defer f.Close()
	csv := strings.HasSuffix(path, ".csv")
	index := make(map[string]int, len(c.Files))
	for i, name := range c.Files {
		index[name] = i
	}
	c.Partition = make([]int, len(c.Files))
	for i := range c.Partition {
		c.Partition[i] = -1
	}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || (csv && line == 1) {
			continue
		}
		fs := fields(text, csv)
		if len(fs) != 2 {
			return fmt.Errorf("celeba: %s:%d: want \"<file> <0|1|2>\", got %q", path, line, text)
		}
		p, err := strconv.Atoi(fs[1])
		if err != nil || p < 0 || p > 2 {
			return fmt.Errorf("celeba: %s:%d: partition %q is not 0, 1 or 2", path, line, fs[1])
		}
		i, ok := index[fs[0]]
		if !ok {
			return fmt.Errorf("celeba: %s:%d: image %q is not in the attribute file", path, line, fs[0])
		}
		c.Partition[i] = p
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("celeba: %s: %w", path, err)
	}
	for i, p := range c.Partition {
		if p < 0 {
			return fmt.Errorf("celeba: %s: image %q has no partition", path, c.Files[i])
		}
	}
	return nil
}

// Attr returns the column of the named attribute, or an error listing the known names.
func (c *CelebA) Attr(name string) (int, error) {
	for a, n := range c.AttrNames {
		if strings.EqualFold(n, name) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("celeba: no attribute %q (have %s)", name, strings.Join(c.AttrNames, ", "))
}

// CelebAConfig sets up the paper's CelebA age task (see [CelebAAge]). Zero values take the defaults.
type CelebAConfig struct {
	// MajorityFraction is the majority-group share of each class in train. Default 0.8 (4:1).
	MajorityFraction float64
	// ValPerGroup is the number of validation images per group; default (0): the size of the smallest group in
	// the official validation partition, so every group has the same count (1795 each on the real data).
	ValPerGroup int
	// BalancedTest group-balances the test partition the same way (all test images otherwise).
	BalancedTest bool
	// PoolFraction holds out this share of the official train partition as an unlabeled pool (natural
	// distribution, drawn before the 4:1 train split is built from the rest). Default 0: no pool.
	PoolFraction float64
	// Seed makes every draw reproducible.
	Seed uint64
}

// CelebAAge builds the paper's CelebA experiment from the dataset at root (standard layout, see [LoadCelebA]):
//
//   - Labels: 0 = "old" (attribute Young = -1), 1 = "young" (Young = 1).
//   - Groups: group = label*2 + minority, where old men and young women are the majorities: 0 old male,
//     1 old female (minority), 2 young female, 3 young male (minority).
//   - Train: from the official train partition (minus the pool), per class all of the minority group that
//     fits the ratio and MajorityFraction/(1-MajorityFraction) times as many of the majority (4:1), drawn at random.
//   - Val: the official validation partition, ValPerGroup random images per group. Test: the official test
//     partition, group-balanced the same way when BalancedTest, else all of it.
//   - Attrs: every CelebA attribute by its file name ("Male", "Eyeglasses", ...), values {"no", "yes"}.
//   - IDs: the image file names; Files: their paths.
func CelebAAge(root string, cfg CelebAConfig) (*Dataset, error) {
	c, err := LoadCelebA(root)
	if err != nil {
		return nil, err
	}
	return c.AgeTask(cfg)
}

// AgeTask builds the age experiment from an already loaded table (see [CelebAAge]).
func (c *CelebA) AgeTask(cfg CelebAConfig) (*Dataset, error) {
	if cfg.MajorityFraction == 0 {
		cfg.MajorityFraction = 0.8
	}
	if cfg.MajorityFraction < 0.5 || cfg.MajorityFraction >= 1 {
		return nil, fmt.Errorf("celeba: majority fraction %g must be in [0.5, 1)", cfg.MajorityFraction)
	}
	if cfg.PoolFraction < 0 || cfg.PoolFraction >= 1 {
		return nil, fmt.Errorf("celeba: pool fraction %g must be in [0, 1)", cfg.PoolFraction)
	}
	label, group, err := c.ageLabels()
	if err != nil {
		return nil, err
	}
	rng := newRNG(cfg.Seed, 4)
	byPart := [3][]int{}
	for i, p := range c.Partition {
		byPart[p] = append(byPart[p], i)
	}
	// Pool: a random share of the official train partition.
	trainIdx := byPart[0]
	var poolIdx []int
	if cfg.PoolFraction > 0 {
		perm := append([]int(nil), trainIdx...)
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		np := int(float64(len(perm)) * cfg.PoolFraction)
		poolIdx, trainIdx = perm[:np], perm[np:]
		sort.Ints(poolIdx)
		sort.Ints(trainIdx)
	}
	byGroup := func(idx []int) [4][]int {
		var g [4][]int
		for _, i := range idx {
			g[group(i)] = append(g[group(i)], i)
		}
		return g
	}
	sample := func(idx []int, n int) []int {
		perm := append([]int(nil), idx...)
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		return perm[:n]
	}
	ratio := cfg.MajorityFraction / (1 - cfg.MajorityFraction)
	var train []int
	tg := byGroup(trainIdx)
	for l := range 2 {
		maj, mnr := tg[2*l], tg[2*l+1]
		nMin := min(len(mnr), int(float64(len(maj))/ratio+1e-9))
		nMaj := int(float64(nMin)*ratio + 0.5)
		if nMin == 0 {
			return nil, fmt.Errorf("celeba: class %d has %d majority and %d minority train images: cannot build the %.3g:1 split", l, len(maj), len(mnr), ratio)
		}
		train = append(train, sample(maj, nMaj)...)
		train = append(train, sample(mnr, nMin)...)
	}
	balanced := func(idx []int, per int) ([]int, error) {
		g := byGroup(idx)
		if per == 0 {
			per = len(idx)
			for _, m := range g {
				per = min(per, len(m))
			}
		}
		var out []int
		for k, m := range g {
			if len(m) < per {
				return nil, fmt.Errorf("celeba: group %d has %d images, fewer than %d", k, len(m), per)
			}
			out = append(out, sample(m, per)...)
		}
		return out, nil
	}
	val, err := balanced(byPart[1], cfg.ValPerGroup)
	if err != nil {
		return nil, fmt.Errorf("validation: %w", err)
	}
	test := byPart[2]
	if cfg.BalancedTest {
		if test, err = balanced(test, 0); err != nil {
			return nil, fmt.Errorf("test: %w", err)
		}
	}
	d := c.ageDataset()
	d.Params = map[string]string{"root": c.Root, "majority_fraction": fmt.Sprint(cfg.MajorityFraction),
		"val_per_group": fmt.Sprint(cfg.ValPerGroup), "balanced_test": fmt.Sprint(cfg.BalancedTest),
		"pool_fraction": fmt.Sprint(cfg.PoolFraction), "seed": fmt.Sprint(cfg.Seed)}
	mk := func(name string, idx []int, rng *rand.Rand) *ImageSplit {
		idx = append([]int(nil), idx...)
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		return c.ageSplit(name, idx, label, group)
	}
	d.Train = mk("train", train, rng)
	d.Val = mk("val", val, rng)
	d.Test = mk("test", test, rng)
	if poolIdx != nil {
		d.Pool = mk("pool", poolIdx, rng)
	}
	for _, s := range d.Splits() {
		for k, p := range s.Files {
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("celeba: split %s: image %s (listed in the attribute file) is missing: %w", s.Name, s.IDs[k], err)
			}
		}
	}
	return d, d.Validate()
}

// ageLabels returns the age task's label (0 old, 1 young) and group (label*2 + minority) of image i.
func (c *CelebA) ageLabels() (label, group func(i int) int, err error) {
	young, err := c.Attr("Young")
	if err != nil {
		return nil, nil, err
	}
	male, err := c.Attr("Male")
	if err != nil {
		return nil, nil, err
	}
	label = func(i int) int {
		if c.Attrs[i][young] {
			return 1
		}
		return 0
	}
	group = func(i int) int {
		l := label(i)
		minority := 0
		if (l == 0 && !c.Attrs[i][male]) || (l == 1 && c.Attrs[i][male]) {
			minority = 1
		}
		return 2*l + minority
	}
	return label, group, nil
}

// ageDataset returns the age task's classes, groups and attribute values, without splits.
func (c *CelebA) ageDataset() *Dataset {
	d := &Dataset{
		Name:    "celeba-age",
		Classes: []string{"old", "young"},
		Groups: []Group{
			{ID: 0, Name: "old, male (majority)", Class: 0},
			{ID: 1, Name: "old, female (minority)", Class: 0, Minority: true},
			{ID: 2, Name: "young, female (majority)", Class: 1},
			{ID: 3, Name: "young, male (minority)", Class: 1, Minority: true},
		},
		AttrValues: map[string][]string{},
	}
	for _, a := range c.AttrNames {
		d.AttrValues[a] = []string{"no", "yes"}
	}
	return d
}

// ageSplit makes the split of the images idx (in that order), labelled and grouped by the age task.
func (c *CelebA) ageSplit(name string, idx []int, label, group func(int) int) *ImageSplit {
	s := &ImageSplit{Name: name, IDs: make([]string, len(idx)), Labels: make([]int, len(idx)), Groups: make([]int, len(idx)),
		Files: make([]string, len(idx)), Attrs: map[string][]int{}}
	for _, a := range c.AttrNames {
		s.Attrs[a] = make([]int, len(idx))
	}
	for k, i := range idx {
		s.IDs[k], s.Files[k] = c.Files[i], filepath.Join(c.ImageDir, c.Files[i])
		s.Labels[k], s.Groups[k] = label(i), group(i)
		for a, name := range c.AttrNames {
			if c.Attrs[i][a] {
				s.Attrs[name][k] = 1
			}
		}
	}
	return s
}

// AgeExamples returns every image of the table, in file order, as one split named "all", labelled and grouped as
// in [CelebA.AgeTask], with the age task's classes and groups (Dataset has no splits): the index a model's own
// predictions are joined to by id (the image file name).
func (c *CelebA) AgeExamples() (*Dataset, *ImageSplit, error) {
	label, group, err := c.ageLabels()
	if err != nil {
		return nil, nil, err
	}
	idx := make([]int, len(c.Files))
	for i := range idx {
		idx[i] = i
	}
	d := c.ageDataset()
	d.Params = map[string]string{"root": c.Root}
	return d, c.ageSplit("all", idx, label, group), nil
}
