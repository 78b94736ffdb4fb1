package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/models"
	"github.com/faildirs/faildirs/distill/quickstart"
	"github.com/faildirs/faildirs/distill/tinyclip"
	"github.com/faildirs/faildirs/internal/cli"
)

func runQuickstart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "results/quickstart", "folder for the PNG figures and summary.json")
	experiment := fs.String("experiment", "spurious", "planted experiment: spurious (colour) or rare (subclass)")
	classes := fs.String("classes", "", "spurious: the two Fashion-MNIST classes, e.g. \"T-shirt/top,Shirt\" or \"0,6\" (default 0,6)")
	colors := fs.String("colors", "", "spurious: the two tint colours, majority of class 0 then of class 1 (default red,green)")
	majority := fs.Float64("majority", 0.8, "spurious: train share of each class's majority colour, 0.5 to 1 (0.8 is 4:1)")
	rare := fs.String("rare", "", "rare: the rare member of each default superclass, comma-separated class names or indices (default Sneaker,Coat,Shirt)")
	rareFrac := fs.Float64("rare-fraction", 0.1, "rare: rare subclass train count relative to a common one, above 0 and at most 1")
	dataSeed := fs.Uint64("data-seed", 0, "seed of the planted experiment's sampling")
	arch := fs.String("model", "mlp", "base model: mlp or cnn")
	epochs := fs.Int("epochs", 20, "base-model training epochs, 1 to 1000")
	seed := fs.Uint64("seed", 0, "base-model seed")
	svmCs := fs.String("svm-cs", "", "SVM cost grid searched by cross-validation, comma-separated (default the paper's 1e-6,1e-5,...,1)")
	clipSteps := fs.Int("clip-steps", tinyclip.DefaultSteps, "tiny CLIP training steps, 1 to 1000000")
	clipModel := fs.String("clip", "", "use this CLIP instead of the tiny one: a local HF-layout folder or a hub id (e.g. openai/clip-vit-base-patch32)")
	fashionDir := fs.String("fashion", "", "Fashion-MNIST folder (default $FAILDIRS_FASHION_MNIST or /usr/share/datasets/fashion-mnist)")
	workDir := fs.String("work", "", "cache folder for the base model and embeddings (default <user cache>/faildirs/quickstart)")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	var c cli.Checks
	c.OneOf("experiment", *experiment, string(quickstart.Spurious), string(quickstart.Rare))
	c.OneOf("model", *arch, string(models.MLP), string(models.CNN))
	c.FloatIn("majority", *majority, 0.5, 1)
	c.FloatAbove("rare-fraction", *rareFrac, 0, 1)
	c.IntIn("epochs", *epochs, 1, 1000)
	c.IntIn("clip-steps", *clipSteps, 1, 1_000_000)
	c.Add(cli.OutputDir("out", *out, nil))
	c.Add(cli.OutputDir("work", *workDir, nil))
	cfg := quickstart.Config{Experiment: quickstart.Experiment(*experiment), Epochs: *epochs, Seed: *seed,
		CLIPModel: *clipModel, FashionDir: *fashionDir, WorkDir: *workDir, BaseModel: models.Config{Arch: models.Arch(*arch)}}
	if cli.IsSet(fs, "clip-steps") { // unset stays 0, tinyclip's default, as a notebook's Config has it (same caches)
		cfg.CLIPSteps = *clipSteps
	}
	if *svmCs != "" {
		cs, err := parseCosts(*svmCs)
		if err != nil {
			c.Addf("-svm-cs: %w", err)
		}
		cfg.SVMCs = cs
	}
	switch cfg.Experiment {
	case quickstart.Spurious:
		cfg.Spurious = data.SpuriousConfig{MajorityFraction: *majority, Seed: *dataSeed}
		if *classes != "" {
			ids, err := classList(*classes)
			switch {
			case err != nil:
				c.Addf("-classes %q: %w", *classes, err)
			case len(ids) != 2 || ids[0] == ids[1]:
				c.Addf("-classes %q: want two different classes", *classes)
			default:
				cfg.Spurious.Classes = [2]int{ids[0], ids[1]}
			}
		}
		if *colors != "" {
			parts := strings.Split(*colors, ",")
			if len(parts) != 2 {
				c.Addf("-colors %q: want two colours, e.g. red,green", *colors)
			} else {
				cfg.Spurious.Colors = [2]string{strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])}
			}
		}
	case quickstart.Rare:
		cfg.Rare = data.RareConfig{RareFraction: *rareFrac, Seed: *dataSeed}
		if *rare != "" {
			ids, err := classList(*rare)
			if err != nil {
				c.Addf("-rare %q: %w", *rare, err)
			}
			cfg.Rare.Superclasses = data.DefaultRareSuperclasses
			cfg.Rare.Rare = ids
		}
	}
	if err := c.Err(); err != nil {
		return err
	}
	p, err := quickstart.New(cfg)
	if err != nil {
		return err
	}
	defer p.Close()
	p.Log = stderr
	fmt.Fprintf(stderr, "backend: %s\n", p.BackendInfo)
	s, err := p.SaveOutputs(ctx, *out)
	if err != nil {
		return err
	}
	printSummary(stdout, s)
	fmt.Fprintf(stdout, "wrote %s/summary.json and the figures\n", *out)
	return nil
}

