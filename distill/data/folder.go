package data

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// listImages returns the image files directly inside dir, sorted by name.
func listImages(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() || e.Type()&os.ModeSymlink != 0 {
			if IsImageFile(e.Name()) {
				out = append(out, e.Name())
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// listSubdirs returns the names of the non-hidden subdirectories of dir, sorted.
func listSubdirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if e.IsDir() {
			out = append(out, e.Name())
		} else if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(dir, e.Name())); err == nil && st.IsDir() {
				out = append(out, e.Name())
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// fileRef is one image file with its class.
type fileRef struct {
	path, id string
	label    int
}

// classFolderFiles reads dir/<class>/<image> for the given classes; ids are paths relative to root.
func classFolderFiles(root, dir string, classes []string) ([]fileRef, error) {
	var out []fileRef
	for l, c := range classes {
		cdir := filepath.Join(dir, c)
		if _, err := os.Stat(cdir); os.IsNotExist(err) {
			continue
		}
		names, err := listImages(cdir)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			p := filepath.Join(cdir, n)
			rel, err := filepath.Rel(root, p)
			if err != nil {
				rel = p
			}
			out = append(out, fileRef{path: p, id: filepath.ToSlash(rel), label: l})
		}
	}
	return out, nil
}

func fileSplit(name string, refs []fileRef) *ImageSplit {
	s := &ImageSplit{Name: name, IDs: make([]string, len(refs)), Labels: make([]int, len(refs)), Files: make([]string, len(refs))}
	for k, r := range refs {
		s.IDs[k], s.Labels[k], s.Files[k] = r.id, r.label, r.path
	}
	return s
}

// stratifiedCut splits refs per class into parts with the given fractions (the rest goes to the first part),
// after a seeded shuffle within each class; each part keeps the input order.
func stratifiedCut(refs []fileRef, fracs []float64, seed, stream uint64) [][]fileRef {
	rng := newRNG(seed, stream)
	byClass := map[int][]int{}
	var labels []int
	for i, r := range refs {
		if _, ok := byClass[r.label]; !ok {
			labels = append(labels, r.label)
		}
		byClass[r.label] = append(byClass[r.label], i)
	}
	sort.Ints(labels)
	part := make([]int, len(refs))
	for _, l := range labels {
		idx := byClass[l]
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		pos := 0
		for p := len(fracs) - 1; p >= 1; p-- {
			n := int(math.Round(fracs[p] * float64(len(idx))))
			for _, i := range idx[pos:min(pos+n, len(idx))] {
				part[i] = p
			}
			pos = min(pos+n, len(idx))
		}
	}
	out := make([][]fileRef, len(fracs))
	for i, r := range refs {
		out[part[i]] = append(out[part[i]], r)
	}
	return out
}

// FolderConfig sets up an image-folder dataset (see [ImageFolder]).
type FolderConfig struct {
	// ValFraction and TestFraction are the per-class shares cut from the images when the folder has no
	// val/ or test/ split directory. Defaults 0.2 each; a negative value means 0.
	ValFraction, TestFraction float64
	// Seed makes the cut reproducible.
	Seed uint64
}

// ImageFolder reads a classification dataset laid out as class folders:
//
//	root/<class>/<image>                       one pool of images, cut per class into train/val/test
//	root/train/<class>/<image>, root/val/...   explicit splits ("val" may be "validation" or "valid");
//	                                           a missing val/ or test/ is cut from train
//
// Classes are the sorted class folder names (union over the splits); images are the files with one of
// [ImageExtensions], read on demand (an unreadable file fails the batch that reads it, naming it). IDs are paths relative
// to root. There are no groups.
func ImageFolder(root string, cfg FolderConfig) (*Dataset, error) {
	if cfg.ValFraction == 0 {
		cfg.ValFraction = 0.2
	}
	if cfg.TestFraction == 0 {
		cfg.TestFraction = 0.2
	}
	cfg.ValFraction, cfg.TestFraction = max(cfg.ValFraction, 0), max(cfg.TestFraction, 0)
	if cfg.ValFraction+cfg.TestFraction >= 1 {
		return nil, fmt.Errorf("folder: val %g + test %g fractions leave nothing to train on", cfg.ValFraction, cfg.TestFraction)
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("folder: %s is not a directory", root)
	}
	subs, err := listSubdirs(root)
	if err != nil {
		return nil, fmt.Errorf("folder: %w", err)
	}
	splitDirs := map[string]string{}
	for _, s := range subs {
		switch strings.ToLower(s) {
		case "train":
			splitDirs["train"] = s
		case "val", "valid", "validation":
			splitDirs["val"] = s
		case "test":
			splitDirs["test"] = s
		}
	}
	d := &Dataset{Name: "folder", Params: map[string]string{"root": root, "seed": fmt.Sprint(cfg.Seed)}}
	if _, ok := splitDirs["train"]; !ok {
		if len(splitDirs) > 0 {
			return nil, fmt.Errorf("folder: %s has split folders but no train/", root)
		}
		d.Classes = subs
		if len(d.Classes) < 2 {
			return nil, fmt.Errorf("folder: %s has %d class folders, need at least 2", root, len(d.Classes))
		}
		refs, err := classFolderFiles(root, root, d.Classes)
		if err != nil {
			return nil, fmt.Errorf("folder: %w", err)
		}
		parts := stratifiedCut(refs, []float64{1 - cfg.ValFraction - cfg.TestFraction, cfg.ValFraction, cfg.TestFraction}, cfg.Seed, 5)
		d.Train, d.Val, d.Test = fileSplit("train", parts[0]), fileSplit("val", parts[1]), fileSplit("test", parts[2])
		d.Params["val_fraction"], d.Params["test_fraction"] = fmt.Sprint(cfg.ValFraction), fmt.Sprint(cfg.TestFraction)
	} else {
		set := map[string]bool{}
		for _, sd := range splitDirs {
			cs, err := listSubdirs(filepath.Join(root, sd))
			if err != nil {
				return nil, fmt.Errorf("folder: %w", err)
			}
			for _, c := range cs {
				set[c] = true
			}
		}
		for c := range set {
			d.Classes = append(d.Classes, c)
		}
		sort.Strings(d.Classes)
		if len(d.Classes) < 2 {
			return nil, fmt.Errorf("folder: %s has %d class folders, need at least 2", root, len(d.Classes))
		}
		read := func(name string) ([]fileRef, error) {
			sd, ok := splitDirs[name]
			if !ok {
				return nil, nil
			}
			return classFolderFiles(root, filepath.Join(root, sd), d.Classes)
		}
		train, err := read("train")
		if err != nil {
			return nil, fmt.Errorf("folder: %w", err)
		}
		val, err := read("val")
		if err != nil {
			return nil, fmt.Errorf("folder: %w", err)
		}
		test, err := read("test")
		if err != nil {
			return nil, fmt.Errorf("folder: %w", err)
		}
		vf, tf := 0.0, 0.0
		if _, ok := splitDirs["val"]; !ok {
			vf = cfg.ValFraction
			d.Params["val_fraction"] = fmt.Sprint(vf)
		}
		if _, ok := splitDirs["test"]; !ok {
			tf = cfg.TestFraction
			d.Params["test_fraction"] = fmt.Sprint(tf)
		}
		if vf > 0 || tf > 0 {
			parts := stratifiedCut(train, []float64{1 - vf - tf, vf, tf}, cfg.Seed, 5)
			train = parts[0]
			if vf > 0 {
				val = parts[1]
			}
			if tf > 0 {
				test = parts[2]
			}
		}
		d.Train, d.Val, d.Test = fileSplit("train", train), fileSplit("val", val), fileSplit("test", test)
	}
	if d.Train.Len() == 0 {
		return nil, fmt.Errorf("folder: no images found under %s (extensions %s)", root, strings.Join(imageExtensions, " "))
	}
	counts := make([]int, len(d.Classes))
	for _, l := range d.Train.Labels {
		counts[l]++
	}
	for c, n := range counts {
		if n == 0 {
			return nil, fmt.Errorf("folder: class %q has no training images", d.Classes[c])
		}
	}
	return d, d.Validate()
}
