package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/experiment"
	"github.com/faildirs/faildirs/internal/cli"
)

// newSpecFlagSet returns the flag set of an analysis command, printing usage and then the flags.
func newSpecFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	return fs
}

// prepare validates the spec and the output folder before any work and returns the pipeline.
func prepare(spec experiment.Spec, stderr io.Writer, quiet bool) (*experiment.Pipeline, error) {
	if err := spec.Validate(); err != nil {
		return nil, cli.Usagef("spec: %w", err)
	}
	if spec.Out == "" {
		return nil, cli.Usagef("-out: no output folder given")
	}
	if err := experiment.CheckOut(spec.Out); err != nil {
		return nil, &cli.UsageError{Err: err}
	}
	opts := experiment.Options{Log: stderr}
	if quiet {
		opts.Progress = io.Discard
	}
	p, err := experiment.New(nil, spec, opts)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "backend: %s\n", p.BackendInfo)
	return p, nil
}

func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSpecFlagSet("analyze", `usage: faildirs analyze [-spec FILE] [flags] -out DIR
Runs the whole analysis — data, base model (trained here or -preds CSVs), embeddings, per-class SVMs, captions,
caption check — and writes DIR/summary.json, spec.json, model.json, decisions.csv, captions.json, PNG figures and
report.html. Every expensive stage is cached under -work; Ctrl-C leaves the caches consistent and a rerun continues.`, stderr)
	quiet := fs.Bool("quiet", false, "no progress bars")
	spec, err := parseSpec(fs, args)
	if err != nil {
		return err
	}
	return runStages(ctx, spec, *quiet, stdout, stderr, (*experiment.Pipeline).WriteOutputs, experiment.SummaryFile,
		experiment.ReportFile)
}

// runStages prepares the pipeline of spec, runs write on it into spec.Out, prints the summary and the files named
// by wrote, and reports degenerate data (exit code 3).
func runStages(ctx context.Context, spec experiment.Spec, quiet bool, stdout, stderr io.Writer,
	write func(*experiment.Pipeline, context.Context, string) (*experiment.Summary, error), wrote ...string) error {
	p, err := prepare(spec, stderr, quiet)
	if err != nil {
		return err
	}
	defer p.Close()
	s, err := write(p, ctx, spec.Out)
	if err != nil {
		return err
	}
	printSummary(stdout, s)
	paths := make([]string, len(wrote))
	for i, w := range wrote {
		paths[i] = filepath.Join(spec.Out, w)
	}
	fmt.Fprintf(stdout, "wrote %s and the figures\n", strings.Join(paths, ", "))
	return degenerate(s, stderr)
}

// degenerate prints the fit's warnings and, when no class has a failure direction, returns cli.ErrDegenerate (exit
// code 3: the outputs are written and say so in their status).
func degenerate(s *experiment.Summary, stderr io.Writer) error {
	for _, w := range s.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if s.Status == distill.WarnNoFailureSignal {
		return fmt.Errorf("%w: no class has a failure direction (summary status %q)", cli.ErrDegenerate, s.Status)
	}
	return nil
}

func runFit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSpecFlagSet("fit", `usage: faildirs fit [-spec FILE] [flags] -out DIR
The fit stage of faildirs analyze: embeddings (computed, cached, or -embeddings files from faildirs embed) and the
base model's predictions (-preds CSVs, or a model trained here) → DIR/model.json, decisions.csv, summary.json and
spec.json. Continue with faildirs caption -dir DIR and faildirs report -dir DIR.`, stderr)
	quiet := fs.Bool("quiet", false, "no progress bars")
	spec, err := parseSpec(fs, args)
	if err != nil {
		return err
	}
	return runStages(ctx, spec, *quiet, stdout, stderr, (*experiment.Pipeline).WriteFit, experiment.ModelFile,
		experiment.DecisionsFile)
}

// dirSpec parses -dir DIR plus spec flags that override DIR/spec.json.
func dirSpec(fs *flag.FlagSet, args []string) (string, experiment.Spec, error) {
	var scratch experiment.Spec
	specFlags(fs, &scratch)
	dir := fs.String("dir", "", "the analysis folder written by faildirs fit (or analyze)")
	if err := cli.Parse(fs, args); err != nil {
		return "", experiment.Spec{}, err
	}
	if err := zeroMeansDefault(fs, specZeroDefaults...); err != nil {
		return "", experiment.Spec{}, err
	}
	if *dir == "" {
		return "", experiment.Spec{}, cli.Usagef("-dir: no analysis folder given")
	}
	spec, err := experiment.LoadSpecFile(*dir)
	if err != nil {
		return "", experiment.Spec{}, &cli.UsageError{Err: err}
	}
	if err := applySetFlags(fs, &spec); err != nil {
		return "", experiment.Spec{}, &cli.UsageError{Err: err}
	}
	spec.Out = *dir
	return *dir, spec, nil
}

