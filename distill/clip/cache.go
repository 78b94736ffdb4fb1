package clip

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/safetensors"
)

// The embedding cache format (version 1) is documented in the package doc.
const (
	cacheFormat  = "faildirs-clip-embeddings"
	cacheVersion = "1"
)

const (
	statusPending uint8 = 0
	statusDone    uint8 = 1
	statusFailed  uint8 = 2
)

// embedState is the in-memory table of an embedding run.
type embedState struct {
	n, dim int
	emb    []float32
	status []uint8
	failed map[int]BadImage
}

func newEmbedState(n, dim int) *embedState {
	return &embedState{n: n, dim: dim, emb: make([]float32, n*dim), status: make([]uint8, n), failed: map[int]BadImage{}}
}

func (s *embedState) countDone() int {
	c := 0
	for _, v := range s.status {
		if v == statusDone {
			c++
		}
	}
	return c
}

// embedCache ties an embedState to its file.
type embedCache struct {
	path  string
	meta  map[string]string
	names []string
	state *embedState // loaded rows (nil when starting fresh); set to the live state by the caller
}

// CacheInfo is what a cache file says about itself.
type CacheInfo struct {
	// Model, ModelRevision and ModelFingerprint identify the model.
	Model, ModelRevision, ModelFingerprint string
	// Preprocess describes the preprocessing.
	Preprocess string
	// InputsFingerprint identifies the ordered image set.
	InputsFingerprint string
	// Count, Dim and Done are the number of rows, the embedding size and the rows finished.
	Count, Dim, Done int
	// Names are the image names, in order.
	Names []string
	// Failed lists the images that failed.
	Failed []BadImage
}

// Cache is the content of an embedding cache file.
type Cache struct {
	CacheInfo
	// Embeddings has Count rows of Dim values, in source order; rows of unfinished images are zero.
	Embeddings matrix.Dense
	// Finished reports, per image, whether its row is embedded.
	Finished []bool
}

// LoadCache reads the embedding cache file at path (see the package doc for the format).
func LoadCache(path string) (*Cache, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("clip cache: %w", err)
	}
	defer f.Close()
	info, st, err := parseCache(f, path)
	if err != nil {
		return nil, err
	}
	return st.cache(info), nil
}

// ReadCache reads an embedding cache from r, like [LoadCache].
func ReadCache(r io.Reader) (*Cache, error) {
	f, err := safetensors.Read(r)
	if err != nil {
		return nil, fmt.Errorf("clip cache: %w", err)
	}
	info, st, err := parseCache(f, "<reader>")
	if err != nil {
		return nil, err
	}
	return st.cache(info), nil
}

// cache returns the state as a Cache.
func (s *embedState) cache(info CacheInfo) *Cache {
	c := &Cache{CacheInfo: info, Embeddings: s.done(), Finished: make([]bool, s.n)}
	for i, v := range s.status {
		c.Finished[i] = v == statusDone
	}
	return c
}

// done returns the embeddings as a matrix, with the rows of unfinished images set to zero (the matrix shares the
// state's memory).
func (s *embedState) done() matrix.Dense {
	m := matrix.Dense{Rows: s.n, Cols: s.dim, Data: s.emb}
	for i, v := range s.status {
		if v != statusDone {
			clear(m.Row(i))
		}
	}
	return m
}

// readCacheFile opens and parses the cache file at path.
func readCacheFile(path string) (CacheInfo, *embedState, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return CacheInfo{}, nil, fmt.Errorf("clip cache: %w", err)
	}
	defer f.Close()
	return parseCache(f, path)
}

