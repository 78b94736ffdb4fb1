package experiment

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill"
)

// TestTrainSampleWhitening fits with the whitening statistics from a seeded sample of train: only the sample is
// embedded for the fit, the model records it, the fit equals distill.Fit given the whole train split and the
// same sample, decisions.csv lists the sample's train rows, and the whole train split is still embedded on
// request (then only the rows outside the sample go through the CLIP) with the sample's rows among it.
func TestTrainSampleWhitening(t *testing.T) {
	ctx := context.Background()
	spec := smallSpurious(t)
	spec.TrainSample = 150
	p := newTestPipeline(t, spec)
	if err := p.Fit(ctx); err != nil {
		t.Fatal(err)
	}
	nTrain := p.Data.Train.Len()
	if len(p.TrainRows) != 150 || !slices.IsSorted(p.TrainRows) || p.TrainRows[149] >= nTrain {
		t.Fatalf("TrainRows: %d rows of %d (want a sorted sample of 150)", len(p.TrainRows), nTrain)
	}
	if _, ok := p.Emb["train"]; ok {
		t.Fatal("the whole train split was embedded for a sampled fit")
	}
	if e := p.Emb[TrainSampleSplit]; e.Rows != 150 {
		t.Fatalf("train sample embeddings: %d rows, want 150", e.Rows)
	}
	want := distill.TrainSample{Size: 150, Seed: spec.DataSeed, Of: nTrain}
	if got := p.SVM.Whitening.Sample; got != want {
		t.Fatalf("model's whitening sample %+v, want %+v", got, want)
	}
	fresh := newTestPipeline(t, spec)
	fresh.Spec.Work = t.TempDir() // an empty cache: every image pending
	if e, err := fresh.EstimateEmbed(ctx); err != nil || e.Pending["train"] != 150 || e.Sampled != 150 || e.TrainAll != nTrain ||
		!(e.SavedSeconds > 0) || !strings.Contains(e.String(), "seeded sample of 150 of its 600") {
		t.Fatalf("estimate %+v (%v): %s", e, err, e)
	}

	// The whole train split on request; the sample's rows are its rows.
	full, err := p.Split(ctx, "train")
	if err != nil {
		t.Fatal(err)
	}
	if full.Len() != nTrain {
		t.Fatalf("whole train split: %d rows, want %d", full.Len(), nTrain)
	}
	sample := p.Emb[TrainSampleSplit]
	for k, i := range p.TrainRows {
		if !slices.Equal(sample.Row(k), full.Latents.Row(i)) {
			t.Fatalf("sample row %d differs from train row %d", k, i)
		}
	}

	// Put together from the sample and the rest, the whole split equals the one embedded directly.
	whole := spec
	whole.TrainSample = -1
	direct, err := newTestPipeline(t, whole).Embedding(ctx, "train")
	if err != nil {
		t.Fatal(err)
	}
	if direct.Rows != nTrain || !slices.Equal(direct.Data, full.Latents.Data) {
		t.Fatal("the whole train split assembled from the sample and the rest differs from its direct embedding")
	}

	// The same fit from the library, given the whole split and the sample to draw.
	val, err := p.Split(ctx, "val")
	if err != nil {
		t.Fatal(err)
	}
	opts := distill.DefaultOptions()
	opts.NumClasses = len(p.Data.Classes)
	opts.TrainSample = distill.TrainSample{Size: 150, Seed: spec.DataSeed}
	opts.Progress = io.Discard
	ref, err := distill.FitContext(ctx, p.Backend, full, val, opts)
	if err != nil {
		t.Fatal(err)
	}
	test, err := p.Split(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.SVM.Decision(test)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := ref.Decision(test)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, exp) {
		t.Fatal("the pipeline's sampled fit differs from distill.Fit with the same sample")
	}

	out := t.TempDir()
	s, err := p.WriteOutputs(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	if s.Latent.WhiteningSample == nil || *s.Latent.WhiteningSample != want {
		t.Fatalf("summary's whitening sample %+v", s.Latent.WhiteningSample)
	}
	f, err := os.Open(filepath.Join(out, "decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := ReadDecisions(f, "decisions.csv")
	if err != nil {
		t.Fatal(err)
	}
	var trainIDs []string
	for _, r := range rows {
		if r.Split == "train" {
			trainIDs = append(trainIDs, r.ID)
		}
	}
	var sampleIDs []string
	for _, i := range p.TrainRows {
		sampleIDs = append(sampleIDs, p.Data.Train.IDs[i])
	}
	slices.Sort(trainIDs)
	slices.Sort(sampleIDs)
	if !slices.Equal(trainIDs, sampleIDs) {
		t.Fatalf("decisions.csv lists %d train rows, not the sample's %d", len(trainIDs), len(sampleIDs))
	}
}

// TestTrainSampleDefaults: the default sample leaves small train splits whole, -1 keeps every row, and the
// reference mode embeds every train image.
func TestTrainSampleDefaults(t *testing.T) {
	for _, tc := range []struct {
		spec Spec
		want int
	}{
		{Spec{}, DefaultTrainSample},
		{Spec{TrainSample: -1}, -1},
		{Spec{Compat: distill.CompatReference}, -1},
		{Spec{Compat: distill.CompatReference, TrainSample: 500}, 500},
	} {
		if got := tc.spec.WithDefaults().TrainSample; got != tc.want {
			t.Errorf("%+v: train sample %d, want %d", tc.spec, got, tc.want)
		}
	}
	if err := (Spec{TrainSample: -2}).Validate(); err == nil {
		t.Error("train_sample -2 accepted")
	}
	p := newTestPipeline(t, smallSpurious(t)) // 600 train images, under the default sample
	if err := p.LoadData(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p.TrainRows != nil {
		t.Fatalf("a %d-image train split was sampled", p.Data.Train.Len())
	}
}
