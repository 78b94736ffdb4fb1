package data

import (
	"reflect"
	"strings"
	"testing"
)

// TestPlanted builds a three-class experiment with two minority colours in one class and a gray group, and checks
// the counts per group and split, the tint of every image, its source item, disjointness, the ids and the seed.
func TestPlanted(t *testing.T) {
	f := realFashion(t)
	classes := []PlantedClass{
		{Name: "tops", Groups: []PlantedGroup{
			{Item: 0, Color: "red", Train: 40, Val: 6, Test: 9},
			{Item: 0, Color: "Blue", Train: 4, Val: 6, Test: 3, Minority: true},
			{Item: 0, Color: "green", Train: 3, Val: 6, Test: 2, Minority: true},
		}},
		{Name: "Trouser", Groups: []PlantedGroup{{Item: 1, Color: "blue", Train: 30, Val: 5, Test: 7}}},
		{Name: "gray bags", Groups: []PlantedGroup{{Item: 8, Train: 20, Val: 4, Test: 5}, {Item: 7, Train: 2, Val: 4, Test: 5, Minority: true}}},
	}
	d, err := Planted(f, classes, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d.Classes, []string{"tops", "Trouser", "gray bags"}) || !reflect.DeepEqual(d.Minority(), []int{1, 2, 5}) {
		t.Fatalf("classes %v, minority groups %v", d.Classes, d.Minority())
	}
	if d.Groups[1].Name != "T-shirt/top, blue (minority)" || d.Groups[4].Name != "Bag" || d.Groups[5].Class != 2 {
		t.Fatalf("groups %+v", d.Groups)
	}
	if want := []string{"red", "blue", "green", Untinted}; !reflect.DeepEqual(d.AttrValues["color"], want) {
		t.Fatalf("colour names %v, want %v", d.AttrValues["color"], want)
	}
	want := map[string][]int{"train": {40, 4, 3, 30, 20, 2}, "val": {6, 6, 6, 5, 4, 4}, "test": {9, 3, 2, 7, 5, 5}}
	groupColor := []int{0, 1, 2, 1, 3, 3}
	groupItem := []int{0, 0, 0, 1, 8, 7}
	for _, s := range d.Splits() {
		if got := s.GroupCounts(len(d.Groups)); !reflect.DeepEqual(got, want[s.Name]) {
			t.Errorf("%s group counts %v, want %v", s.Name, got, want[s.Name])
		}
		for i := range s.Len() {
			g := s.Groups[i]
			if s.Attrs["color"][i] != groupColor[g] || s.Attrs["subclass"][i] != groupItem[g] {
				t.Fatalf("%s %d: colour %d, item %d for group %d", s.Name, i, s.Attrs["color"][i], s.Attrs["subclass"][i], g)
			}
			test, idx, err := ParseFashionID(s.IDs[i])
			if err != nil || test != (s.Name == "test") {
				t.Fatalf("%s id %q: test=%v, %v", s.Name, s.IDs[i], test, err)
			}
			src, labels := f.TrainImages, f.TrainLabels
			if test {
				src, labels = f.TestImages, f.TestLabels
			}
			if labels[idx] != groupItem[g] {
				t.Fatalf("%s: Fashion class %d for group %d (item %d)", s.IDs[i], labels[idx], g, groupItem[g])
			}
			px := s.Images.Pixels(i)
			if g >= 4 { // gray: every channel the source value
				for j, v := range src.Pixels(idx) {
					if px[3*j] != v || px[3*j+1] != v || px[3*j+2] != v {
						t.Fatalf("%s: gray image changed at pixel %d", s.IDs[i], j)
					}
				}
			} else if got := dominantColor(t, px, d.AttrValues["color"][:3]); got != groupColor[g] {
				t.Fatalf("%s: looks %s, want %s", s.IDs[i], d.AttrValues["color"][got], d.AttrValues["color"][groupColor[g]])
			}
		}
	}
	checkDisjoint(t, d)
	d2, _ := Planted(f, classes, 5)
	if !reflect.DeepEqual(d.Val.IDs, d2.Val.IDs) || !reflect.DeepEqual(d.Test.Images.Pix, d2.Test.Images.Pix) {
		t.Error("same seed gave different datasets")
	}
	if d3, _ := Planted(f, classes, 6); reflect.DeepEqual(d.Val.IDs, d3.Val.IDs) {
		t.Error("seeds 5 and 6 gave the same val split")
	}
	// All gray: no colour attribute.
	g, err := Planted(f, []PlantedClass{{Name: "a", Groups: []PlantedGroup{{Item: 2, Train: 3, Val: 1, Test: 1}}},
		{Name: "b", Groups: []PlantedGroup{{Item: 4, Train: 3, Val: 1, Test: 1}}}}, 0)
	if err != nil || g.Train.Attrs["color"] != nil || g.AttrValues["color"] != nil {
		t.Fatalf("all-gray experiment: %v, attrs %v", err, g.AttrValues)
	}
}

func TestPlantedErrors(t *testing.T) {
	f := realFashion(t)
	one := func(g PlantedGroup) []PlantedClass {
		return []PlantedClass{{Name: "a", Groups: []PlantedGroup{g}}, {Name: "b", Groups: []PlantedGroup{{Item: 9, Train: 1}}}}
	}
	for _, c := range []struct {
		name    string
		classes []PlantedClass
		want    string
	}{
		{"one class", []PlantedClass{{Name: "a", Groups: []PlantedGroup{{Item: 0}}}}, "need at least 2"},
		{"no groups", []PlantedClass{{Name: "a"}, {Name: "b", Groups: []PlantedGroup{{Item: 1}}}}, `class 0 ("a") has no groups`},
		{"bad item", one(PlantedGroup{Item: 10}), "item 10 is not a Fashion-MNIST class"},
		{"negative", one(PlantedGroup{Item: 1, Val: -1}), "negative count"},
		{"bad colour", one(PlantedGroup{Item: 1, Color: "octarine"}), `unknown colour "octarine"`},
		{"repeat", []PlantedClass{{Name: "a", Groups: []PlantedGroup{{Item: 1, Color: "red"}}}, {Name: "b", Groups: []PlantedGroup{{Item: 1, Color: "Red"}}}},
			"repeats class 0"},
		{"too many", one(PlantedGroup{Item: 3, Test: 1001}), "only 1000 left"},
	} {
		_, err := Planted(f, c.classes, 0)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to contain %q", c.name, err, c.want)
		}
	}
}

func TestParseFashionID(t *testing.T) {
	for _, c := range []struct {
		id    string
		test  bool
		index int
		ok    bool
	}{
		{"fashion-train-01234", false, 1234, true},
		{"fashion-test-00007", true, 7, true},
		{"fashion-pool-00007", false, 0, false},
		{"fashion-train-", false, 0, false},
		{"fashion-train--3", false, 0, false},
		{"celeba-train-1", false, 0, false},
	} {
		test, index, err := ParseFashionID(c.id)
		if (err == nil) != c.ok || test != c.test || index != c.index {
			t.Errorf("ParseFashionID(%q) = %v, %d, %v", c.id, test, index, err)
		}
	}
}
