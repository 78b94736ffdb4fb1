package benchmark

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gomlx/compute"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/internal/twoslices"
	"github.com/faildirs/faildirs/distill/matrix"
)

func goBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, _, err := backend.Go()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	return b
}

const plantedDim = 16

// plantedSplit is a tiny planted problem: two classes in 16 dimensions, class c's slice (group 1, 25 % of the
// class) shifted by 4 along axis c. The base model errs on 70 % of each slice and 3 % of the rest; its confidence
// in the true class is low on its errors and slightly lower on the slice.
func plantedSplit(seed uint64, name string, perClass int) distill.Split {
	rng := rand.New(rand.NewPCG(seed, 3))
	s := distill.Split{Name: name, Latents: matrix.Dense{Cols: plantedDim}}
	for c := range 2 {
		for range perClass {
			g := 0
			if rng.Float64() < 0.25 {
				g = 1
			}
			row := make([]float32, plantedDim)
			for k := range row {
				row[k] = float32(rng.NormFloat64())
			}
			row[5] += float32(3 * c)
			row[c] += float32(4 * g)
			wrong := rng.Float64() < 0.03
			if g == 1 {
				wrong = rng.Float64() < 0.7
			}
			pred := c
			if wrong {
				pred = 1 - c
			}
			w := 0.0
			if wrong {
				w = 1
			}
			conf := 1 / (1 + math.Exp(-(2.5 - 4*w - 0.5*float64(g) + 0.7*rng.NormFloat64())))
			s.Latents.Data = append(s.Latents.Data, row...)
			s.Latents.Rows++
			s.Labels, s.Preds, s.Groups = append(s.Labels, c), append(s.Preds, pred), append(s.Groups, g)
			s.Confs = append(s.Confs, float32(conf))
		}
	}
	return s
}

// plantedInput is the finders' input on the tiny planted problem (groups removed) and the test view with them.
func plantedInput(t *testing.T, seed uint64) (Input, testView) {
	t.Helper()
	train, val, test := plantedSplit(seed, "train", 300), plantedSplit(seed+1, "val", 300), plantedSplit(seed+2, "test", 300)
	wh, err := distill.FitWhitening(train)
	if err != nil {
		t.Fatal(err)
	}
	view := testView{split: test, ks: []int{10, 25, 50},
		slices: [][]Slice{{{Group: 1, Name: "slice of class 0", Words: []string{"red"}}}, {{Group: 1, Name: "slice of class 1", Words: []string{"blue"}}}}}
	train.Groups, val.Groups = nil, nil
	test.Groups = nil
	return Input{Train: train, Val: val, Test: test, NumClasses: 2, Whitening: wh, Seed: seed, Backend: goBackend(t)}, view
}

// wordEmbedder embeds a caption as the sum of its words' vectors: "red" moves along axis 0 (class 0's slice),
// "blue" along axis 1 (class 1's slice), "green" along axis 7 (nothing), other words along fixed random vectors.
type wordEmbedder struct{}

func (wordEmbedder) EmbedTexts(_ context.Context, texts []string) (matrix.Dense, error) {
	out := matrix.Zeros(len(texts), plantedDim)
	for i, text := range texts {
		row := out.Row(i)
		for _, w := range strings.Fields(text) {
			switch w {
			case "red":
				row[0] += 4
			case "blue":
				row[1] += 4
			case "green":
				row[7] += 4
			default:
				rng := rand.New(rand.NewPCG(uint64(len(w)), uint64(w[0])))
				for k := range row {
					row[k] += float32(0.2 * rng.NormFloat64())
				}
			}
		}
	}
	return out, nil
}

// plantedVocabulary has the colours red, blue and green for both classes.
func plantedVocabulary() caption.Vocabulary {
	v := caption.Vocabulary{Name: "planted"}
	for _, n := range []string{"square", "circle"} {
		v.Classes = append(v.Classes, caption.Class{Name: n, Nouns: []string{n}, Adjectives: []string{"red", "blue", "green"},
			Prepositions: []string{""}})
	}
	return v
}

