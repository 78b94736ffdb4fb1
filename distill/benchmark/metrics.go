package benchmark

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/caption"
)

// SecondK is the K of the second-slice judgement: a direction finds a slice when the slice is at least half of
// the class's SecondK test examples it ranks first.
const SecondK = 25

// MethodResult holds one finder's metrics on one setting's test split. Class averages are over the setting's
// classes (every class has a planted slice); a class's planted slice is the union of its slices.
type MethodResult struct {
	// Method is the finder's name.
	Method string `json:"method"`
	// PrecisionAtK[j] is the mean over classes of the planted slice's share among the class's Ks[j] test examples
	// the finder ranks first (lowest scores).
	PrecisionAtK []float64 `json:"precision_at_k"`
	// CurveArea is the mean over classes of the top-K minority curve's mean height (K = 10, 20, … below the
	// class's size): the normalised area under the curve.
	CurveArea float64 `json:"curve_area"`
	// FlaggedPrecision is the planted slices' share of the flagged test examples and FlaggedRecall the share of
	// slice examples flagged, over every class at once; FlaggedF1 their harmonic mean; FlaggedShare the share of
	// test examples flagged.
	FlaggedPrecision float64 `json:"flagged_precision"`
	FlaggedRecall    float64 `json:"flagged_recall"`
	FlaggedF1        float64 `json:"flagged_f1"`
	FlaggedShare     float64 `json:"flagged_share"`
	// CaptionNames is the share of classes whose hard caption names the attribute of one of the class's planted
	// slices (its tint or the rare item); a class the finder cannot describe counts as not named.
	CaptionNames float64 `json:"caption_names"`
	// HardCaptions are the hard caption of each class ("" when none).
	HardCaptions []string `json:"hard_captions"`
	// Second holds, for a several-direction finder, the judgement of every class with two planted slices.
	Second []SecondSlice `json:"second,omitempty"`
}

// SecondSlice judges whether a several-direction finder's second direction finds the second planted slice of a
// class that plants two.
type SecondSlice struct {
	// Class is the class; Slices names its two slices.
	Class  int       `json:"class"`
	Slices [2]string `json:"slices"`
	// FirstPrecision and SecondPrecision are each slice's share among the class's SecondK test examples ranked
	// first by the first and by the second direction (0 without a second direction).
	FirstPrecision  [2]float64 `json:"first_precision"`
	SecondPrecision [2]float64 `json:"second_precision"`
	// First is the slice the first direction surfaces more (0 or 1); the other one is the second slice.
	First int `json:"first"`
	// HasSecond says the class has a second direction (cross-validation showed signal).
	HasSecond bool `json:"has_second"`
	// Found: the second slice is at least half of the second direction's SecondK first-ranked examples.
	Found bool `json:"found"`
	// SecondCaption is the second direction's hard caption; CaptionNames says it names the second slice.
	SecondCaption string `json:"second_caption,omitempty"`
	CaptionNames  bool   `json:"caption_names"`
}

// testView is what the metrics read of a setting's test split.
type testView struct {
	split  distill.Split // with Groups
	slices [][]Slice     // per class
	ks     []int
}

// minorities returns the group ids of every planted slice.
func (v testView) minorities() []int {
	var out []int
	for _, cl := range v.slices {
		for _, s := range cl {
			out = append(out, s.Group)
		}
	}
	return out
}

