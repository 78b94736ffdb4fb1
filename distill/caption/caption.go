// Package caption describes failure directions in words, as in "Distilling Model Failures as Directions in Latent
// Space" (Jain et al., ICLR 2023):
//
//	v, err := caption.Fashion(nil, [][]int{{0}, {6}})                    // or caption.CelebA(...), caption.ImageNet(...)
//	te := clip.TextEncoder{Embedder: model}                              // any TextEmbedder
//	ranks, err := caption.ScoreAll(ctx, te, failureModel, v, caption.ScoreOptions{})
//	fmt.Println(ranks[0].Hard(1)[0].Text, ranks[0].Easy(1)[0].Text)
//
// The parts:
//
//   - Vocabularies: per class, captions from the template "a photo of a {adjective} {noun} {preposition}" with
//     empty parts dropped ([Compose]), over the class's nouns, adjectives and prepositions ([Class]). Ready-made
//     vocabularies: [FashionClass] (Fashion-MNIST items and tint colours, for the offline experiments), and the
//     reference code's tables, word for word: [CelebA] ({person, man, woman} × {none, old, young} × 32 attribute
//     phrases) and [ImageNet] (the class name × 13 adjectives and descriptors × 8 backgrounds plus the prepositions
//     of the class's first listed WordNet 3.0 hypernym ancestor).
//   - Scoring ([Score], [ScoreAll]): a caption's score is the decision value of the class's SVM on the difference
//     between the caption's text embedding and the reference caption's ("a photo of a {class name}",
//     [Class.Reference]), through the model's pre-processing: decision(pre(t_caption − t_reference)), with t the
//     text embeddings as the text tower gives them — the reference code's formula. Because pre normalises to unit
//     length, this ranks captions differently from decision(pre(t_caption)) − decision(pre(t_reference)): the
//     score measures the direction in which a caption moves away from just naming the class. The lowest score is
//     the hard caption (the text most aligned with the predicted-failure side of the SVM), the highest the easy
//     caption.
//   - Caption check ([CheckCaptions]): rank a class's test images by cosine similarity of their image embedding to
//     a caption's text embedding, and compare the base model's accuracy on the K nearest images for the hard
//     caption, the easy caption and the whole class. A hard caption that names a real failure mode gives a lower
//     accuracy than the class average.
//
// A hard caption describes how the failing images look, not the class they fail on: for class "old" it may read
// "a photo of a young woman …" because the old people the model misses look young to CLIP.
//
// Grammar: like the reference implementation the template always writes "a photo of a", also before vowels
// ("a photo of a orange shirt") and plural nouns; CLIP's text tower is insensitive to it, and keeping the exact
// template keeps scores comparable with the paper's.
//
// The package knows nothing about CLIP or SVMs: text embeddings come through [TextEmbedder] (implemented by the
// clip package's TextEncoder) and decision values through [Scorer] (implemented by distill.FailureModel).
package caption

import (
	"fmt"
	"strings"
)

// Prefix starts every caption.
const Prefix = "a photo of a"

// Compose builds "a photo of a {adjective} {noun} {preposition}", dropping empty parts and extra spaces.
func Compose(adjective, noun, preposition string) string {
	parts := []string{Prefix}
	for _, p := range []string{adjective, noun, preposition} {
		if p = strings.Join(strings.Fields(p), " "); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// Caption is one generated caption with the parts it was made of ("" for a dropped part).
type Caption struct {
	// Text is the full caption.
	Text string `json:"text"`
	// Adjective, Noun and Preposition are the template parts.
	Adjective   string `json:"adjective,omitempty"`
	Noun        string `json:"noun"`
	Preposition string `json:"preposition,omitempty"`
}

// Class is the caption vocabulary of one class. An empty string in Adjectives or Prepositions stands for "none"
// (the part is dropped); include it to get captions without that part.
type Class struct {
	// Name is the class's display name ("Shirt", "old", "tabby").
	Name string `json:"name"`
	// RefNoun is the noun of the reference caption; empty means Name in lower case.
	RefNoun string `json:"ref_noun,omitempty"`
	// Nouns, Adjectives and Prepositions are combined in every way.
	Nouns        []string `json:"nouns"`
	Adjectives   []string `json:"adjectives"`
	Prepositions []string `json:"prepositions"`
}

// Reference returns the class's reference caption, "a photo of a {RefNoun or lower-case Name}". Its text
// embedding is subtracted from every caption's before scoring, so scores say in which direction a description
// moves a text away from just naming the class.
func (c Class) Reference() string {
	n := c.RefNoun
	if n == "" {
		n = strings.ToLower(c.Name)
	}
	return Compose("", n, "")
}

// Captions returns every combination noun × adjective × preposition (nouns outermost, then adjectives), without
// duplicate texts, in a fixed order. Nil or empty Adjectives or Prepositions count as {none}.
func (c Class) Captions() []Caption {
	adjs, preps := orNone(c.Adjectives), orNone(c.Prepositions)
	seen := make(map[string]bool)
	var out []Caption
	for _, n := range c.Nouns {
		if strings.TrimSpace(n) == "" {
			continue
		}
		for _, a := range adjs {
			for _, p := range preps {
				t := Compose(a, n, p)
				if seen[t] {
					continue
				}
				seen[t] = true
				out = append(out, Caption{Text: t, Adjective: a, Noun: n, Preposition: p})
			}
		}
	}
	return out
}

// WithAdjectives returns a copy of c with more adjectives appended (e.g. [FashionDescriptors]).
func (c Class) WithAdjectives(extra ...string) Class {
	c.Adjectives = append(append([]string(nil), c.Adjectives...), extra...)
	return c
}

// WithPrepositions returns a copy of c with more prepositions appended.
func (c Class) WithPrepositions(extra ...string) Class {
	c.Prepositions = append(append([]string(nil), c.Prepositions...), extra...)
	return c
}

func orNone(xs []string) []string {
	if len(xs) == 0 {
		return []string{""}
	}
	return xs
}

// Vocabulary is the caption vocabulary of a classification task: Classes[i] describes the model's class i.
type Vocabulary struct {
	// Name identifies the vocabulary ("fashion", "celeba", "imagenet").
	Name string `json:"name"`
	// Classes are indexed like the model's classes.
	Classes []Class `json:"classes"`
}

// Count returns the number of captions of every class together (duplicates across classes counted per class).
func (v Vocabulary) Count() int {
	n := 0
	for _, c := range v.Classes {
		n += len(c.Captions())
	}
	return n
}

// Validate checks that every class has a name and at least one noun.
func (v Vocabulary) Validate() error {
	if len(v.Classes) == 0 {
		return fmt.Errorf("caption: vocabulary %q has no classes", v.Name)
	}
	for i, c := range v.Classes {
		if strings.TrimSpace(c.Name) == "" && strings.TrimSpace(c.RefNoun) == "" {
			return fmt.Errorf("caption: vocabulary %q class %d has no name", v.Name, i)
		}
		if len(c.Captions()) == 0 {
			return fmt.Errorf("caption: vocabulary %q class %d (%q) has no nouns", v.Name, i, c.Name)
		}
	}
	return nil
}
