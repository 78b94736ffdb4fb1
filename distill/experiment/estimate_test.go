package experiment

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/smoke"
)

// TestEstimateEmbed checks the embedding estimate on a generated CelebA: every image pending before the first
// run, a measured throughput, and nothing pending (nothing measured) once the cache holds them.
func TestEstimateEmbed(t *testing.T) {
	root := filepath.Join(t.TempDir(), "celeba")
	if err := smoke.WriteCelebA(root, smoke.CelebAConfig{Counts: [3][4]int{{20, 5, 20, 5}, {6, 6, 6, 6}, {6, 3, 6, 3}}, Size: 16}); err != nil {
		t.Fatal(err)
	}
	b, _, err := backend.Go()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	spec := Spec{Data: CelebA, DataDir: root, Model: "mlp", ImageSize: 8, Epochs: 1, Latent: LatentRandom, Work: t.TempDir()}
	ctx := context.Background()
	p, err := New(b, spec, Options{Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.EstimateEmbed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e.Images != 50+24+18 || e.Pending["train"] != 50 || e.Pending["val"] != 24 || e.Pending["test"] != 18 {
		t.Fatalf("pending %v (total %d), want train 50, val 24, test 18", e.Pending, e.Images)
	}
	if !(e.ImagesPerSecond > 0) || !(e.Seconds > 0) || !strings.Contains(e.String(), "embedding 92 images") {
		t.Fatalf("estimate %+v: %s", e, e)
	}
	if err := p.Embed(ctx); err != nil {
		t.Fatal(err)
	}
	p.Close()
	p2, err := New(b, spec, Options{Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	e2, err := p2.EstimateEmbed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e2.Images != 0 || e2.ImagesPerSecond != 0 || !strings.Contains(e2.String(), "in the cache") {
		t.Fatalf("after embedding: %+v (%s)", e2, e2)
	}
}
