package tinyclip

import (
	"sort"
	"strings"
	"unicode"

	"github.com/faildirs/faildirs/distill/clip/tokenizer"
)

// pieces splits lower-case text into the pieces CLIP's pre-tokenizer produces for plain ASCII captions: letter
// runs, single digits, and runs of other non-space symbols. (Captions here are ASCII; a test checks the result
// against the tokenizer, which tokenizes each piece to one id.)
func pieces(text string) []string {
	var out []string
	var cur strings.Builder
	kind := 0 // 0 none, 1 letters, 2 symbols
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
		kind = 0
	}
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsSpace(r):
			flush()
		case unicode.IsLetter(r):
			if kind != 1 {
				flush()
			}
			kind = 1
			cur.WriteRune(r)
		case unicode.IsDigit(r):
			flush()
			out = append(out, string(r))
		default:
			if kind != 2 {
				flush()
			}
			kind = 2
			cur.WriteRune(r)
		}
	}
	flush()
	return out
}

// LearnMerges learns byte-level BPE merges (CLIP's scheme: GPT-2 byte symbols, "</w>" on a word's last symbol)
// from the words of texts until every word is a single symbol. Each step merges the most frequent adjacent pair,
// counted over word occurrences; ties go to the lexicographically smallest pair, so the result is deterministic.
func LearnMerges(texts []string) [][2]string {
	counts := map[string]int{}
	for _, t := range texts {
		for _, p := range pieces(t) {
			counts[p]++
		}
	}
	words := make([]string, 0, len(counts))
	for w := range counts {
		words = append(words, w)
	}
	sort.Strings(words)
	table := tokenizer.ByteToUnicode()
	syms := make([][]string, len(words))
	for i, w := range words {
		for _, b := range []byte(w) {
			syms[i] = append(syms[i], string(table[b]))
		}
		syms[i][len(syms[i])-1] += "</w>"
	}
	var merges [][2]string
	for {
		pairs := map[[2]string]int{}
		for i, s := range syms {
			for j := 0; j+1 < len(s); j++ {
				pairs[[2]string{s[j], s[j+1]}] += counts[words[i]]
			}
		}
		if len(pairs) == 0 {
			return merges
		}
		var best [2]string
		bestN := -1
		for p, n := range pairs {
			if n > bestN || (n == bestN && (p[0] < best[0] || (p[0] == best[0] && p[1] < best[1]))) {
				best, bestN = p, n
			}
		}
		merges = append(merges, best)
		for i, s := range syms {
			merged := s[:0:0]
			for j := 0; j < len(s); {
				if j+1 < len(s) && s[j] == best[0] && s[j+1] == best[1] {
					merged = append(merged, best[0]+best[1])
					j += 2
				} else {
					merged = append(merged, s[j])
					j++
				}
			}
			syms[i] = merged
		}
	}
}

// NewTokenizer returns the tiny CLIP's tokenizer: OpenAI's vocabulary layout (256 byte symbols, the same with
// "</w>", one token per merge, then <|startoftext|> and <|endoftext|>) with merges learned from [AllCaptions], so
// each caption word is one token. Words outside that vocabulary still tokenize (into byte pieces), to embeddings
// the model never trained.
func NewTokenizer() *tokenizer.Tokenizer {
	return tokenizer.FromMerges(LearnMerges(AllCaptions()))
}
