package wordnet

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func names(ss []*Synset) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Lemmas[0]
	}
	return out
}

// dogAncestors is dog's hypernym closure in depth-first order: first the canine chain up to entity, then
// domestic_animal (whose own ancestor, animal, was already visited).
var dogAncestors = []string{"canine", "carnivore", "placental", "mammal", "vertebrate", "chordate", "animal",
	"organism", "living_thing", "whole", "object", "physical_entity", "entity", "domestic_animal"}

func checkDog(t *testing.T, n *Nouns) {
	t.Helper()
	dog, err := n.ByWNID("n02084071")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dog.Lemmas, []string{"dog", "domestic_dog", "Canis_familiaris"}; !slices.Equal(got, want) {
		t.Errorf("dog lemmas %q, want %q", got, want)
	}
	if dog.Name() != "dog" || dog.WNID() != "n02084071" || dog.LexFile != 5 {
		t.Errorf("dog: name %q wnid %q lexfile %d", dog.Name(), dog.WNID(), dog.LexFile)
	}
	if got := dog.Names(); got[1] != "domestic dog" {
		t.Errorf("Names() = %q, want spaces for underscores", got)
	}
	if !slices.Equal(dog.Hypernyms, []int{2083346, 1317541}) {
		t.Errorf("dog hypernyms %v, want [2083346 1317541] (canine, domestic animal)", dog.Hypernyms)
	}
	if !strings.HasPrefix(dog.Gloss, "a member of the genus Canis") {
		t.Errorf("dog gloss %q", dog.Gloss)
	}
	anc, err := n.Ancestors(dog.Offset)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(anc); !slices.Equal(got, dogAncestors) {
		t.Errorf("dog ancestors\n got %q\nwant %q", got, dogAncestors)
	}
}

func TestExcerpt(t *testing.T) {
	n, err := LoadNouns("testdata/data.noun.excerpt")
	if err != nil {
		t.Fatal(err)
	}
	if n.Len() != 37 {
		t.Errorf("excerpt has %d synsets, want 37", n.Len())
	}
	checkDog(t, n)

	// An instance: Einstein is an instance of physicist (pointer @i), and its ancestors go through it.
	e, err := n.ByWNID("n10954498")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Hypernyms) != 0 || !slices.Equal(e.InstanceHypernyms, []int{10428004}) {
		t.Errorf("Einstein hypernyms %v, instance hypernyms %v", e.Hypernyms, e.InstanceHypernyms)
	}
	anc, err := n.Ancestors(e.Offset)
	if err != nil {
		t.Fatal(err)
	}
	got := names(anc)
	if got[0] != "physicist" || got[len(got)-1] == "" || !slices.Contains(got, "person") || !slices.Contains(got, "entity") {
		t.Errorf("Einstein ancestors %q: want physicist first, person and entity among them", got)
	}
	// Every ancestor appears once.
	seen := map[string]bool{}
	for _, a := range got {
		if seen[a] {
			t.Errorf("ancestor %q listed twice", a)
		}
		seen[a] = true
	}

	if _, err := n.ByWNID("n09999999"); err == nil {
		t.Error("missing synset: no error")
	}
	if _, err := n.Ancestors(9999999); err == nil {
		t.Error("ancestors of a missing synset: no error")
	}
}

func TestParseWNID(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"n02084071", 2084071, false},
		{"n00001740", 1740, false},
		{"02084071", 0, true},
		{"n2084071", 0, true},
		{"v02084071", 0, true},
		{"n0208407x", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseWNID(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseWNID(%q) = %d, %v; want %d, err=%v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := "02083346 05 n 01 canine 0 001 @ 02075296 n 0000 | a gloss"
	if _, err := ParseNouns(strings.NewReader("  license line\n" + good + "\n")); err != nil {
		t.Fatalf("valid line: %v", err)
	}
	tests := []struct {
		name, text, wantErr string
	}{
		{"short", "02083346 05 n", "too few fields"},
		{"bad offset", "2083346x 05 n 01 canine 0 000 | g", "bad synset offset"},
		{"verb", "02083346 05 v 01 run 0 000 | g", "want noun"},
		{"bad word count", "02083346 05 n zz canine 0 000 | g", "bad word count"},
		{"words missing", "02083346 05 n 03 canine 0 000 | g", "words announced"},
		{"pointers missing", "02083346 05 n 01 canine 0 002 @ 02075296 n 0000 | g", "pointers announced"},
		{"bad pointer", "02083346 05 n 01 canine 0 001 @ 0207529x n 0000 | g", "bad pointer target"},
		{"duplicate", good + "\n" + good, "appears twice"},
	}
	for _, tc := range tests {
		_, err := ParseNouns(strings.NewReader(tc.text + "\n"))
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "line ") {
			t.Errorf("%s: error %v, want one naming the line and containing %q", tc.name, err, tc.wantErr)
		}
	}
	// A hypernym missing from the data is reported by Ancestors.
	n, err := ParseNouns(strings.NewReader(good + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Ancestors(2083346); err == nil || !strings.Contains(err.Error(), "02075296") {
		t.Errorf("dangling hypernym: error %v", err)
	}
}

// TestInstalled reads the real database when wordnet-base is installed (it is in this project's CI image).
func TestInstalled(t *testing.T) {
	if _, err := os.Stat(DefaultNounFile); err != nil {
		t.Skipf("%s not installed (apt-get install wordnet-base): %v", DefaultNounFile, err)
	}
	n, err := LoadNouns("")
	if err != nil {
		t.Fatal(err)
	}
	if n.Len() != 82115 {
		t.Errorf("WordNet 3.0 has 82115 noun synsets, read %d", n.Len())
	}
	checkDog(t, n)
	// Every hypernym pointer of the real file resolves.
	for off := range n.byOffset {
		if _, err := n.Ancestors(off); err != nil {
			t.Fatal(err)
		}
	}
}
