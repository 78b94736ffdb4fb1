// Package tokenizer is CLIP's byte-level BPE tokenizer in Go, matching OpenAI's simple_tokenizer.py.
//
// It loads OpenAI's merges file (bpe_simple_vocab_16e6.txt[.gz]) or a Hugging Face checkpoint's tokenizer files
// (tokenizer.json, or vocab.json + merges.txt), and encodes text the OpenAI way:
//
//  1. clean: Unicode NFC (what ftfy.fix_text does to well-formed text; ftfy's mojibake repairs are not
//     reproduced), HTML-unescape twice ("&amp;amp;" → "&"), collapse whitespace runs to one space, strip,
//     lowercase. Set [Tokenizer.HTMLUnescape] to false to match HF's tokenizers, which do not unescape.
//  2. split with CLIP's pattern: the special tokens, the contractions 's 't 're 've 'm 'll 'd, letter runs,
//     single digits, runs of other non-space symbols. Whitespace means Unicode White_Space.
//  3. map each piece's UTF-8 bytes through the GPT-2 byte-to-unicode table, append "</w>" to the last symbol,
//     and merge adjacent pairs by rank until none applies.
//
// [Tokenizer.Encode] returns BOS + ids + EOS untruncated; [Tokenizer.Batch] returns fixed-length rows of
// ContextLength (77) ids, truncated the OpenAI truncate=True / HF truncation=True way (the last kept id becomes
// EOS) and padded with PadID (0 as OpenAI; HF pads with EOS; the model output is the same either way).
//
//	tok, err := tokenizer.LoadDir("clip-folder") // tokenizer.json, or vocab.json + merges.txt
//	rows := tok.Batch([]string{"a photo of a cat"})  // [][]int32, 77 ids each
package tokenizer

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"container/heap"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/faildirs/faildirs/internal/atomicfile"
	"golang.org/x/text/unicode/norm"
)

// Special token strings.
const (
	StartOfText = "<|startoftext|>"
	EndOfText   = "<|endoftext|>"
)

// DefaultContextLength is CLIP's text context length.
const DefaultContextLength = 77

// Tokenizer encodes text into CLIP token ids. It is safe for concurrent use; a copy (to change the exported
// settings) shares the vocabulary and cache.
type Tokenizer struct {
	// ContextLength is the row length of [Tokenizer.Batch] (77).
	ContextLength int
	// PadID fills rows after EOS in [Tokenizer.Batch]; 0 as OpenAI's clip.tokenize.
	PadID int32
	// HTMLUnescape applies OpenAI's double html.unescape when cleaning (default true).
	HTMLUnescape bool
	// BOS and EOS are the ids of <|startoftext|> and <|endoftext|>.
	BOS, EOS int32

	encoder map[string]int32
	decoder map[int32]string
	ranks   map[[2]string]int
	merges  [][2]string // in rank order

	cache *bpeCache // shared by copies of a Tokenizer: it depends only on the vocabulary
}

// maxCachedPiece bounds the length in bytes of the pieces the cache keeps (words are short; a long run of letters
// from hostile input is not worth keeping).
const maxCachedPiece = 256

// bpeCache memoises the ids of pre-tokenized pieces.
type bpeCache struct {
	mu  sync.Mutex
	ids map[string][]int32
}

// pattern is CLIP's pre-tokenizer regular expression.
var pattern = regexp.MustCompile(`(?i)<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^` + whiteClass + `\p{L}\p{N}]+`)

// whiteClass is the Unicode White_Space property as a character-class body (RE2's \s is ASCII-only).
const whiteClass = `\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`

var whiteRuns = regexp.MustCompile(`[` + whiteClass + `]+`)

// ByteToUnicode returns GPT-2's reversible byte → printable rune table: bytes 33–126, 161–172 and 174–255 map
// to themselves, the other 68 bytes, in increasing order, to 256, 257, …, 323.
func ByteToUnicode() [256]rune {
	var table [256]rune
	n := 0
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			table[b] = rune(b)
		} else {
			table[b] = rune(256 + n)
			n++
		}
	}
	return table
}

// byteOrder is the order of the byte symbols in OpenAI's vocabulary: the self-mapped bytes first, then the rest.
func byteOrder() []int {
	var first, rest []int
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			first = append(first, b)
		} else {
			rest = append(rest, b)
		}
	}
	return append(first, rest...)
}

var byteTable = ByteToUnicode()

// NumOpenAIMerges is the number of merges OpenAI's tokenizer uses from its file (49152 − 256 − 2).
const NumOpenAIMerges = 49152 - 256 - 2