// findAndMeasure runs a finder on the tiny planted problem and returns its metrics, with the hard captions of the
// planted vocabulary.
func findAndMeasure(t *testing.T, f Finder, seed uint64) (MethodResult, *Finding) {
	t.Helper()
	in, view := plantedInput(t, seed)
	ctx := context.Background()
	finding, err := f.Find(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	hard := make([]string, 2)
	if finding.Describe != nil && len(finding.Described) > 0 {
		if err := hardCaptions(ctx, wordEmbedder{}, finding.Describe, plantedVocabulary(), finding.Described, hard, nil); err != nil {
			t.Fatal(err)
		}
	}
	r, err := view.evaluate(f.Name(), finding, hard, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: P@10/25/50 %.2f/%.2f/%.2f, area %.3f, flagged precision %.2f recall %.2f, hard captions %q", f.Name(),
		r.PrecisionAtK[0], r.PrecisionAtK[1], r.PrecisionAtK[2], r.CurveArea, r.FlaggedPrecision, r.FlaggedRecall, r.HardCaptions)
	return r, finding
}

// TestFindersSolveThePlantedProblem: every finder but random surfaces the planted slices well above their base
// rate (25 %) and names them in its hard captions; the flagged sets of the latent-space finders are mostly slice.
func TestFindersSolveThePlantedProblem(t *testing.T) {
	for _, c := range []struct {
		f         Finder
		p25       float64 // at least
		precision float64 // flagged precision at least
		names     bool
	}{
		{FailureDirections{}, 0.95, 0.7, true},
		{FailureDirections{Compat: distill.CompatReference}, 0.95, 0.7, true},
		{KDirections{}, 0.95, 0.7, true},
		{KDirections{Options: distill.SequentialOptions{RefitAll: true}}, 0.95, 0.7, true},
		{Domino{}, 0.95, 0.7, true},
		// Confidence ranks the slice's errors first (70 % of the slice), and its flagged set is the errors.
		{Confidence{}, 0.8, 0.7, true},
	} {
		t.Run(c.f.Name(), func(t *testing.T) {
			r, _ := findAndMeasure(t, c.f, 1)
			if r.PrecisionAtK[1] < c.p25 || r.FlaggedPrecision < c.precision {
				t.Errorf("P@25 %.2f (want ≥ %.2f), flagged precision %.2f (want ≥ %.2f)", r.PrecisionAtK[1], c.p25, r.FlaggedPrecision, c.precision)
			}
			if c.names && r.CaptionNames != 1 {
				t.Errorf("hard captions %q do not name both slices (red, blue)", r.HardCaptions)
			}
		})
	}
}

// TestRandomIsTheFloor: random's precision is the slices' base rate on average over seeds, and a seed gives the
// same ranking every time.
func TestRandomIsTheFloor(t *testing.T) {
	var sum float64
	const seeds = 12
	for s := range uint64(seeds) {
		r, _ := findAndMeasure(t, Random{}, 100+s)
		sum += r.PrecisionAtK[2]
	}
	if m := sum / seeds; math.Abs(m-0.25) > 0.06 {
		t.Errorf("random's mean P@50 over %d seeds is %.3f, want the base rate 0.25 ± 0.06", seeds, m)
	}
	_, a := findAndMeasure(t, Random{}, 7)
	_, b := findAndMeasure(t, Random{}, 7)
	for i := range a.Scores {
		if a.Scores[i] != b.Scores[i] || a.Flagged[i] != b.Flagged[i] {
			t.Fatal("random is not deterministic given the seed")
		}
	}
}

// TestKDirectionsSecondSlice: on the two-slice problem of package distill's test (slices at an obtuse angle), the
// second direction finds the second slice, its hard caption names it, and the judgement says so.
func TestKDirectionsSecondSlice(t *testing.T) {
	split := func(seed uint64, name string) distill.Split {
		d := twoslices.Generate(seed, 800)
		return distill.Split{Name: name, Latents: d.Latents, Labels: d.Labels, Preds: d.Preds, Groups: d.Groups, Confs: d.Confs}
	}
	train, val, test := split(1, "train"), split(2, "val"), split(3, "test")
	wh, err := distill.FitWhitening(train)
	if err != nil {
		t.Fatal(err)
	}
	view := testView{split: test, ks: []int{25}, slices: [][]Slice{
		{{Group: 1, Name: "A", Words: []string{"red"}}, {Group: 2, Name: "B", Words: []string{"blue"}}}, {{Group: 1, Name: "C"}}}}
	val.Groups, train.Groups = nil, nil
	in := Input{Train: train, Val: val, Test: test, NumClasses: 2, Whitening: wh, Backend: goBackend(t)}
	in.Test.Groups = nil
	f, err := KDirections{}.Find(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	second := make([]*caption.Ranking, 2)
	if err := hardCaptions(context.Background(), wordEmbedder{}, f.Directions[1].Describe, plantedVocabulary(), []int{0}, nil, second); err != nil {
		t.Fatal(err)
	}
	r, err := view.evaluate("kdirs", f, make([]string, 2), second)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Second) != 1 {
		t.Fatalf("second-slice judgements %+v, want one (class 0)", r.Second)
	}
	s := r.Second[0]
	t.Logf("%+v", s)
	if s.First != 0 || !s.HasSecond || !s.Found || s.SecondPrecision[1] < 0.8 || !s.CaptionNames {
		t.Errorf("judgement %+v: want the first direction on slice A, the second finding slice B and its caption naming it (blue)", s)
	}
}

func TestCaptionNames(t *testing.T) {
	sl := []Slice{{Words: []string{"green"}}, {Words: []string{"sneaker", "trainer", "running shoe"}}}
	for text, want := range map[string]bool{
		"a photo of a green shirt":           true,
		"a photo of a greenish shirt":        false,
		"a photo of a running shoe":          true,
		"a photo of a shoe":                  false,
		"a photo of a red trainer on a mat":  true,
		"":                                   false,
		"a photo of a t-shirt":               false,
		"a photo of a sneakers":              false,
		"a photo of a blue running shoe top": true,
	} {
		if got := names(text, sl); got != want {
			t.Errorf("names(%q) = %v, want %v", text, got, want)
		}
	}
}
