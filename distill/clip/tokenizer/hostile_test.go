package tokenizer

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

var (
	sharedOnce sync.Once
	shared     *Tokenizer
	sharedErr  error
)

// goldenTokenizer loads OpenAI's BPE file from testdata once per test binary (fuzzing calls it per input).
func goldenTokenizer(t testing.TB) *Tokenizer {
	sharedOnce.Do(func() { shared, sharedErr = LoadBPE("testdata/bpe_simple_vocab_16e6.txt.gz") })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// bpeReference is OpenAI's loop, verbatim in Go: merge every occurrence of the lowest-ranked adjacent pair, left to
// right, until no pair has a rank. Quadratic; the reference for the heap version on short words.
func (t *Tokenizer) bpeReference(word string) []string {
	var syms []string
	for _, r := range word {
		syms = append(syms, string(r))
	}
	if len(syms) == 0 {
		return nil
	}
	syms[len(syms)-1] += "</w>"
	for len(syms) > 1 {
		best, bestRank := -1, int(^uint(0)>>1)
		for i := 0; i+1 < len(syms); i++ {
			if r, ok := t.ranks[[2]string{syms[i], syms[i+1]}]; ok && r < bestRank {
				best, bestRank = i, r
			}
		}
		if best < 0 {
			break
		}
		pair := [2]string{syms[best], syms[best+1]}
		var merged []string
		for i := 0; i < len(syms); {
			if i+1 < len(syms) && syms[i] == pair[0] && syms[i+1] == pair[1] {
				merged = append(merged, pair[0]+pair[1])
				i += 2
			} else {
				merged = append(merged, syms[i])
				i++
			}
		}
		syms = merged
	}
	return syms
}

// TestLongWord: one run of 200,000 random letters (a hostile caption file) is a single BPE word, and OpenAI's loop
// merges about one pair per pass on it: quadratic, 4 s at 32,000 letters and about 3 minutes at 200,000 (an hour
// for 1 MB). The heap version takes tens of milliseconds; its 77-token row is well formed.
func TestLongWord(t *testing.T) {
	tok := goldenTokenizer(t)
	rng := rand.New(rand.NewPCG(1, 1))
	letters := make([]byte, 200_000)
	for i := range letters {
		letters[i] = byte('a' + rng.IntN(26))
	}
	text := string(letters)
	ids := tok.Encode(text)
	if len(ids) < 1000 || ids[0] != tok.BOS || ids[len(ids)-1] != tok.EOS {
		t.Fatalf("%d ids", len(ids))
	}
	row := tok.Batch([]string{text})[0]
	if len(row) != tok.ContextLength || row[tok.ContextLength-1] != tok.EOS {
		t.Errorf("row %v", row)
	}
	for _, w := range []string{"aaaaaaaaaaaaaaaa", "abababababab", "mississippi", "lowerlowerlowest", "zzzzzzzzz"} {
		if got, want := tok.bpe(byteMapped(w)), tok.bpeReference(byteMapped(w)); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("bpe(%q) = %q, reference %q", w, got, want)
		}
	}
}

func byteMapped(s string) string {
	var sb strings.Builder
	for _, b := range []byte(s) {
		sb.WriteRune(byteTable[b])
	}
	return sb.String()
}

// FuzzEncode tokenizes arbitrary text (caption files and vocabulary tables are user input): no panic, BOS … EOS
// with ids in the vocabulary, fixed-length rows, and the heap BPE equal to OpenAI's loop on every piece of up to 64
// bytes.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"a photo of a cat", "Hello   World!", "&amp;amp; <|endoftext|> x", "\xff\xfe invalid utf-8",
		"caf\u00e9 na\u0308ive 東京 🙂", strings.Repeat("a", 300), "'s'll'd 123 4.5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tok := goldenTokenizer(t)
		ids := tok.Encode(text)
		if len(ids) < 2 || ids[0] != tok.BOS || ids[len(ids)-1] != tok.EOS {
			t.Fatalf("Encode(%q) = %v", text, ids)
		}
		for _, id := range ids {
			if _, ok := tok.decoder[id]; !ok {
				t.Fatalf("Encode(%q): id %d outside the vocabulary", text, id)
			}
		}
		if row := tok.Batch([]string{text})[0]; len(row) != tok.ContextLength {
			t.Fatalf("Batch row of %d ids", len(row))
		}
		_ = tok.Decode(ids)
		for _, piece := range pattern.FindAllString(tok.Clean(text), -1) {
			if len(piece) > 64 || piece == StartOfText || piece == EndOfText {
				continue
			}
			w := byteMapped(piece)
			if !utf8.ValidString(w) {
				t.Fatalf("byte mapping of %q is not UTF-8", piece)
			}
			if got, want := tok.bpe(w), tok.bpeReference(w); strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Fatalf("bpe(%q) = %q, OpenAI's loop gives %q", piece, got, want)
			}
		}
	})
}