// FromMerges builds a tokenizer from merges in rank order with OpenAI's vocabulary layout: the 256 byte
// symbols, the same with "</w>", one token per merge, then <|startoftext|> and <|endoftext|>.
func FromMerges(merges [][2]string) *Tokenizer {
	vocab := make([]string, 0, 512+len(merges)+2)
	table := byteTable
	for _, b := range byteOrder() {
		vocab = append(vocab, string(table[b]))
	}
	for _, b := range byteOrder() {
		vocab = append(vocab, string(table[b])+"</w>")
	}
	for _, m := range merges {
		vocab = append(vocab, m[0]+m[1])
	}
	vocab = append(vocab, StartOfText, EndOfText)
	enc := make(map[string]int32, len(vocab))
	for i, v := range vocab {
		enc[v] = int32(i)
	}
	t, _ := newTokenizer(enc, merges)
	return t
}

func newTokenizer(encoder map[string]int32, merges [][2]string) (*Tokenizer, error) {
	bos, ok1 := encoder[StartOfText]
	eos, ok2 := encoder[EndOfText]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("tokenizer: vocabulary lacks %s or %s", StartOfText, EndOfText)
	}
	t := &Tokenizer{ContextLength: DefaultContextLength, HTMLUnescape: true, BOS: bos, EOS: eos,
		encoder: encoder, decoder: make(map[int32]string, len(encoder)), ranks: make(map[[2]string]int, len(merges)),
		merges: merges, cache: &bpeCache{ids: map[string][]int32{}}}
	for s, id := range encoder {
		t.decoder[id] = s
	}
	for i, m := range merges {
		if _, dup := t.ranks[m]; !dup {
			t.ranks[m] = i
		}
	}
	return t, nil
}

// LoadBPE reads OpenAI's merges file (bpe_simple_vocab_16e6.txt, gzipped or not): a header line, then one merge
// "a b" per line; the first [NumOpenAIMerges] are used, as OpenAI does.
func LoadBPE(path string) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReader(f)
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	merges, err := readMerges(r, NumOpenAIMerges)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	if len(merges) != NumOpenAIMerges {
		return nil, fmt.Errorf("tokenizer: %s: %d merges, want %d", path, len(merges), NumOpenAIMerges)
	}
	return FromMerges(merges), nil
}

// readMerges reads "a b" lines after a first header line, up to limit (≤ 0: all).
func readMerges(r io.Reader, limit int) ([][2]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	var merges [][2]string
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		// The first line is a header ("#version: 0.2", or OpenAI's "\"bpe_simple_vocab_16e6.txt#version: 0.2").
		if (line == 1 && strings.Contains(text, "#version")) || strings.HasPrefix(text, "#version") || text == "" {
			continue
		}
		parts := strings.Split(text, " ")
		if len(parts) != 2 {
			return nil, fmt.Errorf("line %d: merge %q is not two symbols separated by one space", line, text)
		}
		merges = append(merges, [2]string{parts[0], parts[1]})
		if limit > 0 && len(merges) == limit {
			break
		}
	}
	return merges, sc.Err()
}

// LoadDir loads the tokenizer files of an HF model folder: tokenizer.json if present, else vocab.json and
// merges.txt.
func LoadDir(dir string) (*Tokenizer, error) {
	tj := filepath.Join(dir, "tokenizer.json")
	if _, err := os.Stat(tj); err == nil {
		return LoadTokenizerJSON(tj)
	}
	vj, mt := filepath.Join(dir, "vocab.json"), filepath.Join(dir, "merges.txt")
	if _, err := os.Stat(vj); err == nil {
		return LoadVocabMerges(vj, mt)
	}
	return nil, fmt.Errorf("tokenizer: %s has neither tokenizer.json nor vocab.json + merges.txt", dir)
}

// LoadVocabMerges loads HF's vocab.json (token → id) and merges.txt.
func LoadVocabMerges(vocabPath, mergesPath string) (*Tokenizer, error) {
	raw, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var vocab map[string]int32
	if err := json.Unmarshal(raw, &vocab); err != nil {
		return nil, fmt.Errorf("tokenizer: parsing %s: %w", vocabPath, err)
	}
	f, err := os.Open(mergesPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	defer f.Close()
	merges, err := readMerges(f, 0)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", mergesPath, err)
	}
	t, err := newTokenizer(vocab, merges)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", vocabPath, err)
	}
	return t, nil
}

