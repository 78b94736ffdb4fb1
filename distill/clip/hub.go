package clip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/faildirs/faildirs/internal/atomicfile"
	"github.com/gomlx/go-huggingface/hub"
)

// Hub access. Files land in the HF cache layout shared with Python's huggingface_hub:
//
//	<cache>/models--<owner>--<name>/blobs/<etag>
//	<cache>/models--<owner>--<name>/snapshots/<commit>/<file> -> ../../blobs/<etag>
//	<cache>/models--<owner>--<name>/refs/<revision>              (the commit of a branch or tag)
//
// Load asks the hub for the revision's commit and file list (one request, 20 s timeout) and downloads only the
// files its snapshot lacks, through go-huggingface's hub package. When the hub cannot be reached, or offline
// use is requested (LoadOptions.Offline, HF_HUB_OFFLINE=1), the snapshot is found from refs/<revision> (written by
// Python and by this package) or from go-huggingface's info/<revision>, with no network access. go-huggingface
// alone always refetches the repository info first, so a filled cache would fail offline.

// hubFiles are the files a CLIP checkpoint needs, besides its weights; each is fetched if the repo has it.
var hubFiles = []string{"config.json", "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json",
	"special_tokens_map.json", "preprocessor_config.json"}

var commitRE = regexp.MustCompile(`^[0-9a-f]{40}$`)

// hfCacheDir returns huggingface_hub's cache folder: HF_HUB_CACHE, HF_HOME/hub, XDG_CACHE_HOME/huggingface/hub
// or ~/.cache/huggingface/hub.
func hfCacheDir() string {
	if d := os.Getenv("HF_HUB_CACHE"); d != "" {
		return d
	}
	if d := os.Getenv("HF_HOME"); d != "" {
		return filepath.Join(d, "hub")
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "huggingface", "hub")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".cache", "huggingface", "hub")
}

// hfToken returns the token from HF_TOKEN, HUGGING_FACE_HUB_TOKEN or the token file written by `huggingface-cli
// login` (HF_TOKEN_PATH, or HF_HOME/token, or ~/.cache/huggingface/token).
func hfToken() string {
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	path := os.Getenv("HF_TOKEN_PATH")
	if path == "" {
		home := os.Getenv("HF_HOME")
		if home == "" {
			if h, err := os.UserHomeDir(); err == nil {
				home = filepath.Join(h, ".cache", "huggingface")
			}
		}
		path = filepath.Join(home, "token")
	}
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b))
	}
	return ""
}

func envTrue(k string) bool {
	switch strings.ToLower(strings.TrimSpace(os.Getenv(k))) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// repoFolder returns the cache folder of a model repository.
func repoFolder(cacheDir, id string) string {
	return filepath.Join(cacheDir, "models--"+strings.ReplaceAll(id, "/", "--"))
}

// revisionInfo is the part of the hub's /api/models/<id>/revision/<rev> answer used here.
type revisionInfo struct {
	SHA      string `json:"sha"`
	Siblings []struct {
		Name string `json:"rfilename"`
	} `json:"siblings"`
}

// fetchRevision asks the hub for the commit and file list of a revision.
func fetchRevision(ctx context.Context, endpoint, id, rev, token string) (*revisionInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	url := fmt.Sprintf("%s/api/models/%s/revision/%s", strings.TrimSuffix(endpoint, "/"), id, rev)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body[:min(len(body), 300)])))
	}
	var info revisionInfo
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if !commitRE.MatchString(info.SHA) {
		return nil, fmt.Errorf("GET %s: commit %q is not a 40-hex sha", url, info.SHA)
	}
	return &info, nil
}

// localCommit finds the commit of a revision in the cache without network access.
func localCommit(repoDir, rev string) (string, error) {
	if commitRE.MatchString(rev) {
		return rev, nil
	}
	if b, err := os.ReadFile(filepath.Join(repoDir, "refs", rev)); err == nil {
		if sha := strings.TrimSpace(string(b)); commitRE.MatchString(sha) {
			return sha, nil
		}
	}
	if b, err := os.ReadFile(filepath.Join(repoDir, "info", rev)); err == nil {
		var info revisionInfo
		if json.Unmarshal(b, &info) == nil && commitRE.MatchString(info.SHA) {
			return info.SHA, nil
		}
	}
	return "", fmt.Errorf("revision %q of %s is not in the cache (no refs/%s)", rev, repoDir, rev)
}

// weightFiles returns the safetensors files of a snapshot listing, or an error if it has none.
func weightFiles(names []string, readIndex func() ([]byte, error)) ([]string, error) {
	has := map[string]bool{}
	for _, n := range names {
		has[n] = true
	}
	if has["model.safetensors"] {
		return []string{"model.safetensors"}, nil
	}
	if has["model.safetensors.index.json"] {
		raw, err := readIndex()
		if err != nil {
			return nil, err
		}
		var index struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err := json.Unmarshal(raw, &index); err != nil {
			return nil, fmt.Errorf("model.safetensors.index.json: %w", err)
		}
		seen := map[string]bool{}
		files := []string{"model.safetensors.index.json"}
		for _, f := range index.WeightMap {
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
		return files, nil
	}
	return nil, errors.New("the repository has no model.safetensors (only safetensors weights are read; convert pytorch_model.bin first)")
}

// snapshotComplete reports whether every file exists in the snapshot folder.
func snapshotComplete(dir string, files []string) bool {
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return false
		}
	}
	return true
}

