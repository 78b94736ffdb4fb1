package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/clip"

	"github.com/faildirs/faildirs/internal/cli"
)

func TestShardOf(t *testing.T) {
	paths := []string{"a", "b", "c", "d", "e", "f", "g"}
	for _, n := range []int{1, 2, 3, 7} {
		var all []string
		for i := range n {
			part, err := shardOf(paths, fmt.Sprintf("%d/%d", i, n))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, part...)
		}
		if !slices.Equal(all, paths) {
			t.Errorf("n=%d: shards join to %v", n, all)
		}
	}
	for _, bad := range []string{"3/3", "-1/2", "x/2", "1", "0/0"} {
		if _, err := shardOf(paths, bad); err == nil {
			t.Errorf("shard %q accepted", bad)
		}
	}
}

// TestEmbedCommand runs "faildirs embed" on a folder with a truncated JPEG, with and without -skip-bad, and
// reruns it to check the cache is reused.
func TestEmbedCommand(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	b, _, err := backend.Go()
	if err != nil {
		t.Fatal(err)
	}
	m, err := clip.NewRandom(b, clip.TinyConfig(32, 8, 32, 1, 8), 3)
	if err != nil {
		t.Fatal(err)
	}
	modelDir := t.TempDir()
	if err := m.Save(modelDir); err != nil {
		t.Fatal(err)
	}
	imgDir := filepath.Join(t.TempDir(), "imgs")
	if err := os.MkdirAll(filepath.Join(imgDir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 9 {
		img := image.NewRGBA(image.Rect(0, 0, 40+i, 36))
		for p := range img.Pix {
			img.Pix[p] = uint8(p*(i+3)) | 0x0f
		}
		img.Set(0, 0, color.RGBA{255, 0, 0, 255})
		var buf bytes.Buffer
		name := filepath.Join(imgDir, fmt.Sprintf("%02d.png", i))
		if i%3 == 0 {
			name = filepath.Join(imgDir, "sub", fmt.Sprintf("%02d.jpg", i))
			_ = jpeg.Encode(&buf, img, nil)
		} else {
			_ = png.Encode(&buf, img)
		}
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good, _ := os.ReadFile(filepath.Join(imgDir, "sub", "03.jpg"))
	broken := filepath.Join(imgDir, "broken.jpg")
	if err := os.WriteFile(broken, good[:len(good)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(imgDir, "notes.txt"), []byte("not collected"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "emb.safetensors")
	run := func(extra ...string) (embedSummary, error) {
		var stdout, stderr bytes.Buffer
		args := append([]string{"-model", modelDir, "-out", out, "-batch", "4", "-quiet", "-json"}, extra...)
		err := runEmbed(context.Background(), append(args, imgDir), &stdout, &stderr)
		var s embedSummary
		if err == nil {
			if jerr := json.Unmarshal(stdout.Bytes(), &s); jerr != nil {
				t.Fatalf("summary %q: %v", stdout.String(), jerr)
			}
		}
		return s, err
	}
	if _, err := run(); err == nil || !strings.Contains(err.Error(), broken) {
		t.Fatalf("without -skip-bad: error %v, want one naming %s", err, broken)
	}
	s, err := run("-skip-bad")
	if err != nil {
		t.Fatal(err)
	}
	if s.Images != 10 || len(s.Skipped) != 1 || s.Skipped[0].Name != broken || s.Computed+s.FromCache != 9 {
		t.Errorf("summary %+v", s)
	}
	again, err := run("-skip-bad")
	if err != nil {
		t.Fatal(err)
	}
	if again.Computed != 0 || again.FromCache != 9 {
		t.Errorf("rerun computed %d, from cache %d; want 0 and 9", again.Computed, again.FromCache)
	}
	info, err := clip.LoadCache(out)
	if err != nil {
		t.Fatal(err)
	}
	if info.Count != 10 || info.Done != 9 || len(info.Failed) != 1 || !info.Finished[0] || info.Embeddings.Cols != 8 {
		t.Errorf("cache info %+v", info.CacheInfo)
	}
}

// TestEmbedShardsThenAnalyze embeds a class folder in two shards (each its own file, as two independent jobs
// would) and runs faildirs analyze on the shards read together, with the same untrained CLIP.
func TestEmbedShardsThenAnalyze(t *testing.T) {
	t.Setenv(backend.EnvBackend, "go")
	if got := shardFile("out/emb.safetensors", "1/4"); got != "out/emb.shard-1-of-4.safetensors" {
		t.Fatalf("shardFile = %q", got)
	}
	root := t.TempDir()
	for k, name := range []string{"dark", "light"} {
		for i := range 15 {
			img := image.NewRGBA(image.Rect(0, 0, 12, 10))
			for p := range img.Pix {
				img.Pix[p] = uint8(60+120*k) + uint8(3*i) + uint8(p%7)
			}
			var buf bytes.Buffer
			_ = png.Encode(&buf, img)
			path := filepath.Join(root, name, fmt.Sprintf("%02d.png", i))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	out := filepath.Join(t.TempDir(), "emb.safetensors")
	var shards []string
	total := 0
	for i := range 2 {
		var stdout, stderr bytes.Buffer
		shard := fmt.Sprintf("%d/2", i)
		if err := runEmbed(context.Background(), []string{"-model", "random", "-out", out, "-shard", shard, "-quiet", "-json", root}, &stdout, &stderr); err != nil {
			t.Fatalf("embed -shard %s: %v", shard, err)
		}
		var s embedSummary
		if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		if want := shardFile(out, shard); s.Out != want || s.Computed != s.Images {
			t.Fatalf("shard %s: summary %+v, want its own file %s", shard, s, want)
		}
		shards = append(shards, s.Out)
		total += s.Images
	}
	if total != 30 {
		t.Fatalf("shards hold %d images, want 30", total)
	}
	outDir := filepath.Join(t.TempDir(), "analysis")
	var stdout, stderr bytes.Buffer
	args := []string{"analyze", "-data", "folder", "-data-dir", root, "-model", "mlp", "-image-size", "8", "-epochs", "1",
		"-latent", "random", "-embeddings", strings.Join(shards, ","), "-vocab", "none", "-work", t.TempDir(), "-out", outDir, "-quiet"}
	// A random CLIP and one epoch leave no failure signal: exit 3, outputs written (cli.ExitDegenerate).
	if code := run(context.Background(), args, &stdout, &stderr); code != cli.ExitOK && code != cli.ExitDegenerate {
		t.Fatalf("analyze with the shards: exit %d\n%s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(outDir, "report.html")); err != nil {
		t.Fatal(err)
	}
}
