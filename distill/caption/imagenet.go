package caption

import (
	"fmt"
	"strings"

	"github.com/faildirs/faildirs/distill/wordnet"
)

// The ImageNet vocabulary is the reference code's: ADJECTIVES, DESCRIPTORS, BACKGROUNDS and ANCESTOR_TO_PREPS in
// failure_directions/src/clip_utils.py of MadryLab/failure-directions (release of December 2022), with the noun
// rule of the paper's version of that file (the class name; the release's last commit names the matched ancestor
// instead).

// ImageNetAdjectives are the adjectives of the ImageNet vocabulary, in the reference's order: none, eight colours
// (ADJECTIVES) and four descriptors of how the object appears (DESCRIPTORS).
var ImageNetAdjectives = []string{"", "white", "blue", "red", "green", "black", "yellow", "orange", "brown",
	"group of", "close-up", "blurry", "far away"}

// ImageNetBackgrounds are the prepositions every ImageNet class gets (BACKGROUNDS; "" = none); [ImageNetContexts]
// adds class-specific ones.
var ImageNetBackgrounds = []string{"", "outside", "inside", "on a black background", "on a white background",
	"on a green background", "on a blue background", "on a brown background"}

// ImageNetContext gives the prepositions of the classes whose first listed ancestor is one of Ancestors.
type ImageNetContext struct {
	// Ancestors are WordNet noun synsets by name as NLTK writes it: the synset's first lemma in lower case, with
	// "_" for spaces ("geological_formation"). Any synset of that name matches.
	Ancestors []string
	// Prepositions are added after [ImageNetBackgrounds].
	Prepositions []string
}

// ImageNetContexts is the reference's ANCESTOR_TO_PREPS table. A class takes the entry of the first synset, in
// the order [the class's own synset, then its hypernyms depth first as WordNet lists them], whose name is listed
// (so a dog, via "canine", gets the animals' entry; a container ship, via "vessel", the boats'). Every noun
// synset descends from "entity", whose entry adds nothing. The paper-era file spelled one food preposition "one
// the ground"; the release (taken here) corrected it.
var ImageNetContexts = []ImageNetContext{
	{[]string{"reptile", "amphibian"}, []string{"in a tank", "on the ground", "on a rock", "in the grass"}},
	{[]string{"marsupial", "swine", "bovid", "feline", "canine", "rodent"},
		[]string{"in the grass", "in a house", "in the forest", "on the ground", "with a person"}},
	{[]string{"fungus"}, []string{"on the ground", "in the grass"}},
	{[]string{"food"}, []string{"on a plate", "on the ground", "on a table", "with a person"}},
	{[]string{"geological_formation", "train", "mammal", "structure", "entity"}, []string{}},
	{[]string{"wheeled_vehicle", "bus", "vehicle"}, []string{"on the road", "parked"}},
	{[]string{"fruit", "fruit", "flower"}, []string{"on a table", "on the ground", "on a tree", "with a person", "in the grass"}},
	{[]string{"fish", "aquatic_mammal"}, []string{"in a tank", "with a person", "underwater"}},
	{[]string{"person"}, []string{"in a house", "on a field"}},
	{[]string{"equipment", "instrumentality", "appliance", "container", "fabric", "covering", "device", "implement"},
		[]string{"on a table", "with a person", "with a hand"}},
	{[]string{"primate"}, []string{"in a tree", "on the ground", "in the grass"}},
	{[]string{"invertebrate"}, []string{"in the grass", "on the ground", "in a house"}},
	{[]string{"bird"}, []string{"in the air", "on the ground", "in a cage", "in the grass", "flying", "perched"}},
	{[]string{"aircraft"}, []string{"in the air", "on the ground"}},
	{[]string{"furniture"}, []string{"in a house"}},
	{[]string{"vessel"}, []string{"in the water", "docked", "in the ocean"}},
}

// ImageNet returns the vocabulary of ImageNet classes given by their WordNet ids ("n02084071"), read from the
// noun database nouns (see [wordnet.LoadNouns]), built as the reference code builds it:
//
//   - Name, noun and reference caption: names[i] up to its first comma (the usual ILSVRC labels, "tench, Tinca
//     tinca" → "tench"), or, when names is nil, the synset's first lemma. One noun per class.
//   - Adjectives: [ImageNetAdjectives] (13, none included).
//   - Prepositions: [ImageNetBackgrounds] (8, none included) followed by the [ImageNetContexts] entry of the
//     class's first listed ancestor (0 to 6 more).
//
// A class thus has 13 × (8 + k) captions: 169 for a dog, 143 for a cowboy hat, 104 for a structure. The reference
// keys its tables by class name, so where ImageNet repeats a name (two "crane"s: a bird and a machine) both classes
// get the prepositions of the later one there; here each class gets its own.
func ImageNet(nouns *wordnet.Nouns, wnids []string, names []string) (Vocabulary, error) {
	if nouns == nil {
		return Vocabulary{}, fmt.Errorf("caption: ImageNet vocabulary needs the WordNet nouns")
	}
	if names != nil && len(names) != len(wnids) {
		return Vocabulary{}, fmt.Errorf("caption: %d ImageNet names for %d class ids", len(names), len(wnids))
	}
	contexts := make(map[string][]string)
	for _, e := range ImageNetContexts {
		for _, a := range e.Ancestors {
			contexts[a] = e.Prepositions
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
		ancestor, err := ImageNetAncestor(nouns, id)
		if err != nil {
			return Vocabulary{}, fmt.Errorf("caption: ImageNet class %d: %w", i, err)
		}
		v.Classes = append(v.Classes, Class{
			Name:         name,
			RefNoun:      name,
			Nouns:        []string{name},
			Adjectives:   append([]string(nil), ImageNetAdjectives...),
			Prepositions: append(append([]string(nil), ImageNetBackgrounds...), contexts[ancestor]...),
		})
	}
	return v, v.Validate()
}

// ImageNetAncestor returns the name of the first synset listed in [ImageNetContexts] among the class's own synset
// and its hypernyms, visited depth first in the order WordNet lists the hypernym pointers (instance-hypernym
// pointers are not followed, as in NLTK's Synset.hypernyms). It fails when a hypernym is missing from nouns (an
// excerpt) or no listed synset is reached.
func ImageNetAncestor(nouns *wordnet.Nouns, wnid string) (string, error) {
	listed := make(map[string]bool)
	for _, e := range ImageNetContexts {
		for _, a := range e.Ancestors {
			listed[a] = true
		}
	}
	s, err := nouns.ByWNID(wnid)
	if err != nil {
		return "", err
	}
	seen := make(map[int]bool)
	var visit func(s *wordnet.Synset) (string, error)
	visit = func(s *wordnet.Synset) (string, error) {
		if name := strings.ToLower(s.Lemmas[0]); listed[name] {
			return name, nil
		}
		seen[s.Offset] = true
		for _, h := range s.Hypernyms {
			if seen[h] {
				continue // everything below it was visited, without a match
			}
			hs, ok := nouns.Synset(h)
			if !ok {
				return "", fmt.Errorf("wordnet: synset %08d points to missing hypernym %08d", s.Offset, h)
			}
			if name, err := visit(hs); name != "" || err != nil {
				return name, err
			}
		}
		return "", nil
	}
	name, err := visit(s)
	if err == nil && name == "" {
		err = fmt.Errorf("caption: %s (%s) has no ancestor listed in ImageNetContexts", wnid, s.Name())
	}
	return name, err
}
