package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/faildirs/faildirs/distill/intervene"
	"github.com/faildirs/faildirs/internal/cli"
)

// runIntervene runs the paper's interventions (package intervene) on a spec.
func runIntervene(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newSpecFlagSet("intervene", `usage: faildirs intervene [-spec FILE] [flags] [-methods M,...] [-budgets K,...] [-seeds S,...] -out DIR
The paper's interventions: fits the per-class SVMs on val with the base model of -seed, scores the training set and
the pool by decision value, and per method, budget and seed retrains the base model from scratch — pool selection
(svm, confidence, random: K pool images per class added) or reweighting (overweight_2, balanced, soft, and the
oracle from the true groups: oracle_overweight_2, oracle_balanced) against the unchanged base — then evaluates it
on test. Writes DIR/interventions.json (the same command writes the same bytes), timing.json, the charts, report.html
and DIR/runs/ (each run's selection or weights). Every retraining is cached under -work: a rerun resumes.`, stderr)
	quiet := fs.Bool("quiet", false, "no progress bars")
	var methods stringList
	fs.Var(&methods, "methods", "methods, comma-separated, of "+strings.Join(intervene.AllMethods, ",")+" (default "+strings.Join(intervene.DefaultMethods, ",")+")")
	var budgets intList
	fs.Var(&budgets, "budgets", "pool images added per class by the pool selections, comma-separated (default 100)")
	var seeds seedList
	fs.Var(&seeds, "seeds", "retraining seeds, comma-separated (default: -seed and the four next)")
	spec, err := parseSpec(fs, args)
	if err != nil {
		return err
	}
	opts := intervene.Options{Methods: methods, Ks: budgets, Seeds: seeds}
	if err := opts.Validate(); err != nil {
		return &cli.UsageError{Err: err}
	}
	if spec.Preds != "" {
		return cli.Usagef("-preds: interventions retrain the base model here; predictions CSVs cannot be retrained")
	}
	if spec.Weights != "" {
		return cli.Usagef("-weights: interventions set the training weights themselves")
	}
	p, err := prepare(spec, stderr, *quiet)
	if err != nil {
		return err
	}
	defer p.Close()
	opts.Out, opts.Log = spec.Out, stderr
	res, err := intervene.Run(ctx, p, opts)
	if err != nil {
		return err
	}
	if err := res.Write(spec.Out); err != nil {
		return err
	}
	if err := res.Fprint(stdout); err != nil {
		return err
	}
	for _, n := range res.Notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	fmt.Fprintf(stdout, "wrote %s and %s (%.0f s)\n", filepath.Join(spec.Out, intervene.ResultFile),
		filepath.Join(spec.Out, intervene.ReportFile), res.Timing().Total)
	return nil
}

// seedList is a comma-separated list of unsigned seeds.
type seedList []uint64

func (l *seedList) String() string {
	parts := make([]string, len(*l))
	for i, v := range *l {
		parts[i] = strconv.FormatUint(v, 10)
	}
	return strings.Join(parts, ",")
}

func (l *seedList) Set(v string) error {
	*l = nil
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a seed (an unsigned integer)", p)
		}
		*l = append(*l, n)
	}
	return nil
}
