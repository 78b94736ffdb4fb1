package clip_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io"
	"log"

	"github.com/faildirs/faildirs/distill/clip"
)

// Load a CLIP saved in the Hugging Face layout (config.json, model.safetensors, optionally tokenizer and
// preprocessor files; here a tiny random model with embedding size 16) and embed images with it. clip.Load does
// the same for a hub id such as "openai/clip-vit-base-patch32", through the HF cache.
func ExampleLoadDir() {
	m, err := clip.LoadDir(nil, "testdata/tiny-a") // nil: package backend picks the backend
	if err != nil {
		log.Fatal(err)
	}
	defer m.Finalize()
	var images []image.Image
	for _, c := range []color.RGBA{{200, 30, 40, 255}, {20, 60, 210, 255}} {
		img := image.NewRGBA(image.Rect(0, 0, 40, 30))
		draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
		images = append(images, img)
	}
	res, err := m.EmbedImages(context.Background(), clip.Images(images),
		clip.EmbedOptions{Normalize: true, Progress: io.Discard})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d images, embeddings %d×%d, %d computed\n", len(images), res.Embeddings.Rows, res.Embeddings.Cols, res.Computed)
	fmt.Printf("image size %d, tokenizer: %v\n", m.Config.Vision.ImageSize, m.Tokenizer != nil)
	// Output:
	// 2 images, embeddings 2×16, 2 computed
	// image size 32, tokenizer: false
}
