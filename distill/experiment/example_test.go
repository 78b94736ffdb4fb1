package experiment_test

import (
	"fmt"
	"strings"

	"github.com/faildirs/faildirs/distill/experiment"
)

// A spec names what differs from the defaults; Validate reports every contradiction before any work.
func ExampleSpec_Validate() {
	byo := experiment.Spec{Data: experiment.Folder, DataDir: "testdata", Preds: "testdata/{split}.csv", Latent: "openai/clip-vit-base-patch32"}
	fmt.Println(byo.Validate())

	bad := experiment.Spec{Data: experiment.Folder, DataDir: "testdata", Preds: "testdata", Model: "resnet18", Latent: experiment.LatentFeatures}
	fmt.Println(bad.Validate())
	// Output:
	// <nil>
	// model: sets up a base model trained here, but preds gives the base model's predictions
	// latent: features needs a base model trained here, but preds gives predictions only
}

// A word-list file gives every class shared lists, with per-class lists replacing them.
func ExampleReadWordLists() {
	file := `{"nouns": ["cat"], "adjectives": ["", "black"], "classes": {"dog": {"nouns": ["dog", "puppy"]}}}`
	v, err := experiment.ReadWordLists(strings.NewReader(file), "words.json", []string{"cat", "dog"})
	if err != nil {
		panic(err)
	}
	for _, c := range v.Classes {
		fmt.Printf("%s (reference %q): %d captions, e.g. %q\n", c.Name, c.Reference(), len(c.Captions()), c.Captions()[1].Text)
	}
	// Output:
	// cat (reference "a photo of a cat"): 2 captions, e.g. "a photo of a black cat"
	// dog (reference "a photo of a dog"): 4 captions, e.g. "a photo of a black dog"
}
