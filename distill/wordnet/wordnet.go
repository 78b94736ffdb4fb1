// Package wordnet reads the noun synsets of Princeton WordNet 3.0 from its database file data.noun (Debian package
// wordnet-base installs it as /usr/share/wordnet/data.noun): each synset's lemmas, hypernyms and gloss, looked up
// by its offset.
//
// ImageNet class ids are WordNet 3.0 noun offsets written "n" + 8 digits ("n02084071" is dog), so this package
// turns ImageNet classes into names and hypernym ancestors (dog → canine → carnivore → placental → mammal …).
//
//	nouns, err := wordnet.LoadNouns("")                // "" means /usr/share/wordnet/data.noun
//	dog, err := nouns.ByWNID("n02084071")              // dog.Name() == "dog"
//	ancestors, err := nouns.Ancestors(dog.Offset)      // canine, carnivore, placental, mammal, …
//
// Only what faildirs needs is read: other pointer kinds (hyponyms, meronyms, …) are skipped. The WordNet license
// requires its notice to accompany copies of the database; this package copies nothing, it reads the installed file.
package wordnet

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// DefaultNounFile is where Debian's wordnet-base package installs the noun database.
const DefaultNounFile = "/usr/share/wordnet/data.noun"

// Synset is one noun synset.
type Synset struct {
	// Offset is the synset's byte offset in data.noun, its identifier.
	Offset int
	// LexFile is the lexicographer file number (e.g. 5 = noun.animal).
	LexFile int
	// Lemmas are the synset's words as WordNet writes them, with "_" for spaces ("domestic_dog").
	Lemmas []string
	// Hypernyms are the offsets of the synset's hypernyms (pointer "@").
	Hypernyms []int
	// InstanceHypernyms are the offsets of the classes this synset is an instance of (pointer "@i"), e.g. a
	// specific city's "city".
	InstanceHypernyms []int
	// Gloss is the definition and examples.
	Gloss string
}

// WNID returns the synset's ImageNet-style id, "n" followed by the 8-digit offset.
func (s *Synset) WNID() string { return fmt.Sprintf("n%08d", s.Offset) }

// Name returns the synset's first lemma with spaces for underscores ("dog", "ankle boot").
func (s *Synset) Name() string { return LemmaText(s.Lemmas[0]) }

// Names returns all lemmas with spaces for underscores.
func (s *Synset) Names() []string {
	out := make([]string, len(s.Lemmas))
	for i, l := range s.Lemmas {
		out[i] = LemmaText(l)
	}
	return out
}

// LemmaText turns a WordNet lemma into text: underscores become spaces.
func LemmaText(lemma string) string { return strings.ReplaceAll(lemma, "_", " ") }

// Nouns holds the noun synsets of a data.noun file, by offset.
type Nouns struct {
	byOffset map[int]*Synset
}

// LoadNouns reads a data.noun file ([DefaultNounFile] when path is "").
func LoadNouns(path string) (*Nouns, error) {
	if path == "" {
		path = DefaultNounFile
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("wordnet: %w (on Debian: apt-get install wordnet-base)", err)
	}
	defer f.Close()
	n, err := ParseNouns(f)
	if err != nil {
		return nil, fmt.Errorf("wordnet: %s: %w", path, err)
	}
	return n, nil
}