func runCaption(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSpecFlagSet("caption", `usage: faildirs caption -dir DIR [-latent CLIP] [-vocab VOCAB] [flags]
The caption stage: the fitted model DIR/model.json, the CLIP and the vocabulary → DIR/captions.json (every class's
captions scored, hardest first, and the caption check) and the captions in DIR/summary.json. Settings come from
DIR/spec.json; flags override them.`, stderr)
	quiet := fs.Bool("quiet", false, "no progress bars")
	dir, spec, err := dirSpec(fs, args)
	if err != nil {
		return err
	}
	m, err := distill.Load(filepath.Join(dir, experiment.ModelFile))
	if err != nil {
		return err
	}
	p, err := prepare(spec, stderr, *quiet)
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.UseModel(ctx, m); err != nil {
		return err
	}
	s, err := p.WriteCaptions(ctx, dir)
	if err != nil {
		return err
	}
	printCaptions(stdout, s)
	fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(dir, experiment.CaptionsFile))
	return nil
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSpecFlagSet("report", `usage: faildirs report -dir DIR
The report stage: DIR/summary.json, decisions.csv and captions.json (and the test images, for the galleries) →
the PNG figures and DIR/report.html, one self-contained page.`, stderr)
	dir, spec, err := dirSpec(fs, args)
	if err != nil {
		return err
	}
	r, err := experiment.ReadReport(dir)
	if err != nil {
		return err
	}
	p, err := prepare(spec, stderr, true)
	if err != nil {
		return err
	}
	defer p.Close()
	if r.Image, err = p.TestImages(ctx); err != nil {
		return fmt.Errorf("reading the test images for the galleries: %w", err)
	}
	if err := r.Write(dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(dir, experiment.ReportFile))
	return nil
}

// printSummary prints the headline figures of an analysis.
func printSummary(w io.Writer, s *experiment.Summary) {
	bm := s.BaseModel
	fmt.Fprintf(w, "base model (%s): test accuracy %.3f", bm.Source, bm.Accuracy["test"])
	if bm.WorstGroup != "" {
		fmt.Fprintf(w, "; worst group %q %.3f, best group %.3f", bm.WorstGroup, bm.WorstGroupAccuracy, bm.BestGroupAccuracy)
	}
	fmt.Fprintln(w)
	for _, c := range s.SVM {
		fmt.Fprintf(w, "svm %-14s %-10s C=%-7g cv bal.acc %.3f  test bal.acc %.3f\n", c.Name, c.Status, c.C,
			c.CVBalancedAccuracy, c.TestBalancedAcc)
	}
	if sf := s.Surfacing; sf != nil {
		for _, v := range sf.Views {
			for _, f := range append(v.Flagged.PerClass, v.Flagged.Overall) {
				name := "all classes"
				if f.Class >= 0 {
					name = s.Dataset.Classes[f.Class]
				}
				fmt.Fprintf(w, "%-9s %-14s flagged minority precision %.3f recall %.3f; errors' minority share %.3f\n",
					v.Name, name, f.Precision, f.Recall, f.ErrorsMinorityShare)
			}
			for _, r := range v.Table {
				fmt.Fprintf(w, "%-9s %-14s top-%-4d minority: svm %.2f  confidence %.2f  base rate %.2f\n", v.Name, r.Name,
					r.K, r.SVM, r.Confidence, r.BaseRate)
			}
		}
	}
	printCaptions(w, s)
	for _, n := range s.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func printCaptions(w io.Writer, s *experiment.Summary) {
	for _, c := range s.Captions {
		if len(c.Hard) > 0 && len(c.Easy) > 0 {
			fmt.Fprintf(w, "captions %-14s hard: %q (%.3f)  easy: %q (%.3f)\n", c.Name, c.Hard[0].Text, c.Hard[0].Score,
				c.Easy[0].Text, c.Easy[0].Score)
		}
	}
	for _, c := range s.CaptionCheck {
		fmt.Fprintf(w, "caption check %-14s K=%d: hard %.3f  easy %.3f  class %.3f\n", c.Name, c.K, c.HardAccuracy,
			c.EasyAccuracy, c.ClassAccuracy)
	}
}
