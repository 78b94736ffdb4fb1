package caption_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/matrix"
)

// Captions follow the template "a photo of a {adjective} {noun} {preposition}"; empty parts are dropped.
func ExampleCompose() {
	fmt.Println(caption.Compose("red", "shirt", ""))
	fmt.Println(caption.Compose("", "shirt", "on a black background"))
	// Output:
	// a photo of a red shirt
	// a photo of a shirt on a black background
}

// A class's vocabulary combines every noun, adjective and preposition ("" stands for none).
func ExampleClass_Captions() {
	shirt := caption.Class{Name: "Shirt", Nouns: []string{"shirt", "blouse"}, Adjectives: []string{"", "red"}}
	for _, c := range shirt.Captions() {
		fmt.Println(c.Text)
	}
	fmt.Println("reference:", shirt.Reference())
	// Output:
	// a photo of a shirt
	// a photo of a red shirt
	// a photo of a blouse
	// a photo of a red blouse
	// reference: a photo of a shirt
}

// wordCounts is a toy text embedder: one dimension per known word, counting its occurrences. Real pipelines use
// a CLIP text tower (clip.TextEncoder).
type wordCounts []string

func (w wordCounts) EmbedTexts(_ context.Context, texts []string) (matrix.Dense, error) {
	out := matrix.Zeros(len(texts), len(w))
	for i, t := range texts {
		for j, word := range w {
			out.Row(i)[j] = float32(strings.Count(" "+t+" ", " "+word+" "))
		}
	}
	return out, nil
}

// linearSVM is a toy failure model with one linear decision function for class 0 (a distill.FailureModel in real
// pipelines).
type linearSVM []float32

func (w linearSVM) DecisionFor(class int, vecs matrix.Dense) ([]float32, error) {
	if class != 0 {
		return nil, fmt.Errorf("class %d has no failure direction", class)
	}
	out := make([]float32, vecs.Rows)
	for i := range vecs.Rows {
		for j, v := range vecs.Row(i) {
			out[i] += w[j] * v
		}
	}
	return out, nil
}

// Score ranks a class's captions by the decision value of the class's SVM on their text embeddings, relative to
// the reference caption: the lowest score is the hard caption (how the failing images look), the highest the
// easy one. Here the failure model says red shirts are hard and green ones easy.
func ExampleScore() {
	emb := wordCounts{"red", "green", "blue"}
	svm := linearSVM{-1, 0.5, 0}
	shirt := caption.Class{Name: "Shirt", Nouns: []string{"shirt"}, Adjectives: []string{"", "red", "green", "blue"}}
	r, err := caption.Score(context.Background(), emb, svm, 0, shirt)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("hard: %q (%+.1f)\n", r.Hard(1)[0].Text, r.Hard(1)[0].Score)
	fmt.Printf("easy: %q (%+.1f)\n", r.Easy(1)[0].Text, r.Easy(1)[0].Score)
	// Output:
	// hard: "a photo of a red shirt" (-1.0)
	// easy: "a photo of a green shirt" (+0.5)
}
