package smoke

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/data"
)

// meanRGB returns the mean R, G, B of the images idx of split s read at their own size, over the rectangle
// [x0, x1) × [y0, y1) given as fractions of the side.
func meanRGB(t *testing.T, s *data.ImageSplit, idx []int, size int, x0, y0, x1, y1 float64) [3]float64 {
	t.Helper()
	b, err := s.Batch(idx, size, size)
	if err != nil {
		t.Fatal(err)
	}
	var sum [3]float64
	n := 0
	for k := range idx {
		px := b.Pixels(k)
		for y := int(y0 * float64(size)); y < int(y1*float64(size)); y++ {
			for x := int(x0 * float64(size)); x < int(x1*float64(size)); x++ {
				for c := range 3 {
					sum[c] += float64(px[(y*size+x)*3+c])
				}
				n++
			}
		}
	}
	for c := range sum {
		sum[c] /= float64(n)
	}
	return sum
}

func TestWriteCelebA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "celeba")
	if err := WriteCelebA(dir, CelebAConfig{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	c, err := data.LoadCelebA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Files) != 840 || len(c.AttrNames) != 40 || c.AttrNames[39] != "Young" {
		t.Fatalf("%d files, attributes %v", len(c.Files), c.AttrNames)
	}
	d, err := data.CelebAAge(dir, data.CelebAConfig{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// The age task's splits: train 4:1 per class, validation balanced, test natural (all of the test partition).
	for _, tc := range []struct {
		split *data.ImageSplit
		want  []int
	}{{d.Train, []int{200, 50, 200, 50}}, {d.Val, []int{40, 40, 40, 40}}, {d.Test, []int{60, 30, 60, 30}}} {
		if got := tc.split.GroupCounts(4); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s group counts %v, want %v", tc.split.Name, got, tc.want)
		}
	}
	// The planted look: men have a blue hair band, young faces are lighter.
	byGroup := make([][]int, 4)
	for i, g := range d.Train.Groups {
		byGroup[g] = append(byGroup[g], i)
	}
	band := func(g int) [3]float64 { return meanRGB(t, d.Train, byGroup[g][:40], 32, 0.25, 0.12, 0.75, 0.28) }
	faceTone := func(g int) float64 { return meanRGB(t, d.Train, byGroup[g][:40], 32, 0.4, 0.5, 0.6, 0.7)[1] }
	for _, g := range []int{0, 3} { // old male, young male
		for _, f := range []int{1, 2} {
			if mb, fb := band(g), band(f); mb[2] < fb[2]+60 {
				t.Errorf("hair band: group %d blue %.0f, group %d blue %.0f; want men far bluer", g, mb[2], f, fb[2])
			}
		}
	}
	if young, old := (faceTone(2)+faceTone(3))/2, (faceTone(0)+faceTone(1))/2; young < old+40 || young > old+80 {
		t.Errorf("face tone young %.1f, old %.1f: want young lighter by about the age signal (60)", young, old)
	}

	// A second call with the same configuration leaves the folder alone; another configuration rewrites it.
	attrPath := filepath.Join(dir, "list_attr_celeba.txt")
	st1, _ := os.Stat(attrPath)
	if err := WriteCelebA(dir, CelebAConfig{Seed: 3}); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(attrPath); !st2.ModTime().Equal(st1.ModTime()) {
		t.Error("same configuration: the folder was written again")
	}
	small := CelebAConfig{Counts: [3][4]int{{8, 2, 8, 2}, {2, 2, 2, 2}, {2, 1, 2, 1}}, Seed: 3}
	if err := WriteCelebA(dir, small); err != nil {
		t.Fatal(err)
	}
	c2, err := data.LoadCelebA(dir)
	if err != nil || len(c2.Files) != 34 {
		t.Fatalf("after a new configuration: %v, %d files", err, len(c2.Files))
	}
}

func TestWriteImageNet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "imagenet")
	m, err := WriteImageNet(dir, ImageNetConfig{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	d, err := data.ImageNet(dir, data.ImageNetConfig{NounFile: filepath.Join("testdata", "data.noun.imagenet")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(d.Classes, ","); got != "tench,goldfinch,crane,container ship,cowboy hat,pizza" {
		t.Errorf("classes %s", got)
	}
	if !reflect.DeepEqual(d.ClassIDs, m.WNIDs) {
		t.Errorf("class ids %v, generator's %v", d.ClassIDs, m.WNIDs)
	}
	known := map[string]int{}
	for _, s := range d.Splits() {
		for i, id := range s.IDs {
			known[id] = s.Labels[i]
		}
	}
	if len(known) != 6*80 {
		t.Errorf("the dataset has %d images, want 480", len(known))
	}
	// The predictions: every id is an image of the dataset with its label; the base model errs mostly on the hard
	// images (70% against 10%), on train hardly at all.
	var hardN, hardWrong, easyN, easyWrong int
	for split, wantN := range map[string]int{"train": 240, "val": 120, "test": 120} {
		pr, err := data.LoadPredictions(filepath.Join(m.Preds, split+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		if pr.Len() != wantN {
			t.Errorf("%s.csv: %d rows, want %d", split, pr.Len(), wantN)
		}
		wrong := 0
		for i, id := range pr.IDs {
			label, ok := known[id]
			if !ok || label != pr.Labels[i] {
				t.Fatalf("%s.csv row %d: id %s label %d; the dataset has it: %v with label %d", split, i, id, pr.Labels[i], ok, label)
			}
			if !strings.HasPrefix(id, map[bool]string{true: "train/", false: "val/"}[split == "train"]) {
				t.Errorf("%s.csv: id %s from the wrong folder", split, id)
			}
			if (pr.Preds[i] == pr.Labels[i]) != (pr.Conf[i] >= 0.45) {
				t.Errorf("%s.csv row %d: pred %d label %d conf %.2f", split, i, pr.Preds[i], pr.Labels[i], pr.Conf[i])
			}
			if !pr.Correct(i) {
				wrong++
			}
			if split == "train" {
				continue
			}
			if m.Hard[id] {
				hardN++
				if !pr.Correct(i) {
					hardWrong++
				}
			} else {
				easyN++
				if !pr.Correct(i) {
					easyWrong++
				}
			}
		}
		if split == "train" && wrong > 15 {
			t.Errorf("train: %d of 240 wrong, want about 2%%", wrong)
		}
	}
	if hr, er := float64(hardWrong)/float64(hardN), float64(easyWrong)/float64(easyN); hr < 0.5 || er > 0.2 || hardN < 40 {
		t.Errorf("error rate hard %.2f (n=%d), easy %.2f (n=%d); want about 0.7 and 0.1", hr, hardN, er, easyN)
	}
	// Hard images are dark with a bright square: far darker on average than easy ones.
	var hardIdx, easyIdx []int
	for i, id := range d.Train.IDs {
		if m.Hard[id] {
			hardIdx = append(hardIdx, i)
		} else {
			easyIdx = append(easyIdx, i)
		}
	}
	if h, e := meanRGB(t, d.Train, hardIdx, 32, 0, 0, 1, 1), meanRGB(t, d.Train, easyIdx, 32, 0, 0, 1, 1); h[0]+h[1]+h[2] > 0.7*(e[0]+e[1]+e[2]) {
		t.Errorf("mean colour hard %v, easy %v", h, e)
	}

	// Up to date: the same hard list comes back without writing.
	m2, err := WriteImageNet(dir, ImageNetConfig{Seed: 5})
	if err != nil || !reflect.DeepEqual(m2.Hard, m.Hard) || len(m.Hard) == 0 {
		t.Fatalf("second call: %v, %d hard vs %d", err, len(m2.Hard), len(m.Hard))
	}
}

func TestBadConfig(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"negative count", WriteCelebA(dir, CelebAConfig{Counts: [3][4]int{{-1}}}), "counts[0][0] = -1"},
		{"tiny celeba", WriteCelebA(dir, CelebAConfig{Size: 4}), "size 4"},
		{"bad wnid", func() error {
			_, err := WriteImageNet(dir, ImageNetConfig{WNIDs: []string{"n01440764", "cat"}})
			return err
		}(), `"cat"`},
		{"one class", func() error { _, err := WriteImageNet(dir, ImageNetConfig{WNIDs: []string{"n01440764"}}); return err }(), "two distinct"},
		{"error rate", func() error { _, err := WriteImageNet(dir, ImageNetConfig{HardError: 1.5}); return err }(), "hard_error 1.5"},
	}
	for _, tc := range cases {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, tc.err, tc.want)
		}
	}
}