// parseCache checks and reads an opened cache file, named path in errors.
func parseCache(f *safetensors.File, path string) (CacheInfo, *embedState, error) {
	var err error
	md := f.Metadata
	if md["format"] != cacheFormat {
		return CacheInfo{}, nil, fmt.Errorf("clip cache: %s is not an embedding cache (format %q, want %q)", path, md["format"], cacheFormat)
	}
	if md["version"] != cacheVersion {
		return CacheInfo{}, nil, fmt.Errorf("clip cache: %s has version %q, this program reads %q", path, md["version"], cacheVersion)
	}
	info := CacheInfo{Model: md["model"], ModelRevision: md["model_revision"], ModelFingerprint: md["model_fingerprint"],
		Preprocess: md["preprocess"], InputsFingerprint: md["inputs_fingerprint"]}
	for key, dst := range map[string]*int{"count": &info.Count, "dim": &info.Dim, "done": &info.Done} {
		if *dst, err = strconv.Atoi(md[key]); err != nil {
			return CacheInfo{}, nil, fmt.Errorf("clip cache: %s: metadata %q = %q: %w", path, key, md[key], err)
		}
	}
	if info.Names, err = decodeNames(md); err != nil {
		return CacheInfo{}, nil, fmt.Errorf("clip cache: %s: %w", path, err)
	}
	if err := json.Unmarshal([]byte(md["failed"]), &info.Failed); err != nil {
		return CacheInfo{}, nil, fmt.Errorf("clip cache: %s: metadata \"failed\": %w", path, err)
	}
	emb, shape, err := f.Float32("embeddings")
	if err != nil {
		return CacheInfo{}, nil, fmt.Errorf("clip cache: %s: %w", path, err)
	}
	status, err := f.Raw("status")
	if err != nil {
		return CacheInfo{}, nil, fmt.Errorf("clip cache: %s: %w", path, err)
	}
	if len(shape) != 2 || shape[0] != info.Count || shape[1] != info.Dim || len(status) != info.Count || len(info.Names) != info.Count {
		return CacheInfo{}, nil, fmt.Errorf("clip cache: %s: embeddings %v, %d statuses and %d names disagree with count %d, dim %d",
			path, shape, len(status), len(info.Names), info.Count, info.Dim)
	}
	st := &embedState{n: info.Count, dim: info.Dim, emb: emb, status: status, failed: map[int]BadImage{}}
	for _, b := range info.Failed {
		if b.Index >= 0 && b.Index < st.n {
			st.failed[b.Index] = b
		}
	}
	return info, st, nil
}

// encodeNames stores the image names in the metadata: "names", a JSON array, and — when a name is not valid UTF-8
// (a file name in another encoding), which JSON would replace by U+FFFD — also "names_b64", the exact bytes of
// every name in standard base64, so that names still join with other files.
func encodeNames(meta map[string]string, names []string) {
	js, _ := json.Marshal(names)
	meta["names"] = string(js)
	exact := true
	for _, n := range names {
		exact = exact && utf8.ValidString(n)
	}
	if exact {
		return
	}
	enc := make([]string, len(names))
	for i, n := range names {
		enc[i] = base64.StdEncoding.EncodeToString([]byte(n))
	}
	js, _ = json.Marshal(enc)
	meta["names_b64"] = string(js)
}

// decodeNames reads the names stored by encodeNames ("names_b64" wins when present).
func decodeNames(md map[string]string) ([]string, error) {
	var names []string
	if b64, ok := md["names_b64"]; ok {
		if err := json.Unmarshal([]byte(b64), &names); err != nil {
			return nil, fmt.Errorf("metadata \"names_b64\": %w", err)
		}
		for i, n := range names {
			raw, err := base64.StdEncoding.DecodeString(n)
			if err != nil {
				return nil, fmt.Errorf("metadata \"names_b64\", name %d: %w", i, err)
			}
			names[i] = string(raw)
		}
		return names, nil
	}
	if err := json.Unmarshal([]byte(md["names"]), &names); err != nil {
		return nil, fmt.Errorf("metadata \"names\": %w", err)
	}
	return names, nil
}

// inputsFingerprint hashes the ordered identities of the images.
func inputsFingerprint(src ImageSource) (string, []string) {
	h := sha256.New()
	names := make([]string, src.Len())
	var lenBuf [8]byte
	for i := range src.Len() {
		names[i] = src.Name(i)
		id, err := src.ID(i)
		if err != nil {
			id = "unreadable:" + src.Name(i) + ":" + err.Error()
		}
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(id)))
		h.Write(lenBuf[:])
		h.Write([]byte(id))
	}
	return hex.EncodeToString(h.Sum(nil)), names
}

