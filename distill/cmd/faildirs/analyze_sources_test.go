package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/experiment"
	"github.com/faildirs/faildirs/distill/smoke"
)

// celebaLayout writes a small CelebA in the dataset's own layout (package smoke) with the given per-partition
// group counts {old male, old female, young female, young male}.
func celebaLayout(t *testing.T, counts [3][4]int) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "celeba")
	if err := smoke.WriteCelebA(root, smoke.CelebAConfig{Counts: counts, Size: 20, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return root
}

// writeNoisyJPEG writes a w×h JPEG of colour c with seeded noise.
func writeNoisyJPEG(t *testing.T, path string, w, h int, c color.RGBA, rng *rand.Rand) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for p := 0; p < len(img.Pix); p += 4 {
		n := func(v uint8) uint8 { return uint8(min(max(int(v)+rng.IntN(81)-40, 0), 255)) }
		img.Pix[p], img.Pix[p+1], img.Pix[p+2], img.Pix[p+3] = n(c.R), n(c.G), n(c.B), 255
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// imagenetLayout writes a small ILSVRC2012-layout folder: train/<wnid>/<wnid>_N.JPEG and val/<wnid>/..., with real
// WordNet ids (tench, goldfinch, pizza), each class a close colour with heavy noise, so that a small model trained
// here makes errors (package smoke's folder has plainly distinct classes and its own predictions).
func imagenetLayout(t *testing.T, perClass, valPerClass int) string {
	t.Helper()
	root := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	classes := []struct {
		wnid string
		c    color.RGBA
	}{{"n01440764", color.RGBA{120, 110, 70, 255}}, {"n01531178", color.RGBA{140, 120, 60, 255}}, {"n07873807", color.RGBA{150, 100, 70, 255}}}
	for _, cl := range classes {
		for i := range perClass {
			writeNoisyJPEG(t, filepath.Join(root, "train", cl.wnid, fmt.Sprintf("%s_%d.JPEG", cl.wnid, i)), 20, 16, cl.c, rng)
		}
		for i := range valPerClass {
			writeNoisyJPEG(t, filepath.Join(root, "val", cl.wnid, fmt.Sprintf("ILSVRC2012_val_%s_%04d.JPEG", cl.wnid[1:5], i)), 20, 16, cl.c, rng)
		}
	}
	return root
}

// TestAnalyzeCelebALayout runs the CelebA age task end to end on a generated folder in CelebA's layout, with a
// random-weight CLIP and an MLP trained here, then the stage commands fit → caption → report on the same data.
func TestAnalyzeCelebALayout(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	root := celebaLayout(t, [3][4]int{{60, 20, 60, 25}, {12, 12, 12, 12}, {24, 12, 24, 12}})
	work, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
	common := []string{"-data", "celeba", "-data-dir", root, "-model", "mlp", "-image-size", "16", "-epochs", "20",
		"-latent", "random", "-work", work, "-quiet"}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), append([]string{"analyze", "-out", out}, common...), &stdout, &stderr); code != 0 {
		t.Fatalf("faildirs analyze: %s", stderr.String())
	}
	s, err := experiment.LoadSummary(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	// The age task: old/young, 4 groups (old women and young men the minorities), 4:1 train (60 + 15 per class),
	// balanced val,
	// natural test; the CelebA vocabulary (288 captions per class).
	if s.Dataset.Name != "celeba-age" || len(s.Dataset.Groups) != 4 || s.Dataset.Splits["train"] != 150 ||
		s.Dataset.Splits["val"] != 48 || s.Dataset.Splits["test"] != 72 || len(s.Dataset.Minorities) != 2 {
		t.Fatalf("dataset %+v", s.Dataset)
	}
	if s.Surfacing == nil || len(s.Surfacing.Views) != 3 {
		t.Fatalf("surfacing views: %+v", s.Surfacing)
	}
	checkAnalysisFolder(t, out, s)
	for _, c := range s.Captions {
		if c.Reference != "a photo of a person" {
			t.Errorf("class %s reference %q, want the CelebA vocabulary's", c.Name, c.Reference)
		}
	}

	// The stage commands over files: fit, then caption and report from the folder alone.
	staged := filepath.Join(t.TempDir(), "staged")
	for _, args := range [][]string{
		append([]string{"fit", "-out", staged}, common...),
		{"caption", "-dir", staged, "-quiet"},
		{"report", "-dir", staged},
	} {
		stdout.Reset()
		stderr.Reset()
		if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("faildirs %s: %s", args[0], stderr.String())
		}
	}
	s2, err := experiment.LoadSummary(filepath.Join(staged, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkAnalysisFolder(t, staged, s2)
	if len(s2.Captions) != len(s.Captions) || (len(s.Captions) > 0 && s2.Captions[0].Hard[0].Text != s.Captions[0].Hard[0].Text) {
		t.Errorf("staged captions %+v differ from analyze's %+v", s2.Captions, s.Captions)
	}
}

// TestAnalyzeImageNetLayout runs an ILSVRC2012-layout folder with real WordNet ids end to end: WordNet class
// names, the reference's ImageNet vocabulary (from a WordNet excerpt), a random-weight CLIP.
func TestAnalyzeImageNetLayout(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	root := imagenetLayout(t, 40, 30)
	out := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	args := []string{"analyze", "-data", "imagenet", "-data-dir", root, "-wordnet", filepath.Join("testdata", "data.noun.imagenet"),
		"-model", "mlp", "-image-size", "12", "-epochs", "6", "-latent", "random", "-work", t.TempDir(), "-out", out, "-quiet"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("faildirs analyze: %s", stderr.String())
	}
	s, err := experiment.LoadSummary(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Dataset.Name != "imagenet" || strings.Join(s.Dataset.Classes, ",") != "tench,goldfinch,pizza" ||
		s.Dataset.Splits["train"] != 120 || s.Dataset.Splits["val"] != 45 || s.Dataset.Splits["test"] != 45 || s.Surfacing != nil {
		t.Fatalf("dataset %+v, surfacing %v", s.Dataset, s.Surfacing)
	}
	checkAnalysisFolder(t, out, s)
	for _, c := range s.Captions {
		if c.Reference != "a photo of a "+c.Name {
			t.Errorf("class %s reference %q", c.Name, c.Reference)
		}
	}
}

// checkAnalysisFolder checks an analysis folder holds every output, that decisions.csv covers the splits and that
// report.html is one self-contained page with its figures inline.
func checkAnalysisFolder(t *testing.T, dir string, s *experiment.Summary) {
	t.Helper()
	for _, f := range []string{"spec.json", "model.json", "decisions.csv", "summary.json", "report.html", "decisions.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	r, err := experiment.ReadReport(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := s.Dataset.Splits["train"] + s.Dataset.Splits["val"] + s.Dataset.Splits["test"]; len(r.Decisions) != want {
		t.Errorf("decisions.csv has %d rows, want %d", len(r.Decisions), want)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(html), "src=\"http") || strings.Contains(string(html), "<script") {
		t.Errorf("report.html loads something from outside")
	}
	if !strings.Contains(string(html), "data:image/png;base64,") {
		t.Errorf("report.html has no inline figure")
	}
	fitted := 0
	for _, c := range s.SVM {
		if c.Status.HasClassifier() {
			fitted++
		}
	}
	// The fixtures make the base model err on some classes, so the caption stages run too.
	if fitted == 0 || len(s.Captions) != fitted || len(s.CaptionCheck) != fitted {
		t.Errorf("%d classes with an SVM, %d captioned, %d caption checks; notes %q", fitted, len(s.Captions), len(s.CaptionCheck), s.Notes)
	}
}