// evaluate computes a finding's metrics. hard holds the hard caption of each class ("" none) and second the
// rankings of the second direction's captions per class (nil entries where none).
func (v testView) evaluate(method string, f *Finding, hard []string, second []*caption.Ranking) (MethodResult, error) {
	t := v.split
	n := t.Len()
	if len(f.Scores) != n || len(f.Flagged) != n {
		return MethodResult{}, fmt.Errorf("benchmark: %s: %d scores and %d flags for %d test examples", method, len(f.Scores), len(f.Flagged), n)
	}
	r := MethodResult{Method: method, HardCaptions: hard}
	mins := v.minorities()
	sf, err := distill.Surfacing(distill.SurfacingInput{Decisions: f.Scores, Confs: t.Confs, Labels: t.Labels, Groups: t.Groups,
		Minorities: mins}, v.ks)
	if err != nil {
		return r, err
	}
	for _, p := range sf.Points {
		r.PrecisionAtK = append(r.PrecisionAtK, p.SVM)
	}
	correct := make([]bool, n)
	flags := make([]float32, n)
	for i := range correct {
		correct[i] = t.Correct(i)
		flags[i] = 1
		if f.Flagged[i] {
			flags[i] = -1
		}
	}
	curves, err := distill.TopKCurves(distill.SubgroupInput{Decisions: f.Scores, Confs: t.Confs, Labels: t.Labels, Groups: t.Groups, Minorities: mins})
	if err != nil {
		return r, err
	}
	var areas []float64
	for _, c := range curves.PerClass {
		if len(c.Points) == 0 {
			continue
		}
		var s float64
		for _, p := range c.Points {
			s += p.SVM
		}
		areas = append(areas, s/float64(len(c.Points)))
	}
	r.CurveArea = mean(areas)
	fl, err := distill.FlaggedMinority(distill.SubgroupInput{Decisions: flags, Labels: t.Labels, Groups: t.Groups, Correct: correct, Minorities: mins})
	if err != nil {
		return r, err
	}
	r.FlaggedPrecision, r.FlaggedRecall, r.FlaggedShare = fl.Overall.Precision, fl.Overall.Recall, fl.Overall.FlaggedRate
	if p, q := r.FlaggedPrecision, r.FlaggedRecall; p+q > 0 {
		r.FlaggedF1 = 2 * p * q / (p + q)
	}
	named := 0
	for c, h := range hard {
		if names(h, v.slices[c]) {
			named++
		}
	}
	r.CaptionNames = float64(named) / float64(len(v.slices))
	if len(f.Directions) > 0 {
		r.Second = v.second(f, second)
	}
	return r, nil
}

// names reports whether the caption text uses the words of one of the slices.
func names(text string, slices []Slice) bool {
	if text == "" {
		return false
	}
	for _, s := range slices {
		if captionNames(text, s.Words) {
			return true
		}
	}
	return false
}

// captionNames reports whether text contains one of words as whole words.
func captionNames(text string, words []string) bool {
	padded := " " + text + " "
	for _, w := range words {
		if w != "" && containsWord(padded, w) {
			return true
		}
	}
	return false
}

func containsWord(padded, w string) bool {
	for i := 0; i+len(w)+2 <= len(padded); i++ {
		if padded[i] == ' ' && padded[i+1:i+1+len(w)] == w && padded[i+1+len(w)] == ' ' {
			return true
		}
	}
	return false
}

// second judges the second direction on every class with two planted slices.
func (v testView) second(f *Finding, rankings []*caption.Ranking) []SecondSlice {
	t := v.split
	var out []SecondSlice
	for c, sl := range v.slices {
		if len(sl) != 2 {
			continue
		}
		var idx []int
		for i, l := range t.Labels {
			if l == c {
				idx = append(idx, i)
			}
		}
		prec := func(scores []float32, g int) float64 {
			order := slices.Clone(idx)
			slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
			k := min(SecondK, len(order))
			hit := 0
			for _, i := range order[:k] {
				if t.Groups[i] == g {
					hit++
				}
			}
			return float64(hit) / float64(max(k, 1))
		}
		s := SecondSlice{Class: c, Slices: [2]string{sl[0].Name, sl[1].Name}}
		for j := range 2 {
			s.FirstPrecision[j] = prec(f.Directions[0].Scores, sl[j].Group)
		}
		if s.FirstPrecision[1] > s.FirstPrecision[0] {
			s.First = 1
		}
		other := 1 - s.First
		if len(f.Directions) > 1 && slices.Contains(f.Directions[1].Classes, c) {
			s.HasSecond = true
			for j := range 2 {
				s.SecondPrecision[j] = prec(f.Directions[1].Scores, sl[j].Group)
			}
			s.Found = s.SecondPrecision[other] >= 0.5
			if c < len(rankings) && rankings[c] != nil && len(rankings[c].Captions) > 0 {
				s.SecondCaption = rankings[c].Captions[0].Text
				s.CaptionNames = captionNames(s.SecondCaption, sl[other].Words)
			}
		}
		out = append(out, s)
	}
	return out
}

// mean returns the mean of v (0 when empty).
func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
