package experiment

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/faildirs/faildirs/distill/data"
)

// loadSource builds the data source's own dataset (its splits) from the spec (defaults applied).
func loadSource(s Spec) (*data.Dataset, error) {
	switch s.Data {
	case FashionSpurious, FashionRare:
		f, err := data.LoadFashion(s.DataDir)
		if err != nil {
			return nil, err
		}
		if s.Data == FashionSpurious {
			cfg, err := spuriousConfig(s)
			if err != nil {
				return nil, err
			}
			return data.Spurious(f, cfg)
		}
		cfg, err := rareConfig(s)
		if err != nil {
			return nil, err
		}
		return data.Rare(f, cfg)
	case CelebA:
		return data.CelebAAge(s.DataDir, data.CelebAConfig{MajorityFraction: s.Majority, ValPerGroup: s.ValPerGroup,
			PoolFraction: s.PoolFraction, Seed: s.DataSeed})
	case ImageNet:
		return data.ImageNet(s.DataDir, data.ImageNetConfig{ValLabels: s.ValLabels, MaxTrainPerClass: s.MaxTrainPerClass,
			ValFraction: s.ValFraction, NounFile: s.WordNet, Seed: s.DataSeed})
	case Folder:
		return data.ImageFolder(s.DataDir, data.FolderConfig{ValFraction: s.ValFraction, TestFraction: s.TestFraction,
			Seed: s.DataSeed})
	}
	return nil, fmt.Errorf("data: unknown source %q", s.Data)
}

// loadIndex returns every example the source knows, as one split "all" (with the dataset's classes and groups):
// what predictions CSVs are joined to by id. For CelebA it is every image of the attribute file; for the other
// sources the union of their splits (and pool).
func loadIndex(s Spec) (*data.Dataset, *data.ImageSplit, error) {
	if s.Data == CelebA {
		c, err := data.LoadCelebA(s.DataDir)
		if err != nil {
			return nil, nil, err
		}
		return c.AgeExamples()
	}
	d, err := loadSource(s)
	if err != nil {
		return nil, nil, err
	}
	all, err := union(d.Splits())
	if err != nil {
		return nil, nil, err
	}
	meta := *d
	meta.Train, meta.Val, meta.Test, meta.Pool = nil, nil, nil, nil
	return &meta, all, nil
}

// union concatenates splits (all in memory at one size, or all file-backed) into one split named "all".
func union(splits []*data.ImageSplit) (*data.ImageSplit, error) {
	out := &data.ImageSplit{Name: "all"}
	hasGroups, files := true, true
	n := 0
	for _, s := range splits {
		hasGroups = hasGroups && s.Groups != nil
		files = files && s.Files != nil
		n += s.Len()
	}
	if hasGroups {
		out.Groups = make([]int, 0, n)
	}
	if files {
		out.Files = make([]string, 0, n)
	} else {
		first := splits[0].Images
		if first == nil {
			return nil, fmt.Errorf("data: splits mix in-memory and file-backed images")
		}
		out.Images = &data.Images{H: first.H, W: first.W, C: first.C}
	}
	for _, s := range splits {
		out.IDs = append(out.IDs, s.IDs...)
		out.Labels = append(out.Labels, s.Labels...)
		if hasGroups {
			out.Groups = append(out.Groups, s.Groups...)
		}
		if files {
			out.Files = append(out.Files, s.Files...)
			continue
		}
		im := s.Images
		if im == nil || im.H != out.Images.H || im.W != out.Images.W || im.C != out.Images.C {
			return nil, fmt.Errorf("data: split %q is not held in memory at %dx%dx%d like the others", s.Name, out.Images.H, out.Images.W, out.Images.C)
		}
		out.Images.N += im.N
		out.Images.Pix = append(out.Images.Pix, im.Pix...)
	}
	return out, out.Validate()
}

func spuriousConfig(s Spec) (data.SpuriousConfig, error) {
	cfg := data.SpuriousConfig{MajorityFraction: s.Majority, TrainPerClass: s.TrainPerClass, ValPerGroup: s.ValPerGroup,
		TestPerClass: s.TestPerClass, TestMinorityShare: s.TestMinorityShare, PoolPerClass: s.PoolPerClass, Seed: s.DataSeed}
	if len(s.Classes) > 0 {
		ids, err := fashionClasses("classes", s.Classes)
		if err != nil {
			return cfg, err
		}
		cfg.Classes = [2]int{ids[0], ids[1]}
	}
	if len(s.Colors) > 0 {
		cfg.Colors = [2]string{s.Colors[0], s.Colors[1]}
	}
	return cfg, nil
}

