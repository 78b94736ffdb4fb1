package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/tinyclip"
	"github.com/faildirs/faildirs/internal/cli"
)

// runTrainCLIP is "faildirs train-clip": train the tiny CLIP on tinted Fashion-MNIST with generated captions, save
// it in HF layout, and print its zero-shot quality.
func runTrainCLIP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("train-clip", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o tinyclip.Options
	out := fs.String("out", "", "folder to write the model into (default: the user cache, <cache>/faildirs/tinyclip-<fingerprint>, reused when present)")
	force := fs.Bool("force", false, "train even when the cached model exists; replace --out if it exists")
	evalImages := fs.Int("eval-images", 0, "evaluate on this many test images (0 = all 10,000)")
	jsonOut := fs.Bool("json", false, "print the training record (with the quality) as JSON on stdout instead of text")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the training to this file")
	fs.Uint64Var(&o.Seed, "seed", 0, "seed of everything random (weights, order, tints, captions)")
	fs.IntVar(&o.Steps, "steps", tinyclip.DefaultSteps, "optimizer steps")
	fs.IntVar(&o.BatchSize, "batch", 128, "image-caption pairs per step")
	fs.Float64Var(&o.LearningRate, "lr", 2e-3, "peak Adam learning rate (linear warm-up, cosine decay)")
	fs.IntVar(&o.WarmupSteps, "warmup", 0, "warm-up steps (0 = min(100, steps/10))")
	fs.IntVar(&o.ImageSize, "image-size", 28, "model input side in pixels")
	fs.IntVar(&o.Patch, "patch", 7, "ViT patch side")
	fs.IntVar(&o.Width, "width", 64, "transformer width of both towers")
	fs.IntVar(&o.Layers, "layers", 2, "transformer layers per tower")
	fs.IntVar(&o.Embed, "embed", 64, "joint embedding size")
	fs.Float64Var(&o.Untinted, "untinted", 0.1, "fraction of images left gray (negative: none)")
	fs.IntVar(&o.TrainImages, "train-images", 0, "train on a seeded subset of this many images (0 = all 60,000)")
	fs.StringVar(&o.FashionDir, "fashion-dir", "", "Fashion-MNIST folder (default $"+data.EnvFashionDir+" or "+data.DefaultFashionDir+")")
	fs.StringVar(&o.CacheDir, "cache-dir", "", "cache root (default os.UserCacheDir()/faildirs)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	var c cli.Checks
	c.IntIn("steps", o.Steps, 1, 1_000_000)
	c.IntIn("batch", o.BatchSize, 2, 4096)
	c.FloatAbove("lr", o.LearningRate, 0, 10)
	c.IntIn("image-size", o.ImageSize, 1, 224)
	c.IntIn("patch", o.Patch, 1, 224)
	c.IntIn("width", o.Width, 8, 1024)
	c.IntIn("layers", o.Layers, 1, 24)
	c.IntIn("embed", o.Embed, 2, 1024)
	c.IntIn("train-images", o.TrainImages, 0, 60000)
	c.IntIn("eval-images", *evalImages, 0, 10000)
	c.FloatIn("untinted", o.Untinted, math.Inf(-1), 1) // negative means none; NaN is refused
	if err := c.Err(); err != nil {
		return err
	}
	if err := o.Recipe().Validate(); err != nil {
		return &cli.UsageError{Err: err}
	}
	if *out != "" {
		if err := cli.OutputDir("out", *out, nil); err != nil {
			return err
		}
	}
	b, info, err := backend.New(backend.Options{})
	if err != nil {
		return err
	}
	text := stdout
	if *jsonOut {
		text = stderr
	}
	o.Log = text
	dir := *out
	cached := false
	if dir == "" {
		if dir, err = tinyclip.Dir(o); err != nil {
			return err
		}
		cached = tinyclip.Complete(dir) && !*force
	} else if _, err := os.Stat(dir); err == nil && !*force {
		return fmt.Errorf("%s exists (use --force to replace it)", dir)
	}
	f, err := data.LoadFashion(o.FashionDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(text, "backend: %s\n", info)
	fmt.Fprintf(text, "load average before: %s\n", loadAverageNow())
	var m *clip.Model
	var rec *tinyclip.Record
	if cached {
		fmt.Fprintf(text, "using the cached model in %s (--force retrains)\n", dir)
		if m, err = clip.LoadDir(b, dir); err != nil {
			return err
		}
		if rec, err = tinyclip.LoadRecord(dir); err != nil {
			return err
		}
	} else {
		r := o.Recipe()
		fmt.Fprintf(text, "training tiny CLIP %s: %d steps of %d pairs, patch %d, width %d, layers %d, embed %d, seed %d\n",
			r.Fingerprint(), r.Steps, r.BatchSize, r.Patch, r.Width, r.Layers, r.Embed, r.Seed)
		stopProfile, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		m, rec, err = tinyclip.Train(ctx, b, f, o)
		if perr := stopProfile(); perr != nil && err == nil {
			err = perr
		}
		if err != nil {
			return err
		}
		rec.Backend = info
		fmt.Fprintf(text, "trained in %.1f s (%.2f steps/s, %d parameters, logit scale %.1f); load average after: %s\n",
			rec.Seconds, rec.StepsPerSecond, rec.Parameters, rec.LogitScale, loadAverageNow())
	}
	defer m.Finalize()
	q, err := tinyclip.Evaluate(ctx, m, f, tinyclip.EvalOptions{Seed: o.Seed, Images: *evalImages, Untinted: o.Untinted})
	if err != nil {
		return err
	}
	if !cached {
		rec.Quality = q
		if err := tinyclip.Save(m, rec, dir, *force); err != nil {
			return err
		}
	}
	if *jsonOut {
		rec.Quality = q
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Dir string `json:"dir"`
			*tinyclip.Record
		}{dir, rec})
	}
	fmt.Fprintf(stdout, "%s (%.1f s)\n", q, q.Seconds)
	for i, name := range q.Items {
		fmt.Fprintf(stdout, "  item %-12s %.3f\n", name, q.ItemPerClass[i])
	}
	for i, name := range q.Colours {
		fmt.Fprintf(stdout, "  colour %-10s %.3f\n", name, q.ColourPerColour[i])
	}
	fmt.Fprintf(stdout, "model: %s\n", dir)
	return nil
}

// loadAverageNow is the load average (see readLoadAvg) with the time it was read, or "unknown".
func loadAverageNow() string {
	l := readLoadAvg()
	if l == "" {
		return "unknown"
	}
	return l + " at " + time.Now().Format("15:04:05")
}
