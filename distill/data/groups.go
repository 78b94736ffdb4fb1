package data

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"
)

// PlantedGroup is one group of a [Planted] experiment: images of one Fashion-MNIST item, all tinted with one
// colour or all left gray, and how many of them each split gets.
type PlantedGroup struct {
	// Item is the Fashion-MNIST class (0..9) the images come from.
	Item int `json:"item"`
	// Color is the tint, a palette name; "" leaves the images gray (pixel for pixel the same as "white").
	Color string `json:"color,omitempty"`
	// Train, Val and Test are the group's number of images in each split.
	Train int `json:"train"`
	Val   int `json:"val"`
	Test  int `json:"test"`
	// Minority marks a planted slice (a group the experiment makes rare in train).
	Minority bool `json:"minority,omitempty"`
}

// PlantedClass is one label of a [Planted] experiment: a name and the groups it is made of.
type PlantedClass struct {
	Name   string         `json:"name"`
	Groups []PlantedGroup `json:"groups"`
}

// Untinted is the colour attribute's value name of gray (untinted) images in an experiment that tints others.
const Untinted = "untinted"

// Planted builds a planted experiment from explicit groups, the general form of [Spurious] and [Rare]: class k
// is classes[k], made of its groups, each group a Fashion-MNIST item in one tint with its own count in every
// split (so any mix of spurious colours, rare subclasses or both, in any number of classes, can be planted).
//
//   - Labels: the class index. Groups: numbered in the order listed (class 0's groups first), each with its
//     class and Minority flag; named "<item>, <colour>" ("<item>" for gray images), with " (minority)" added.
//   - Attrs["subclass"]: the Fashion-MNIST item (names in AttrValues["subclass"] = FashionClasses).
//     Attrs["color"], when any group is tinted: the tint (names in AttrValues["color"], in order of first use;
//     gray images are [Untinted]).
//   - Train and val come from the Fashion-MNIST train file, test from its test file; no image appears twice and
//     every choice (which images, the order of each split) follows from seed. No pool.
//   - IDs: "fashion-train-NNNNN" / "fashion-test-NNNNN" ([ParseFashionID]).
//
// A group's item and tint must not repeat (two identical groups could not be told apart), counts must not be
// negative, and every class needs at least one group.
func Planted(f *Fashion, classes []PlantedClass, seed uint64) (*Dataset, error) {
	if len(classes) < 2 {
		return nil, fmt.Errorf("planted: %d classes, need at least 2", len(classes))
	}
	type key struct {
		item  int
		color string
	}
	seen := map[key]string{}
	var colorNames []string
	colorIndex := map[string]int{}
	gray := false
	for k, c := range classes {
		if len(c.Groups) == 0 {
			return nil, fmt.Errorf("planted: class %d (%q) has no groups", k, c.Name)
		}
		for j, g := range c.Groups {
			where := fmt.Sprintf("class %d (%q) group %d", k, c.Name, j)
			if g.Item < 0 || g.Item >= len(FashionClasses) {
				return nil, fmt.Errorf("planted: %s: item %d is not a Fashion-MNIST class 0..9", where, g.Item)
			}
			if g.Train < 0 || g.Val < 0 || g.Test < 0 {
				return nil, fmt.Errorf("planted: %s: negative count (train %d, val %d, test %d)", where, g.Train, g.Val, g.Test)
			}
			name := strings.ToLower(strings.TrimSpace(g.Color))
			if name == "" {
				gray = true
			} else {
				if _, err := ParseColor(name); err != nil {
					return nil, fmt.Errorf("planted: %s: %w", where, err)
				}
				if _, ok := colorIndex[name]; !ok {
					colorIndex[name] = len(colorNames)
					colorNames = append(colorNames, name)
				}
			}
			kk := key{g.Item, name}
			if prev, ok := seen[kk]; ok {
				return nil, fmt.Errorf("planted: %s repeats %s (item %s, tint %q)", where, prev, FashionClasses[g.Item], name)
			}
			seen[kk] = where
		}
	}
	var colors []color.RGBA
	attrs := []string{"subclass"}
	if len(colorNames) > 0 {
		attrs = append(attrs, "color")
		if gray {
			colorIndex[""] = len(colorNames)
			colorNames = append(colorNames, Untinted)
		}
		for _, n := range colorNames {
			c := Palette["white"] // untinted: tinting with white leaves the gray values unchanged
			if n != Untinted {
				c = Palette[n]
			}
			colors = append(colors, c)
		}
	}
	rng := newRNG(seed, 4)
	pools := newClassPools(f, rng)
	d := &Dataset{Name: "fashion-planted", AttrValues: map[string][]string{"subclass": FashionClasses}}
	if colors != nil {
		d.AttrValues["color"] = colorNames
	}
	var train, val, test []exampleRef
	var desc []string
	for k, c := range classes {
		d.Classes = append(d.Classes, c.Name)
		for _, g := range c.Groups {
			id := len(d.Groups)
			name := strings.ToLower(strings.TrimSpace(g.Color))
			tint := -1
			gname := FashionClasses[g.Item]
			if colors != nil {
				tint = colorIndex[name]
			}
			if name != "" {
				gname += ", " + name
			}
			if g.Minority {
				gname += " (minority)"
			}
			d.Groups = append(d.Groups, Group{ID: id, Name: gname, Class: k, Minority: g.Minority})
			desc = append(desc, fmt.Sprintf("%d:%s %d/%d/%d", k, gname, g.Train, g.Val, g.Test))
			for _, st := range []struct {
				dst  *[]exampleRef
				test bool
				n    int
			}{{&train, false, g.Train}, {&val, false, g.Val}, {&test, true, g.Test}} {
				idx, err := pools.take(st.test, g.Item, st.n)
				if err != nil {
					return nil, fmt.Errorf("planted: class %q: %w (reduce the counts)", c.Name, err)
				}
				for _, i := range idx {
					*st.dst = append(*st.dst, exampleRef{test: st.test, index: i, label: k, group: id, tint: tint, fclass: g.Item})
				}
			}
		}
	}
	d.Params = map[string]string{"groups": strings.Join(desc, "; "), "seed": fmt.Sprint(seed)}
	d.Train = materialise(f, "train", train, colors, attrs, rng)
	d.Val = materialise(f, "val", val, colors, attrs, rng)
	d.Test = materialise(f, "test", test, colors, attrs, rng)
	return d, d.Validate()
}

// ParseFashionID splits an example id of the planted Fashion-MNIST experiments ("fashion-train-01234",
// "fashion-test-00007") into the file it comes from (test: the test file) and the image's index in that file.
func ParseFashionID(id string) (test bool, index int, err error) {
	rest, ok := strings.CutPrefix(id, "fashion-")
	if ok {
		var file string
		file, rest, ok = strings.Cut(rest, "-")
		if ok && (file == "train" || file == "test") {
			if index, err = strconv.Atoi(rest); err == nil && index >= 0 {
				return file == "test", index, nil
			}
		}
	}
	return false, 0, fmt.Errorf("%q is not a Fashion-MNIST example id (fashion-train-NNNNN or fashion-test-NNNNN)", id)
}
