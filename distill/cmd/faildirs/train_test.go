package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/models"
)

func TestTrainFashionSpurious(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := runTrain(context.Background(), []string{"-dataset", "fashion-spurious", "-classes", "Pullover,Coat", "-colors", "blue,yellow",
		"-train-per-class", "200", "-val-per-group", "10", "-test-per-class", "40", "-test-minority-share", "0.5", "-pool-per-class", "-1", "-epochs", "2", "-features", "-out", out},
		&stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, want := range []string{"train 400, val 40, test 80", "epoch 2/2", "minority Pullover, yellow (minority)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	var sum trainSummary
	js, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Splits) != 3 || sum.Model.Arch != models.MLP || len(sum.Epochs) != 2 || len(sum.Groups) != 4 {
		t.Fatalf("summary %+v", sum)
	}
	test := sum.Splits[2]
	p, err := data.LoadPredictions(filepath.Join(out, "pred-test.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 80 || p.Groups == nil || p.Accuracy() != test.Accuracy {
		t.Errorf("pred-test.csv: %d rows, accuracy %v vs summary %v", p.Len(), p.Accuracy(), test.Accuracy)
	}
	if len(test.Minority) != 2 || test.GroupCount[1] != 20 {
		t.Errorf("test summary %+v", test)
	}
	feat, err := os.Stat(filepath.Join(out, "features-val.f32"))
	if err != nil || feat.Size() != 40*256*4 {
		t.Errorf("features-val.f32: %v %v", feat, err)
	}
	m, err := models.Load(trainTestBackend(t), filepath.Join(out, "model.safetensors"))
	if err != nil || m.Config.Classes[1] != "Coat" {
		t.Fatalf("checkpoint: %v", err)
	}
}

func trainTestBackend(t *testing.T) compute.Backend {
	t.Helper()
	b, _, err := backend.Go()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	return b
}

// TestTrainFolderWithWeights trains on an image folder whose class is the image colour, with a weights file
// that zeroes half the training examples.
func TestTrainFolderWithWeights(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	root := t.TempDir()
	for k, c := range []color.RGBA{{220, 30, 30, 255}, {30, 30, 220, 255}} {
		dir := filepath.Join(root, []string{"red", "blue"}[k])
		os.MkdirAll(dir, 0o755)
		for i := range 20 {
			img := image.NewRGBA(image.Rect(0, 0, 9, 7))
			for j := 0; j < len(img.Pix); j += 4 {
				img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = c.R, c.G+uint8(i), c.B, 255
			}
			f, _ := os.Create(filepath.Join(dir, fmt.Sprintf("%02d.png", i)))
			png.Encode(f, img)
			f.Close()
		}
	}
	weights := filepath.Join(t.TempDir(), "w.csv")
	var w strings.Builder
	w.WriteString("id,weight\n")
	for i := range 20 {
		fmt.Fprintf(&w, "red/%02d.png,%d\nblue/%02d.png,1\n", i, i%2, i)
	}
	os.WriteFile(weights, []byte(w.String()), 0o644)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := runTrain(context.Background(), []string{"-dataset", "folder", "-data", root, "-model", "cnn", "-width", "4", "-size", "8",
		"-epochs", "6", "-batch", "8", "-weights", weights, "-out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	p, err := data.LoadPredictions(filepath.Join(out, "pred-test.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Len() != 8 || p.Accuracy() < 0.99 {
		t.Errorf("folder test predictions: %d rows, accuracy %v\n%s", p.Len(), p.Accuracy(), stdout.String())
	}
	// Bad flags and inputs fail with clear errors.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-dataset", "mnist"}, `-dataset "mnist"`},
		{[]string{"-dataset", "fashion-spurious", "-classes", "Shirt"}, "want two classes"},
		{[]string{"-dataset", "fashion-spurious", "-classes", "Shirt,Hat"}, "unknown Fashion-MNIST class"},
		{[]string{"-dataset", "fashion-rare", "-rare", "1,2"}, "rare"},
		{[]string{"-dataset", "folder", "-data", root, "-weights", filepath.Join(root, "none.csv")}, "-weights"},
		{[]string{"-dataset", "celeba-age", "-data", t.TempDir()}, "img_align_celeba"},
		{[]string{"-dataset", "fashion", "-data", t.TempDir()}, "md5sum"},
	} {
		err := runTrain(context.Background(), append(c.args, "-out", t.TempDir()), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.args, err, c.want)
		}
	}
}

// TestTrainCelebAResNet runs celeba-age end to end on a generated CelebA fixture with a narrow ResNet-18.
func TestTrainCelebAResNet(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "img_align_celeba"), 0o755)
	var attr, part strings.Builder
	n := 0
	for p, counts := range [][4]int{{8, 2, 8, 2}, {2, 2, 2, 2}, {2, 2, 2, 2}} {
		for g, c := range counts {
			for range c {
				n++
				name := fmt.Sprintf("%06d.jpg", n)
				young, male := g >= 2, g == 0 || g == 3
				sign := func(b bool) string {
					if b {
						return "1"
					}
					return "-1"
				}
				fmt.Fprintf(&attr, "%s %s %s\n", name, sign(male), sign(young))
				fmt.Fprintf(&part, "%s %d\n", name, p)
				img := image.NewRGBA(image.Rect(0, 0, 20, 24))
				for j := range img.Pix {
					img.Pix[j] = uint8(50 + 150*g%3 + j%7)
				}
				f, _ := os.Create(filepath.Join(root, "img_align_celeba", name))
				png.Encode(f, img) // PNG bytes in a .jpg file: the decoder sniffs the format
				f.Close()
			}
		}
	}
	os.WriteFile(filepath.Join(root, "list_attr_celeba.txt"), []byte(fmt.Sprintf("%d\nMale Young\n%s", n, attr.String())), 0o644)
	os.WriteFile(filepath.Join(root, "list_eval_partition.txt"), []byte(part.String()), 0o644)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := runTrain(context.Background(), []string{"-dataset", "celeba-age", "-data", root, "-width", "4", "-size", "32", "-epochs", "2",
		"-batch", "10", "-flip", "-out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	for _, want := range []string{"train 20, val 8, test 8", `"arch":"resnet18"`, `"stem":"small"`, "minority old, female (minority)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
		}
	}
	p, err := data.LoadPredictions(filepath.Join(out, "pred-val.csv"))
	if err != nil || p.Len() != 8 || p.Groups == nil || !strings.HasSuffix(p.IDs[0], ".jpg") {
		t.Fatalf("pred-val.csv: %+v %v", p, err)
	}
}
