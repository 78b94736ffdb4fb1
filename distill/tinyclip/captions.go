package tinyclip

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/data"
)

// Concept is what an image shows, or what a caption claims: a Fashion-MNIST item (label 0–9) and a tint colour
// (index into [Colours]). In a caption, -1 means "not mentioned".
type Concept struct {
	// Item is the Fashion-MNIST label, or -1.
	Item int
	// Colour indexes [Colours], or -1.
	Colour int
}

// Matches reports whether caption concept c is true of image concept img: every part the caption mentions
// equals the image's.
func (c Concept) Matches(img Concept) bool {
	return (c.Item < 0 || c.Item == img.Item) && (c.Colour < 0 || c.Colour == img.Colour)
}

// Colours returns the tint colour names, in index order: the data package's palette ([data.PaletteNames]), which
// is also the caption package's colour vocabulary ([caption.FashionColours]).
func Colours() []string { return data.PaletteNames() }

// Untinted images (gray pictures replicated to RGB, as the planted experiments make them without colours) are
// pixel-identical to images tinted "white" (v·255/255 = v), so their colour is White.
const White = "white"

// Caption templates. {n} is an item noun (any synonym of [caption.FashionNouns]), {c} a colour word. The article
// is always "a", as the caption package writes "a photo of a {adjective} {noun} {preposition}" (also before
// vowels); the first templates of each list repeat that exact form, with and without the caption package's
// preposition, so the scored captions are in-distribution.
var (
	bothTemplates = []string{
		"a photo of a {c} {n}",
		"a photo of a {c} {n} on a black background",
		"a {c} {n}",
		"a picture of a {n} in {c}",
		"an image of a {c} {n}",
		"a {n} in {c}",
		"a photo of the {c} {n}",
		"a {c} {n} on a black background",
		"a photo of a {n} that is {c}",
		"a {c} colored {n}",
	}
	itemTemplates = []string{
		"a photo of a {n}",
		"a photo of a {n} on a black background",
		"a {n}",
		"a picture of a {n}",
		"an image of a {n}",
		"a photo of the {n}",
		"the {n}",
		"a {n} on a black background",
	}
	colourTemplates = []string{
		"a photo of a {c} item",
		"a {c} item",
		"something {c}",
		"a picture of something {c}",
		"an image in {c}",
		"a photo of a {c} thing",
		"a {c} object on a black background",
		"the color {c}",
	}
)

// ItemPrompt is the zero-shot prompt for item i: "a photo of a {plain noun}" (the caption package's reference
// caption form).
func ItemPrompt(item int) string { return caption.Compose("", caption.FashionNouns[item][0], "") }

// ColourPrompt is the zero-shot prompt for colour name c: "a photo of a {c} item".
func ColourPrompt(c string) string { return "a photo of a " + c + " item" }

// CaptionMix sets how often a training caption names both the item and the colour, only the item, or only the
// colour (relative weights). Naming each alone lets both concepts be learned independently.
type CaptionMix struct {
	Both, ItemOnly, ColourOnly float64
}

func (m CaptionMix) normalised() (both, item float64, err error) {
	if m.Both < 0 || m.ItemOnly < 0 || m.ColourOnly < 0 {
		return 0, 0, fmt.Errorf("tinyclip: caption mix %+v has a negative weight", m)
	}
	s := m.Both + m.ItemOnly + m.ColourOnly
	if s == 0 {
		return 0, 0, fmt.Errorf("tinyclip: caption mix %+v has no positive weight", m)
	}
	return m.Both / s, m.ItemOnly / s, nil
}

// Caption is a generated training caption and the concept it claims.
type Caption struct {
	// Text is the caption.
	Text string
	// Claim is what the caption says (-1 parts unmentioned).
	Claim Concept
}

// captioner draws captions for image concepts.
type captioner struct {
	colours    []string
	both, item float64
}

func newCaptioner(mix CaptionMix) (*captioner, error) {
	both, item, err := mix.normalised()
	if err != nil {
		return nil, err
	}
	return &captioner{colours: Colours(), both: both, item: item}, nil
}

// noun draws a noun for item: the plain noun half of the time, otherwise any of its nouns uniformly.
func noun(rng *rand.Rand, item int) string {
	nouns := caption.FashionNouns[item]
	if rng.IntN(2) == 0 {
		return nouns[0]
	}
	return nouns[rng.IntN(len(nouns))]
}

func fill(template, n, c string) string {
	return strings.NewReplacer("{n}", n, "{c}", c).Replace(template)
}

// draw returns a caption true of img.
func (cp *captioner) draw(rng *rand.Rand, img Concept) Caption {
	u := rng.Float64()
	switch {
	case u < cp.both:
		t := bothTemplates[rng.IntN(len(bothTemplates))]
		return Caption{fill(t, noun(rng, img.Item), cp.colours[img.Colour]), img}
	case u < cp.both+cp.item:
		t := itemTemplates[rng.IntN(len(itemTemplates))]
		return Caption{fill(t, noun(rng, img.Item), ""), Concept{Item: img.Item, Colour: -1}}
	default:
		t := colourTemplates[rng.IntN(len(colourTemplates))]
		return Caption{fill(t, "", cp.colours[img.Colour]), Concept{Item: -1, Colour: img.Colour}}
	}
}

// AllCaptions returns every caption the generator can produce (each template with each noun and colour), in a
// fixed order; the tokenizer's merges are learned from their words, and the text length is their longest
// tokenization.
func AllCaptions() []string {
	var out []string
	colours := Colours()
	for item := range caption.FashionNouns {
		for _, n := range caption.FashionNouns[item] {
			for _, t := range itemTemplates {
				out = append(out, fill(t, n, ""))
			}
			for _, c := range colours {
				for _, t := range bothTemplates {
					out = append(out, fill(t, n, c))
				}
			}
		}
	}
	for _, c := range colours {
		for _, t := range colourTemplates {
			out = append(out, fill(t, "", c))
		}
		out = append(out, ColourPrompt(c))
	}
	for item := range caption.FashionNouns {
		out = append(out, ItemPrompt(item))
	}
	return out
}

// Targets returns the [N, N] row-major matrix of the multi-positive contrastive loss: entry (i, j) is 1 when
// caption j is true of image i, else 0. The diagonal is always 1 (each caption was drawn for its image).
func Targets(images []Concept, claims []Concept) []float32 {
	n := len(images)
	t := make([]float32, n*n)
	for i, img := range images {
		for j, c := range claims {
			if c.Matches(img) {
				t[i*n+j] = 1
			}
		}
	}
	return t
}
