package tokenizer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/faildirs/faildirs/distill/clip/internal/fixtures"
)

type golden struct {
	VocabSize       int              `json:"vocab_size"`
	BOS             int32            `json:"bos_id"`
	EOS             int32            `json:"eos_id"`
	NumMergesUsed   int              `json:"num_merges_used"`
	First5Merges    []string         `json:"first_5_merges"`
	LastMerge       string           `json:"last_merge"`
	SHA256Gz        string           `json:"bpe_file_sha256_gz"`
	ByteToUnicode   []rune           `json:"byte_to_unicode_codepoints"`
	VocabSpotChecks map[string]int32 `json:"vocab_spot_checks"`
	ContextLength   int              `json:"context_length"`
	Entries         []goldenEntry    `json:"entries"`
}

type goldenEntry struct {
	Text        string  `json:"text"`
	IDs         []int32 `json:"ids"`
	Truncated77 []int32 `json:"ids_truncated_77"`
}

// loadGolden reads the tokenizer golden (FAILDIRS_TOKENIZER_GOLDEN) and the BPE file beside it.
func loadGolden(t *testing.T) (golden, string) {
	t.Helper()
	paths, err := fixtures.Paths(fixtures.EnvTokenizerGolden, "testdata/tokenizer_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", paths[0], err)
	}
	bpe := filepath.Join(filepath.Dir(paths[0]), "bpe_simple_vocab_16e6.txt.gz")
	return g, bpe
}

func TestGoldenOpenAIBPE(t *testing.T) {
	g, bpePath := loadGolden(t)
	data, err := os.ReadFile(bpePath)
	if err != nil {
		t.Fatalf("the BPE file must sit beside the golden: %v", err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != g.SHA256Gz {
		t.Fatalf("%s sha256 %s, golden expects %s", bpePath, got, g.SHA256Gz)
	}
	tok, err := LoadBPE(bpePath)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstGolden(t, tok, g)
}

func checkAgainstGolden(t *testing.T, tok *Tokenizer, g golden) {
	t.Helper()
	if tok.VocabSize() != g.VocabSize || tok.BOS != g.BOS || tok.EOS != g.EOS {
		t.Fatalf("vocab %d bos %d eos %d, want %d %d %d", tok.VocabSize(), tok.BOS, tok.EOS, g.VocabSize, g.BOS, g.EOS)
	}
	if n := len(tok.Merges()); n != g.NumMergesUsed {
		t.Errorf("%d merges, want %d", n, g.NumMergesUsed)
	}
	for i, m := range g.First5Merges {
		if got := tok.Merges()[i][0] + " " + tok.Merges()[i][1]; got != m {
			t.Errorf("merge %d = %q, want %q", i, got, m)
		}
	}
	last := tok.Merges()[len(tok.Merges())-1]
	if got := last[0] + " " + last[1]; got != g.LastMerge {
		t.Errorf("last merge %q, want %q", got, g.LastMerge)
	}
	table := ByteToUnicode()
	for b, r := range g.ByteToUnicode {
		if table[b] != r {
			t.Errorf("byte %d → %d, want %d", b, table[b], r)
		}
	}
	for s, want := range g.VocabSpotChecks {
		if id, ok := tok.ID(s); !ok || id != want {
			t.Errorf("vocab[%q] = %d (%v), want %d", s, id, ok, want)
		}
	}
	failures := 0
	for _, e := range g.Entries {
		got := tok.Encode(e.Text)
		if !slices.Equal(got, e.IDs) {
			failures++
			t.Errorf("Encode(%q) =\n %v\nwant\n %v", e.Text, got, e.IDs)
		}
		row := tok.Batch([]string{e.Text})[0]
		want := e.IDs
		if e.Truncated77 != nil {
			want = e.Truncated77
		}
		if len(row) != g.ContextLength || !slices.Equal(row[:len(want)], want) {
			t.Errorf("Batch(%q) = %v, want prefix %v", e.Text, row, want)
		}
		for _, id := range row[len(want):] {
			if id != 0 {
				t.Errorf("Batch(%q) pads with %d, want 0", e.Text, id)
				break
			}
		}
	}
	t.Logf("%d golden entries, %d mismatches", len(g.Entries), failures)
}

// TestSaveLoadRoundTrip writes HF vocab.json + merges.txt and checks the reloaded tokenizer gives the golden ids.
func TestSaveLoadRoundTrip(t *testing.T) {
	g, bpePath := loadGolden(t)
	tok, err := LoadBPE(bpePath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tok.Save(dir); err != nil {
		t.Fatal(err)
	}
	back, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstGolden(t, back, g)

	// The same vocabulary as an HF tokenizer.json (merges as "a b" strings).
	vocab := map[string]int32{}
	for s, id := range tok.encoder {
		if s != StartOfText && s != EndOfText {
			vocab[s] = id
		}
	}
	merges := make([]string, len(tok.Merges()))
	for i, m := range tok.Merges() {
		merges[i] = m[0] + " " + m[1]
	}
	tj := map[string]any{
		"added_tokens": []map[string]any{{"id": tok.BOS, "content": StartOfText}, {"id": tok.EOS, "content": EndOfText}},
		"model":        map[string]any{"type": "BPE", "vocab": vocab, "merges": merges},
	}
	raw, _ := json.Marshal(tj)
	dir2 := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir2, "tokenizer.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	back2, err := LoadDir(dir2)
	if err != nil {
		t.Fatal(err)
	}
	checkAgainstGolden(t, back2, g)
}

func TestCleanAndEdgeCases(t *testing.T) {
	_, bpePath := loadGolden(t)
	tok, err := LoadBPE(bpePath)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, a, b string // a and b must tokenize identically
	}{
		{"unicode spaces collapse like ASCII ones", "a\u00a0photo\u2003of\u3000a cat", "a photo of a cat"},
		{"NFC", "cafe\u0301", "caf\u00e9"},
		{"double unescape", "fish &amp;amp; chips", "fish & chips"},
		{"case", "A PHOTO", "a photo"},
	}
	for _, tc := range tests {
		if a, b := tok.Encode(tc.a), tok.Encode(tc.b); !slices.Equal(a, b) {
			t.Errorf("%s: %q → %v but %q → %v", tc.name, tc.a, a, tc.b, b)
		}
	}
	// HF mode keeps the entity.
	hf := *tok
	hf.HTMLUnescape = false
	if slices.Equal(hf.Encode("fish &amp; chips"), tok.Encode("fish & chips")) {
		t.Error("with HTMLUnescape=false, &amp; must not become &")
	}
	// Decoding inverts encoding of clean text.
	if got := tok.Decode(tok.Encode("a photo of a 3d-printed toy!")); got != "<|startoftext|>a photo of a 3 d - printed toy ! <|endoftext|>" {
		t.Errorf("Decode = %q", got)
	}
	// Truncation keeps exactly 77 ids ending with EOS, for any length.
	long := ""
	for range 200 {
		long += "cat "
	}
	row := tok.Batch([]string{long})[0]
	if len(row) != 77 || row[76] != tok.EOS || row[0] != tok.BOS {
		t.Errorf("truncated row: len %d, first %d, last %d", len(row), row[0], row[76])
	}
}