// openCache fingerprints the run and loads a matching cache file, if any.
func (m *Model) openCache(path string, src ImageSource, recomputeStale bool) (*embedCache, error) {
	modelFP, err := m.Fingerprint()
	if err != nil {
		return nil, err
	}
	inFP, names := inputsFingerprint(src)
	c := &embedCache{path: path, names: names, meta: map[string]string{
		"format": cacheFormat, "version": cacheVersion, "model": m.Source, "model_revision": m.Revision,
		"model_fingerprint": modelFP, "preprocess": m.Preprocess.String(), "inputs_fingerprint": inFP,
		"count": strconv.Itoa(src.Len()), "dim": strconv.Itoa(m.Dim()),
	}}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err := recognizeCache(path); err != nil {
		return nil, fmt.Errorf("clip cache: %s exists and %v; refusing to overwrite it (choose another cache path, or delete it)", path, err)
	}
	info, st, err := readCacheFile(path)
	if err != nil {
		if recomputeStale {
			return c, nil
		}
		return nil, fmt.Errorf("%w (delete it, or recompute it: EmbedOptions.RecomputeStale, faildirs embed -recompute-stale)", err)
	}
	var diffs []string
	if info.ModelFingerprint != modelFP {
		diffs = append(diffs, fmt.Sprintf("model (cache: %s %s, now: %s %s)", info.Model, short(info.ModelFingerprint), m.Source, short(modelFP)))
	}
	if info.Preprocess != c.meta["preprocess"] {
		diffs = append(diffs, fmt.Sprintf("preprocessing (cache: %q, now: %q)", info.Preprocess, c.meta["preprocess"]))
	}
	if info.InputsFingerprint != inFP || info.Count != src.Len() {
		diffs = append(diffs, fmt.Sprintf("images (cache: %d, %s; now: %d, %s)", info.Count, short(info.InputsFingerprint), src.Len(), short(inFP)))
	}
	if info.Dim != m.Dim() {
		diffs = append(diffs, fmt.Sprintf("embedding size (cache %d, model %d)", info.Dim, m.Dim()))
	}
	if len(diffs) > 0 {
		if recomputeStale {
			return c, nil
		}
		return nil, fmt.Errorf("clip cache: %s is stale: %s differ; delete it, or recompute it: EmbedOptions.RecomputeStale, faildirs embed -recompute-stale",
			path, strings.Join(diffs, "; "))
	}
	c.state = st
	return c, nil
}

// RecognizeCache returns nil when path is an embedding cache file (a safetensors file whose metadata says so,
// whatever its version or state), and an error saying what it is not otherwise. Commands use it to refuse
// overwriting an unrelated file given as the cache path.
func RecognizeCache(path string) error {
	if err := recognizeCache(path); err != nil {
		return fmt.Errorf("%s %v", path, err)
	}
	return nil
}

func recognizeCache(path string) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return fmt.Errorf("is not an embedding cache (not a readable safetensors file)")
	}
	defer f.Close()
	if f.Metadata["format"] != cacheFormat {
		return fmt.Errorf("is not an embedding cache (metadata format %q, want %q)", f.Metadata["format"], cacheFormat)
	}
	return nil
}

func short(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// save writes the cache atomically.
func (c *embedCache) save() error {
	st := c.state
	meta := make(map[string]string, len(c.meta)+3)
	for k, v := range c.meta {
		meta[k] = v
	}
	meta["done"] = strconv.Itoa(st.countDone())
	encodeNames(meta, c.names)
	failed := make([]BadImage, 0, len(st.failed))
	for i := range st.n {
		if b, ok := st.failed[i]; ok {
			failed = append(failed, b)
		}
	}
	fj, _ := json.Marshal(failed)
	meta["failed"] = string(fj)
	if dir := filepath.Dir(c.path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("clip cache: %w", err)
		}
	}
	err := safetensors.Save(c.path, []safetensors.Tensor{
		{Name: "embeddings", Shape: []int{st.n, st.dim}, Data: st.emb},
		{Name: "status", Shape: []int{st.n}, U8: st.status},
	}, meta)
	if err != nil {
		return fmt.Errorf("clip cache: %w", err)
	}
	return nil
}
