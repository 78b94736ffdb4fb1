package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/benchmark"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/experiment"

	"github.com/faildirs/faildirs/internal/cli"
)

// runBenchmark runs the planted-slice benchmark (package benchmark).
func runBenchmark(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchmark", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: faildirs benchmark -seed S [flags] -out DIR
Generates N planted settings on Fashion-MNIST from the seed (spurious colours and rare subclasses, one or two
slices per class), trains an MLP base model per setting, runs every slice finder on the same tiny-CLIP embeddings,
labels, predictions and confidences, and writes DIR/benchmark.json (the same command writes the same bytes),
timing.json, benchmark.png, benchmark_settings.png and report.html. Embeddings are cached under -work.`)
		fs.PrintDefaults()
	}
	var opts benchmark.Options
	out := fs.String("out", "", "output folder (required)")
	fs.IntVar(&opts.Settings, "settings", 40, "number of planted settings")
	fs.Uint64Var(&opts.Seed, "seed", 0, "seed every setting is drawn from")
	fs.IntVar(&opts.Epochs, "epochs", 10, "base-model (MLP) training epochs")
	var ks intList
	fs.Var(&ks, "ks", "K of the precision-at-K columns, comma-separated (default 10,25,50)")
	var methods stringList
	fs.Var(&methods, "methods", "slice finders, comma-separated (default "+strings.Join(benchmark.DefaultMethods, ",")+")")
	fs.IntVar(&opts.Sizes.TrainPerClass, "train-per-class", 0, "train images of a spurious class (default 1000)")
	fs.IntVar(&opts.Sizes.TrainPerSubclass, "train-per-subclass", 0, "train images of a common member of a superclass (default 500)")
	fs.IntVar(&opts.Sizes.ValPerGroup, "val-per-group", 0, "validation images per group (default 250)")
	fs.IntVar(&opts.Sizes.TestPerClass, "test-per-class", 0, "test images per class (default 900, at most 1000)")
	clipModel := fs.String("clip", "", "latent space: a CLIP folder in the HF layout or a hub id (default: the tiny CLIP, trained once and cached)")
	fs.StringVar(&opts.FashionDir, "fashion", "", "Fashion-MNIST folder (default $FAILDIRS_FASHION_MNIST or /usr/share/datasets/fashion-mnist)")
	fs.StringVar(&opts.Work, "work", "", "cache folder of the embedding table (default <user cache>/faildirs/benchmark)")
	quiet := fs.Bool("quiet", false, "no progress bars")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	opts.Ks, opts.Methods = ks, methods
	var c cli.Checks
	if *out == "" {
		c.Addf("-out: no output folder given")
	}
	c.IntIn("settings", opts.Settings, 1, 10_000)
	c.IntIn("epochs", opts.Epochs, 1, 1000)
	if err := zeroMeansDefault(fs, "train-per-class", "train-per-subclass", "val-per-group", "test-per-class"); err != nil {
		c.Add(err)
	}
	if err := opts.Validate(); err != nil {
		c.Add(err)
	}
	if *out != "" {
		if err := experiment.CheckOut(*out); err != nil {
			c.Add(err)
		}
	}
	c.Add(cli.OutputDir("work", opts.Work, nil))
	if err := c.Err(); err != nil {
		return err
	}
	opts.Log = stderr
	if *quiet {
		opts.Progress = io.Discard
	}
	b, info, err := backend.New(backend.Options{})
	if err != nil {
		return err
	}
	defer b.Finalize()
	fmt.Fprintf(stderr, "backend: %s\n", info)
	if *clipModel != "" {
		m, err := clip.Load(ctx, b, *clipModel, clip.LoadOptions{Log: stderr})
		if err != nil {
			return err
		}
		defer m.Finalize()
		opts.CLIP = m
	}
	res, err := benchmark.Run(ctx, b, opts)
	if err != nil {
		return err
	}
	if err := res.Write(*out); err != nil {
		return err
	}
	printBenchmark(stdout, res)
	fmt.Fprintf(stdout, "wrote %s and %s (%.0f s; embeddings %.0f s, %d computed)\n", filepath.Join(*out, benchmark.ResultFile),
		filepath.Join(*out, benchmark.ReportFile), res.Timing.Total, res.Timing.Embeddings, res.Timing.Computed)
	return nil
}

// printBenchmark prints the summary table: means and wins per method over all settings.
func printBenchmark(w io.Writer, r *benchmark.Result) {
	s := r.Summary
	for _, t := range []struct {
		name string
		t    benchmark.Table
	}{{"all settings", s.All}, {"settings whose planted slices fail", s.Failing}} {
		fmt.Fprintf(w, "%s (%d; caption chance level %.3f):\n%-13s", t.name, t.t.Settings, t.t.CaptionChance, "method")
		for _, k := range s.Ks {
			fmt.Fprintf(w, " %7s", fmt.Sprintf("P@%d", k))
		}
		fmt.Fprintf(w, " %7s %7s %7s %7s %7s  wins (P@K, area, F1, caption)\n", "area", "fl.prec", "fl.rec", "fl.F1", "caption")
		for _, row := range t.t.Rows {
			fmt.Fprintf(w, "%-13s", row.Method)
			for _, v := range row.Mean.PrecisionAtK {
				fmt.Fprintf(w, " %7.3f", v)
			}
			m := row.Mean
			fmt.Fprintf(w, " %7.3f %7.3f %7.3f %7.3f %7.3f  %v %d %d %d\n", m.CurveArea, m.FlaggedPrecision, m.FlaggedRecall, m.FlaggedF1,
				m.CaptionNames, row.Wins.PrecisionAtK, row.Wins.CurveArea, row.Wins.FlaggedF1, row.Wins.CaptionNames)
		}
	}
	for _, sc := range s.Second {
		fmt.Fprintf(w, "%s: %d classes plant two slices; %d have a second direction; it finds the second slice in %d (its caption names it in %d)\n",
			sc.Method, sc.Classes, sc.WithSecond, sc.Found, sc.CaptionNames)
	}
}
