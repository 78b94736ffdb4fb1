package data

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/faildirs/faildirs/distill/wordnet"
)

var wnidRE = regexp.MustCompile(`^n[0-9]{8}$`)

// ImageNetConfig sets up an ILSVRC2012-layout dataset (see [ImageNet]).
type ImageNetConfig struct {
	// ValLabels is the ground truth for a flat val/ folder: Kaggle's LOC_val_solution.csv
	// ("ImageId,PredictionString" with the wnid first), or lines "<file> <wnid>" / "<file>,<wnid>" (the file with or
	// without its extension). Default: <root>/LOC_val_solution.csv when present. Not needed when val/ has class
	// folders.
	ValLabels string
	// MaxTrainPerClass keeps at most this many train images per class (a seeded random choice); 0 keeps all.
	MaxTrainPerClass int
	// ValFraction is the share of each class's ILSVRC validation images that forms the Val split (the SVMs are
	// fitted on it); the rest forms Test. Default 0.5.
	ValFraction float64
	// NounFile is WordNet 3.0's data.noun for class names; default wordnet.DefaultNounFile. When it cannot be
	// read, the class names are the wnids (noted in Dataset.Params["names"]).
	NounFile string
	// Seed makes the subsampling and the val/test cut reproducible.
	Seed uint64
}

// ImageNet reads a dataset in the ILSVRC2012 layout:
//
//	root/train/nXXXXXXXX/*.JPEG
//	root/val/nXXXXXXXX/*.JPEG     or   root/val/*.JPEG with a ground-truth file (see ImageNetConfig.ValLabels)
//
// The class index is the position of the wnid in the sorted list of wnids (train folders, or val when train/ is
// absent; then Train is empty, for bring-your-own-model use). Classes are WordNet 3.0 names (first lemma; the
// 1000 ILSVRC names are not all unique, e.g. two "crane"s); ClassIDs are the wnids; see [ImageNetClasses] for
// lemmas, glosses and hypernyms. The ILSVRC validation images are cut per class into Val and Test. IDs are paths
// relative to root. There are no groups.
func ImageNet(root string, cfg ImageNetConfig) (*Dataset, error) {
	if cfg.ValFraction == 0 {
		cfg.ValFraction = 0.5
	}
	if cfg.ValFraction <= 0 || cfg.ValFraction >= 1 {
		return nil, fmt.Errorf("imagenet: val fraction %g must be in (0, 1)", cfg.ValFraction)
	}
	valDir := filepath.Join(root, "val")
	if st, err := os.Stat(valDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("imagenet: %s not found (expected the ILSVRC2012 layout: train/nXXXXXXXX/*.JPEG, val/...)", valDir)
	}
	trainDir := filepath.Join(root, "train")
	hasTrain := false
	if st, err := os.Stat(trainDir); err == nil && st.IsDir() {
		hasTrain = true
	}
	wnidDirs := func(dir string) ([]string, error) {
		subs, err := listSubdirs(dir)
		if err != nil {
			return nil, fmt.Errorf("imagenet: %w", err)
		}
		for _, s := range subs {
			if !wnidRE.MatchString(s) {
				return nil, fmt.Errorf("imagenet: folder %s is not a wnid (want n + 8 digits)", filepath.Join(dir, s))
			}
		}
		return subs, nil
	}
	var classes []string
	var err error
	if hasTrain {
		if classes, err = wnidDirs(trainDir); err != nil {
			return nil, err
		}
	}
	valClasses, err := wnidDirs(valDir)
	if err != nil {
		return nil, err
	}
	var val []fileRef
	if len(valClasses) > 0 {
		if classes == nil {
			classes = valClasses
		}
		index := indexOf(classes)
		for _, c := range valClasses {
			if _, ok := index[c]; !ok {
				return nil, fmt.Errorf("imagenet: val class %s has no train folder", c)
			}
		}
		if val, err = classFolderFiles(root, valDir, classes); err != nil {
			return nil, fmt.Errorf("imagenet: %w", err)
		}
	} else {
		labelsPath := cfg.ValLabels
		if labelsPath == "" {
			if p := filepath.Join(root, "LOC_val_solution.csv"); fileExists(p) {
				labelsPath = p
			} else {
				return nil, fmt.Errorf("imagenet: %s holds no class folders; give its ground truth (LOC_val_solution.csv or lines \"<file> <wnid>\") with ValLabels / -val-labels", valDir)
			}
		}
		truth, err := readValLabels(labelsPath)
		if err != nil {
			return nil, err
		}
		if classes == nil {
			set := map[string]bool{}
			for _, w := range truth {
				set[w] = true
			}
			for w := range set {
				classes = append(classes, w)
			}
			sort.Strings(classes)
		}
		index := indexOf(classes)
		names, err := listImages(valDir)
		if err != nil {
			return nil, fmt.Errorf("imagenet: %w", err)
		}
		for _, n := range names {
			w, ok := truth[n]
			if !ok {
				w, ok = truth[strings.TrimSuffix(n, filepath.Ext(n))]
			}
			if !ok {
				return nil, fmt.Errorf("imagenet: val image %s has no entry in %s", n, labelsPath)
			}
			l, ok := index[w]
			if !ok {
				return nil, fmt.Errorf("imagenet: val image %s has class %s, which has no train folder", n, w)
			}
			val = append(val, fileRef{path: filepath.Join(valDir, n), id: "val/" + n, label: l})
		}
	}
	if len(classes) == 0 {
		return nil, fmt.Errorf("imagenet: no classes found under %s", root)
	}
	var train []fileRef
	if hasTrain {
		if train, err = classFolderFiles(root, trainDir, classes); err != nil {
			return nil, fmt.Errorf("imagenet: %w", err)
		}
		if cfg.MaxTrainPerClass > 0 {
			train = capPerClass(train, cfg.MaxTrainPerClass, cfg.Seed)
		}
	}
	if len(val) == 0 {
		return nil, fmt.Errorf("imagenet: no validation images in %s", valDir)
	}
	parts := stratifiedCut(val, []float64{cfg.ValFraction, 1 - cfg.ValFraction}, cfg.Seed, 6)
	d := &Dataset{Name: "imagenet", ClassIDs: classes, Params: map[string]string{"root": root,
		"max_train_per_class": fmt.Sprint(cfg.MaxTrainPerClass), "val_fraction": fmt.Sprint(cfg.ValFraction), "seed": fmt.Sprint(cfg.Seed)}}
	d.Classes = append([]string(nil), classes...)
	nouns, err := wordnet.LoadNouns(cfg.NounFile)
	if err == nil {
		for i, w := range classes {
			if s, err := nouns.ByWNID(w); err == nil {
				d.Classes[i] = s.Name()
			}
		}
		d.Params["names"] = "wordnet"
	} else {
		d.Params["names"] = "wnids (WordNet not readable: " + err.Error() + ")"
	}
	d.Train = fileSplit("train", train)
	d.Val, d.Test = fileSplit("val", parts[0]), fileSplit("test", parts[1])
	return d, d.Validate()
}