// ParseNouns reads noun synsets in the data.noun format. License lines (starting with a space) are skipped, so an
// excerpt of the file with any subset of its lines parses too.
func ParseNouns(r io.Reader) (*Nouns, error) {
	n := &Nouns{byOffset: make(map[int]*Synset)}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if text == "" || text[0] == ' ' {
			continue
		}
		s, err := parseLine(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if _, dup := n.byOffset[s.Offset]; dup {
			return nil, fmt.Errorf("line %d: synset %08d appears twice", line, s.Offset)
		}
		n.byOffset[s.Offset] = s
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return n, nil
}

// parseLine parses "offset lex_filenum ss_type w_cnt word lex_id ... p_cnt ptr... | gloss".
func parseLine(text string) (*Synset, error) {
	data, gloss, _ := strings.Cut(text, "|")
	f := strings.Fields(data)
	if len(f) < 4 {
		return nil, fmt.Errorf("too few fields in %q", clip(text))
	}
	off, err := strconv.Atoi(f[0])
	if err != nil || len(f[0]) != 8 {
		return nil, fmt.Errorf("bad synset offset %q", f[0])
	}
	s := &Synset{Offset: off, Gloss: strings.TrimSpace(gloss)}
	if s.LexFile, err = strconv.Atoi(f[1]); err != nil {
		return nil, fmt.Errorf("synset %s: bad lex_filenum %q", f[0], f[1])
	}
	if f[2] != "n" {
		return nil, fmt.Errorf("synset %s: type %q, want noun synsets (n)", f[0], f[2])
	}
	wcnt, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil || wcnt == 0 {
		return nil, fmt.Errorf("synset %s: bad word count %q", f[0], f[3])
	}
	i := 4
	if len(f) < i+2*int(wcnt)+1 {
		return nil, fmt.Errorf("synset %s: %d words announced, line too short", f[0], wcnt)
	}
	for range wcnt {
		s.Lemmas = append(s.Lemmas, f[i])
		i += 2 // word, lex_id
	}
	pcnt, err := strconv.Atoi(f[i])
	if err != nil {
		return nil, fmt.Errorf("synset %s: bad pointer count %q", f[0], f[i])
	}
	i++
	if len(f) < i+4*pcnt {
		return nil, fmt.Errorf("synset %s: %d pointers announced, line too short", f[0], pcnt)
	}
	for range pcnt {
		sym, target, pos := f[i], f[i+1], f[i+2]
		i += 4
		if pos != "n" || (sym != "@" && sym != "@i") {
			continue
		}
		t, err := strconv.Atoi(target)
		if err != nil {
			return nil, fmt.Errorf("synset %s: bad pointer target %q", f[0], target)
		}
		if sym == "@" {
			s.Hypernyms = append(s.Hypernyms, t)
		} else {
			s.InstanceHypernyms = append(s.InstanceHypernyms, t)
		}
	}
	return s, nil
}

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// Len returns the number of synsets.
func (n *Nouns) Len() int { return len(n.byOffset) }

// Synset returns the synset at an offset.
func (n *Nouns) Synset(offset int) (*Synset, bool) {
	s, ok := n.byOffset[offset]
	return s, ok
}

// ParseWNID parses an ImageNet-style id "nXXXXXXXX" into a noun offset.
func ParseWNID(wnid string) (int, error) {
	if len(wnid) != 9 || wnid[0] != 'n' {
		return 0, fmt.Errorf("wordnet: id %q is not of the form n + 8 digits", wnid)
	}
	off, err := strconv.Atoi(wnid[1:])
	if err != nil || off < 0 {
		return 0, fmt.Errorf("wordnet: id %q is not of the form n + 8 digits", wnid)
	}
	return off, nil
}

// ByWNID returns the synset of an ImageNet-style id such as "n02084071".
func (n *Nouns) ByWNID(wnid string) (*Synset, error) {
	off, err := ParseWNID(wnid)
	if err != nil {
		return nil, err
	}
	s, ok := n.byOffset[off]
	if !ok {
		return nil, fmt.Errorf("wordnet: no noun synset %s", wnid)
	}
	return s, nil
}

// Ancestors returns the hypernym ancestors of the synset at offset (not the synset itself), following hypernym
// and instance-hypernym pointers depth first in the order WordNet lists them, each ancestor once, at its first
// visit: for dog, canine, carnivore, placental, mammal, …, entity, then domestic animal. The first ancestor of a
// kind is therefore the nearest one along the first hypernym chain. A pointer to a synset missing from the data
// (possible in an excerpt) is an error.
func (n *Nouns) Ancestors(offset int) ([]*Synset, error) {
	s, ok := n.byOffset[offset]
	if !ok {
		return nil, fmt.Errorf("wordnet: no noun synset %08d", offset)
	}
	var out []*Synset
	seen := map[int]bool{offset: true}
	var visit func(s *Synset) error
	visit = func(s *Synset) error {
		for _, ptrs := range [][]int{s.Hypernyms, s.InstanceHypernyms} {
			for _, h := range ptrs {
				if seen[h] {
					continue
				}
				seen[h] = true
				hs, ok := n.byOffset[h]
				if !ok {
					return fmt.Errorf("wordnet: synset %08d points to missing hypernym %08d", s.Offset, h)
				}
				out = append(out, hs)
				if err := visit(hs); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := visit(s); err != nil {
		return nil, err
	}
	return out, nil
}
