package caption

import "fmt"

// FashionItems are the ten Fashion-MNIST class names, by label.
var FashionItems = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// FashionNouns are the nouns for each Fashion-MNIST item, by label: the item's plain noun first (used in
// reference captions, the same words as the data package's caption nouns), then synonyms.
var FashionNouns = [][]string{
	{"t-shirt", "top", "tee"},
	{"trouser", "pair of trousers", "pants"},
	{"pullover", "sweater", "jumper"},
	{"dress", "gown", "frock"},
	{"coat", "jacket", "overcoat"},
	{"sandal", "flip-flop", "open shoe"},
	{"shirt", "blouse", "button-down shirt"},
	{"sneaker", "trainer", "running shoe"},
	{"bag", "handbag", "purse"},
	{"ankle boot", "boot", "bootie"},
}

// FashionColours are the colour adjectives of the Fashion vocabulary: exactly the tint colours the planted
// experiments can use (the data package's palette), so that the offline CLIP, trained on captions of tinted
// images, knows every colour word a caption uses. Black is left out: a black tint would erase the image.
var FashionColours = []string{"red", "green", "blue", "yellow", "orange", "purple", "pink", "cyan", "magenta",
	"brown", "white", "gray"}

// FashionDescriptors are optional non-colour adjectives, added with [Class.WithAdjectives]. They are not in the
// default vocabulary because the tiny offline CLIP learns only item and colour words, so it would place untrained
// words arbitrarily; with a real CLIP they are meaningful.
var FashionDescriptors = []string{"dark", "bright", "plain", "patterned", "small", "large"}

// FashionPrepositions are the prepositions of the Fashion vocabulary ("" = none).
var FashionPrepositions = []string{"", "on a black background"}

// FashionClass returns the vocabulary of a class made of Fashion-MNIST items (labels 0–9): the nouns of all its
// items, the adjectives none + [FashionColours], and [FashionPrepositions]. For a class that is a single item, the
// reference caption names the item's plain noun ("a photo of a t-shirt"); for a superclass (rare-subclass
// experiments: "footwear" = sandal, sneaker, ankle boot) it names the class ("a photo of a footwear").
// name "" means the single item's name.
func FashionClass(name string, items ...int) (Class, error) {
	if len(items) == 0 {
		return Class{}, fmt.Errorf("caption: Fashion class %q has no items", name)
	}
	c := Class{Name: name, Adjectives: append([]string{""}, FashionColours...),
		Prepositions: append([]string(nil), FashionPrepositions...)}
	seen := map[int]bool{}
	for _, it := range items {
		if it < 0 || it >= len(FashionItems) {
			return Class{}, fmt.Errorf("caption: Fashion class %q: item %d out of range 0..%d", name, it, len(FashionItems)-1)
		}
		if seen[it] {
			return Class{}, fmt.Errorf("caption: Fashion class %q: item %d (%s) given twice", name, it, FashionItems[it])
		}
		seen[it] = true
		c.Nouns = append(c.Nouns, FashionNouns[it]...)
	}
	if len(items) == 1 {
		if c.Name == "" {
			c.Name = FashionItems[items[0]]
		}
		c.RefNoun = FashionNouns[items[0]][0]
	} else if c.Name == "" {
		return Class{}, fmt.Errorf("caption: Fashion superclass of items %v needs a name", items)
	}
	return c, nil
}

// Fashion returns the vocabulary of a task whose class i is made of the Fashion-MNIST items classItems[i], named
// names[i] (names may be nil when every class is a single item). Fashion(nil, [][]int{{0},{6}}) is the
// "T-shirt/top vs Shirt" task; Fashion([]string{"tops", "footwear"}, [][]int{{0, 2, 4, 6}, {5, 7, 9}}) a
// superclass task.
func Fashion(names []string, classItems [][]int) (Vocabulary, error) {
	if names != nil && len(names) != len(classItems) {
		return Vocabulary{}, fmt.Errorf("caption: %d names for %d Fashion classes", len(names), len(classItems))
	}
	v := Vocabulary{Name: "fashion"}
	for i, items := range classItems {
		name := ""
		if names != nil {
			name = names[i]
		}
		c, err := FashionClass(name, items...)
		if err != nil {
			return Vocabulary{}, fmt.Errorf("class %d: %w", i, err)
		}
		v.Classes = append(v.Classes, c)
	}
	return v, v.Validate()
}

// FashionAll returns the vocabulary of the ten-class Fashion-MNIST task.
func FashionAll() Vocabulary {
	items := make([][]int, len(FashionItems))
	for i := range items {
		items[i] = []int{i}
	}
	v, err := Fashion(nil, items)
	if err != nil {
		panic(err) // the built-in tables are valid; a test checks it
	}
	return v
}
