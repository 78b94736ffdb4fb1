package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/internal/cli"
)

// benchClipReport is what "faildirs bench-clip" prints (as text, or JSON with -json).
type benchClipReport struct {
	Model      string            `json:"model"`
	Backend    backend.Info      `json:"backend"`
	NumCPU     int               `json:"num_cpu"`
	Streams    int               `json:"streams"`
	LoadS      float64           `json:"load_s"`
	Images     clip.BenchResult  `json:"images"`
	Texts      clip.BenchResult  `json:"texts"`
	Torch      *torchBenchResult `json:"torch,omitempty"`
	LoadAvg    string            `json:"loadavg,omitempty"`
	ImageGFLOP float64           `json:"image_gflop"`
	TextGFLOP  float64           `json:"text_gflop"`
}

// torchBenchResult is the last line of the -torch script's output: JSON with the PyTorch version, its threads, the
// batch size and the measured images/s and texts/s of the same towers.
type torchBenchResult struct {
	Torch      string  `json:"torch"`
	Threads    int     `json:"threads"`
	Batch      int     `json:"batch"`
	ImagesPerS float64 `json:"images_per_s"`
	TextsPerS  float64 `json:"texts_per_s"`
}

func runBenchClip(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("bench-clip", flag.ContinueOnError)
	fs.SetOutput(stderr)
	batch := fs.Int("batch", 32, fmt.Sprintf("batch size, 1 to %d", benchClipMaxBatch))
	modelID := fs.String("model", "", "hub id or HF-layout folder; empty: random weights in the real ViT-B/32 shape (no download)")
	runs := fs.Int("runs", 3, "timed runs per tower after one untimed call (the median is reported), 1 to 1000")
	length := fs.Int("text-length", 77, "tokens per text, 2 to 77 (77, CLIP's context length, is what a PyTorch CLIP runs)")
	patch := fs.Int("patch", 32, "random weights: the ViT-B patch side, 32 (ViT-B/32) or 16 (ViT-B/16)")
	streams := fs.Int("streams", 0, "sub-batches per graph, 1 to 64 (default: the model's own choice)")
	torch := fs.String("torch", "", "path of a PyTorch CLIP benchmark script (run with /usr/bin/python3 --batch N --runs R, printing one JSON line {torch, threads, batch, images_per_s, texts_per_s}): also run it in this run and report the ratios")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed runs to this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: faildirs bench-clip [-batch N] [-model ID|DIR] [-runs R] [-torch script.py] [-json]")
		fmt.Fprintln(stderr, "Times CLIP's image and text towers (images/s, texts/s, achieved GFLOP/s) on the chosen backend.")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	var c cli.Checks
	c.IntIn("batch", *batch, 1, benchClipMaxBatch)
	c.IntIn("runs", *runs, 1, 1000)
	c.IntIn("text-length", *length, 2, 77)
	if *patch != 32 && *patch != 16 {
		c.Addf("-patch %d: want 32 or 16", *patch)
	}
	if cli.IsSet(fs, "streams") {
		c.IntIn("streams", *streams, 1, 64)
	}
	if *torch != "" {
		if fi, err := os.Stat(*torch); err != nil || fi.IsDir() {
			c.Addf("-torch %s: not a script file", *torch)
		}
	}
	c.Add(cli.OutputFile("cpuprofile", *cpuProfile, recognizeProfile))
	if err := c.Err(); err != nil {
		return err
	}
	b, info, err := backend.New(backend.Options{})
	if err != nil {
		return err
	}
	rep := benchClipReport{Backend: info, NumCPU: runtime.NumCPU()}
	start := time.Now()
	var m *clip.Model
	if *modelID == "" {
		cfg := clip.ViTB32Config()
		cfg.Vision.PatchSize = *patch
		rep.Model = fmt.Sprintf("random ViT-B/%d (openai/clip-vit-base-patch%d shapes)", *patch, *patch)
		m, err = clip.NewRandom(b, cfg, 1)
	} else {
		rep.Model = *modelID
		m, err = clip.Load(ctx, b, *modelID, clip.LoadOptions{Log: stderr})
	}
	if err != nil {
		return err
	}
	m.BackendInfo = info
	if *streams > 0 {
		m.Streams = *streams
	}
	rep.Streams = m.EffectiveStreams()
	rep.LoadS = time.Since(start).Seconds()
	rep.ImageGFLOP = m.Config.ImageFLOPs() / 1e9
	rep.TextGFLOP = m.Config.TextFLOPs(*length) / 1e9
	if !*asJSON {
		fmt.Fprintf(stdout, "model:    %s (loaded in %.1fs)\nbackend:  %s\n", rep.Model, rep.LoadS, info)
		fmt.Fprintf(stdout, "batch %d, %d timed runs each, %d CPUs, %d stream(s)\n", *batch, *runs, rep.NumCPU, rep.Streams)
	}
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return fmt.Errorf("bench-clip: %w", err)
	}
	defer func() {
		if perr := stopProfile(); perr != nil && err == nil {
			err = fmt.Errorf("bench-clip: %w", perr)
		}
	}()
	if rep.Images, err = m.BenchImages(ctx, *batch, *runs); err != nil {
		return err
	}
	if !*asJSON {
		printBench(stdout, "images", rep.Images, rep.ImageGFLOP)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if rep.Texts, err = m.BenchTexts(ctx, *batch, *length, *runs); err != nil {
		return err
	}
	if !*asJSON {
		printBench(stdout, "texts", rep.Texts, rep.TextGFLOP)
	}
	if *torch != "" {
		if rep.Torch, err = runTorchBench(ctx, *torch, *batch, *runs); err != nil {
			return err
		}
		if !*asJSON {
			fmt.Fprintf(stdout, "torch %s (%d threads): %.2f images/s, %.2f texts/s\n", rep.Torch.Torch, rep.Torch.Threads, rep.Torch.ImagesPerS, rep.Torch.TextsPerS)
			fmt.Fprintf(stdout, "go/torch: images %.0f%%, texts %.0f%%\n", 100*rep.Images.PerSecond/rep.Torch.ImagesPerS, 100*rep.Texts.PerSecond/rep.Torch.TextsPerS)
		}
	}
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		rep.LoadAvg = strings.TrimSpace(string(raw))
		if !*asJSON {
			fmt.Fprintf(stdout, "load average: %s\n", rep.LoadAvg)
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return nil
}

// benchClipMaxBatch bounds -batch: a ViT-B/32 batch of 1024 images holds about 13 GB of activations.
const benchClipMaxBatch = 1024

func printBench(w io.Writer, what string, r clip.BenchResult, gflopPerItem float64) {
	runs := make([]string, len(r.Runs))
	for i, s := range r.Runs {
		runs[i] = strconv.FormatFloat(s, 'f', 2, 64) + "s"
	}
	fmt.Fprintf(w, "%-7s %7.2f %s/s  %6.1f GFLOP/s  (%.2f GFLOP each; runs %s; first call %.1fs)\n",
		what+":", r.PerSecond, what, r.GFLOPS, gflopPerItem, strings.Join(runs, " "), r.Compile)
}

// runTorchBench runs the PyTorch reference script and parses its JSON line.
func runTorchBench(ctx context.Context, script string, batch, runs int) (*torchBenchResult, error) {
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script, "--batch", strconv.Itoa(batch), "--runs", strconv.Itoa(runs))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("bench-clip: running %s: %w: %s", script, err, strings.TrimSpace(errb.String()))
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var r torchBenchResult
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return nil, fmt.Errorf("bench-clip: parsing the output of %s (%q): %w", script, out.String(), err)
	}
	return &r, nil
}
