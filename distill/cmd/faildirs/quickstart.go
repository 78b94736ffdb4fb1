package main

import (
	"context"
	"flag"
	"io"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/experiment"
	"github.com/faildirs/faildirs/internal/cli"
)

// runQuickstart runs the quick-start preset (experiment.Quickstart) with its own short flags.
func runQuickstart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "results/quickstart", "folder for summary.json, the PNG figures and report.html")
	exp := fs.String("experiment", "spurious", "planted experiment: spurious (colour) or rare (subclass)")
	classes := fs.String("classes", "", "spurious: the two Fashion-MNIST classes, e.g. \"T-shirt/top,Shirt\" or \"0,6\" (default 0,6)")
	colors := fs.String("colors", "", "spurious: the two tint colours, majority of class 0 then of class 1 (default red,green)")
	var majority, testShare, rareFrac floatFlag
	fs.Var(&majority, "majority", "spurious: train share of each class's majority colour (default 0.8, i.e. 4:1)")
	fs.Var(&testShare, "test-minority-share", "the minority's share of each class's test images (default 1/3, the natural mix; 0.5 balances)")
	rare := fs.String("rare", "", "rare: the rare member of each default superclass, comma-separated class names or indices (default Sneaker,Coat,Shirt)")
	fs.Var(&rareFrac, "rare-fraction", "rare: rare subclass train count relative to a common one (default 0.1)")
	dataSeed := fs.Uint64("data-seed", 0, "seed of the planted experiment's sampling")
	arch := fs.String("model", "", "base model: mlp (default) or cnn")
	epochs := fs.Int("epochs", 0, "base-model training epochs (default 20)")
	seed := fs.Uint64("seed", 0, "base-model seed")
	var svmCs floatList
	fs.Var(&svmCs, "svm-cs", "SVM cost grid searched by cross-validation, comma-separated (default the paper's 1e-6,1e-5,...,1)")
	var compat compatFlag
	fs.Var(&compat, "compat", "SVM fitting: default, or reference (the reference code's choices: ties to the smaller C, libsvm's bias)")
	clipSteps := fs.Int("clip-steps", 0, "tiny CLIP training steps (default: package tinyclip's)")
	clipModel := fs.String("clip", "", "use this CLIP instead of the tiny one: a local HF-layout folder or a hub id (e.g. openai/clip-vit-base-patch32)")
	fashionDir := fs.String("fashion", "", "Fashion-MNIST folder (default $FAILDIRS_FASHION_MNIST or /usr/share/datasets/fashion-mnist)")
	workDir := fs.String("work", "", "cache folder of the base model, the embeddings and the tiny CLIP (default <user cache>/faildirs/experiment, the tiny CLIP in <user cache>/faildirs)")
	quiet := fs.Bool("quiet", false, "no progress bars")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if err := zeroMeansDefault(fs, "majority", "test-minority-share", "rare-fraction", "epochs", "clip-steps"); err != nil {
		return err
	}
	var c cli.Checks
	c.OneOf("experiment", *exp, "spurious", "rare")
	if m := float64(majority); cli.IsSet(fs, "majority") && !(m >= 0.5 && m < 1) {
		c.Addf("-majority %g: want a number in [0.5, 1) (at 1 the training set has no minority)", m)
	}
	if cli.IsSet(fs, "test-minority-share") {
		c.FloatAbove("test-minority-share", float64(testShare), 0, 1)
	}
	if cli.IsSet(fs, "rare-fraction") {
		c.FloatAbove("rare-fraction", float64(rareFrac), 0, 1)
	}
	if cli.IsSet(fs, "epochs") {
		c.IntIn("epochs", *epochs, 1, 1000)
	}
	if cli.IsSet(fs, "clip-steps") {
		c.IntIn("clip-steps", *clipSteps, 1, 1_000_000)
	}
	if ids, err := trainFashionIDs(*classes); *classes != "" && (err != nil || len(ids) != 2 || ids[0] == ids[1]) {
		c.Addf("-classes %q: want two different classes", *classes)
	}
	c.Add(cli.OutputDir("out", *out, nil))
	c.Add(cli.OutputDir("work", *workDir, nil))
	if err := c.Err(); err != nil {
		return err
	}
	spec := experiment.Quickstart()
	spec.Data = experiment.FashionSpurious
	if *exp == "rare" {
		spec.Data = experiment.FashionRare
	}
	spec.DataDir, spec.Work, spec.Out = *fashionDir, *workDir, *out
	spec.DataSeed, spec.Seed, spec.Epochs, spec.Model = *dataSeed, *seed, *epochs, *arch
	spec.Majority, spec.TestMinorityShare, spec.RareFraction = float64(majority), float64(testShare), float64(rareFrac)
	spec.SVMCs, spec.Compat, spec.CLIPSteps = svmCs, distill.Compat(compat), *clipSteps
	if *clipModel != "" {
		spec.Latent = *clipModel
	}
	for flagName, dst := range map[string]*[]string{"classes": &spec.Classes, "colors": &spec.Colors, "rare": &spec.Rare} {
		v := map[string]string{"classes": *classes, "colors": *colors, "rare": *rare}[flagName]
		if v == "" {
			continue
		}
		var l stringList
		_ = l.Set(v)
		*dst = l
	}
	if len(spec.Classes) > 0 && len(spec.Classes) != 2 {
		return cli.Usagef("-classes %q: want two classes", *classes)
	}
	if len(spec.Colors) > 0 && spec.Data == experiment.FashionSpurious && len(spec.Colors) != 2 {
		return cli.Usagef("-colors %q: want two colours, e.g. red,green", *colors)
	}
	return runStages(ctx, spec, *quiet, stdout, stderr, (*experiment.Pipeline).WriteOutputs, experiment.SummaryFile,
		experiment.ReportFile)
}
