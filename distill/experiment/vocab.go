package experiment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/wordnet"
)

// WordLists is the format of a user's caption vocabulary file (JSON): word lists shared by every class, and
// per-class lists that replace them for that class. A class the file does not name gets the shared lists; an
// empty string in adjectives or prepositions stands for "none" (captions without that part). RefNoun is the noun of
// the class's reference caption "a photo of a {ref_noun}" (default: the class name in lower case).
//
//	{
//	  "nouns": ["t-shirt", "shirt"],
//	  "adjectives": ["red", "green"],
//	  "prepositions": ["", "on a black background"],
//	  "classes": {"Shirt": {"ref_noun": "shirt"}, "T-shirt": {"ref_noun": "t-shirt"}}
//	}
type WordLists struct {
	Nouns        []string              `json:"nouns,omitempty"`
	Adjectives   []string              `json:"adjectives,omitempty"`
	Prepositions []string              `json:"prepositions,omitempty"`
	Classes      map[string]ClassWords `json:"classes,omitempty"`
}

// ClassWords are one class's own word lists in a [WordLists] file; a list left out is the shared one.
type ClassWords struct {
	RefNoun      string   `json:"ref_noun,omitempty"`
	Nouns        []string `json:"nouns,omitempty"`
	Adjectives   []string `json:"adjectives,omitempty"`
	Prepositions []string `json:"prepositions,omitempty"`
}

// ReadWordLists parses a word-list file from r (name names it in errors) into the vocabulary of the given classes.
// Unknown fields, a class name that is not one of classes, and a class left without nouns are errors naming the
// line.
func ReadWordLists(r io.Reader, name string, classes []string) (caption.Vocabulary, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return caption.Vocabulary{}, fmt.Errorf("vocab %s: %w", name, err)
	}
	var wl WordLists
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&wl); err != nil {
		return caption.Vocabulary{}, fmt.Errorf("vocab %s: %w", name, jsonError(raw, err))
	}
	lineOfKey := func(key string) int {
		k, _ := json.Marshal(key)
		if i := bytes.Index(raw, k); i >= 0 {
			return lineOf(raw, int64(i))
		}
		return 0
	}
	for c := range wl.Classes {
		if !slices.Contains(classes, c) {
			return caption.Vocabulary{}, fmt.Errorf("vocab %s: line %d: class %q is not one of the data's classes %q", name, lineOfKey(c), c, classes)
		}
	}
	v := caption.Vocabulary{Name: "words:" + name}
	for _, c := range classes {
		own := wl.Classes[c]
		cl := caption.Class{Name: c, RefNoun: own.RefNoun, Nouns: orShared(own.Nouns, wl.Nouns),
			Adjectives: orShared(own.Adjectives, wl.Adjectives), Prepositions: orShared(own.Prepositions, wl.Prepositions)}
		if len(cl.Captions()) == 0 {
			return caption.Vocabulary{}, fmt.Errorf("vocab %s: class %q has no nouns (give shared \"nouns\" or the class's own)", name, c)
		}
		v.Classes = append(v.Classes, cl)
	}
	return v, v.Validate()
}

// LoadWordLists reads a word-list file ([ReadWordLists]).
func LoadWordLists(path string, classes []string) (caption.Vocabulary, error) {
	f, err := os.Open(path)
	if err != nil {
		return caption.Vocabulary{}, fmt.Errorf("vocab: %w", err)
	}
	defer f.Close()
	return ReadWordLists(f, path, classes)
}

func orShared(own, shared []string) []string {
	if own != nil {
		return slices.Clone(own)
	}
	return slices.Clone(shared)
}

