package tinyclip

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/caption"
)

func TestColoursAreTheCaptionVocabulary(t *testing.T) {
	got := Colours()
	want := slices.Clone(caption.FashionColours)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("Colours() = %v, caption.FashionColours (sorted) = %v: the tint palette and the caption colour words must agree", got, want)
	}
	if !slices.Contains(got, White) {
		t.Fatalf("Colours() = %v lacks %q (untinted images)", got, White)
	}
}

func TestPromptsGolden(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{ItemPrompt(0), "a photo of a t-shirt"},
		{ItemPrompt(9), "a photo of a ankle boot"},
		{ColourPrompt("red"), "a photo of a red item"},
	} {
		if tc.got != tc.want {
			t.Errorf("prompt %q, want %q", tc.got, tc.want)
		}
	}
}

func TestConceptMatches(t *testing.T) {
	img := Concept{Item: 7, Colour: 3}
	for _, tc := range []struct {
		claim Concept
		want  bool
	}{
		{Concept{7, 3}, true}, {Concept{7, -1}, true}, {Concept{-1, 3}, true}, {Concept{-1, -1}, true},
		{Concept{6, 3}, false}, {Concept{7, 2}, false}, {Concept{-1, 2}, false}, {Concept{6, -1}, false},
	} {
		if got := tc.claim.Matches(img); got != tc.want {
			t.Errorf("%+v.Matches(%+v) = %v, want %v", tc.claim, img, got, tc.want)
		}
	}
}

func TestTargets(t *testing.T) {
	imgs := []Concept{{0, 1}, {0, 2}, {5, 1}}
	claims := []Concept{{0, 1}, {0, -1}, {-1, 1}}
	want := []float32{
		1, 1, 1, // image (0,1): all three captions are true of it
		0, 1, 0, // image (0,2): only "item 0"
		0, 0, 1, // image (5,1): only "colour 1"
	}
	if got := Targets(imgs, claims); !slices.Equal(got, want) {
		t.Fatalf("Targets = %v, want %v", got, want)
	}
}

// hasWord reports whether w is a space-separated word of s.
func hasWord(s, w string) bool {
	return strings.Contains(" "+s+" ", " "+w+" ")
}

func TestCaptionsAreTrueAndMixed(t *testing.T) {
	cp, err := newCaptioner(CaptionMix{Both: 2, ItemOnly: 1, ColourOnly: 1})
	if err != nil {
		t.Fatal(err)
	}
	colours := Colours()
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 6000
	var both, item, colour int
	texts := map[string]bool{}
	for range n {
		img := Concept{Item: rng.IntN(10), Colour: rng.IntN(len(colours))}
		c := cp.draw(rng, img)
		texts[c.Text] = true
		if !c.Claim.Matches(img) {
			t.Fatalf("caption %q claims %+v, not true of image %+v", c.Text, c.Claim, img)
		}
		// The caption names a colour iff it claims one, and then the image's colour.
		for k, name := range colours {
			if hasWord(c.Text, name) != (c.Claim.Colour == k) {
				t.Fatalf("caption %q (claim %+v): colour word %q present=%v", c.Text, c.Claim, name, hasWord(c.Text, name))
			}
		}
		// It names a noun of the image's item iff it claims the item.
		named := false
		for _, nn := range caption.FashionNouns[img.Item] {
			named = named || strings.Contains(c.Text, nn)
		}
		if named != (c.Claim.Item >= 0) {
			t.Fatalf("caption %q (claim %+v, image item %d): item noun present=%v", c.Text, c.Claim, img.Item, named)
		}
		switch {
		case c.Claim.Item >= 0 && c.Claim.Colour >= 0:
			both++
		case c.Claim.Item >= 0:
			item++
		default:
			colour++
		}
	}
	for _, tc := range []struct {
		name      string
		got, want float64
	}{{"both", float64(both) / n, 0.5}, {"item only", float64(item) / n, 0.25}, {"colour only", float64(colour) / n, 0.25}} {
		if d := tc.got - tc.want; d > 0.03 || d < -0.03 {
			t.Errorf("%s captions: share %.3f, want %.2f ± 0.03", tc.name, tc.got, tc.want)
		}
	}
	if len(texts) < 1000 {
		t.Errorf("only %d distinct captions in %d draws: templates and synonyms should vary them", len(texts), n)
	}
}

func TestCaptionMixValidation(t *testing.T) {
	if _, err := newCaptioner(CaptionMix{Both: -1}); err == nil {
		t.Fatal("negative mix weight accepted")
	}
	cp, err := newCaptioner(CaptionMix{ItemOnly: 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		if c := cp.draw(rng, Concept{Item: 2, Colour: 0}); c.Claim != (Concept{Item: 2, Colour: -1}) {
			t.Fatalf("item-only mix drew %+v (%q)", c.Claim, c.Text)
		}
	}
}

func TestTokenizerHasOneTokenPerCaptionWord(t *testing.T) {
	tok := NewTokenizer()
	if tok.BOS != int32(tok.VocabSize()-2) || tok.EOS != int32(tok.VocabSize()-1) {
		t.Fatalf("BOS %d EOS %d, want the last two ids of %d", tok.BOS, tok.EOS, tok.VocabSize())
	}
	if tok.VocabSize() > 1024 {
		t.Errorf("vocabulary of %d ids: expected a few hundred", tok.VocabSize())
	}
	for _, c := range AllCaptions() {
		ids := tok.Encode(c)
		p := pieces(c)
		if len(ids) != len(p)+2 {
			t.Fatalf("caption %q: %d ids %v for pieces %q; every piece should be one token", c, len(ids), ids, p)
		}
		if got := tok.Decode(ids[1 : len(ids)-1]); got != strings.Join(p, " ") {
			t.Fatalf("caption %q decodes to %q", c, got)
		}
	}
	// Pieces split like CLIP's pre-tokenizer on ASCII captions.
	if got := pieces("a button-down  Shirt!"); !slices.Equal(got, []string{"a", "button", "-", "down", "shirt", "!"}) {
		t.Fatalf("pieces = %q", got)
	}
}

func TestLearnMergesDeterministic(t *testing.T) {
	a := LearnMerges([]string{"abab abc", "abc"})
	b := LearnMerges([]string{"abc", "abab abc"})
	if !slices.Equal(a, b) {
		t.Fatalf("merges depend on text order: %v vs %v", a, b)
	}
	// Golden, by hand: words {abab: 1, abc: 2} start as "a b a b</w>" and "a b c</w>". Pair counts: (a,b) 3 →
	// merged; then (ab,c</w>) 2 beats (ab,a) 1 and (a,b</w>) 1; then the tie (ab,a) / (a,b</w>) goes to the
	// smaller pair (a,b</w>); last (ab,ab</w>).
	want := [][2]string{{"a", "b"}, {"ab", "c</w>"}, {"a", "b</w>"}, {"ab", "ab</w>"}}
	if !slices.Equal(a, want) {
		t.Fatalf("merges %v, want %v", a, want)
	}
}

func TestTextLengthCoversCaptions(t *testing.T) {
	tok := NewTokenizer()
	n := TextLength(tok)
	if n < 8 || n > 20 {
		t.Fatalf("text length %d, expected between 8 and 20 tokens", n)
	}
}
