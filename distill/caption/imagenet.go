package caption

import (
	"fmt"
	"strings"

	"github.com/faildirs/faildirs/distill/wordnet"
)

// ImageNetAdjectives are the adjectives of the ImageNet vocabulary: none, eight colours and four descriptors of
// how the object appears.
var ImageNetAdjectives = []string{"", "white", "blue", "red", "green", "black", "yellow", "orange", "brown",
	"group of", "close-up", "blurry", "far away"}

// ImageNetBackgrounds are the prepositions every ImageNet class gets ("" = none); [ImageNetContexts] adds
// class-specific ones.
var ImageNetBackgrounds = []string{"", "outdoors", "indoors", "on a white background", "on a black background",
	"on a green background", "on a blue background", "on a brown background"}

// ImageNetContext gives the prepositions of the classes below some WordNet synsets.
type ImageNetContext struct {
	// Ancestors are WordNet 3.0 noun synsets, as "n" + offset, with their first lemma in a comment.
	Ancestors []string
	// Prepositions are added to the backgrounds of every class that has one of Ancestors as its nearest listed
	// ancestor.
	Prepositions []string
}

// ImageNetContexts maps groups of WordNet synsets to typical surroundings. A class takes the entry of its nearest
// listed ancestor (the class's own synset first, then its hypernym ancestors in [wordnet.Nouns.Ancestors]
// order), so a dog (canine) gets the canine entry, not the mammal one; a class with no listed ancestor gets only
// the backgrounds.
var ImageNetContexts = []ImageNetContext{
	{[]string{"n01503061" /* bird */}, []string{"flying", "perched on a branch", "in the sky", "on the ground", "in a cage"}},
	{[]string{"n02512053" /* fish */, "n02062017" /* aquatic_mammal */}, []string{"underwater", "in an aquarium", "held by a person"}},
	{[]string{"n01661091" /* reptile */, "n01627424" /* amphibian */}, []string{"on a rock", "in the grass", "on the ground", "in a terrarium"}},
	{[]string{"n02469914" /* primate */}, []string{"in a tree", "on the ground", "in the grass"}},
	{[]string{"n02083346" /* canine */, "n02120997" /* feline */}, []string{"in the grass", "on a couch", "in the snow", "with a person"}},
	{[]string{"n02329401" /* rodent */, "n01874434" /* marsupial */, "n02370806" /* ungulate */, "n01861778" /* mammal */},
		[]string{"in the grass", "in a field", "in the forest", "on the ground"}},
	{[]string{"n01905661" /* invertebrate */}, []string{"on a leaf", "in the grass", "on the ground"}},
	{[]string{"n12992868" /* fungus */}, []string{"on the ground", "in the forest"}},
	{[]string{"n13134947" /* fruit */, "n11669921" /* flower */, "n07707451" /* vegetable */},
		[]string{"on a table", "on a plant", "in a basket", "held by a person"}},
	{[]string{"n00021265" /* food */, "n07555863" /* food */}, []string{"on a plate", "on a table", "in a bowl"}},
	{[]string{"n02686568" /* aircraft */}, []string{"in the sky", "on the runway"}},
	{[]string{"n04530566" /* vessel */}, []string{"on the water", "docked in a harbor", "at sea"}},
	{[]string{"n04576211" /* wheeled_vehicle */}, []string{"on the road", "parked", "in a city street"}},
	{[]string{"n03405725" /* furniture */}, []string{"in a living room", "in a house"}},
	{[]string{"n03051540" /* clothing */}, []string{"worn by a person", "on a hanger", "folded on a table"}},
	{[]string{"n03800933" /* musical_instrument */}, []string{"played by a person", "on a stage"}},
	{[]string{"n04341686" /* structure */}, []string{"in a city", "in the countryside"}},
	{[]string{"n09287968" /* geological_formation */}, []string{"in the distance", "under a blue sky"}},
	{[]string{"n00007846" /* person */}, []string{"on a field", "in a crowd"}},
	{[]string{"n03183080" /* device */, "n03094503" /* container */, "n03563967" /* implement */, "n03294048", /* equipment */
		"n03122748" /* covering */, "n03575240" /* instrumentality */}, []string{"on a table", "held in a hand", "with a person"}},
}

// maxExtraImageNetNouns bounds the synonyms taken from a class's synset besides its name.
const maxExtraImageNetNouns = 2

// ImageNet returns the vocabulary of ImageNet classes given by their WordNet ids ("n02084071"), read from the
// noun database nouns (see [wordnet.LoadNouns]).
//
// names, when not nil, gives each class's display name (the part before the first comma is used, so the usual
// "tench, Tinca tinca" labels work); otherwise the synset's first lemma is. Per class:
//   - Nouns: the name, then up to two more of the synset's lemmas that are plain lower-case words (scientific
//     and proper names are skipped).
//   - Adjectives: [ImageNetAdjectives].
//   - Prepositions: [ImageNetBackgrounds] plus the [ImageNetContexts] entry of the nearest listed ancestor.
//   - Reference caption: "a photo of a {name}".
func ImageNet(nouns *wordnet.Nouns, wnids []string, names []string) (Vocabulary, error) {
	if nouns == nil {
		return Vocabulary{}, fmt.Errorf("caption: ImageNet vocabulary needs the WordNet nouns")
	}
	if names != nil && len(names) != len(wnids) {
		return Vocabulary{}, fmt.Errorf("caption: %d ImageNet names for %d class ids", len(names), len(wnids))
	}
	contexts := make(map[int][]string)
	for _, e := range ImageNetContexts {
		for _, a := range e.Ancestors {
			off, err := wordnet.ParseWNID(a)
			if err != nil {
				return Vocabulary{}, fmt.Errorf("caption: ImageNetContexts: %w", err)
			}
			contexts[off] = e.Prepositions
		}
	}
	v := Vocabulary{Name: "imagenet"}
	for i, id := range wnids {
		s, err := nouns.ByWNID(id)
		if err != nil {
			return Vocabulary{}, fmt.Errorf("caption: ImageNet class %d: %w", i, err)
		}
		name := s.Name()
		if names != nil {
			name, _, _ = strings.Cut(names[i], ",")
			name = strings.TrimSpace(name)
			if name == "" {
				return Vocabulary{}, fmt.Errorf("caption: ImageNet class %d (%s): empty name %q", i, id, names[i])
			}
		}
		ancestors, err := nouns.Ancestors(s.Offset)
		if err != nil {
			return Vocabulary{}, fmt.Errorf("caption: ImageNet class %d (%s): %w", i, id, err)
		}
		preps := append([]string(nil), ImageNetBackgrounds...)
		for _, a := range append([]*wordnet.Synset{s}, ancestors...) {
			if extra, ok := contexts[a.Offset]; ok {
				preps = append(preps, extra...)
				break
			}
		}
		c := Class{
			Name:         name,
			RefNoun:      name,
			Nouns:        []string{name},
			Adjectives:   append([]string(nil), ImageNetAdjectives...),
			Prepositions: preps,
		}
		for _, l := range s.Names() {
			if len(c.Nouns) > maxExtraImageNetNouns {
				break
			}
			if l == strings.ToLower(l) && !strings.EqualFold(l, name) && !containsFold(c.Nouns, l) {
				c.Nouns = append(c.Nouns, l)
			}
		}
		v.Classes = append(v.Classes, c)
	}
	return v, v.Validate()
}

func containsFold(xs []string, s string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
