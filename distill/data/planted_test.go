package data

import (
	"reflect"
	"strings"
	"testing"
)

// dominantColor returns the palette index (among names) whose colour best explains the image's RGB proportions.
func dominantColor(t *testing.T, px []uint8, names []string) int {
	t.Helper()
	var sum [3]float64
	for j := 0; j < len(px); j += 3 {
		for c := range 3 {
			sum[c] += float64(px[j+c])
		}
	}
	best, bestErr := -1, 0.0
	for k, n := range names {
		col := Palette[n]
		ref := [3]float64{float64(col.R), float64(col.G), float64(col.B)}
		// Compare normalised proportions.
		tot, rtot := sum[0]+sum[1]+sum[2], ref[0]+ref[1]+ref[2]
		e := 0.0
		for c := range 3 {
			d := sum[c]/tot - ref[c]/rtot
			e += d * d
		}
		if best < 0 || e < bestErr {
			best, bestErr = k, e
		}
	}
	return best
}

func checkDisjoint(t *testing.T, d *Dataset) {
	t.Helper()
	seen := map[string]string{}
	for _, s := range d.Splits() {
		for _, id := range s.IDs {
			if prev, ok := seen[id]; ok {
				t.Fatalf("%s appears in %s and %s", id, prev, s.Name)
			}
			seen[id] = s.Name
		}
	}
}

func TestSpuriousDefaults(t *testing.T) {
	f := realFashion(t)
	d, err := Spurious(f, SpuriousConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Classes, []string{"T-shirt/top", "Shirt"}) {
		t.Fatalf("classes %v", d.Classes)
	}
	if !reflect.DeepEqual(d.Minority(), []int{1, 3}) || d.Groups[1].Name != "T-shirt/top, green (minority)" || d.Groups[2].Name != "Shirt, green (majority)" {
		t.Fatalf("groups %+v", d.Groups)
	}
	want := map[string][]int{"train": {1600, 400, 1600, 400}, "val": {250, 250, 250, 250}, "test": {667, 333, 667, 333}, "pool": {800, 200, 800, 200}}
	for _, s := range d.Splits() {
		if got := s.GroupCounts(4); !reflect.DeepEqual(got, want[s.Name]) {
			t.Errorf("%s group counts %v, want %v", s.Name, got, want[s.Name])
		}
		if s.Images.H != 28 || s.Images.C != 3 {
			t.Errorf("%s images %dx%dx%d", s.Name, s.Images.H, s.Images.W, s.Images.C)
		}
		// Every image is tinted with the colour its group says: label k's majority colour is k.
		for i := range s.Len() {
			wantColor := s.Labels[i]
			if s.Groups[i]%2 == 1 {
				wantColor = 1 - wantColor
			}
			if s.Attrs["color"][i] != wantColor {
				t.Fatalf("%s %d: color attr %d, want %d", s.Name, i, s.Attrs["color"][i], wantColor)
			}
			if got := dominantColor(t, s.Images.Pixels(i), d.AttrValues["color"]); got != wantColor {
				t.Fatalf("%s %d (%s): pixels look %s, want %s", s.Name, i, s.IDs[i], d.AttrValues["color"][got], d.AttrValues["color"][wantColor])
			}
			// The label is the Fashion-MNIST class of the source image.
			src, idx := f.TrainLabels, s.IDs[i]
			if strings.HasPrefix(idx, "fashion-test-") {
				src = f.TestLabels
			}
			var n int
			for _, c := range idx[strings.LastIndexByte(idx, '-')+1:] {
				n = n*10 + int(c-'0')
			}
			if src[n] != []int{0, 6}[s.Labels[i]] {
				t.Fatalf("%s %s: Fashion class %d for label %d", s.Name, idx, src[n], s.Labels[i])
			}
		}
	}
	for _, id := range d.Test.IDs {
		if !strings.HasPrefix(id, "fashion-test-") {
			t.Fatalf("test id %s not from the Fashion-MNIST test file", id)
		}
	}
	checkDisjoint(t, d)
	// Determinism: the same seed gives the same dataset, another seed another one.
	d2, _ := Spurious(f, SpuriousConfig{})
	if !reflect.DeepEqual(d.Train.IDs, d2.Train.IDs) || !reflect.DeepEqual(d.Train.Images.Pix, d2.Train.Images.Pix) {
		t.Error("same seed gave different datasets")
	}
	d3, _ := Spurious(f, SpuriousConfig{Seed: 1})
	if reflect.DeepEqual(d.Train.IDs, d3.Train.IDs) {
		t.Error("seeds 0 and 1 gave the same train split")
	}
}

