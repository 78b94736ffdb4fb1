package benchmark

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/faildirs/faildirs/distill/data"
)

// Kind is the kind of a planted setting.
type Kind string

// The kinds of setting, generated in this order, one after the other.
const (
	// KindSpurious: two Fashion-MNIST items, each tinted with its own majority colour in train (ratio r:1); the
	// minority of each class wears the other class's colour. One planted slice per class.
	KindSpurious Kind = "spurious"
	// KindSpuriousTriple: three items and three colours; each class's minority wears the other two classes'
	// colours, half each. Two planted slices per class.
	KindSpuriousTriple Kind = "spurious-triple"
	// KindRare: two or three superclasses of two or three gray items each; one member of each superclass is
	// rare in train (a fraction of a common member's count). One planted slice per class.
	KindRare Kind = "rare"
	// KindRareTwo: like KindRare, but the first superclass has three or four members, two of them rare. Two
	// planted slices in that class.
	KindRareTwo Kind = "rare-two"
)

// kinds is the cycle of kinds: setting i has kind kinds[i % 4].
var kinds = []Kind{KindSpurious, KindSpuriousTriple, KindRare, KindRareTwo}

// Colors are the tints of the spurious settings: the data package's palette without white and gray (white is the
// untinted image; gray is a dim white).
var Colors = []string{"red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan", "brown", "magenta"}

// Sizes are the split sizes of the generated settings. The zero value means the defaults given on each field.
type Sizes struct {
	// TrainPerClass is the number of train images of a spurious class (default 1000), TrainPerSubclass of a
	// common member of a superclass (default 500).
	TrainPerClass    int `json:"train_per_class"`
	TrainPerSubclass int `json:"train_per_subclass"`
	// ValPerGroup is the number of validation images of every group (group-balanced, default 250).
	ValPerGroup int `json:"val_per_group"`
	// TestPerClass is the number of test images per class (default 900), of which TestSliceShare (default 1/3)
	// are the class's planted slices, split equally between them: a natural mix.
	TestPerClass   int     `json:"test_per_class"`
	TestSliceShare float64 `json:"test_slice_share"`
}

// WithDefaults returns s with zero fields set to their defaults.
func (s Sizes) WithDefaults() Sizes {
	if s.TrainPerClass == 0 {
		s.TrainPerClass = 1000
	}
	if s.TrainPerSubclass == 0 {
		s.TrainPerSubclass = 500
	}
	if s.ValPerGroup == 0 {
		s.ValPerGroup = 250
	}
	if s.TestPerClass == 0 {
		s.TestPerClass = 900
	}
	if s.TestSliceShare == 0 {
		s.TestSliceShare = 1.0 / 3
	}
	return s
}

func (s Sizes) validate() error {
	if s.TrainPerClass < 10 || s.TrainPerSubclass < 10 || s.ValPerGroup < 4 || s.TestPerClass < 10 {
		return fmt.Errorf("sizes %+v: train needs at least 10 images per class or subclass, val 4 per group, test 10 per class", s)
	}
	if !(s.TestSliceShare > 0 && s.TestSliceShare < 1) {
		return fmt.Errorf("sizes: test slice share %v, want a value in (0, 1)", s.TestSliceShare)
	}
	if s.TestPerClass > 1000 {
		return fmt.Errorf("sizes: %d test images per class, but the Fashion-MNIST test file has 1000 per item", s.TestPerClass)
	}
	return nil
}

// Setting is one planted problem of the benchmark: its classes as groups of Fashion-MNIST items and tints (the
// data package's [data.PlantedClass]), with the planted slices marked as minority groups.
type Setting struct {
	// Index is the setting's position in the benchmark; Kind its kind; Name says what it plants in words.
	Index int    `json:"index"`
	Kind  Kind   `json:"kind"`
	Name  string `json:"name"`
	// Seed draws the setting's images and seeds its base model.
	Seed uint64 `json:"seed"`
	// Ratio is a spurious setting's majority:minority ratio in train (r in r:1), or a rare setting's rare
	// fraction (train count of a rare member over a common member's); RatioTwo the second rare member's (rare-two).
	Ratio    float64 `json:"ratio"`
	RatioTwo float64 `json:"ratio_two,omitempty"`
	// Classes are the classes and their groups.
	Classes []data.PlantedClass `json:"classes"`
}

// Slice is one planted slice of a class: a minority group, and the words a caption must use to name it.
type Slice struct {
	// Group is the group's index in the dataset (classes' groups numbered in order).
	Group int `json:"group"`
	// Name is the group's name ("Shirt, green (minority)").
	Name string `json:"name"`
	// Words name the planted attribute: the tint (spurious) or the item's nouns (rare).
	Words []string `json:"words"`
}

// Slices returns the planted slices of each class.
func (s Setting) Slices() [][]Slice {
	out := make([][]Slice, len(s.Classes))
	g := 0
	for c, cl := range s.Classes {
		for _, gr := range cl.Groups {
			if gr.Minority {
				sl := Slice{Group: g, Name: groupName(gr)}
				if gr.Color != "" {
					sl.Words = []string{gr.Color}
				} else {
					sl.Words = slices.Clone(fashionNouns(gr.Item))
				}
				out[c] = append(out[c], sl)
			}
			g++
		}
	}
	return out
}

func groupName(g data.PlantedGroup) string {
	n := data.FashionClasses[g.Item]
	if g.Color != "" {
		n += ", " + g.Color
	}
	if g.Minority {
		n += " (minority)"
	}
	return n
}

