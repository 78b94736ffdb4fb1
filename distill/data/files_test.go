package data

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/wordnet"
)

// writeJPEG writes a w×h JPEG filled with c.
func writeJPEG(t *testing.T, path string, w, h int, c color.RGBA) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if strings.HasSuffix(path, ".png") {
		err = png.Encode(f, img)
	} else {
		err = jpeg.Encode(f, img, &jpeg.Options{Quality: 95})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func writeText(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// celebaFixture writes a CelebA directory with 3 attributes (Male, Smiling, Young) and the given per-partition
// group counts: counts[p] = {old male, old female, young female, young male}. Old images are dark, young bright.
func celebaFixture(t *testing.T, counts [3][4]int) string {
	t.Helper()
	root := t.TempDir()
	var attr, part strings.Builder
	n := 0
	for p := range 3 {
		for g, c := range counts[p] {
			for range c {
				n++
				name := fmt.Sprintf("%06d.jpg", n)
				young := g >= 2
				male := g == 0 || g == 3
				v := func(b bool) string {
					if b {
						return " 1"
					}
					return "-1"
				}
				fmt.Fprintf(&attr, "%s %s %s  %s\n", name, v(male), v(n%2 == 0), v(young))
				fmt.Fprintf(&part, "%s %d\n", name, p)
				shade := uint8(40)
				if young {
					shade = 220
				}
				writeJPEG(t, filepath.Join(root, "img_align_celeba", name), 12, 15, color.RGBA{shade, shade, shade, 255})
			}
		}
	}
	writeText(t, filepath.Join(root, "list_attr_celeba.txt"), fmt.Sprintf("%d\nMale Smiling Young\n%s", n, attr.String()))
	writeText(t, filepath.Join(root, "list_eval_partition.txt"), part.String())
	return root
}

func TestCelebAAge(t *testing.T) {
	root := celebaFixture(t, [3][4]int{{20, 3, 24, 9}, {5, 4, 6, 7}, {3, 2, 2, 4}})
	d, err := CelebAAge(root, CelebAConfig{BalancedTest: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Train, class old: 3 minority (old female) → 12 majority; class young: 24 majority allows 6 minority of 9.
	if got := d.Train.GroupCounts(4); !reflect.DeepEqual(got, []int{12, 3, 24, 6}) {
		t.Errorf("train group counts %v, want [12 3 24 6]", got)
	}
	if got := d.Val.GroupCounts(4); !reflect.DeepEqual(got, []int{4, 4, 4, 4}) {
		t.Errorf("val group counts %v, want the smallest group (4) each", got)
	}
	if got := d.Test.GroupCounts(4); !reflect.DeepEqual(got, []int{2, 2, 2, 2}) {
		t.Errorf("test group counts %v", got)
	}
	if d.Classes[0] != "old" || !d.Groups[1].Minority || d.Groups[1].Name != "old, female (minority)" || d.Pool != nil {
		t.Errorf("classes %v groups %+v", d.Classes, d.Groups)
	}
	for _, s := range d.Splits() {
		for i := range s.Len() {
			if s.Attrs["Young"][i] != s.Labels[i] {
				t.Fatalf("%s %s: Young=%d label %d", s.Name, s.IDs[i], s.Attrs["Young"][i], s.Labels[i])
			}
			male := s.Attrs["Male"][i] == 1
			wantMinority := (s.Labels[i] == 0 && !male) || (s.Labels[i] == 1 && male)
			if (s.Groups[i]%2 == 1) != wantMinority {
				t.Fatalf("%s %s: group %d, male %v label %d", s.Name, s.IDs[i], s.Groups[i], male, s.Labels[i])
			}
		}
	}
	checkDisjoint(t, d)
	// Pixels: old images are dark, young ones bright, resized to 8×8.
	b, err := d.Train.Batch([]int{0, 1, 2}, 8, 8)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		v := b.Pixels(k)[100]
		if (d.Train.Labels[k] == 1) != (v > 128) {
			t.Errorf("image %s label %d has value %d", d.Train.IDs[k], d.Train.Labels[k], v)
		}
	}
	// Determinism and the pool variant.
	d2, _ := CelebAAge(root, CelebAConfig{BalancedTest: true, Seed: 1})
	if !reflect.DeepEqual(d.Train.IDs, d2.Train.IDs) || !reflect.DeepEqual(d.Val.IDs, d2.Val.IDs) {
		t.Error("same seed, different splits")
	}
	dp, err := CelebAAge(root, CelebAConfig{PoolFraction: 0.5, ValPerGroup: 3})
	if err != nil {
		t.Fatal(err)
	}
	if dp.Pool == nil || dp.Pool.Len() != 28 || dp.Val.Len() != 12 || dp.Test.Len() != 11 {
		t.Errorf("pool variant: pool %v val %d test %d", dp.Pool, dp.Val.Len(), dp.Test.Len())
	}
	checkDisjoint(t, dp)
	for _, id := range dp.Pool.IDs {
		for _, tid := range dp.Train.IDs {
			if id == tid {
				t.Fatalf("%s in pool and train", id)
			}
		}
	}
}

// TestCelebAAgeExamples checks the index of every image: file order, the age task's labels and groups, paths
// under the image folder.
func TestCelebAAgeExamples(t *testing.T) {
	root := celebaFixture(t, [3][4]int{{2, 1, 1, 1}, {1, 1, 1, 1}, {0, 0, 1, 1}})
	c, err := LoadCelebA(root)
	if err != nil {
		t.Fatal(err)
	}
	d, all, err := c.AgeExamples()
	if err != nil {
		t.Fatal(err)
	}
	if all.Len() != 11 || all.IDs[0] != "000001.jpg" || all.IDs[10] != "000011.jpg" || all.Validate() != nil {
		t.Fatalf("index: %d ids %v", all.Len(), all.IDs)
	}
	want := []int{0, 0, 1, 2, 3, 0, 1, 2, 3, 2, 3} // the fixture writes groups in order per partition
	if !reflect.DeepEqual(all.Groups, want) || all.Labels[4] != 1 || all.Files[3] != filepath.Join(c.ImageDir, "000004.jpg") {
		t.Fatalf("groups %v labels %v files %v", all.Groups, all.Labels, all.Files[:4])
	}
	if len(d.Groups) != 4 || d.Classes[1] != "young" || d.Train != nil {
		t.Fatalf("dataset %+v", d)
	}
}

func TestCelebABadInput(t *testing.T) {
	counts := [3][4]int{{4, 1, 4, 1}, {1, 1, 1, 1}, {1, 1, 1, 1}}
	cases := []struct {
		name   string
		mutate func(root string)
		want   []string
	}{
		{"missing attribute file", func(r string) { os.Remove(filepath.Join(r, "list_attr_celeba.txt")) }, []string{"list_attr_celeba.txt"}},
		{"missing partition file", func(r string) { os.Remove(filepath.Join(r, "list_eval_partition.txt")) }, []string{"list_eval_partition.txt"}},
		{"missing image dir", func(r string) { os.RemoveAll(filepath.Join(r, "img_align_celeba")) }, []string{"img_align_celeba"}},
		{"malformed attribute value", func(r string) {
			p := filepath.Join(r, "list_attr_celeba.txt")
			b, _ := os.ReadFile(p)
			lines := strings.Split(string(b), "\n")
			lines[3] = strings.Replace(lines[3], "-1", "x", 1)
			os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
		}, []string{"list_attr_celeba.txt:4", `"x"`}},
		{"short attribute line", func(r string) {
			p := filepath.Join(r, "list_attr_celeba.txt")
			b, _ := os.ReadFile(p)
			lines := strings.Split(string(b), "\n")
			lines[5] = "000004.jpg 1 1"
			os.WriteFile(p, []byte(strings.Join(lines, "\n")), 0o644)
		}, []string{"list_attr_celeba.txt:6", "3 fields"}},
		{"wrong count line", func(r string) {
			p := filepath.Join(r, "list_attr_celeba.txt")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, []byte("99"+string(b)[2:]), 0o644)
		}, []string{"header says 99"}},
		{"bad partition", func(r string) {
			writeText(t, filepath.Join(r, "list_eval_partition.txt"), "000001.jpg 0\n000002.jpg 7\n")
		}, []string{"list_eval_partition.txt:2", `"7"`}},
		{"unknown partition image", func(r string) {
			writeText(t, filepath.Join(r, "list_eval_partition.txt"), "000001.jpg 0\nzzz.jpg 1\n")
		}, []string{"list_eval_partition.txt:2", "zzz.jpg"}},
		{"image without partition", func(r string) {
			writeText(t, filepath.Join(r, "list_eval_partition.txt"), "000001.jpg 0\n")
		}, []string{"has no partition"}},
		{"missing image", func(r string) { os.Remove(filepath.Join(r, "img_align_celeba", "000002.jpg")) }, []string{"000002.jpg", "missing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := celebaFixture(t, counts)
			c.mutate(root)
			_, err := CelebAAge(root, CelebAConfig{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	t.Run("unreadable image", func(t *testing.T) {
		root := celebaFixture(t, counts)
		d, err := CelebAAge(root, CelebAConfig{})
		if err != nil {
			t.Fatal(err)
		}
		bad := d.Train.Files[1]
		writeText(t, bad, "not a jpeg")
		_, err = d.Train.Batch([]int{0, 1}, 8, 8)
		if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "cannot decode") {
			t.Fatalf("err = %v, want a decode error naming %s", err, bad)
		}
		if _, err := d.Train.Image(1); err == nil {
			t.Error("Image decoded garbage")
		}
	})
	t.Run("csv variant and nested image dir", func(t *testing.T) {
		root := t.TempDir()
		writeJPEG(t, filepath.Join(root, "img_align_celeba", "img_align_celeba", "a.jpg"), 4, 4, color.RGBA{1, 2, 3, 255})
		writeJPEG(t, filepath.Join(root, "img_align_celeba", "img_align_celeba", "b.jpg"), 4, 4, color.RGBA{1, 2, 3, 255})
		writeText(t, filepath.Join(root, "list_attr_celeba.csv"), "image_id,Male,Young\na.jpg,1,-1\nb.jpg,-1,1\n")
		writeText(t, filepath.Join(root, "list_eval_partition.csv"), "image_id,partition\na.jpg,0\nb.jpg,2\n")
		c, err := LoadCelebA(root)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.AttrNames, []string{"Male", "Young"}) || !c.Attrs[0][0] || c.Attrs[0][1] || c.Partition[1] != 2 ||
			!strings.HasSuffix(c.ImageDir, filepath.Join("img_align_celeba", "img_align_celeba")) {
			t.Errorf("parsed %+v", c)
		}
	})
}

// imagenetFixture writes train/<wnid>/ with 4 images per class and val either in class folders or flat with
// LOC_val_solution.csv; 4 val images per class. Class k's images have red = 60*k+30.
func imagenetFixture(t *testing.T, wnids []string, flatVal bool) string {
	t.Helper()
	root := t.TempDir()
	var sol strings.Builder
	sol.WriteString("ImageId,PredictionString\n")
	n := 0
	for k, w := range wnids {
		c := color.RGBA{uint8(60*k + 30), 0, 0, 255}
		for i := range 4 {
			writeJPEG(t, filepath.Join(root, "train", w, fmt.Sprintf("%s_%d.JPEG", w, i)), 10, 8, c)
			n++
			name := fmt.Sprintf("ILSVRC2012_val_%08d", n)
			if flatVal {
				writeJPEG(t, filepath.Join(root, "val", name+".JPEG"), 8, 10, c)
				fmt.Fprintf(&sol, "%s,%s 1 2 3 4 %s 5 6 7 8\n", name, w, w)
			} else {
				writeJPEG(t, filepath.Join(root, "val", w, name+".JPEG"), 8, 10, c)
			}
		}
	}
	if flatVal {
		writeText(t, filepath.Join(root, "LOC_val_solution.csv"), sol.String())
	}
	return root
}

var testWnids = []string{"n02084071", "n01440764", "n01443537"} // dog, tench, goldfish (deliberately unsorted)

func TestImageNet(t *testing.T) {
	for _, flat := range []bool{false, true} {
		root := imagenetFixture(t, testWnids, flat)
		d, err := ImageNet(root, ImageNetConfig{MaxTrainPerClass: 3, Seed: 2})
		if err != nil {
			t.Fatalf("flat=%v: %v", flat, err)
		}
		sorted := append([]string(nil), testWnids...)
		sort.Strings(sorted)
		if !reflect.DeepEqual(d.ClassIDs, sorted) {
			t.Fatalf("class ids %v, want sorted %v", d.ClassIDs, sorted)
		}
		if !reflect.DeepEqual(d.Classes, []string{"tench", "goldfish", "dog"}) || d.Params["names"] != "wordnet" {
			t.Errorf("flat=%v: names %v (%s)", flat, d.Classes, d.Params["names"])
		}
		if d.Train.Len() != 9 || d.Val.Len() != 6 || d.Test.Len() != 6 {
			t.Errorf("flat=%v: sizes train %d val %d test %d", flat, d.Train.Len(), d.Val.Len(), d.Test.Len())
		}
		// Labels agree with the pixels: class k has red 60*k'+30 where k' is its index in testWnids.
		for _, s := range d.Splits() {
			b, err := s.Batch(seq(s.Len()), 4, 4)
			if err != nil {
				t.Fatal(err)
			}
			for i := range s.Len() {
				want := 0
				for k, w := range testWnids {
					if w == d.ClassIDs[s.Labels[i]] {
						want = 60*k + 30
					}
				}
				if r := int(b.Pixels(i)[0]); r < want-8 || r > want+8 {
					t.Fatalf("flat=%v %s %s: label %d, red %d want %d", flat, s.Name, s.IDs[i], s.Labels[i], r, want)
				}
			}
		}
		checkDisjoint(t, d)
	}
	nouns := loadNouns(t)
	info, err := ImageNetClasses(nouns, []string{"n02084071"})
	if err != nil {
		t.Fatal(err)
	}
	if info[0].Name != "dog" || len(info[0].Hypernyms) < 3 || info[0].Hypernyms[0] != "canine" || !strings.Contains(info[0].Gloss, "domesticated") {
		t.Errorf("dog info %+v", info[0])
	}
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestImageNetBadInput(t *testing.T) {
	t.Run("no val", func(t *testing.T) {
		root := imagenetFixture(t, testWnids, false)
		os.RemoveAll(filepath.Join(root, "val"))
		if _, err := ImageNet(root, ImageNetConfig{}); err == nil || !strings.Contains(err.Error(), "val") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("flat val without labels", func(t *testing.T) {
		root := imagenetFixture(t, testWnids, true)
		os.Remove(filepath.Join(root, "LOC_val_solution.csv"))
		if _, err := ImageNet(root, ImageNetConfig{}); err == nil || !strings.Contains(err.Error(), "ground truth") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("malformed labels line", func(t *testing.T) {
		root := imagenetFixture(t, testWnids, true)
		p := filepath.Join(root, "labels.txt")
		writeText(t, p, "ILSVRC2012_val_00000001.JPEG n02084071\nILSVRC2012_val_00000002.JPEG dog\n")
		_, err := ImageNet(root, ImageNetConfig{ValLabels: p})
		if err == nil || !strings.Contains(err.Error(), "labels.txt:2") {
			t.Fatalf("err = %v, want file:line", err)
		}
	})
	t.Run("val image without label", func(t *testing.T) {
		root := imagenetFixture(t, testWnids, true)
		p := filepath.Join(root, "labels.txt")
		writeText(t, p, "ILSVRC2012_val_00000001 n02084071\n")
		_, err := ImageNet(root, ImageNetConfig{ValLabels: p})
		if err == nil || !strings.Contains(err.Error(), "ILSVRC2012_val_00000002.JPEG has no entry") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not a wnid folder", func(t *testing.T) {
		root := imagenetFixture(t, testWnids, false)
		os.MkdirAll(filepath.Join(root, "train", "cats"), 0o755)
		if _, err := ImageNet(root, ImageNetConfig{}); err == nil || !strings.Contains(err.Error(), "cats") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unreadable image", func(t *testing.T) {
		root := imagenetFixture(t, testWnids, false)
		d, err := ImageNet(root, ImageNetConfig{})
		if err != nil {
			t.Fatal(err)
		}
		writeText(t, d.Val.Files[0], "")
		if _, err := d.Val.Batch([]int{0}, 4, 4); err == nil || !strings.Contains(err.Error(), d.Val.Files[0]) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no wordnet", func(t *testing.T) {
		root := imagenetFixture(t, testWnids, false)
		d, err := ImageNet(root, ImageNetConfig{NounFile: filepath.Join(root, "nope")})
		if err != nil {
			t.Fatal(err)
		}
		if d.Classes[0] != "n01440764" || !strings.Contains(d.Params["names"], "WordNet not readable") {
			t.Errorf("classes %v names %q", d.Classes, d.Params["names"])
		}
	})
}

func TestImageFolder(t *testing.T) {
	t.Run("class folders", func(t *testing.T) {
		root := t.TempDir()
		for k, c := range []string{"cat", "dog"} {
			for i := range 10 {
				ext := ".jpg"
				if i%2 == 1 {
					ext = ".png"
				}
				writeJPEG(t, filepath.Join(root, c, fmt.Sprintf("%d%s", i, ext)), 6, 6, color.RGBA{uint8(100 * k), 0, 0, 255})
			}
		}
		writeText(t, filepath.Join(root, "cat", "notes.txt"), "ignored")
		d, err := ImageFolder(root, FolderConfig{ValFraction: 0.2, TestFraction: 0.3, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(d.Classes, []string{"cat", "dog"}) || d.Train.Len() != 10 || d.Val.Len() != 4 || d.Test.Len() != 6 {
			t.Fatalf("classes %v sizes %d %d %d", d.Classes, d.Train.Len(), d.Val.Len(), d.Test.Len())
		}
		checkDisjoint(t, d)
		if !strings.HasPrefix(d.Train.IDs[0], "cat/") {
			t.Errorf("id %q", d.Train.IDs[0])
		}
	})
	t.Run("split folders", func(t *testing.T) {
		root := t.TempDir()
		for _, sp := range []string{"train", "validation"} {
			for _, c := range []string{"a", "b", "c"} {
				for i := range 5 {
					writeJPEG(t, filepath.Join(root, sp, c, fmt.Sprintf("%d.jpg", i)), 5, 5, color.RGBA{9, 9, 9, 255})
				}
			}
		}
		d, err := ImageFolder(root, FolderConfig{TestFraction: 0.4})
		if err != nil {
			t.Fatal(err)
		}
		if d.Val.Len() != 15 || d.Test.Len() != 6 || d.Train.Len() != 9 {
			t.Fatalf("sizes train %d val %d test %d", d.Train.Len(), d.Val.Len(), d.Test.Len())
		}
		checkDisjoint(t, d)
	})
	t.Run("bad input", func(t *testing.T) {
		root := t.TempDir()
		if _, err := ImageFolder(filepath.Join(root, "nope"), FolderConfig{}); err == nil {
			t.Error("missing root accepted")
		}
		os.MkdirAll(filepath.Join(root, "only"), 0o755)
		if _, err := ImageFolder(root, FolderConfig{}); err == nil || !strings.Contains(err.Error(), "at least 2") {
			t.Errorf("one class: %v", err)
		}
		os.MkdirAll(filepath.Join(root, "empty"), 0o755)
		writeJPEG(t, filepath.Join(root, "only", "x.jpg"), 3, 3, color.RGBA{})
		if _, err := ImageFolder(root, FolderConfig{}); err == nil || !strings.Contains(err.Error(), `"empty"`) {
			t.Errorf("empty class: %v", err)
		}
		root2 := t.TempDir()
		os.MkdirAll(filepath.Join(root2, "test", "a"), 0o755)
		if _, err := ImageFolder(root2, FolderConfig{}); err == nil || !strings.Contains(err.Error(), "no train/") {
			t.Errorf("no train: %v", err)
		}
	})
}

func loadNouns(t *testing.T) *wordnet.Nouns {
	t.Helper()
	n, err := wordnet.LoadNouns("")
	if err != nil {
		t.Fatalf("WordNet 3.0 is required for this test (run `make setup`): %v", err)
	}
	return n
}

func TestMaterialize(t *testing.T) {
	root := imagenetFixture(t, testWnids, false)
	d, err := ImageNet(root, ImageNetConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var bar strings.Builder
	m, err := d.Train.Materialize(context.Background(), 5, 6, MaterializeOptions{Chunk: 5, Progress: &bar})
	if err != nil {
		t.Fatal(err)
	}
	if m.Files != nil || m.Images.N != 12 || m.Images.H != 5 || m.Images.W != 6 || m.Validate() != nil {
		t.Fatalf("materialized %+v", m.Images)
	}
	if !strings.Contains(bar.String(), "decode train") || !strings.Contains(bar.String(), "12/12") {
		t.Errorf("progress bar %q lacks the final count", bar.String())
	}
	want, _ := d.Train.Batch([]int{7}, 5, 6)
	if !reflect.DeepEqual(m.Images.Pixels(7), want.Pixels(0)) || m.IDs[7] != d.Train.IDs[7] || d.Train.Files == nil {
		t.Error("materialized pixels or ids differ, or the source split changed")
	}
	writeText(t, d.Train.Files[3], "garbage")
	if _, err := d.Train.Materialize(context.Background(), 5, 6, MaterializeOptions{Progress: io.Discard}); err == nil || !strings.Contains(err.Error(), d.Train.Files[3]) {
		t.Errorf("err = %v", err)
	}
}