func TestSpuriousSettings(t *testing.T) {
	f := realFashion(t)
	d, err := Spurious(f, SpuriousConfig{Classes: [2]int{2, 4}, Colors: [2]string{"blue", "Yellow"}, MajorityFraction: 0.9,
		TrainPerClass: 100, ValPerGroup: 10, TestPerClass: 20, TestMinorityShare: 0.25, PoolPerClass: -1, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if d.Pool != nil {
		t.Error("PoolPerClass -1 still built a pool")
	}
	if got := d.Train.GroupCounts(4); !reflect.DeepEqual(got, []int{90, 10, 90, 10}) {
		t.Errorf("train groups %v", got)
	}
	if got := d.Test.GroupCounts(4); !reflect.DeepEqual(got, []int{15, 5, 15, 5}) {
		t.Errorf("test groups %v, want 15:5 per class (minority share 0.25)", got)
	}
	if d.Groups[3].Name != "Coat, blue (minority)" || d.AttrValues["color"][1] != "yellow" {
		t.Errorf("names: %+v colors %v", d.Groups, d.AttrValues["color"])
	}
	for _, bad := range []SpuriousConfig{
		{Classes: [2]int{3, 3}},
		{Classes: [2]int{0, 11}},
		{Colors: [2]string{"red", "red"}},
		{Colors: [2]string{"red", "octarine"}},
		{MajorityFraction: 0.3},
		{TestPerClass: 1001}, // the test file has 1000 per class
		{TestMinorityShare: 1},
		{TestMinorityShare: -0.2},
		{TrainPerClass: -5},
	} {
		if _, err := Spurious(f, bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func TestRare(t *testing.T) {
	f := realFashion(t)
	d, err := Rare(f, RareConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Classes) != 3 || d.Classes[0] != "T-shirt/top|Pullover|Sneaker" || len(d.Groups) != 10 {
		t.Fatalf("classes %v, %d groups", d.Classes, len(d.Groups))
	}
	if !reflect.DeepEqual(d.Minority(), []int{2, 5, 9}) || d.Groups[2].Name != "Sneaker in T-shirt/top|Pullover|Sneaker (rare)" {
		t.Fatalf("minority %v, groups %+v", d.Minority(), d.Groups)
	}
	wantTrain := []int{1000, 1000, 100, 1000, 1000, 100, 1000, 1000, 1000, 100}
	if got := d.Train.GroupCounts(10); !reflect.DeepEqual(got, wantTrain) {
		t.Errorf("train group counts %v, want %v", got, wantTrain)
	}
	for _, s := range []*ImageSplit{d.Val, d.Pool} {
		per := map[string]int{"val": 200, "pool": 500}[s.Name]
		for g, n := range s.GroupCounts(10) {
			if n != per {
				t.Errorf("%s group %d has %d, want %d", s.Name, g, n, per)
			}
		}
	}
	// Test: the rare member is a third of its superclass (natural mix), the common ones share the rest.
	wantTest := []int{1000, 1000, 1000, 1000, 1000, 1000, 667, 667, 666, 1000}
	if got := d.Test.GroupCounts(10); !reflect.DeepEqual(got, wantTest) {
		t.Errorf("test group counts %v, want %v", got, wantTest)
	}
	fashionOf := []int{0, 2, 7, 5, 9, 4, 1, 3, 8, 6}
	for _, s := range d.Splits() {
		for i := range s.Len() {
			if s.Attrs["subclass"][i] != fashionOf[s.Groups[i]] || d.Groups[s.Groups[i]].Class != s.Labels[i] {
				t.Fatalf("%s %d: group %d subclass %d label %d", s.Name, i, s.Groups[i], s.Attrs["subclass"][i], s.Labels[i])
			}
			px := s.Images.Pixels(i)
			if px[3*400] != px[3*400+1] || px[3*400] != px[3*400+2] {
				t.Fatalf("%s %d: untinted image is not gray", s.Name, i)
			}
		}
	}
	checkDisjoint(t, d)
}

func TestRareSettings(t *testing.T) {
	f := realFashion(t)
	d, err := Rare(f, RareConfig{Superclasses: [][]int{{5, 7, 9}, {0, 6}}, Rare: []int{9, 6}, Names: []string{"footwear", "tops"},
		RareFraction: 0.1, TrainPerSubclass: 50, ValPerSubclass: 5, TestPerClass: 10, TestMinorityShare: 0.2, PoolPerSubclass: -1, Colors: []string{"red", "blue"}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Train.GroupCounts(5); !reflect.DeepEqual(got, []int{50, 50, 5, 50, 5}) {
		t.Errorf("train groups %v", got)
	}
	if got := d.Test.GroupCounts(5); !reflect.DeepEqual(got, []int{4, 4, 2, 8, 2}) {
		t.Errorf("test groups %v, want 4+4 common and 2 rare footwear, 8+2 tops", got)
	}
	if d.Groups[4].Name != "Shirt in tops (rare)" || d.Pool != nil {
		t.Errorf("groups %+v pool %v", d.Groups, d.Pool)
	}
	seen := map[int]bool{}
	for i := range d.Train.Len() {
		c := d.Train.Attrs["color"][i]
		seen[c] = true
		if got := dominantColor(t, d.Train.Images.Pixels(i), d.AttrValues["color"]); got != c {
			t.Fatalf("train %d: colour attr %d, pixels look %d", i, c, got)
		}
	}
	if len(seen) != 2 {
		t.Errorf("colours used: %v", seen)
	}
	for _, bad := range []RareConfig{
		{Superclasses: [][]int{{0, 1}}, Rare: []int{0}},
		{Superclasses: [][]int{{0, 1}, {2, 3}}, Rare: []int{0}},
		{Superclasses: [][]int{{0, 1}, {2, 3}}, Rare: []int{0, 1}},
		{Superclasses: [][]int{{0, 1}, {1, 3}}, Rare: []int{0, 3}},
		{Superclasses: [][]int{{0}, {2, 3}}, Rare: []int{0, 3}},
		{RareFraction: 1.5},
		{TrainPerSubclass: 5000, ValPerSubclass: 1000},
		{TestPerClass: 4000}, // 1333 of the rare member, more than the test file's 1000
		{TestMinorityShare: 1},
	} {
		if _, err := Rare(f, bad); err == nil {
			t.Errorf("config %+v accepted", bad)
		}
	}
}

func TestFashionDataset(t *testing.T) {
	f := realFashion(t)
	d, err := FashionDataset(f, FashionConfig{TrainPerClass: 100, ValPerClass: 10})
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len() != 1000 || d.Val.Len() != 100 || d.Test.Len() != 10000 || d.Train.Groups != nil || len(d.Classes) != 10 {
		t.Fatalf("sizes %d %d %d", d.Train.Len(), d.Val.Len(), d.Test.Len())
	}
	checkDisjoint(t, d)
}

func TestSplitBatchAndSubset(t *testing.T) {
	f := realFashion(t)
	d, err := Spurious(f, SpuriousConfig{TrainPerClass: 10, ValPerGroup: 2, TestPerClass: 4, PoolPerClass: -1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.Train.Batch([]int{3, 0}, 0, 0)
	if err != nil || b.N != 2 || b.H != 28 || !reflect.DeepEqual(b.Pixels(0), d.Train.Images.Pixels(3)) {
		t.Fatalf("Batch native: %v", err)
	}
	b, err = d.Train.Batch([]int{1}, 14, 14)
	if err != nil || b.H != 14 || b.W != 14 || b.C != 3 {
		t.Fatalf("Batch resized: %+v %v", b, err)
	}
	if _, err := d.Train.Batch([]int{99}, 0, 0); err == nil {
		t.Error("Batch accepted an out-of-range index")
	}
	sub := d.Train.Subset([]int{5, 2})
	if sub.IDs[0] != d.Train.IDs[5] || sub.Groups[1] != d.Train.Groups[2] || sub.Attrs["color"][0] != d.Train.Attrs["color"][5] || sub.Validate() != nil {
		t.Errorf("Subset mismatch")
	}
}