func rareConfig(s Spec) (data.RareConfig, error) {
	cfg := data.RareConfig{RareFraction: s.RareFraction, TrainPerSubclass: s.TrainPerClass, ValPerSubclass: s.ValPerGroup,
		TestPerClass: s.TestPerClass, TestMinorityShare: s.TestMinorityShare, PoolPerSubclass: s.PoolPerClass,
		Colors: s.Colors, Seed: s.DataSeed}
	for i, sc := range s.Superclasses {
		ids, err := fashionClasses(fmt.Sprintf("superclasses[%d]", i), sc)
		if err != nil {
			return cfg, err
		}
		cfg.Superclasses = append(cfg.Superclasses, ids)
	}
	if len(s.Rare) > 0 {
		ids, err := fashionClasses("rare", s.Rare)
		if err != nil {
			return cfg, err
		}
		cfg.Rare = ids
		if cfg.Superclasses == nil {
			cfg.Superclasses = data.DefaultRareSuperclasses
		}
	}
	return cfg, nil
}

func fashionClasses(field string, names []string) ([]int, error) {
	out := make([]int, len(names))
	for i, n := range names {
		c, err := data.FashionClassIndex(n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		out[i] = c
	}
	return out, nil
}

// splitsFingerprint identifies the examples of the dataset's splits: ids, labels and groups, split by split (the
// image content is fingerprinted by the embedding cache itself).
func splitsFingerprint(d *data.Dataset) string {
	h := sha256.New()
	var buf [8]byte
	put := func(v int) {
		binary.LittleEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	fmt.Fprintf(h, "%s|%q|", d.Name, d.Classes)
	keys := make([]string, 0, len(d.Params))
	for k := range d.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s|", k, d.Params[k])
	}
	for _, s := range d.Splits() {
		splitHash(h, s, put)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func splitHash(h io.Writer, s *data.ImageSplit, put func(int)) {
	fmt.Fprintf(h, "split %s %d|", s.Name, s.Len())
	for i, id := range s.IDs {
		put(len(id))
		io.WriteString(h, id)
		put(s.Labels[i])
		if s.Groups != nil {
			put(s.Groups[i])
		}
	}
}

// fingerprint hashes the JSON of the values given (plain data, so the JSON is canonical).
func fingerprint(parts ...any) string {
	h := sha256.New()
	for _, p := range parts {
		raw, err := json.Marshal(p)
		if err != nil {
			panic(fmt.Sprintf("experiment: fingerprint of %T: %v", p, err)) // plain data never fails
		}
		h.Write(raw)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// predsPath returns the predictions file of split name for the spec's Preds (a folder or a {split} pattern), and
// whether it exists.
func predsPath(preds, split string) (string, bool) {
	if strings.Contains(preds, "{split}") {
		p := strings.ReplaceAll(preds, "{split}", split)
		return p, fileExists(p)
	}
	for _, name := range []string{split + ".csv", "pred-" + split + ".csv"} {
		p := filepath.Join(preds, name)
		if fileExists(p) {
			return p, true
		}
	}
	return filepath.Join(preds, split+".csv"), false
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// joinPredictions builds the analysis dataset from predictions CSVs: each file's rows select the examples of its
// split from the source's index by id. Errors name the file, line and value: a missing file, an id that matches
// no image or appears in two files, a label or prediction outside the classes, a label or group that disagrees
// with the source's, and (for image folders) an image that no file lists.
func joinPredictions(s Spec, meta *data.Dataset, index *data.ImageSplit) (*data.Dataset, map[string]*data.Predictions, error) {
	byID := make(map[string]int, index.Len())
	for i, id := range index.IDs {
		byID[id] = i
	}
	nc := len(meta.Classes)
	d := *meta
	d.Groups = append([]data.Group(nil), meta.Groups...)
	preds := map[string]*data.Predictions{}
	where := map[int]string{} // index example → "file:line" of the row that took it
	csvGroups := false
	for _, split := range []string{"train", "val", "test", "pool"} {
		path, ok := predsPath(s.Preds, split)
		if !ok {
			if split == "pool" {
				continue
			}
			return nil, nil, fmt.Errorf("preds: %s not found (want %s predictions: a folder with %s.csv or a pattern with {split})", path, split, split)
		}
		pr, err := data.LoadPredictions(path)
		if err != nil {
			return nil, nil, fmt.Errorf("preds: %w", err)
		}
		if pr.Len() == 0 {
			return nil, nil, fmt.Errorf("preds: %s has no rows", path)
		}
		idx := make([]int, pr.Len())
		for r, id := range pr.IDs {
			at := fmt.Sprintf("%s:%d", path, pr.Line(r))
			i, ok := byID[id]
			if !ok {
				return nil, nil, fmt.Errorf("preds: %s: id %q matches no image of the data source (%s)%s", at, id, sourceWhere(s), idHint(index.IDs))
			}
			if prev, dup := where[i]; dup {
				return nil, nil, fmt.Errorf("preds: %s: id %q is already in %s", at, id, prev)
			}
			where[i] = at
			if l := pr.Labels[r]; l >= nc {
				return nil, nil, fmt.Errorf("preds: %s: label %d outside the %d classes %q", at, l, nc, meta.Classes)
			}
			if p := pr.Preds[r]; p >= nc {
				return nil, nil, fmt.Errorf("preds: %s: pred %d outside the %d classes %q", at, p, nc, meta.Classes)
			}
			if l := index.Labels[i]; l != pr.Labels[r] {
				return nil, nil, fmt.Errorf("preds: %s: id %q has label %d (%s), but the data source says %d (%s)", at, id, pr.Labels[r], meta.Classes[pr.Labels[r]], l, meta.Classes[l])
			}
			if pr.Groups != nil && index.Groups != nil && pr.Groups[r] != index.Groups[i] {
				return nil, nil, fmt.Errorf("preds: %s: id %q has group %d, but the data source says %d (%s)", at, id, pr.Groups[r], index.Groups[i], meta.GroupName(index.Groups[i]))
			}
			idx[r] = i
		}
		sp := index.Subset(idx)
		sp.Name = split
		if index.Groups == nil && pr.Groups != nil {
			sp.Groups = append([]int(nil), pr.Groups...)
			csvGroups = true
		} else if index.Groups == nil && csvGroups {
			return nil, nil, fmt.Errorf("preds: %s has no group column, an earlier file has one", path)
		}
		pr.Groups = sp.Groups
		preds[split] = pr
		switch split {
		case "train":
			d.Train = sp
		case "val":
			d.Val = sp
		case "test":
			d.Test = sp
		case "pool":
			d.Pool = sp
		}
	}
	if s.Data == Folder && len(where) < index.Len() {
		for i, id := range index.IDs {
			if _, ok := where[i]; !ok {
				return nil, nil, fmt.Errorf("preds: image %s (id %q) is in no predictions file; %d of the %d images under %s are unlisted (predict them or move them out of the folder)",
					index.Files[i], id, index.Len()-len(where), index.Len(), s.DataDir)
			}
		}
	}
	if csvGroups {
		groups, err := groupsFromCSV(&d, s.Minorities)
		if err != nil {
			return nil, nil, err
		}
		d.Groups = groups
	}
	d.Params = map[string]string{}
	for k, v := range meta.Params {
		d.Params[k] = v
	}
	d.Params["preds"] = s.Preds
	if err := d.Validate(); err != nil {
		return nil, nil, err
	}
	return &d, preds, nil
}

// groupsFromCSV describes the groups given by the predictions' group column: "group g" of the class its members
// have (a group must lie within one class), minority when listed in minorities.
func groupsFromCSV(d *data.Dataset, minorities []int) ([]data.Group, error) {
	classOf := map[int]int{}
	n := 0
	for _, sp := range d.Splits() {
		for i, g := range sp.Groups {
			if c, ok := classOf[g]; ok && c != sp.Labels[i] {
				return nil, fmt.Errorf("preds: group %d holds examples of classes %d and %d (%s in %s); a group lies within one class",
					g, c, sp.Labels[i], sp.IDs[i], sp.Name)
			}
			classOf[g] = sp.Labels[i]
			n = max(n, g+1)
		}
	}
	out := make([]data.Group, n)
	for g := range out {
		c, ok := classOf[g]
		if !ok {
			c = 0
		}
		name := "group " + strconv.Itoa(g)
		if ok {
			name += " of " + d.Classes[c]
		}
		out[g] = data.Group{ID: g, Name: name, Class: c, Minority: slices.Contains(minorities, g)}
	}
	return out, nil
}

func sourceWhere(s Spec) string {
	if s.DataDir != "" {
		return s.Data + " in " + s.DataDir
	}
	return s.Data
}

// idHint shows what the source's ids look like.
func idHint(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return fmt.Sprintf("; its ids look like %q", ids[0])
}
