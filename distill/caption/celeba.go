package caption

// The CelebA vocabulary is the reference code's, word for word: CELEBA_CONFIG in
// failure_directions/src/clip_utils.py of MadryLab/failure-directions.

// CelebANouns are the nouns of the CelebA vocabulary.
var CelebANouns = []string{"person", "man", "woman"}

// CelebAAdjectives are the adjectives of the CelebA vocabulary ("" = none).
var CelebAAdjectives = []string{"", "old", "young"}

// CelebAAttributes are the 32 attribute phrases of the CelebA vocabulary, used in the preposition slot, in the
// reference's order.
var CelebAAttributes = []string{
	"who has stubble",
	"who has arched eyebrows",
	"who has bags under their eyes",
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
	"who has heavy makeup on",
	"who has high cheekbones",
	"who has a mouth that is slightly open",
	"who has a mustache",
	"who has narrow eyes",
	"who has no beard",
	"who has an oval face",
	"who has a pointy nose",
	"who has a receding hairline",
	"who has rosy cheeks",
	"who has sideburns",
	"who has a smile",
	"who has straight hair",
	"who has wavy hair",
	"who has earrings",
	"who is wearing a hat",
	"who has a lipstick on",
	"who is wearing a necktie",
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
