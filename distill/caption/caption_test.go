package caption

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/distill/wordnet"
)

func TestCompose(t *testing.T) {
	tests := []struct {
		adj, noun, prep, want string
	}{
		{"red", "shirt", "on a black background", "a photo of a red shirt on a black background"},
		{"", "shirt", "", "a photo of a shirt"},
		{"orange", "ankle boot", "", "a photo of a orange ankle boot"}, // always "a", as the reference
		{"  old ", "woman", "who has  gray hair", "a photo of a old woman who has gray hair"},
		{"", "", "", "a photo of a"},
	}
	for _, tc := range tests {
		if got := Compose(tc.adj, tc.noun, tc.prep); got != tc.want {
			t.Errorf("Compose(%q, %q, %q) = %q, want %q", tc.adj, tc.noun, tc.prep, got, tc.want)
		}
	}
}

func TestClassCaptions(t *testing.T) {
	c := Class{Name: "Shirt", Nouns: []string{"shirt", "blouse", "shirt"}, Adjectives: []string{"", "red"}, Prepositions: nil}
	got := c.Captions()
	want := []string{"a photo of a shirt", "a photo of a red shirt", "a photo of a blouse", "a photo of a red blouse"}
	var texts []string
	for _, cp := range got {
		texts = append(texts, cp.Text)
	}
	if !slices.Equal(texts, want) {
		t.Errorf("captions %q, want %q (duplicates dropped, nouns outermost)", texts, want)
	}
	if got[1].Adjective != "red" || got[1].Noun != "shirt" || got[1].Preposition != "" {
		t.Errorf("parts of %q: %+v", got[1].Text, got[1])
	}
	if c.Reference() != "a photo of a shirt" {
		t.Errorf("reference %q", c.Reference())
	}
	d := c.WithAdjectives("dark")
	if len(d.Captions()) != 6 || len(c.Captions()) != 4 {
		t.Errorf("WithAdjectives: %d captions (want 6), original now %d (want 4)", len(d.Captions()), len(c.Captions()))
	}
}