// hubSnapshot returns the local snapshot folder of a hub model, downloading what is missing.
func hubSnapshot(ctx context.Context, id string, o LoadOptions) (dir, commit string, err error) {
	if strings.Count(id, "/") != 1 || strings.HasPrefix(id, "/") || strings.HasPrefix(id, ".") {
		return "", "", fmt.Errorf("clip: %q is neither a model folder nor a hub repository id (owner/name)", id)
	}
	cacheDir := o.CacheDir
	if cacheDir == "" {
		cacheDir = hfCacheDir()
	}
	endpoint := o.Endpoint
	if endpoint == "" {
		endpoint = os.Getenv("HF_ENDPOINT")
	}
	if endpoint == "" {
		endpoint = "https://huggingface.co"
	}
	token := o.Token
	if token == "" {
		token = hfToken()
	}
	repoDir := repoFolder(cacheDir, id)
	offline := o.Offline || envTrue("HF_HUB_OFFLINE")
	var online error
	if !offline {
		info, ferr := fetchRevision(ctx, endpoint, id, o.Revision, token)
		if ferr == nil {
			dir, err := download(ctx, id, o, info, cacheDir, endpoint, token)
			if err != nil {
				return "", "", err
			}
			return dir, info.SHA, nil
		}
		online = ferr
	}
	sha, err := localCommit(repoDir, o.Revision)
	if err != nil {
		if online != nil {
			return "", "", fmt.Errorf("clip: hub %s unreachable (%v) and %w", endpoint, online, err)
		}
		return "", "", fmt.Errorf("clip: offline: %w", err)
	}
	dir = filepath.Join(repoDir, "snapshots", sha)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", "", fmt.Errorf("clip: cached snapshot of %s: %w", id, err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	weights, err := weightFiles(names, func() ([]byte, error) { return os.ReadFile(filepath.Join(dir, "model.safetensors.index.json")) })
	if err != nil || !snapshotComplete(dir, append([]string{"config.json"}, weights...)) {
		return "", "", fmt.Errorf("clip: the cached snapshot %s of %s is incomplete (needs config.json and safetensors weights)", dir, id)
	}
	if online != nil && o.Log != nil {
		fmt.Fprintf(o.Log, "clip: hub %s unreachable (%v); using the cached snapshot %s\n", endpoint, online, short(sha))
	}
	return dir, sha, nil
}

// download fetches the files the snapshot lacks and records refs/<revision>.
func download(ctx context.Context, id string, o LoadOptions, info *revisionInfo, cacheDir, endpoint, token string) (string, error) {
	repoDir := repoFolder(cacheDir, id)
	dir := filepath.Join(repoDir, "snapshots", info.SHA)
	names := make([]string, len(info.Siblings))
	has := map[string]bool{}
	for i, s := range info.Siblings {
		names[i] = s.Name
		has[s.Name] = true
	}
	repo := hub.New(id).WithCacheDir(cacheDir).WithEndpoint(strings.TrimSuffix(endpoint, "/")).
		WithRevision(info.SHA).WithAuth(token).WithProgressBar(false)
	repo.Verbosity = 0
	fetch := func(files ...string) error {
		var missing []string
		for _, f := range files {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				missing = append(missing, f)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		if o.Log != nil {
			fmt.Fprintf(o.Log, "clip: downloading %s from %s@%s: %s\n", id, endpoint, short(info.SHA), strings.Join(missing, ", "))
		}
		if _, err := repo.DownloadFilesCtx(ctx, missing...); err != nil {
			return fmt.Errorf("clip: downloading %s (%s): %w", id, strings.Join(missing, ", "), err)
		}
		return nil
	}
	var want []string
	for _, f := range hubFiles {
		if has[f] {
			want = append(want, f)
		}
	}
	if !has["config.json"] {
		return "", fmt.Errorf("clip: hub repository %s@%s has no config.json", id, info.SHA)
	}
	if has["model.safetensors.index.json"] && !has["model.safetensors"] {
		want = append(want, "model.safetensors.index.json")
	}
	if err := fetch(want...); err != nil {
		return "", err
	}
	weights, err := weightFiles(names, func() ([]byte, error) { return os.ReadFile(filepath.Join(dir, "model.safetensors.index.json")) })
	if err != nil {
		return "", fmt.Errorf("clip: %s@%s: %w", id, info.SHA, err)
	}
	if err := fetch(weights...); err != nil {
		return "", err
	}
	if o.Revision != info.SHA {
		ref := filepath.Join(repoDir, "refs", filepath.FromSlash(o.Revision))
		if err := os.MkdirAll(filepath.Dir(ref), 0o755); err == nil {
			_ = atomicfile.WriteBytes(ref, []byte(info.SHA))
		}
	}
	return dir, nil
}
