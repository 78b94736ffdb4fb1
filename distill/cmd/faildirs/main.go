// Command faildirs runs the failure-direction method ("Distilling Model Failures as Directions in Latent Space",
// Jain et al., ICLR 2023) from the command line. Each subcommand is a thin layer over the library packages.
//
// Usage:
//
//	faildirs <command> [flags]
//
// Run "faildirs help" for the list of commands and "faildirs <command> -h" for a command's flags.
//
// Every command checks its flags before any work (a stray positional argument, a value out of range, NaN, an
// output path it cannot write or that holds an unrelated file are all errors), reads files with bounded decoders
// (a file cannot make it allocate more than its own size, or, for images, the -max-pixels budget), and stops at
// SIGINT or SIGTERM after saving what can be resumed (a second signal stops it at once).
//
// Exit codes:
//
//	0    the command did its work
//	1    it failed (bad input file, failed computation, unwritable output)
//	2    bad flags or arguments, found before any work
//	3    it finished and wrote its outputs, but the data carried no failure signal to fit (the outputs say so)
//	130  stopped by SIGINT (Ctrl-C); 143 by SIGTERM
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/faildirs/faildirs/internal/cli"
)

// command is one subcommand: its one-line summary and the function that runs it with its arguments.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists the subcommands. Each lives in its own file, named after it.
func commands() map[string]command {
	return map[string]command{
		"analyze":    {"run a whole analysis from flags or a JSON spec (any data source, a model trained here or its predictions CSVs, any CLIP): summary.json, model, decisions.csv, captions.json, figures, report.html", runAnalyze},
		"caption":    {"the caption stage over an analysis folder: fitted model + CLIP + vocabulary -> captions.json", runCaption},
		"intervene":  {"the paper's interventions: pool selection and reweighting by decision value, retrained over seeds and compared with random, confidence and the oracle; interventions.json, charts, report.html", runIntervene},
		"fit":        {"the fit stage: embeddings + predictions -> model.json, decisions.csv, summary.json in an analysis folder", runFit},
		"report":     {"the report stage over an analysis folder: PNG figures and a self-contained report.html", runReport},
		"benchmark":  {"the planted-slice benchmark: N settings from one seed, every slice finder on the same inputs; benchmark.json, charts, report.html", runBenchmark},
		"bench-clip": {"time CLIP's image and text towers (images/s, texts/s, GFLOP/s); random ViT-B/32 weights unless -model is given", runBenchClip},
		"bench":      {"the speed figures of this build in one table, each against its reference measured in the same run (-ref: the reference scripts' folder)", runBench},
		"bench-svm":  {"fit the failure SVMs on a benchmark folder (train/val/test .npy) and report fit time and test quality", runBenchSVM},
		"embed":      {"embed images (files or folders) with CLIP into a resumable cache file; Ctrl-C saves, a rerun continues", runEmbed},
		"env":        {"print the compute backend, whether SIMD kernels are compiled in, and matmul GFLOP/s", runEnv},
		"quickstart": {"the quick start: the whole method offline on a planted Fashion-MNIST experiment (a preset of analyze)", runQuickstart},
		"train":      {"train a base classifier (mlp, cnn, resnet18) on a dataset; write its checkpoint and predictions CSV per split", runTrain},
		"train-clip": {"train the tiny offline CLIP on tinted Fashion-MNIST with generated captions; save it in HF layout and print its zero-shot quality", runTrainCLIP},
	}
}

func main() {
	ctx, stop := cli.SignalContext(context.Background(), os.Stderr)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand and returns the process exit code (see the package doc).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return cli.ExitUsage
		}
		return cli.ExitOK
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "faildirs: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return cli.ExitUsage
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK // -h: the flag package printed the usage
	}
	code := cli.ExitCode(ctx, err)
	switch {
	case code == cli.ExitUsage:
		fmt.Fprintf(stderr, "faildirs %s: %v\n(run \"faildirs %s -h\" for its flags)\n", args[0], err, args[0])
	case code == cli.ExitDegenerate:
		fmt.Fprintf(stderr, "faildirs %s: %v (exit code %d)\n", args[0], err, code)
	case err != nil && code > 128:
		fmt.Fprintf(stderr, "faildirs %s: %v: %v\n", args[0], context.Cause(ctx), err)
	case err != nil:
		fmt.Fprintf(stderr, "faildirs %s: %v\n", args[0], err)
	}
	return code
}

func usage(w io.Writer, cmds map[string]command) {
	defer fmt.Fprintln(w, "\nexit codes: 0 done; 1 failed; 2 bad flags or arguments (nothing was done); 3 done, but the data had no\n"+
		"failure signal (outputs written, with a status saying so); 130/143 stopped by SIGINT/SIGTERM (resumable\n"+
		"progress saved)")
	fmt.Fprintln(w, "usage: faildirs <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for name := range cmds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-14s %s\n", name, cmds[name].summary)
	}
}