func TestVocabularyCounts(t *testing.T) {
	shirt, err := FashionClass("", 6)
	if err != nil {
		t.Fatal(err)
	}
	footwear, err := FashionClass("footwear", 5, 7, 9)
	if err != nil {
		t.Fatal(err)
	}
	nColours := len(FashionColours) + 1 // + none
	tests := []struct {
		name      string
		v         Vocabulary
		wantN     int
		wantRefs  []string
		wantClass int
	}{
		{"fashion shirt", Vocabulary{Name: "f", Classes: []Class{shirt}}, 3 * nColours * 2, []string{"a photo of a shirt"}, 1},
		{"fashion footwear", Vocabulary{Name: "f", Classes: []Class{footwear}}, 9 * nColours * 2, []string{"a photo of a footwear"}, 1},
		{"fashion all", FashionAll(), 10 * 3 * nColours * 2, nil, 10},
		{"celeba", CelebA("old", "young"), 2 * 3 * 3 * 32, []string{"a photo of a person", "a photo of a person"}, 2},
	}
	for _, tc := range tests {
		if got := tc.v.Count(); got != tc.wantN {
			t.Errorf("%s: %d captions, want %d", tc.name, got, tc.wantN)
		}
		if len(tc.v.Classes) != tc.wantClass {
			t.Errorf("%s: %d classes, want %d", tc.name, len(tc.v.Classes), tc.wantClass)
		}
		for i, r := range tc.wantRefs {
			if got := tc.v.Classes[i].Reference(); got != r {
				t.Errorf("%s: class %d reference %q, want %q", tc.name, i, got, r)
			}
		}
		if err := tc.v.Validate(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if len(shirt.Captions()) != 78 || nColours != 13 {
		t.Errorf("Shirt: %d captions with %d adjectives; want 78 = 3 nouns x 13 adjectives x 2 prepositions", len(shirt.Captions()), nColours)
	}
	seen := map[string]bool{}
	for _, a := range CelebAAttributes {
		if seen[a] || !strings.HasPrefix(a, "who ") {
			t.Errorf("CelebA attribute %q duplicated or not a relative clause", a)
		}
		seen[a] = true
	}
	// The data package's nouns: each item's first noun (reference captions must match what the CLIP sees).
	for i, n := range FashionNouns {
		if len(n) < 2 {
			t.Errorf("item %d (%s) has no synonyms: %q", i, FashionItems[i], n)
		}
	}
	vt, err := Fashion(nil, [][]int{{0}, {6}})
	if err != nil {
		t.Fatal(err)
	}
	if vt.Classes[0].Name != "T-shirt/top" || vt.Classes[0].Reference() != "a photo of a t-shirt" {
		t.Errorf("T-shirt/top class: name %q reference %q", vt.Classes[0].Name, vt.Classes[0].Reference())
	}
	for _, bad := range []struct {
		name  string
		items []int
	}{{"", []int{5, 7}}, {"x", nil}, {"x", []int{10}}, {"x", []int{1, 1}}} {
		if _, err := FashionClass(bad.name, bad.items...); err == nil {
			t.Errorf("FashionClass(%q, %v): no error", bad.name, bad.items)
		}
	}
}

func loadExcerpt(t *testing.T) *wordnet.Nouns {
	t.Helper()
	n, err := wordnet.LoadNouns("testdata/data.noun.imagenet")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCelebAVocabularyIsTheReference compares the CelebA vocabulary with CELEBA_CONFIG of the reference's
// clip_utils.py: its 32 phrases in order (first, last and a few reworded ones elsewhere checked word for word),
// 288 captions per class, and captions built by its template.
func TestCelebAVocabularyIsTheReference(t *testing.T) {
	if len(CelebAAttributes) != 32 {
		t.Fatalf("%d CelebA attribute phrases, want 32", len(CelebAAttributes))
	}
	for i, want := range map[int]string{
		0: "who has stubble", 2: "who has bags under their eyes", 11: "who is wearing eyeglasses",
		14: "who has heavy makeup on", 16: "who has a mouth that is slightly open", 20: "who has an oval face",
		25: "who has a smile", 28: "who has earrings", 30: "who has a lipstick on", 31: "who is wearing a necktie",
	} {
		if CelebAAttributes[i] != want {
			t.Errorf("CelebA attribute %d = %q, reference %q", i, CelebAAttributes[i], want)
		}
	}
	if slices.Contains(CelebAAttributes, "who is bald") {
		t.Error(`"who is bald" is not in the reference vocabulary`)
	}
	if !slices.Equal(CelebANouns, []string{"person", "man", "woman"}) || !slices.Equal(CelebAAdjectives, []string{"", "old", "young"}) {
		t.Errorf("nouns %q adjectives %q", CelebANouns, CelebAAdjectives)
	}
	v := CelebA("old", "young")
	caps := v.Classes[0].Captions()
	if len(caps) != 288 || v.Classes[1].Reference() != "a photo of a person" {
		t.Fatalf("%d captions, reference %q; want 288 and \"a photo of a person\"", len(caps), v.Classes[1].Reference())
	}
	// The reference's loop order: nouns, then adjectives, then phrases (index = 96·noun + 32·adjective + phrase).
	for i, want := range map[int]string{
		0:   "a photo of a person who has stubble",
		42:  "a photo of a old person who has a double chin",
		181: "a photo of a young man who has a pointy nose",
		253: "a photo of a old woman who is wearing a hat",
		287: "a photo of a young woman who is wearing a necktie",
	} {
		if caps[i].Text != want {
			t.Errorf("caption %d = %q, reference %q", i, caps[i].Text, want)
		}
	}
}

// TestImageNetVocabularyIsTheReference builds the vocabulary of eight ImageNet classes from the committed WordNet
// excerpt and compares it with the reference's rules, worked out by hand from the WordNet hypernym chains:
//
//	dog            → canine                                   5 prepositions
//	cowboy hat     → hat → headdress → clothing → covering    3
//	container ship → cargo ship → ship → vessel               3
//	goldfinch      → finch → oscine → passerine → bird        6
//	pizza          → dish → nutriment → food                  4
//	tench          → cyprinid → … → bony fish → fish          3
//	crane (bird)   → wading bird → aquatic bird → bird        6
//	crane (machine)→ lifting device → device                  3
func TestImageNetVocabularyIsTheReference(t *testing.T) {
	nouns := loadExcerpt(t)
	wnids := []string{"n02084071", "n03124170", "n03095699", "n01531178", "n07873807", "n01440764", "n02012849", "n03126707"}
	names := []string{"dog, domestic dog", "cowboy hat, ten-gallon hat", "container ship, containership", "goldfinch",
		"pizza, pizza pie", "tench, Tinca tinca", "crane", "crane"}
	v, err := ImageNet(nouns, wnids, names)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ancestor string
		extra          []string
	}{
		{"dog", "canine", []string{"in the grass", "in a house", "in the forest", "on the ground", "with a person"}},
		{"cowboy hat", "covering", []string{"on a table", "with a person", "with a hand"}},
		{"container ship", "vessel", []string{"in the water", "docked", "in the ocean"}},
		{"goldfinch", "bird", []string{"in the air", "on the ground", "in a cage", "in the grass", "flying", "perched"}},
		{"pizza", "food", []string{"on a plate", "on the ground", "on a table", "with a person"}},
		{"tench", "fish", []string{"in a tank", "with a person", "underwater"}},
		{"crane", "bird", []string{"in the air", "on the ground", "in a cage", "in the grass", "flying", "perched"}},
		{"crane", "device", []string{"on a table", "with a person", "with a hand"}},
	}
	backgrounds := []string{"", "outside", "inside", "on a black background", "on a white background",
		"on a green background", "on a blue background", "on a brown background"}
	adjectives := []string{"", "white", "blue", "red", "green", "black", "yellow", "orange", "brown", "group of",
		"close-up", "blurry", "far away"}
	for i, tc := range tests {
		c := v.Classes[i]
		if a, err := ImageNetAncestor(nouns, wnids[i]); err != nil || a != tc.ancestor {
			t.Errorf("%s: ancestor %q (%v), want %q", wnids[i], a, err, tc.ancestor)
		}
		if c.Name != tc.name || c.Reference() != "a photo of a "+tc.name || !slices.Equal(c.Nouns, []string{tc.name}) {
			t.Errorf("class %d: name %q, reference %q, nouns %q", i, c.Name, c.Reference(), c.Nouns)
		}
		if want := append(slices.Clone(backgrounds), tc.extra...); !slices.Equal(c.Prepositions, want) {
			t.Errorf("%s: prepositions %q, want %q", tc.name, c.Prepositions, want)
		}
		if !slices.Equal(c.Adjectives, adjectives) {
			t.Errorf("%s: adjectives %q", tc.name, c.Adjectives)
		}
		if got, want := len(c.Captions()), 13*(8+len(tc.extra)); got != want {
			t.Errorf("%s: %d captions, want %d", tc.name, got, want)
		}
	}
	dog := v.Classes[0].Captions() // index = 13·adjective + preposition
	for i, want := range map[int]string{
		0:   "a photo of a dog",
		1:   "a photo of a dog outside",
		2:   "a photo of a dog inside",
		13:  "a photo of a white dog",
		51:  "a photo of a red dog with a person",
		122: "a photo of a group of dog on a green background",
		168: "a photo of a far away dog with a person",
	} {
		if dog[i].Text != want {
			t.Errorf("dog caption %d = %q, want %q", i, dog[i].Text, want)
		}
	}
	// Default names come from WordNet; bad input fails clearly.
	v2, err := ImageNet(nouns, []string{"n02084071"}, nil)
	if err != nil || v2.Classes[0].Name != "dog" {
		t.Errorf("default name: %v, %+v", err, v2)
	}
	if _, err := ImageNet(nouns, []string{"n09999999"}, nil); err == nil {
		t.Error("unknown wnid: no error")
	}
	if _, err := ImageNet(nouns, []string{"n02084071"}, []string{"a", "b"}); err == nil {
		t.Error("name count mismatch: no error")
	}
}

// TestImageNetContextsResolve checks the reference's table against the installed WordNet 3.0: every name it lists
// is the first lemma of some noun synset (a misspelt name would silently never match).
func TestImageNetContextsResolve(t *testing.T) {
	if _, err := os.Stat(wordnet.DefaultNounFile); err != nil {
		t.Skipf("%s not installed (apt-get install wordnet-base)", wordnet.DefaultNounFile)
	}
	f, err := os.Open(wordnet.DefaultNounFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	firstLemmas := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && !strings.HasPrefix(sc.Text(), " ") {
			firstLemmas[strings.ToLower(fields[4])] = true
		}
	}
	n := 0
	for _, e := range ImageNetContexts {
		for _, a := range e.Ancestors {
			n++
			if !firstLemmas[a] {
				t.Errorf("ImageNetContexts lists %q, the first lemma of no WordNet noun synset", a)
			}
		}
	}
	if n != 38 || len(ImageNetContexts) != 16 {
		t.Errorf("%d names in %d groups; the reference's table has 38 (\"fruit\" twice) in 16", n, len(ImageNetContexts))
	}
}

// wordEmbedder embeds a text as the sum of fixed random vectors of its words (seeded by the word), so texts
// sharing words are close and the planted tests know each word's contribution.
type wordEmbedder struct {
	dim   int
	calls int
	texts int
}

func wordVec(word string, dim int) []float32 {
	h := fnv.New64a()
	h.Write([]byte(word))
	r := rand.New(rand.NewPCG(h.Sum64(), 7))
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func (e *wordEmbedder) embed(text string) []float32 {
	v := make([]float32, e.dim)
	for _, w := range strings.Fields(text) {
		for i, x := range wordVec(w, e.dim) {
			v[i] += x
		}
	}
	return v
}

func (e *wordEmbedder) EmbedTexts(_ context.Context, texts []string) (matrix.Dense, error) {
	e.calls++
	e.texts += len(texts)
	out := matrix.Zeros(len(texts), e.dim)
	for i, t := range texts {
		copy(out.Row(i), e.embed(t))
	}
	return out, nil
}

// rows builds a matrix from rows, failing the test on ragged rows.
func rows(t *testing.T, r ...[]float32) matrix.Dense {
	t.Helper()
	m, err := matrix.FromRows(r)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// differenceOf returns a − b element-wise.
func differenceOf(a, b []float32) []float32 {
	out := make([]float32, len(a))
	for k := range a {
		out[k] = a[k] - b[k]
	}
	return out
}

// linearScorer is a per-class linear SVM on L2-normalised vectors: decision = w_c · v/|v| + b_c (a zero vector
// stays zero, as in distill's pre-processing).
type linearScorer struct {
	w [][]float32
	b []float32
}

func (s *linearScorer) DecisionFor(class int, vecs matrix.Dense) ([]float32, error) {
	if class < 0 || class >= len(s.w) || s.w[class] == nil {
		return nil, errors.New("no failure direction")
	}
	out := make([]float32, vecs.Rows)
	for i := range vecs.Rows {
		v := vecs.Row(i)
		n := norm(v)
		if n == 0 {
			n = 1
		}
		d := 0.0
		for j := range v {
			d += float64(s.w[class][j]) * float64(v[j]) / n
		}
		out[i] = float32(d) + s.b[class]
	}
	return out, nil
}

func unit(v []float32) []float32 {
	n := norm(v)
	out := make([]float32, len(v))
	for i := range v {
		out[i] = float32(float64(v[i]) / n)
	}
	return out
}

func neg(v []float32) []float32 {
	out := make([]float32, len(v))
	for i := range v {
		out[i] = -v[i]
	}
	return out
}

// TestScorePlanted plants the failure direction of each class along the negative of a colour word's embedding (the
// minority colour: red for T-shirt/top, green for Shirt): that class's hardest caption must name that colour, and
// its easiest caption must not.
func TestScorePlanted(t *testing.T) {
	const dim = 64
	v, err := Fashion(nil, [][]int{{0}, {6}})
	if err != nil {
		t.Fatal(err)
	}
	minority := []string{"red", "green"}
	sc := &linearScorer{b: []float32{0.3, -0.2}}
	for _, col := range minority {
		sc.w = append(sc.w, neg(unit(wordVec(col, dim))))
	}
	emb := &wordEmbedder{dim: dim}
	rs, err := ScoreAll(context.Background(), emb, sc, v, ScoreOptions{Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		hard, easy := r.Hard(3), r.Easy(3)
		if hard[0].Adjective != minority[i] {
			t.Errorf("class %s: hardest caption %q (score %.3f), want one naming %s", r.Name, hard[0].Text, hard[0].Score, minority[i])
		}
		if easy[0].Adjective == minority[i] {
			t.Errorf("class %s: easiest caption %q names the minority colour", r.Name, easy[0].Text)
		}
		if !(hard[0].Score < 0 && easy[0].Score > hard[0].Score) {
			t.Errorf("class %s: hard score %.3f, easy %.3f", r.Name, hard[0].Score, easy[0].Score)
		}
		// Sorted, and every score is the decision value of the caption's embedding minus the reference's.
		for j := 1; j < len(r.Captions); j++ {
			if r.Captions[j].Score < r.Captions[j-1].Score {
				t.Fatalf("class %s: captions not sorted at %d", r.Name, j)
			}
		}
		refVec := emb.embed(r.Reference)
		ref, _ := sc.DecisionFor(i, rows(t, refVec))
		if r.ReferenceDecision != ref[0] {
			t.Errorf("class %s: reference decision %v, want %v", r.Name, r.ReferenceDecision, ref[0])
		}
		for _, c := range r.Captions {
			d, _ := sc.DecisionFor(i, rows(t, emb.embed(c.Text), differenceOf(emb.embed(c.Text), refVec)))
			if c.Decision != d[0] || c.Score != d[1] {
				t.Fatalf("class %s: %q decision %v score %v, want %v and %v", r.Name, c.Text, c.Decision, c.Score, d[0], d[1])
			}
		}
		// Every caption naming the minority colour scores below the class's median.
		med := r.Captions[len(r.Captions)/2].Score
		for _, c := range r.Captions {
			if c.Adjective == minority[i] && c.Score >= med {
				t.Errorf("class %s: %q scores %.3f, not below the median %.3f", r.Name, c.Text, c.Score, med)
			}
		}
	}
	// Each text embedded once: 78 captions per class, the reference being one of them ("a photo of a shirt").
	if emb.texts != 2*78 {
		t.Errorf("embedded %d texts, want %d", emb.texts, 2*78)
	}
}

// tableEmbedder returns fixed vectors for fixed texts.
type tableEmbedder map[string][]float32

func (e tableEmbedder) EmbedTexts(_ context.Context, texts []string) (matrix.Dense, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, ok := e[t]
		if !ok {
			return matrix.Dense{}, fmt.Errorf("no vector for %q", t)
		}
		out[i] = v
	}
	return matrix.FromRows(out)
}

// whitenedScorer is the method's scorer in two dimensions: whiten with mean and std, scale to unit length, then
// w·x + b.
type whitenedScorer struct{ mean, std, w [2]float64 }

const whitenedBias = 0.5

func (s whitenedScorer) DecisionFor(_ int, vecs matrix.Dense) ([]float32, error) {
	out := make([]float32, vecs.Rows)
	for i := range out {
		v := vecs.Row(i)
		z := [2]float64{(float64(v[0]) - s.mean[0]) / s.std[0], (float64(v[1]) - s.mean[1]) / s.std[1]}
		n := math.Hypot(z[0], z[1])
		out[i] = float32((s.w[0]*z[0]+s.w[1]*z[1])/n + whitenedBias)
	}
	return out, nil
}

// TestScoreReferenceFormula checks scores against the reference code's formula, decision(pre(t_cap − t_ref)),
// computed by hand: mean (1, 0), std (1, 2), w = (1, 0), b = 0.5, t_ref = (1, 2).
//
//	caption "a photo of a red shirt",   t = (4, 2):   t − t_ref = (3, 0)  → whitened (2, 0)   → unit (1, 0)          → 1.5
//	caption "a photo of a blue shirt",  t = (1, 6):   t − t_ref = (0, 4)  → whitened (−1, 2)  → unit (−1, 2)/√5      → 0.5 − 1/√5
//	caption "a photo of a green shirt", t = (−2, 2):  t − t_ref = (−3, 0) → whitened (−4, 0)  → unit (−1, 0)         → −0.5
//
// The former formula, decision(pre(t_cap)) − decision(pre(t_ref)), gives 3/√10, 0 and −3/√10 instead.
func TestScoreReferenceFormula(t *testing.T) {
	emb := tableEmbedder{
		"a photo of a shirt":       {1, 2},
		"a photo of a red shirt":   {4, 2},
		"a photo of a blue shirt":  {1, 6},
		"a photo of a green shirt": {-2, 2},
	}
	sc := whitenedScorer{mean: [2]float64{1, 0}, std: [2]float64{1, 2}, w: [2]float64{1, 0}}
	c := Class{Name: "shirt", Nouns: []string{"shirt"}, Adjectives: []string{"red", "blue", "green"}}
	r, err := Score(context.Background(), emb, sc, 0, c)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"a photo of a green shirt": -0.5,
		"a photo of a blue shirt":  0.5 - 1/math.Sqrt(5),
		"a photo of a red shirt":   1.5,
	}
	order := []string{"a photo of a green shirt", "a photo of a blue shirt", "a photo of a red shirt"}
	for j, cp := range r.Captions {
		if cp.Text != order[j] {
			t.Errorf("rank %d: %q, want %q", j, cp.Text, order[j])
		}
		if math.Abs(float64(cp.Score)-want[cp.Text]) > 1e-6 {
			t.Errorf("%q: score %.7f, want %.7f", cp.Text, cp.Score, want[cp.Text])
		}
	}
	// The caption's own decision value stays informative: "red" is (4, 2) → whitened (3, 1) → 3/√10 + 0.5.
	if d := r.Captions[2].Decision; math.Abs(float64(d)-(3/math.Sqrt(10)+0.5)) > 1e-6 {
		t.Errorf("decision of the red caption %.7f, want %.7f", d, 3/math.Sqrt(10)+0.5)
	}
	if r.ReferenceDecision != whitenedBias {
		t.Errorf("reference decision %v, want 0.5 (whitened (0, 1) ⟂ w)", r.ReferenceDecision)
	}
}

// TestScoreAllSharesTexts: CelebA's classes share every caption, so each text is embedded once, in batches.
func TestScoreAllSharesTexts(t *testing.T) {
	v := CelebA("old", "young")
	emb := &wordEmbedder{dim: 8}
	w := unit(wordVec("young", 8))
	sc := &linearScorer{w: [][]float32{neg(w), w}, b: []float32{0, 0}}
	rs, err := ScoreAll(context.Background(), emb, sc, v, ScoreOptions{Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if emb.texts != 289 || emb.calls != 2 {
		t.Errorf("embedded %d texts in %d calls, want 289 (288 captions + 1 reference) in 2 batches of <= %d", emb.texts, emb.calls, embedBatch)
	}
	// Class "old" fails on young-looking people; its hard caption says "young", and class "young"'s easy one does.
	if rs[0].Hard(1)[0].Adjective != "young" || rs[1].Easy(1)[0].Adjective != "young" {
		t.Errorf("old hard %q, young easy %q", rs[0].Hard(1)[0].Text, rs[1].Easy(1)[0].Text)
	}
	// Only some classes.
	rs, err = ScoreAll(context.Background(), emb, sc, v, ScoreOptions{Classes: []int{1}, Progress: io.Discard})
	if err != nil || len(rs) != 1 || rs[0].Class != 1 || rs[0].Name != "young" {
		t.Errorf("ScoreAll of class 1: %v, %+v", err, rs)
	}
}

func TestScoreErrors(t *testing.T) {
	ctx := context.Background()
	shirt, _ := FashionClass("", 6)
	emb := &wordEmbedder{dim: 8}
	noDir := &linearScorer{w: [][]float32{nil}, b: []float32{0}}
	if _, err := Score(ctx, emb, noDir, 0, shirt); err == nil || !strings.Contains(err.Error(), "no failure direction") {
		t.Errorf("class without direction: %v", err)
	}
	nan := &linearScorer{w: [][]float32{make([]float32, 8)}, b: []float32{float32(math.NaN())}}
	if _, err := Score(ctx, emb, nan, 0, shirt); err == nil {
		t.Error("NaN decision: no error")
	}
	ok := &linearScorer{w: [][]float32{unit(wordVec("red", 8))}, b: []float32{0}}
	if _, err := Score(ctx, badEmbedder{}, ok, 0, shirt); err == nil {
		t.Error("embedder returning wrong count: no error")
	}
	if _, err := ScoreAll(ctx, emb, ok, Vocabulary{Name: "x", Classes: []Class{shirt}}, ScoreOptions{Classes: []int{3}, Progress: io.Discard}); err == nil {
		t.Error("class out of range: no error")
	}
	if _, err := Score(ctx, emb, ok, 0, Class{Name: "empty"}); err == nil {
		t.Error("class without nouns: no error")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Score(cctx, emb, ok, 0, shirt); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

type badEmbedder struct{}

func (badEmbedder) EmbedTexts(_ context.Context, texts []string) (matrix.Dense, error) {
	return matrix.Zeros(len(texts)-1, 8), nil
}

func TestNearestAccuracy(t *testing.T) {
	images := rows(t, []float32{1, 0}, []float32{0, 1}, []float32{1, 1}, []float32{-1, 0}, []float32{0, 0}, []float32{2, 0.1})
	correct := []bool{false, true, true, true, true, false}
	order, err := Nearest(images, []float32{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	// cos: 1, 0, .707, -1, 0 (zero vector), .9988 → order 0, 5, 2, then 1 and 4 tied at 0 (index order), 3.
	if want := []int{0, 5, 2, 1, 4, 3}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	acc, err := NearestAccuracy(images, correct, []float32{1, 0}, []int{1, 2, 3, 6, 100})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0, 1.0 / 3, 4.0 / 6, 4.0 / 6}
	for i := range want {
		if math.Abs(acc[i]-want[i]) > 1e-12 {
			t.Errorf("accuracies %v, want %v", acc, want)
			break
		}
	}
	for _, bad := range []struct {
		name    string
		images  matrix.Dense
		correct []bool
		text    []float32
		ks      []int
	}{
		{"no images", matrix.Dense{}, nil, []float32{1}, []int{1}},
		{"flags mismatch", images, correct[:2], []float32{1, 0}, []int{1}},
		{"zero text", images, correct, []float32{0, 0}, []int{1}},
		{"dim mismatch", images, correct, []float32{1, 0, 0}, []int{1}},
		{"bad K", images, correct, []float32{1, 0}, []int{0}},
		{"NaN image", rows(t, []float32{float32(math.NaN()), 0}), []bool{true}, []float32{1, 0}, []int{1}},
	} {
		if _, err := NearestAccuracy(bad.images, bad.correct, bad.text, bad.ks); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
}

// TestCheckPlanted builds a class of 100 test images: 20 minority (red-looking: embedding near the hard caption's
// text embedding) of which 15 are misclassified, and 80 majority (green-looking), all correct. The hard caption's
// 20 nearest are exactly the minority images (accuracy 5/20), the easy caption's are all correct, the class
// average is 85/100.
func TestCheckPlanted(t *testing.T) {
	const dim = 32
	emb := &wordEmbedder{dim: dim}
	hard, easy := "a photo of a red shirt", "a photo of a green shirt"
	ht, et := emb.embed(hard), emb.embed(easy)
	r := rand.New(rand.NewPCG(1, 2))
	var imageRows [][]float32
	var correct []bool
	for i := 0; i < 100; i++ {
		base, ok := et, true
		if i%5 == 0 { // 20 minority images
			base = ht
			ok = i%20 == 0 // 5 of them correct
		}
		v := make([]float32, dim)
		for j := range v {
			v[j] = base[j] + float32(0.05*r.NormFloat64())
		}
		imageRows = append(imageRows, v)
		correct = append(correct, ok)
	}
	ck, err := CheckCaptions(context.Background(), emb, "Shirt", rows(t, imageRows...), correct, hard, easy, []int{10, 20, 50})
	if err != nil {
		t.Fatal(err)
	}
	if ck.N != 100 || math.Abs(ck.ClassAccuracy-0.85) > 1e-12 {
		t.Errorf("N %d class accuracy %v, want 100 and 0.85", ck.N, ck.ClassAccuracy)
	}
	h20, e20, ok := ck.At(20)
	if !ok || math.Abs(h20-0.25) > 1e-12 || e20 != 1 {
		t.Errorf("At(20) = %v, %v, %v; want 0.25, 1", h20, e20, ok)
	}
	// K=50: the 20 minority images and 30 majority ones: (5+30)/50.
	if h50, _, _ := ck.At(50); math.Abs(h50-0.7) > 1e-12 {
		t.Errorf("hard accuracy at 50 = %v, want 0.7", h50)
	}
	if _, _, ok := ck.At(7); ok {
		t.Error("At(7) found a K that was not asked for")
	}
	for i := range ck.Ks {
		if !(ck.HardAccuracy[i] < ck.ClassAccuracy && ck.EasyAccuracy[i] >= ck.ClassAccuracy) {
			t.Errorf("K=%d: hard %v, easy %v, class %v", ck.Ks[i], ck.HardAccuracy[i], ck.EasyAccuracy[i], ck.ClassAccuracy)
		}
	}
	if fmt.Sprint(ck.Ks) != "[10 20 50]" {
		t.Errorf("Ks %v", ck.Ks)
	}
}
