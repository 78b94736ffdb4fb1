package caption

// CelebANouns are the nouns of the CelebA vocabulary.
var CelebANouns = []string{"person", "man", "woman"}

// CelebAAdjectives are the adjectives of the CelebA vocabulary ("" = none).
var CelebAAdjectives = []string{"", "old", "young"}

// CelebAAttributes are the 32 attribute phrases of the CelebA vocabulary, used in the preposition slot. They
// follow CelebA's annotated face attributes, leaving out the ones that are the usual task labels or template words
// (male, young), judgements (attractive) and image quality (blurry), and a few with no clear visual phrase.
var CelebAAttributes = []string{
	"who has a five o'clock shadow",
	"who has arched eyebrows",
	"who has bags under the eyes",
	"who is bald",
	"who has bangs",
	"who has big lips",
	"who has a big nose",
	"who has black hair",
	"who has blond hair",
	"who has brown hair",
	"who has bushy eyebrows",
	"who has a double chin",
	"who is wearing eyeglasses",
	"who has a goatee",
	"who has gray hair",
	"who is wearing heavy makeup",
	"who has high cheekbones",
	"who has a slightly open mouth",
	"who has a mustache",
	"who has narrow eyes",
	"who has no beard",
	"who has an oval face",
	"who has a pointy nose",
	"who has a receding hairline",
	"who has rosy cheeks",
	"who has sideburns",
	"who is smiling",
	"who has straight hair",
	"who has wavy hair",
	"who is wearing earrings",
	"who is wearing a hat",
	"who is wearing lipstick",
}

// CelebA returns the CelebA vocabulary for a task with the given class names (e.g. "old", "young"): every class
// gets the same 3 × 3 × 32 = 288 captions, and the reference caption "a photo of a person" (the class name is a
// label, not a noun).
func CelebA(classNames ...string) Vocabulary {
	v := Vocabulary{Name: "celeba"}
	for _, n := range classNames {
		v.Classes = append(v.Classes, Class{
			Name:         n,
			RefNoun:      "person",
			Nouns:        append([]string(nil), CelebANouns...),
			Adjectives:   append([]string(nil), CelebAAdjectives...),
			Prepositions: append([]string(nil), CelebAAttributes...),
		})
	}
	return v
}