// LoadTokenizerJSON loads an HF tokenizers "tokenizer.json" with a BPE model (CLIP's layout). Only the vocabulary,
// merges and added tokens are read; the normalisation and splitting are CLIP's, as described in the package doc.
func LoadTokenizerJSON(path string) (*Tokenizer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	var tj struct {
		AddedTokens []struct {
			ID      int32  `json:"id"`
			Content string `json:"content"`
		} `json:"added_tokens"`
		Model struct {
			Type   string            `json:"type"`
			Vocab  map[string]int32  `json:"vocab"`
			Merges []json.RawMessage `json:"merges"`
		} `json:"model"`
	}
	if err := json.Unmarshal(raw, &tj); err != nil {
		return nil, fmt.Errorf("tokenizer: parsing %s: %w", path, err)
	}
	if tj.Model.Type != "" && tj.Model.Type != "BPE" {
		return nil, fmt.Errorf("tokenizer: %s: model type %q, want BPE", path, tj.Model.Type)
	}
	vocab := tj.Model.Vocab
	if vocab == nil {
		vocab = map[string]int32{}
	}
	for _, at := range tj.AddedTokens {
		vocab[at.Content] = at.ID
	}
	merges := make([][2]string, 0, len(tj.Model.Merges))
	for i, m := range tj.Model.Merges {
		var s string
		var pair []string
		switch {
		case json.Unmarshal(m, &s) == nil:
			pair = strings.Split(s, " ")
		case json.Unmarshal(m, &pair) == nil:
		default:
			return nil, fmt.Errorf("tokenizer: %s: merge %d (%s) is neither \"a b\" nor [a, b]", path, i, m)
		}
		if len(pair) != 2 {
			return nil, fmt.Errorf("tokenizer: %s: merge %d (%s) has %d parts", path, i, m, len(pair))
		}
		merges = append(merges, [2]string{pair[0], pair[1]})
	}
	t, err := newTokenizer(vocab, merges)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// VocabSize returns the number of ids (one more than the largest id).
func (t *Tokenizer) VocabSize() int {
	n := int32(0)
	for id := range t.decoder {
		n = max(n, id+1)
	}
	return int(n)
}

// Merges returns the merges in rank order.
func (t *Tokenizer) Merges() [][2]string { return t.merges }

// ID returns the id of a vocabulary entry.
func (t *Tokenizer) ID(token string) (int32, bool) {
	id, ok := t.encoder[token]
	return id, ok
}

// Clean applies the cleaning step (step 1 of the package doc).
func (t *Tokenizer) Clean(text string) string {
	text = norm.NFC.String(text)
	if t.HTMLUnescape {
		text = html.UnescapeString(html.UnescapeString(text))
	}
	text = strings.TrimSpace(whiteRuns.ReplaceAllString(strings.TrimSpace(text), " "))
	return strings.ToLower(text)
}

// Encode returns [BOS] + the BPE ids of text + [EOS], untruncated.
func (t *Tokenizer) Encode(text string) []int32 {
	ids := []int32{t.BOS}
	for _, piece := range pattern.FindAllString(t.Clean(text), -1) {
		ids = append(ids, t.bpeIDs(piece)...)
	}
	return append(ids, t.EOS)
}

// bpeIDs returns the ids of one pre-tokenized piece, from the cache when possible.
func (t *Tokenizer) bpeIDs(piece string) []int32 {
	switch piece {
	case StartOfText:
		return []int32{t.BOS}
	case EndOfText:
		return []int32{t.EOS}
	}
	t.cache.mu.Lock()
	ids, ok := t.cache.ids[piece]
	t.cache.mu.Unlock()
	if ok {
		return ids
	}
	var sb strings.Builder
	for _, b := range []byte(piece) {
		sb.WriteRune(byteTable[b])
	}
	for _, sym := range t.bpe(sb.String()) {
		id, ok := t.encoder[sym]
		if !ok {
			id = t.EOS // HF's unk token for CLIP; never reached with a consistent vocabulary
		}
		ids = append(ids, id)
	}
	t.cache.mu.Lock()
	if len(t.cache.ids) < 1<<16 && len(piece) <= maxCachedPiece {
		t.cache.ids[piece] = ids
	}
	t.cache.mu.Unlock()
	return ids
}

// bpe merges the symbols of word (already byte-mapped) by rank; the last symbol carries "</w>". The result is that
// of OpenAI's loop (repeatedly merge every occurrence of the lowest-ranked adjacent pair, left to right), computed
// with a heap of candidate pairs ordered by (rank, position) in O(n log n): occurrences of one pair have one rank
// and come out left to right, and a merge never creates another occurrence of the pair just merged. The quadratic
// loop took minutes on one long word.
func (t *Tokenizer) bpe(word string) []string {
	runes := []rune(word)
	n := len(runes)
	if n == 0 {
		return nil
	}
	syms := make([]string, n)
	for i, r := range runes {
		syms[i] = string(r)
	}
	syms[n-1] += "</w>"
	if n == 1 {
		return syms
	}
	prev, next := make([]int, n), make([]int, n) // a linked list over positions; merged-away positions are dead
	alive := make([]bool, n)
	for i := range n {
		prev[i], next[i], alive[i] = i-1, i+1, true
	}
	next[n-1] = -1
	h := &pairHeap{}
	push := func(i int) {
		if i < 0 || next[i] < 0 {
			return
		}
		if r, ok := t.ranks[[2]string{syms[i], syms[next[i]]}]; ok {
			heap.Push(h, pairAt{rank: r, pos: i, left: syms[i], right: syms[next[i]]})
		}
	}
	for i := range n - 1 {
		push(i)
	}
	for h.Len() > 0 {
		p := heap.Pop(h).(pairAt)
		i := p.pos
		if !alive[i] || next[i] < 0 || syms[i] != p.left || syms[next[i]] != p.right {
			continue // stale: one side was merged since
		}
		j := next[i]
		syms[i] += syms[j]
		alive[j] = false
		next[i] = next[j]
		if next[j] >= 0 {
			prev[next[j]] = i
		}
		push(prev[i])
		push(i)
	}
	out := make([]string, 0, n)
	for i := 0; i >= 0; i = next[i] {
		out = append(out, syms[i])
	}
	return out
}

// pairAt is a candidate merge: the pair (left, right) starting at position pos, with its rank.
type pairAt struct {
	rank, pos   int
	left, right string
}

type pairHeap []pairAt

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(a, b int) bool {
	return h[a].rank < h[b].rank || h[a].rank == h[b].rank && h[a].pos < h[b].pos
}
func (h pairHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pairAt)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Truncate returns ids cut to n the OpenAI truncate=True way: if longer than n, the first n ids with the last
// one replaced by EOS. Shorter input is returned unchanged.
func (t *Tokenizer) Truncate(ids []int32, n int) []int32 {
	if len(ids) <= n {
		return ids
	}
	out := append([]int32(nil), ids[:n]...)
	out[n-1] = t.EOS
	return out
}

// Batch encodes texts into rows of exactly ContextLength ids: truncated (see [Tokenizer.Truncate]) and padded
// with PadID.
func (t *Tokenizer) Batch(texts []string) [][]int32 {
	rows := make([][]int32, len(texts))
	for i, text := range texts {
		ids := t.Truncate(t.Encode(text), t.ContextLength)
		row := make([]int32, t.ContextLength)
		copy(row, ids)
		for j := len(ids); j < len(row); j++ {
			row[j] = t.PadID
		}
		rows[i] = row
	}
	return rows
}

// Decode turns ids back into text (special tokens kept, "</w>" as a space), for display and debugging.
func (t *Tokenizer) Decode(ids []int32) string {
	inv := map[rune]byte{}
	for b, r := range byteTable {
		inv[r] = byte(b)
	}
	var buf bytes.Buffer
	for _, id := range ids {
		s, ok := t.decoder[id]
		if !ok {
			continue
		}
		if s == StartOfText || s == EndOfText {
			buf.WriteString(s)
			continue
		}
		word := strings.TrimSuffix(s, "</w>")
		for _, r := range word {
			if b, ok := inv[r]; ok {
				buf.WriteByte(b)
			}
		}
		if len(word) != len(s) {
			buf.WriteByte(' ')
		}
	}
	return strings.TrimSpace(buf.String())
}

// Save writes HF's vocab.json and merges.txt (plus a minimal tokenizer_config.json and special_tokens_map.json)
// into dir, atomically per file, so that [LoadDir] and HF's CLIPTokenizer read them.
func (t *Tokenizer) Save(dir string) error {
	type kv struct {
		tok string
		id  int32
	}
	entries := make([]kv, 0, len(t.encoder))
	for s, id := range t.encoder {
		entries = append(entries, kv{s, id})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].id < entries[j].id })
	var vj bytes.Buffer
	vj.WriteString("{")
	for i, e := range entries {
		if i > 0 {
			vj.WriteString(",")
		}
		k, _ := json.Marshal(e.tok)
		fmt.Fprintf(&vj, "%s:%d", k, e.id)
	}
	vj.WriteString("}")
	var mt bytes.Buffer
	mt.WriteString("#version: 0.2\n")
	for _, m := range t.merges {
		mt.WriteString(m[0] + " " + m[1] + "\n")
	}
	cfg, _ := json.MarshalIndent(map[string]any{
		"tokenizer_class": "CLIPTokenizer", "model_max_length": t.ContextLength, "bos_token": StartOfText,
		"eos_token": EndOfText, "unk_token": EndOfText, "pad_token": EndOfText, "do_lower_case": true,
	}, "", "  ")
	special, _ := json.MarshalIndent(map[string]any{
		"bos_token": StartOfText, "eos_token": EndOfText, "unk_token": EndOfText, "pad_token": EndOfText,
	}, "", "  ")
	for _, f := range []struct {
		name string
		data []byte
	}{{"vocab.json", vj.Bytes()}, {"merges.txt", mt.Bytes()}, {"tokenizer_config.json", cfg}, {"special_tokens_map.json", special}} {
		if err := atomicfile.WriteBytes(filepath.Join(dir, f.name), f.data); err != nil {
			return fmt.Errorf("tokenizer: %w", err)
		}
	}
	return nil
}