// Generate returns the first n planted settings of the benchmark drawn from seed: the kinds in turn (spurious,
// spurious-triple, rare, rare-two), each setting's random choices (items, groupings, colours, ratios, fractions,
// its own seed) drawn from seed and its index alone, so setting i is the same for every n.
//
//   - spurious: two distinct items, two distinct colours of [Colors], ratio r uniform in [3, 9] (one decimal);
//   - spurious-triple: three items, three colours, the same ratio range; each minority colour gets half of the
//     minority's images;
//   - rare: two or three superclasses of two or three distinct gray items, one rare member each, rare fraction
//     uniform in [0.02, 0.10] (three decimals);
//   - rare-two: as rare, the first superclass three or four members with two rare ones (each its own fraction).
func Generate(seed uint64, n int, sizes Sizes) ([]Setting, error) {
	sizes = sizes.WithDefaults()
	if err := sizes.validate(); err != nil {
		return nil, fmt.Errorf("benchmark: %w", err)
	}
	if n < 1 {
		return nil, fmt.Errorf("benchmark: %d settings, want at least 1", n)
	}
	out := make([]Setting, n)
	for i := range out {
		rng := rand.New(rand.NewPCG(seed, 0xbe4c^uint64(i)))
		s := Setting{Index: i, Kind: kinds[i%len(kinds)], Seed: rng.Uint64()}
		switch s.Kind {
		case KindSpurious, KindSpuriousTriple:
			spurious(&s, rng, sizes)
		default:
			rare(&s, rng, sizes)
		}
		out[i] = s
	}
	return out, nil
}

// round returns v rounded to the given decimals.
func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

// split returns n divided into k near-equal parts (the first ones one larger when it does not divide).
func split(n, k int) []int {
	out := make([]int, k)
	for j := range out {
		out[j] = n / k
		if j < n%k {
			out[j]++
		}
	}
	return out
}

func spurious(s *Setting, rng *rand.Rand, sizes Sizes) {
	k := 2
	if s.Kind == KindSpuriousTriple {
		k = 3
	}
	items := rng.Perm(len(data.FashionClasses))[:k]
	colorIdx := rng.Perm(len(Colors))[:k]
	s.Ratio = round(3+6*rng.Float64(), 1)
	nMinTrain := int(math.Round(float64(sizes.TrainPerClass) / (s.Ratio + 1)))
	nMinTest := int(math.Round(sizes.TestSliceShare * float64(sizes.TestPerClass)))
	var names []string
	for c := range k {
		cl := data.PlantedClass{Name: data.FashionClasses[items[c]]}
		cl.Groups = append(cl.Groups, data.PlantedGroup{Item: items[c], Color: Colors[colorIdx[c]],
			Train: sizes.TrainPerClass - nMinTrain, Val: sizes.ValPerGroup, Test: sizes.TestPerClass - nMinTest})
		train, test := split(nMinTrain, k-1), split(nMinTest, k-1)
		var minority []string
		for j, o := 0, 0; j < k; j++ {
			if j == c {
				continue
			}
			cl.Groups = append(cl.Groups, data.PlantedGroup{Item: items[c], Color: Colors[colorIdx[j]], Train: train[o],
				Val: sizes.ValPerGroup, Test: test[o], Minority: true})
			minority = append(minority, Colors[colorIdx[j]])
			o++
		}
		s.Classes = append(s.Classes, cl)
		names = append(names, fmt.Sprintf("%s (%s; minority %s)", cl.Name, Colors[colorIdx[c]], strings.Join(minority, ", ")))
	}
	s.Name = fmt.Sprintf("%s at %.1f:1", strings.Join(names, " vs "), s.Ratio)
}

func rare(s *Setting, rng *rand.Rand, sizes Sizes) {
	nSuper := 2 + rng.IntN(2)
	perm := rng.Perm(len(data.FashionClasses))
	s.Ratio = round(0.02+0.08*rng.Float64(), 3)
	if s.Kind == KindRareTwo {
		s.RatioTwo = round(0.02+0.08*rng.Float64(), 3)
	}
	next := 0
	var names []string
	for sc := range nSuper {
		m := 2 + rng.IntN(2)
		nRare := 1
		if s.Kind == KindRareTwo && sc == 0 {
			m, nRare = 3+rng.IntN(2), 2
		}
		members := perm[next : next+m]
		next += m
		rareAt := rng.Perm(m)[:nRare]
		slices.Sort(rareAt)
		var parts, rareNames []string
		for _, it := range members {
			parts = append(parts, data.FashionClasses[it])
		}
		cl := data.PlantedClass{Name: strings.Join(parts, "|")}
		nSliceTest := int(math.Round(sizes.TestSliceShare * float64(sizes.TestPerClass)))
		sliceTest := split(nSliceTest, nRare)
		commonTest := split(sizes.TestPerClass-nSliceTest, m-nRare)
		r, c := 0, 0
		for j, it := range members {
			g := data.PlantedGroup{Item: it, Train: sizes.TrainPerSubclass, Val: sizes.ValPerGroup}
			if slices.Contains(rareAt, j) {
				frac := s.Ratio
				if r == 1 {
					frac = s.RatioTwo
				}
				g.Train = max(2, int(math.Round(frac*float64(sizes.TrainPerSubclass))))
				g.Test, g.Minority = sliceTest[r], true
				rareNames = append(rareNames, data.FashionClasses[it])
				r++
			} else {
				g.Test = commonTest[c]
				c++
			}
			cl.Groups = append(cl.Groups, g)
		}
		s.Classes = append(s.Classes, cl)
		names = append(names, fmt.Sprintf("{%s; rare %s}", cl.Name, strings.Join(rareNames, ", ")))
	}
	frac := fmt.Sprintf("%.3f", s.Ratio)
	if s.Kind == KindRareTwo {
		frac += fmt.Sprintf(" and %.3f", s.RatioTwo)
	}
	s.Name = fmt.Sprintf("%s at rare fraction %s", strings.Join(names, " "), frac)
}
