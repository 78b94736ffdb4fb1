package tinyclip

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/internal/atomicfile"
	"github.com/gomlx/compute"

	"github.com/faildirs/faildirs/internal/lockfile"
)

// RecordFile is the name of the training record written beside the model files.
const RecordFile = "tinyclip.json"

// CacheRoot returns the folder holding cached tiny CLIPs: dir when not empty, else os.UserCacheDir()/faildirs.
func CacheRoot(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("tinyclip: no user cache dir (set Options.CacheDir): %w", err)
	}
	return filepath.Join(base, "faildirs"), nil
}

// Dir returns the cache folder of opts' recipe: <CacheRoot>/tinyclip-<fingerprint>.
func Dir(opts Options) (string, error) {
	root, err := CacheRoot(opts.CacheDir)
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "tinyclip-"+opts.Recipe().Fingerprint()), nil
}

// Complete reports whether dir holds a saved tiny CLIP: the model files and the record (Save fills a temporary
// folder and renames it, so a folder that exists is complete unless someone else wrote it).
func Complete(dir string) bool {
	for _, f := range []string{"config.json", "model.safetensors", "vocab.json", "merges.txt", RecordFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// LoadRecord reads the training record of a saved tiny CLIP.
func LoadRecord(dir string) (*Record, error) {
	raw, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if err != nil {
		return nil, fmt.Errorf("tinyclip: %w", err)
	}
	var r Record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("tinyclip: parsing %s: %w", filepath.Join(dir, RecordFile), err)
	}
	return &r, nil
}

// Save writes m in HF layout (config.json, model.safetensors, preprocessor_config.json, vocab.json, merges.txt,
// tokenizer configs) plus the record (tinyclip.json) into dir, atomically ([atomicfile.WriteDir]: a temporary
// sibling folder renamed to dir at the end). When dir already exists it is replaced only if replace is true;
// otherwise Save fails.
func Save(m *clip.Model, rec *Record, dir string, replace bool) error {
	err := atomicfile.WriteDir(dir, replace, func(tmp string) error {
		if err := m.Save(tmp); err != nil {
			return err
		}
		if rec == nil {
			return nil
		}
		raw, err := json.MarshalIndent(rec, "", "  ")
		if err != nil {
			return err
		}
		return atomicfile.WriteBytes(filepath.Join(tmp, RecordFile), append(raw, '\n'))
	})
	if err != nil {
		return fmt.Errorf("tinyclip: %w", err)
	}
	return nil
}

// Ensure returns the folder of the tiny CLIP of opts' recipe under the cache ([Dir]), training it first (and
// evaluating it, recording the [Quality] in tinyclip.json) only when no complete folder is there. Load the result
// with clip.LoadDir(b, dir) like any CLIP. Concurrent callers may both train; the first rename wins and the other
// result is discarded.
func Ensure(ctx context.Context, b compute.Backend, opts Options) (string, error) {
	dir, err := Dir(opts)
	if err != nil {
		return "", err
	}
	if Complete(dir) {
		return dir, nil
	}
	// One process trains; another that needs the same model (a notebook beside a test run, two notebooks) waits
	// for it and then uses its result.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("tinyclip: %w", err)
	}
	lock, err := lockfile.Wait(ctx, dir, 2*time.Second, func(h *lockfile.HeldError) {
		if opts.Log != nil {
			fmt.Fprintf(opts.Log, "tinyclip: %v; waiting\n", h)
		}
	})
	if err != nil {
		return "", fmt.Errorf("tinyclip: %w", err)
	}
	defer lock.Release()
	if Complete(dir) {
		return dir, nil
	}
	f, err := data.LoadFashion(opts.FashionDir)
	if err != nil {
		return "", fmt.Errorf("tinyclip: %w", err)
	}
	m, rec, err := Train(ctx, b, f, opts)
	if err != nil {
		return "", err
	}
	defer m.Finalize()
	q, err := Evaluate(ctx, m, f, EvalOptions{Seed: opts.Seed, Images: opts.EvalImages, Untinted: opts.Untinted, Progress: opts.Progress})
	if err != nil {
		return "", err
	}
	rec.Quality = q
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "tinyclip: %s\n", q)
	}
	if err := Save(m, rec, dir, false); err != nil {
		if Complete(dir) { // another process finished first
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

// NewRandom returns an untrained CLIP of the tiny CLIP's default shape with random weights (seed) and the tiny
// CLIP's tokenizer, on backend b (nil: one chosen by package backend): meaningless but valid image and text
// embeddings, for smoke tests of whole runs without training.
func NewRandom(b compute.Backend, seed uint64) (*clip.Model, error) {
	tok := NewTokenizer()
	m, err := clip.NewRandom(b, Options{}.Recipe().Config(tok.VocabSize()), seed)
	if err != nil {
		return nil, err
	}
	m.Tokenizer = tok
	return m, nil
}