// ImageNetClass describes one ImageNet class from WordNet: its wnid, names, gloss and hypernym ancestors.
type ImageNetClass struct {
	WNID   string   `json:"wnid"`
	Name   string   `json:"name"`
	Lemmas []string `json:"lemmas"`
	Gloss  string   `json:"gloss"`
	// Hypernyms are the names of the hypernym ancestors, nearest first along the first chain (see
	// wordnet.Nouns.Ancestors).
	Hypernyms []string `json:"hypernyms"`
}

// ImageNetClasses looks up names, glosses and hypernym ancestors of the given wnids in WordNet.
func ImageNetClasses(nouns *wordnet.Nouns, wnids []string) ([]ImageNetClass, error) {
	out := make([]ImageNetClass, len(wnids))
	for i, w := range wnids {
		s, err := nouns.ByWNID(w)
		if err != nil {
			return nil, fmt.Errorf("imagenet: class %d: %w", i, err)
		}
		anc, err := nouns.Ancestors(s.Offset)
		if err != nil {
			return nil, fmt.Errorf("imagenet: class %s: %w", w, err)
		}
		ci := ImageNetClass{WNID: w, Name: s.Name(), Lemmas: s.Names(), Gloss: s.Gloss}
		for _, a := range anc {
			ci.Hypernyms = append(ci.Hypernyms, a.Name())
		}
		out[i] = ci
	}
	return out, nil
}

func indexOf(xs []string) map[string]int {
	m := make(map[string]int, len(xs))
	for i, x := range xs {
		m[x] = i
	}
	return m
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// capPerClass keeps at most n refs per class, chosen at random, in input order.
func capPerClass(refs []fileRef, n int, seed uint64) []fileRef {
	rng := newRNG(seed, 7)
	byClass := map[int][]int{}
	for i, r := range refs {
		byClass[r.label] = append(byClass[r.label], i)
	}
	keep := make([]bool, len(refs))
	labels := make([]int, 0, len(byClass))
	for l := range byClass {
		labels = append(labels, l)
	}
	sort.Ints(labels)
	for _, l := range labels {
		idx := byClass[l]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		for _, i := range idx[:min(n, len(idx))] {
			keep[i] = true
		}
	}
	var out []fileRef
	for i, r := range refs {
		if keep[i] {
			out = append(out, r)
		}
	}
	return out
}

// readValLabels reads a validation ground-truth file into file name (or stem) → wnid.
func readValLabels(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imagenet: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var file, rest string
		if i := strings.IndexByte(text, ','); i >= 0 {
			file, rest = strings.TrimSpace(text[:i]), strings.TrimSpace(text[i+1:])
		} else {
			fs := strings.Fields(text)
			if len(fs) < 2 {
				return nil, fmt.Errorf("imagenet: %s:%d: want \"<file> <wnid>\", got %q", path, line, text)
			}
			file, rest = fs[0], fs[1]
		}
		if line == 1 && strings.EqualFold(file, "ImageId") {
			continue // Kaggle header
		}
		fs := strings.Fields(rest)
		if len(fs) == 0 || !wnidRE.MatchString(fs[0]) {
			return nil, fmt.Errorf("imagenet: %s:%d: %q does not start with a wnid (n + 8 digits)", path, line, rest)
		}
		out[file] = fs[0]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("imagenet: %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("imagenet: %s has no entries", path)
	}
	return out, nil
}
