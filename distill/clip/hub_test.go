package clip

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// fakeHub serves one model repository from a folder the way the HF hub does for go-huggingface and this package:
// GET /api/models/<id>/revision/<rev> and HEAD/GET /<id>/resolve/<sha>/<file> with an ETag.
type fakeHub struct {
	id, sha string
	files   map[string][]byte
	gets    atomic.Int64 // file downloads (GET of resolve URLs)
	token   string       // when set, required as a Bearer token
}

func newFakeHub(t *testing.T, id, dir string) *fakeHub {
	t.Helper()
	h := &fakeHub{id: id, files: map[string][]byte{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.New()
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		h.files[e.Name()] = data
		sum.Write([]byte(e.Name()))
		sum.Write(data)
	}
	h.sha = hex.EncodeToString(sum.Sum(nil))[:40]
	return h
}

func (h *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.token != "" && r.Header.Get("Authorization") != "Bearer "+h.token {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	apiPrefix := "/api/models/" + h.id + "/revision/"
	if strings.HasPrefix(r.URL.Path, apiPrefix) {
		rev := strings.TrimPrefix(r.URL.Path, apiPrefix)
		if rev != "main" && rev != h.sha {
			http.Error(w, `{"error":"revision not found"}`, http.StatusNotFound)
			return
		}
		var siblings []map[string]string
		for name := range h.files {
			siblings = append(siblings, map[string]string{"rfilename": name})
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"id": h.id, "sha": h.sha, "siblings": siblings})
		return
	}
	filePrefix := "/" + h.id + "/resolve/" + h.sha + "/"
	if strings.HasPrefix(r.URL.Path, filePrefix) {
		data, ok := h.files[strings.TrimPrefix(r.URL.Path, filePrefix)]
		if !ok {
			http.NotFound(w, r)
			return
		}
		sum := sha256.Sum256(data)
		w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		w.Header().Set("X-Repo-Commit", h.sha)
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Length", "0")
			return
		}
		h.gets.Add(1)
		_, _ = w.Write(data)
		return
	}
	http.NotFound(w, r)
}

// TestHubDownloadAndOffline serves a tiny model written by the test from a local fake hub, loads it by repo id
// into an HF-layout cache, checks it equals the local folder, then loads it again with the hub gone (fallback)
// and with offline mode, without any request.
func TestHubDownloadAndOffline(t *testing.T) {
	b := goBackend(t)
	src, err := NewRandom(b, tinyConfig(), 11)
	if err != nil {
		t.Fatal(err)
	}
	src.Tokenizer = testTokenizer(t)
	modelDir := t.TempDir()
	if err := src.Save(modelDir); err != nil {
		t.Fatal(err)
	}
	fake := newFakeHub(t, "acme/tiny-clip", modelDir)
	fake.token = "secret-token"
	srv := httptest.NewServer(fake)
	cache := t.TempDir()
	t.Setenv("HF_TOKEN", fake.token)
	t.Setenv("HF_HUB_OFFLINE", "")

	ctx := context.Background()
	m, err := Load(ctx, b, "acme/tiny-clip", LoadOptions{Endpoint: srv.URL, CacheDir: cache, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if m.Revision != fake.sha || m.Source != "acme/tiny-clip" || m.Tokenizer == nil {
		t.Errorf("loaded revision %q source %q tokenizer %v", m.Revision, m.Source, m.Tokenizer != nil)
	}
	f1, _ := src.Fingerprint()
	f2, _ := m.Fingerprint()
	if f1 != f2 {
		t.Errorf("hub model fingerprint %s differs from the saved one %s", f2, f1)
	}
	repoDir := filepath.Join(cache, "models--acme--tiny-clip")
	ref, err := os.ReadFile(filepath.Join(repoDir, "refs", "main"))
	if err != nil || string(ref) != fake.sha {
		t.Errorf("refs/main = %q (%v), want %s", ref, err, fake.sha)
	}
	snap := filepath.Join(repoDir, "snapshots", fake.sha, "model.safetensors")
	if fi, err := os.Lstat(snap); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s should be a symlink into blobs/ (HF layout): %v", snap, err)
	}
	downloads := fake.gets.Load()
	if downloads == 0 {
		t.Fatal("nothing was downloaded")
	}

	// A second online load downloads nothing.
	if _, err := Load(ctx, b, "acme/tiny-clip", LoadOptions{Endpoint: srv.URL, CacheDir: cache, Log: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if got := fake.gets.Load(); got != downloads {
		t.Errorf("a filled cache re-downloaded %d files", got-downloads)
	}

	// Hub gone: the cached snapshot is used.
	srv.Close()
	for _, opts := range []LoadOptions{
		{Endpoint: srv.URL},
		{Endpoint: "http://127.0.0.1:1", Offline: true},
	} {
		opts.CacheDir, opts.Log = cache, io.Discard
		m2, err := Load(ctx, b, "acme/tiny-clip", opts)
		if err != nil {
			t.Fatalf("offline load: %v", err)
		}
		if f, _ := m2.Fingerprint(); f != f1 {
			t.Errorf("offline load fingerprint %s, want %s", f, f1)
		}
	}
	t.Setenv("HF_HUB_OFFLINE", "1")
	if _, err := Load(ctx, b, "acme/tiny-clip", LoadOptions{CacheDir: cache, Log: io.Discard}); err != nil {
		t.Errorf("HF_HUB_OFFLINE=1: %v", err)
	}
	if _, err := Load(ctx, b, "acme/other", LoadOptions{CacheDir: cache, Log: io.Discard}); err == nil || !strings.Contains(err.Error(), "not in the cache") {
		t.Errorf("unknown repo offline: error %v", err)
	}
}

// TestHubErrors checks a wrong token and a repository without safetensors weights are reported.
func TestHubErrors(t *testing.T) {
	b := goBackend(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"model_type":"clip"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pytorch_model.bin"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fake := newFakeHub(t, "acme/bin-only", dir)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	t.Setenv("HF_HUB_OFFLINE", "")
	_, err := Load(context.Background(), b, "acme/bin-only", LoadOptions{Endpoint: srv.URL, CacheDir: t.TempDir(), Log: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "model.safetensors") {
		t.Errorf("repo without safetensors: error %v", err)
	}
	fake.token = "needed"
	_, err = Load(context.Background(), b, "acme/bin-only", LoadOptions{Endpoint: srv.URL, CacheDir: t.TempDir(),
		Token: "wrong", Log: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: error %v", err)
	}
}