// Vocabulary returns the caption vocabulary of the spec for the data's classes (ok false for VocabNone).
//
// The data sources' own (VocabAuto):
//   - fashion-spurious (the CelebA analogue): like CelebA's {person, man, woman} shared by "old" and "young", both
//     classes share the task's nouns — every noun of both items — so a hard caption can say that the failing images
//     look like the other class ("a photo of a green shirt" for T-shirts), and the adjectives are the two tint
//     colours: every image is tinted, so every caption names a tint (a colourless caption describes no image of
//     the data). The vocabulary does not say which colour is whose minority; the SVM has to find that.
//   - fashion-rare (the SuperCIFAR-100 analogue): each superclass's nouns are its members' nouns, the adjectives
//     none plus the tint colours when the experiment tints its images, the reference noun "item" (a superclass has
//     no noun of its own).
//   - celeba: the reference code's CelebA vocabulary (caption.CelebA).
//   - imagenet: the reference code's ImageNet vocabulary from WordNet (caption.ImageNet).
//   - folder: the class name as the noun, with ImageNet's adjectives and backgrounds.
func (p *Pipeline) Vocabulary() (v caption.Vocabulary, ok bool, err error) {
	d, s := p.Data, p.Spec
	switch voc := s.Vocab; voc {
	case VocabNone:
		return v, false, nil
	case VocabAuto, VocabFashion:
		switch {
		case s.Data == FashionSpurious:
			v, err = spuriousVocabulary(d)
		case s.Data == FashionRare:
			v, err = rareVocabulary(d, s)
		case s.Data == CelebA:
			v = caption.CelebA(d.Classes...)
		case s.Data == ImageNet:
			v, err = p.imagenetVocabulary()
		default:
			v = folderVocabulary(d.Classes)
		}
	case VocabCelebA:
		v = caption.CelebA(d.Classes...)
	case VocabImageNet:
		v, err = p.imagenetVocabulary()
	default:
		v, err = LoadWordLists(voc, d.Classes)
	}
	if err != nil {
		return v, false, err
	}
	return v, true, v.Validate()
}

func spuriousVocabulary(d *data.Dataset) (caption.Vocabulary, error) {
	var items [2]int
	for k, name := range d.Classes[:2] {
		c, err := data.FashionClassIndex(name)
		if err != nil {
			return caption.Vocabulary{}, err
		}
		items[k] = c
	}
	v, err := caption.Fashion(nil, [][]int{{items[0]}, {items[1]}})
	if err != nil {
		return v, err
	}
	shared := append(slices.Clone(caption.FashionNouns[items[0]]), caption.FashionNouns[items[1]]...)
	for i := range v.Classes {
		v.Classes[i].Nouns = slices.Clone(shared)
		v.Classes[i].Adjectives = slices.Clone(d.AttrValues["color"])
	}
	return v, nil
}

func rareVocabulary(d *data.Dataset, s Spec) (caption.Vocabulary, error) {
	cfg, err := rareConfig(s)
	if err != nil {
		return caption.Vocabulary{}, err
	}
	supers := cfg.WithDefaults().Superclasses
	v, err := caption.Fashion(d.Classes, supers)
	if err != nil {
		return v, err
	}
	for i := range v.Classes {
		v.Classes[i].Adjectives = append([]string{""}, d.AttrValues["color"]...)
		v.Classes[i].RefNoun = "item"
	}
	return v, nil
}

func folderVocabulary(classes []string) caption.Vocabulary {
	v := caption.Vocabulary{Name: "folder"}
	for _, c := range classes {
		n := strings.ToLower(strings.NewReplacer("_", " ", "-", " ").Replace(c))
		v.Classes = append(v.Classes, caption.Class{Name: c, RefNoun: n, Nouns: []string{n},
			Adjectives: slices.Clone(caption.ImageNetAdjectives), Prepositions: slices.Clone(caption.ImageNetBackgrounds)})
	}
	return v
}

// imagenetVocabulary builds the reference's ImageNet vocabulary for the data's classes, which must be WordNet ids
// (ImageNet's class folders).
func (p *Pipeline) imagenetVocabulary() (caption.Vocabulary, error) {
	ids := p.Data.ClassIDs
	if ids == nil {
		ids = p.Data.Classes
	}
	for _, id := range ids {
		if _, err := wordnet.ParseWNID(id); err != nil {
			return caption.Vocabulary{}, fmt.Errorf("vocab imagenet: class %q is not a WordNet id (nXXXXXXXX): %w", id, err)
		}
	}
	nouns, err := wordnet.LoadNouns(p.Spec.WordNet)
	if err != nil {
		return caption.Vocabulary{}, fmt.Errorf("vocab imagenet: %w", err)
	}
	return caption.ImageNet(nouns, ids, nil)
}