// classList parses comma-separated Fashion-MNIST class names or indices.
func classList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		c, err := data.FashionClassIndex(strings.TrimSpace(part))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// parseCosts parses a comma-separated list of positive, finite SVM costs ("1e-3,0.01,1").
func parseCosts(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		c, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || !(c > 0) || math.IsInf(c, 0) {
			return nil, fmt.Errorf("%q in %q is not a positive, finite number", part, s)
		}
		out = append(out, c)
	}
	return out, nil
}

// printSummary prints the headline figures of a quick-start run.
func printSummary(w io.Writer, s *quickstart.Summary) {
	fmt.Fprintf(w, "base model (%s): test accuracy %.3f; worst group %q %.3f, best group %.3f\n", s.BaseModel.Arch,
		s.BaseModel.TestAccuracy, s.BaseModel.WorstGroup, s.BaseModel.WorstGroupAcc, s.BaseModel.BestGroupAccuracy)
	for _, c := range s.SVM {
		fmt.Fprintf(w, "svm %-12s %-10s C=%-7g cv bal.acc %.3f  test bal.acc %.3f\n", c.Name, c.Status, c.C,
			c.CVBalancedAccuracy, c.TestBalancedAcc)
	}
	for name, pts := range s.TopK.PerClass {
		for _, pt := range pts {
			fmt.Fprintf(w, "top-%-3d %-12s minority: svm %.2f  confidence %.2f  base rate %.2f\n", pt.K, name, pt.SVM,
				pt.Conf, pt.BaseRate)
		}
	}
	for name, pts := range s.TopKTrainMix.PerClass {
		for _, pt := range pts {
			fmt.Fprintf(w, "top-%-3d %-12s minority, test at the training mix: svm %.2f  confidence %.2f  base rate %.2f\n",
				pt.K, name, pt.SVM, pt.Conf, pt.BaseRate)
		}
	}
	for _, c := range s.Captions {
		if len(c.Hard) > 0 && len(c.Easy) > 0 {
			fmt.Fprintf(w, "captions %-12s hard: %q (%.3f)  easy: %q (%.3f)\n", c.Name, c.Hard[0].Text, c.Hard[0].Score,
				c.Easy[0].Text, c.Easy[0].Score)
		}
	}
	for _, c := range s.CaptionCheck {
		fmt.Fprintf(w, "caption check %-12s K=%d: hard %.3f  easy %.3f  class %.3f\n", c.Name, c.K, c.HardAccuracy,
			c.EasyAccuracy, c.ClassAccuracy)
	}
}
