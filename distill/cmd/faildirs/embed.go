package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/tinyclip"
	"github.com/faildirs/faildirs/internal/cli"
)

// embedSummary is what "faildirs embed" prints at the end (as text, or JSON with -json).
type embedSummary struct {
	Out       string          `json:"out"`
	Model     string          `json:"model"`
	Backend   string          `json:"backend"`
	Images    int             `json:"images"`
	Dim       int             `json:"dim"`
	FromCache int             `json:"from_cache"`
	Computed  int             `json:"computed"`
	Skipped   []clip.BadImage `json:"skipped"`
	Seconds   float64         `json:"seconds"`
	PerSecond float64         `json:"images_per_s"`
}

func runEmbed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelID := fs.String("model", clip.DefaultModelID, `hub id or HF-layout folder; "random" for an untrained CLIP of the tiny CLIP's shape (offline smoke tests; the same as analyze -latent random)`)
	out := fs.String("out", "", "embedding cache file to write (safetensors; resumed if it exists; an existing file that is not an embedding cache is refused)")
	batch := fs.Int("batch", clip.DefaultBatchSize, "images per model call, 1 to 4096")
	shard := fs.String("shard", "", "i/n: embed only the i-th of n contiguous blocks of the sorted image list (0-based) into its own file, -out with .shard-i-of-n before the extension; faildirs analyze -embeddings reads the shards together")
	skipBad := fs.Bool("skip-bad", false, "skip unreadable images (and images over -max-pixels) and list them, instead of stopping at the first")
	recompute := fs.Bool("recompute-stale", false, "discard an embedding cache made for other images, model or preprocessing instead of failing")
	maxPixels := fs.Int("max-pixels", data.DefaultMaxPixels, "pixel budget: refuse images whose header gives more pixels (width × height), checked before decoding; peak memory follows it (about 1.5 GB at the default)")
	every := fs.Duration("checkpoint", 30*time.Second, "time between cache saves, at least 1s")
	quiet := fs.Bool("quiet", false, "no progress bar")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: faildirs embed -out FILE [-model ID|DIR] [-batch N] [-shard i/n] [-skip-bad] IMAGE|FOLDER...")
		fmt.Fprintln(stderr, "Embeds images with CLIP into a resumable cache file (Ctrl-C or SIGTERM saves; rerun to continue). With -shard i/n")
		fmt.Fprintln(stderr, "each of n independent jobs embeds its block into its own file; faildirs analyze/fit -embeddings read them together.")
		fmt.Fprintln(stderr, "Flags may come before or after the images; \"--\" ends the flags.")
		fs.PrintDefaults()
	}
	inputs, err := cli.ParseArgs(fs, args)
	if err != nil {
		return err
	}
	var c cli.Checks
	if *out == "" {
		c.Addf("-out is required")
	}
	if len(inputs) == 0 {
		c.Addf("at least one image or folder is required")
	}
	c.IntIn("batch", *batch, 1, 4096)
	c.IntIn("max-pixels", *maxPixels, 1, math.MaxInt32)
	if *every < time.Second {
		c.Addf("-checkpoint %v: want at least 1s", *every)
	}
	if *shard != "" {
		if _, _, err := parseShard(*shard); err != nil {
			c.Add(err)
		}
		*out = shardFile(*out, *shard) // each shard writes (and locks) its own file
	}
	c.Add(cli.OutputFile("out", *out, clip.RecognizeCache))
	if err := c.Err(); err != nil {
		return err
	}
	paths, err := collectImages(inputs)
	if err != nil {
		return err
	}
	if *shard != "" {
		if paths, err = shardOf(paths, *shard); err != nil {
			return err
		}
	}
	b, info, err := backend.New(backend.Options{})
	if err != nil {
		return err
	}
	var m *clip.Model
	if *modelID == "random" {
		m, err = tinyclip.NewRandom(b, 0)
	} else {
		m, err = clip.Load(ctx, b, *modelID, clip.LoadOptions{Log: stderr})
	}
	if err != nil {
		return err
	}
	m.BackendInfo = info
	start := time.Now()
	opts := clip.EmbedOptions{BatchSize: *batch, CachePath: *out, RecomputeStale: *recompute, SkipBad: *skipBad,
		CheckpointEvery: *every, Progress: stderr}
	if *quiet {
		opts.Progress = io.Discard
	}
	res, err := m.EmbedImages(ctx, clip.FilesWith(paths, data.Decoder{MaxPixels: *maxPixels}), opts)
	if err != nil {
		return err
	}
	sec := time.Since(start).Seconds()
	sum := embedSummary{Out: *out, Model: *modelID, Backend: info.Config, Images: len(paths), Dim: m.Dim(),
		FromCache: res.FromCache, Computed: res.Computed, Skipped: res.Skipped, Seconds: sec}
	if sec > 0 {
		sum.PerSecond = float64(res.Computed) / sec
	}
	if sum.Skipped == nil {
		sum.Skipped = []clip.BadImage{}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	fmt.Fprintf(stdout, "%s: %d images × %d (model %s, backend %s): %d from the cache, %d embedded in %.1fs (%.2f images/s)\n",
		sum.Out, sum.Images, sum.Dim, sum.Model, sum.Backend, sum.FromCache, sum.Computed, sec, sum.PerSecond)
	for _, s := range sum.Skipped {
		if strings.Contains(s.Err, s.Name) {
			fmt.Fprintf(stdout, "skipped: %s\n", s.Err)
		} else {
			fmt.Fprintf(stdout, "skipped %s: %s\n", s.Name, s.Err)
		}
	}
	return nil
}

// collectImages expands folders (recursively, data.IsImageFile files only) and keeps files as given; the result is
// sorted and de-duplicated so that a rerun sees the same order.
func collectImages(args []string) ([]string, error) {
	seen := map[string]bool{}
	var paths []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("embed: %w", err)
		}
		if !fi.IsDir() {
			if !seen[a] {
				seen[a] = true
				paths = append(paths, a)
			}
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && data.IsImageFile(p) && !seen[p] {
				seen[p] = true
				paths = append(paths, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("embed: %w", err)
		}
	}
	sort.Strings(paths)
	if len(paths) == 0 {
		return nil, fmt.Errorf("embed: no images found in %v", args)
	}
	return paths, nil
}

// shardFile names shard "i/n"'s own output file: path with ".shard-i-of-n" before its extension
// ("emb.safetensors" → "emb.shard-2-of-4.safetensors").
func shardFile(path, spec string) string {
	i, n, _ := strings.Cut(spec, "/")
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + ".shard-" + strings.TrimSpace(i) + "-of-" + strings.TrimSpace(n) + ext
}

// parseShard parses "i/n" with 0 ≤ i < n.
func parseShard(spec string) (i, n int, err error) {
	is, ns, ok := strings.Cut(spec, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, cli.Usagef("-shard %q must be i/n with 0 ≤ i < n", spec)
	}
	return i, n, nil
}

// shardOf returns the i-th of n contiguous blocks of paths ("i/n", 0 ≤ i < n).
func shardOf(paths []string, spec string) ([]string, error) {
	i, n, err := parseShard(spec)
	if err != nil {
		return nil, err
	}
	lo, hi := i*len(paths)/n, (i+1)*len(paths)/n
	if lo == hi {
		return nil, fmt.Errorf("embed: shard %s of %d images is empty", spec, len(paths))
	}
	return paths[lo:hi], nil
}
