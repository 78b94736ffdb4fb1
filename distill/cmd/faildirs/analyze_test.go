package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/experiment"
)

// byoCase is a bring-your-own-model case: a planted spurious-colour experiment written as PNG files in class
// folders, with prediction CSVs of a base model trained outside the pipeline.
type byoCase struct {
	classes [2]string
	colors  [2]string
	seed    uint64
}

// byoSizes are the case's split sizes: small, so the test stays fast.
var byoSizes = []string{"-train-per-class", "600", "-val-per-group", "100", "-test-per-class", "450", "-pool-per-class", "-1"}

// writeBYO writes the case under dir: images/<k>-<class>/<id>.png (every split's images, in class folders), the
// base model's predictions preds/{train,val,test}.csv keyed by the image paths relative to images/, and a word-list
// vocabulary words.json (both items' nouns, the two colours). The base model is the MLP of `faildirs train`,
// trained on the same planted data as an outside model would be.
func writeBYO(t *testing.T, dir string, c byoCase) (images, preds, words string) {
	t.Helper()
	f, err := data.LoadFashion("")
	if err != nil {
		t.Fatalf("Fashion-MNIST is needed (make setup installs Debian's dataset-fashion-mnist): %v", err)
	}
	ids := [2]int{}
	for k, name := range c.classes {
		if ids[k], err = data.FashionClassIndex(name); err != nil {
			t.Fatal(err)
		}
	}
	n := func(i int) int { v, _ := strconv.Atoi(byoSizes[i]); return v }
	ds, err := data.Spurious(f, data.SpuriousConfig{Classes: ids, Colors: c.colors, TrainPerClass: n(1), ValPerGroup: n(3),
		TestPerClass: n(5), PoolPerClass: -1, Seed: c.seed})
	if err != nil {
		t.Fatal(err)
	}
	// The base model, trained outside the pipeline: `faildirs train` on the same planted experiment.
	trainOut := filepath.Join(dir, "train")
	var stdout, stderr bytes.Buffer
	args := append([]string{"-dataset", "fashion-spurious", "-classes", strings.Join(c.classes[:], ","), "-colors",
		strings.Join(c.colors[:], ","), "-seed", strconv.FormatUint(c.seed, 10), "-epochs", "8", "-out", trainOut}, byoSizes...)
	if err := runTrain(context.Background(), args, &stdout, &stderr); err != nil {
		t.Fatalf("faildirs train: %v\n%s", err, stderr.String())
	}
	images = filepath.Join(dir, "images")
	folder := func(k int) string {
		return fmt.Sprintf("%d-%s", k, strings.ToLower(strings.ReplaceAll(c.classes[k], "/", "_")))
	}
	rel := map[string]string{}
	for _, sp := range ds.Splits() {
		for i, id := range sp.IDs {
			r := filepath.Join(folder(sp.Labels[i]), id+".png")
			rel[id] = filepath.ToSlash(r)
			path := filepath.Join(images, r)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := png.Encode(&buf, sp.Images.Image(i)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Its CSVs, re-keyed from the planted ids to the image files.
	preds = filepath.Join(dir, "preds")
	if err := os.MkdirAll(preds, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"train", "val", "test"} {
		p, err := data.LoadPredictions(filepath.Join(trainOut, "pred-"+split+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range p.IDs {
			p.IDs[i] = rel[id]
		}
		if err := p.Save(filepath.Join(preds, split+".csv")); err != nil {
			t.Fatal(err)
		}
	}
	nouns := append(slices.Clone(caption.FashionNouns[ids[0]]), caption.FashionNouns[ids[1]]...)
	wl := experiment.WordLists{Nouns: nouns, Adjectives: c.colors[:], Prepositions: caption.FashionPrepositions,
		Classes: map[string]experiment.ClassWords{folder(0): {RefNoun: caption.FashionNouns[ids[0]][0]},
			folder(1): {RefNoun: caption.FashionNouns[ids[1]][0]}}}
	raw, _ := json.MarshalIndent(wl, "", "  ")
	words = filepath.Join(dir, "words.json")
	if err := os.WriteFile(words, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return images, preds, words
}

// TestAnalyzeBringYourOwnModel runs two bring-your-own-model cases (other classes, colours and seeds than the
// quick start's) through `faildirs analyze` with a briefly trained tiny CLIP, and checks the planted failure is
// found: each class's hardest test images by SVM decision value are mostly its minority colour (well above the
// base rate), its hardest caption names that colour, and report.html holds the charts, galleries and captions.
// The flagged set's minority precision against the errors' minority share is printed (the paper's comparison),
// not asserted: it depends on the latent space (see the README's measured figures).
func TestAnalyzeBringYourOwnModel(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	work := t.TempDir()
	for _, c := range []byoCase{
		{classes: [2]string{"Pullover", "Coat"}, colors: [2]string{"blue", "orange"}, seed: 3},
		{classes: [2]string{"Sandal", "Sneaker"}, colors: [2]string{"red", "cyan"}, seed: 7},
	} {
		t.Run(c.classes[0]+"-"+c.colors[0], func(t *testing.T) {
			dir := t.TempDir()
			images, preds, words := writeBYO(t, dir, c)
			out := filepath.Join(dir, "out")
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"analyze", "-data", "folder", "-data-dir", images, "-preds", preds,
				"-latent", "tiny", "-clip-steps", byoCLIPSteps(), "-vocab", words, "-minorities", "1,3", "-work", work, "-out", out,
				"-quiet"}, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("faildirs analyze failed:\n%s", stderr.String())
			}
			t.Logf("faildirs analyze:\n%s", stdout.String())
			s, err := experiment.LoadSummary(filepath.Join(out, "summary.json"))
			if err != nil {
				t.Fatal(err)
			}
			checkPlantedFound(t, s, c.colors)
			html, err := os.ReadFile(filepath.Join(out, "report.html"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"data:image/png;base64,", "Captions", "Galleries", s.Captions[0].Hard[0].Text,
				"flagged minority precision", preds} {
				if !strings.Contains(string(html), want) {
					t.Errorf("report.html lacks %q", want)
				}
			}
			if n := strings.Count(string(html), "<img src=\"data:image/png;base64,"); n < 7 {
				t.Errorf("report.html has %d inline images, want the 3 top-K charts, histogram, balanced accuracy, caption check and 2 galleries", n)
			}
			for _, f := range []string{"model.json", "decisions.csv", "captions.json", "spec.json", "gallery_0-" +
				strings.ToLower(strings.ReplaceAll(c.classes[0], "/", "_")) + ".png", "topk_natural.png"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Errorf("output %s: %v", f, err)
				}
			}
		})
	}
}

// checkPlantedFound asserts what must hold for the method to have worked on a spurious-colour case: per class,
// the SVM's 10 and 20 hardest test images are mostly the minority colour (at least the base rate + 0.25), and the
// hardest caption names the minority colour (class k's minority colour is colors[1-k]).
func checkPlantedFound(t *testing.T, s *experiment.Summary, colors [2]string) {
	t.Helper()
	v := s.Surfacing.View(experiment.ViewNatural)
	if v == nil {
		t.Fatal("no natural view in the summary")
	}
	for c := range 2 {
		for _, k := range []int{10, 20} {
			r, ok := v.Row(c, k)
			if !ok {
				t.Fatalf("no top-%d row for class %d", k, c)
			}
			if r.SVM < r.BaseRate+0.25 {
				t.Errorf("class %s: SVM top-%d minority fraction %.2f, not well above the base rate %.2f", r.Name, k, r.SVM, r.BaseRate)
			}
		}
		f := v.Flagged.PerClass[c]
		t.Logf("class %s: flagged minority precision %.3f, recall %.3f; errors' minority share %.3f", s.Dataset.Classes[c],
			f.Precision, f.Recall, f.ErrorsMinorityShare)
	}
	if len(s.Captions) != 2 {
		t.Fatalf("%d classes captioned, want 2", len(s.Captions))
	}
	for _, cc := range s.Captions {
		if want := colors[1-cc.Class]; cc.Hard[0].Adjective != want {
			t.Errorf("class %s: hardest caption %q does not name the minority colour %s", cc.Name, cc.Hard[0].Text, want)
		}
	}
}

// byoCLIPSteps is the tiny CLIP's training length in the test ($FAILDIRS_TEST_CLIP_STEPS overrides it).
func byoCLIPSteps() string {
	if v := os.Getenv("FAILDIRS_TEST_CLIP_STEPS"); v != "" {
		return v
	}
	return "60"
}
