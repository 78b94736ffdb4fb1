package clip

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/clip/imgproc"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/safetensors"
	"github.com/faildirs/faildirs/internal/lockfile"
)

// blockAt wraps a source: reading image `at` signals reached and waits for release.
type blockAt struct {
	ImageSource
	at               int
	reached, release chan struct{}
}

func (b blockAt) RGB(i int) (*imgproc.RGB, error) {
	if i == b.at {
		close(b.reached)
		<-b.release
	}
	return b.ImageSource.RGB(i)
}

// TestTwoWritersOnOneCache holds issue 11's case of two embed runs (shards 0/2 and 1/2) into one -out: both ended
// with rc 0 and the file held one shard. Now the second run fails at once naming the first one's pid, and the
// first finishes with its rows intact.
func TestTwoWritersOnOneCache(t *testing.T) {
	m := tinyA(t)
	dir := t.TempDir()
	paths := writeImageFiles(t, dir, testImages(8, 4))
	cache := filepath.Join(dir, "emb.safetensors")
	opts := EmbedOptions{BatchSize: 2, Progress: io.Discard, CachePath: cache}
	first := blockAt{Files(paths[:4]), 2, make(chan struct{}), make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := m.EmbedImages(context.Background(), first, opts)
		done <- err
	}()
	<-first.reached
	_, err := m.EmbedImages(context.Background(), Files(paths[4:]), opts)
	var held *lockfile.HeldError
	if !errors.As(err, &held) || held.Holder.PID != os.Getpid() || !strings.Contains(err.Error(), cache) {
		t.Errorf("second writer: %v, want a HeldError naming %s and pid %d", err, cache, os.Getpid())
	}
	close(first.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c, err := LoadCache(cache)
	if err != nil || c.Done != 4 || c.Names[0] != paths[0] {
		t.Fatalf("the first writer's cache: %+v %v", c, err)
	}
	if _, err := os.Stat(cache + lockfile.Suffix); !os.IsNotExist(err) {
		t.Errorf("lock file left after the run: %v", err)
	}
}

// TestCachePathIsNotClobbered holds issue 11's `-recompute-stale -out victim.txt`: a file that is not an
// embedding cache is refused, with or without RecomputeStale, and left as it was.
func TestCachePathIsNotClobbered(t *testing.T) {
	m := tinyA(t)
	dir := t.TempDir()
	paths := writeImageFiles(t, dir, testImages(2, 5))
	for name, content := range map[string][]byte{"victim.txt": []byte("precious notes\n"), "other.safetensors": nil} {
		victim := filepath.Join(dir, name)
		if content == nil { // a safetensors file of another kind (a checkpoint)
			var buf bytes.Buffer
			_ = safetensors.Write(&buf, []safetensors.Tensor{{Name: "w", Shape: []int{1}, Data: []float32{1}}}, map[string]string{"format": "a checkpoint"})
			content = buf.Bytes()
		}
		os.WriteFile(victim, content, 0o644)
		for _, recompute := range []bool{false, true} {
			_, err := m.EmbedImages(context.Background(), Files(paths), EmbedOptions{Progress: io.Discard, CachePath: victim, RecomputeStale: recompute})
			if err == nil || !strings.Contains(err.Error(), "is not an embedding cache") || !strings.Contains(err.Error(), "refusing to overwrite") {
				t.Errorf("%s, RecomputeStale=%v: %v", name, recompute, err)
			}
			if got, _ := os.ReadFile(victim); !bytes.Equal(got, content) {
				t.Errorf("%s was modified", name)
			}
		}
	}
}

// TestCacheKeepsNonUTF8Names: a file name that is not valid UTF-8 (Latin-1 "café") was stored as "caf\uFFFD" and
// no longer joined with other files; the cache now keeps its exact bytes.
func TestCacheKeepsNonUTF8Names(t *testing.T) {
	m := tinyA(t)
	dir := t.TempDir()
	paths := writeImageFiles(t, dir, testImages(2, 6))
	latin1 := filepath.Join(dir, "caf\xe9.png")
	if err := os.Rename(paths[0], latin1); err != nil {
		t.Skipf("this file system refuses non-UTF-8 names: %v", err)
	}
	cache := filepath.Join(dir, "emb.safetensors")
	if _, err := m.EmbedImages(context.Background(), Files([]string{latin1, paths[1]}), EmbedOptions{Progress: io.Discard, CachePath: cache}); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCache(cache)
	if err != nil || c.Names[0] != latin1 || c.Names[1] != paths[1] {
		t.Fatalf("names %q (%v), want %q", c.Names, err, []string{latin1, paths[1]})
	}
	// The rerun matches the cache (same names, same fingerprint) and computes nothing.
	again, err := m.EmbedImages(context.Background(), Files([]string{latin1, paths[1]}), EmbedOptions{Progress: io.Discard, CachePath: cache})
	if err != nil || again.Computed != 0 {
		t.Errorf("rerun: computed %d, %v", again.Computed, err)
	}
}

// TestImageBombIsSkipped holds issue 11's first crash: `embed -skip-bad` on a 74-byte PNG claiming 100000×100000
// pixels died out of memory without saving the cache. It is now skipped like any unreadable image, the other
// images are embedded and the cache is saved.
func TestImageBombIsSkipped(t *testing.T) {
	m := tinyA(t)
	dir := t.TempDir()
	paths := writeImageFiles(t, dir, testImages(3, 7))
	bomb := filepath.Join(dir, "bomb.png")
	// The 68-byte file of the issue (IHDR 100000×100000, 8-bit RGBA, an IDAT of 10 zero bytes).
	os.WriteFile(bomb, []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01\x86\xa0\x00\x01\x86\xa0\x08\x06\x00\x00\x00\xa8R\x0b\xc8"+
		"\x00\x00\x00\x0bIDATx\x9cc`\x80\x01\x00\x00\n\x00\x01\x7f\x80t^\x00\x00\x00\x00IEND\xaeB`\x82"), 0o644)
	cache := filepath.Join(dir, "emb.safetensors")
	list := append([]string{bomb}, paths...)
	res, err := m.EmbedImages(context.Background(), Files(list), EmbedOptions{Progress: io.Discard, CachePath: cache, SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Skipped) != 1 || res.Skipped[0].Name != bomb || !strings.Contains(res.Skipped[0].Err, "pixel budget") || res.Computed != 3 {
		t.Fatalf("skipped %+v, computed %d", res.Skipped, res.Computed)
	}
	if c, err := LoadCache(cache); err != nil || c.Done != 3 || len(c.Failed) != 1 {
		t.Fatalf("cache after the bomb: %v", err)
	}
	// A larger budget (FilesWith) still refuses it: its header claims 10^10 pixels.
	if _, err := m.EmbedImages(context.Background(), FilesWith(list, data.Decoder{MaxPixels: 1 << 30}), EmbedOptions{Progress: io.Discard}); !errors.Is(err, data.ErrTooManyPixels) {
		t.Errorf("budget 2^30: %v", err)
	}
}

// FuzzReadCache parses arbitrary bytes as an embedding cache: no panic, and an accepted cache is consistent.
func FuzzReadCache(f *testing.F) {
	st := newEmbedState(2, 3)
	st.status[0] = statusDone
	c := &embedCache{path: filepath.Join(f.TempDir(), "c.safetensors"), names: []string{"a.png", "caf\xe9.png"}, state: st,
		meta: map[string]string{"format": cacheFormat, "version": cacheVersion, "count": "2", "dim": "3"}}
	if err := c.save(); err != nil {
		f.Fatal(err)
	}
	raw, _ := os.ReadFile(c.path)
	f.Add(raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ReadCache(bytes.NewReader(data))
		if err != nil {
			return
		}
		if c.Embeddings.Rows != c.Count || c.Embeddings.Cols != c.Dim || len(c.Names) != c.Count || len(c.Finished) != c.Count {
			t.Fatalf("inconsistent cache: %d×%d embeddings, %d names, %d flags, count %d", c.Embeddings.Rows, c.Embeddings.Cols,
				len(c.Names), len(c.Finished), c.Count)
		}
	})
}
