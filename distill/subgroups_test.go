package distill

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
)

// subgroupCase is a two-class example worked out by hand. Groups as in CelebA: 0 old woman, 1 old man, 2 young
// woman, 3 young man; the minorities are 0 and 3.
//
// Class 0 (examples 0–24): decision i − 4.5, confidence (24 − i)/24, minority at i ∈ {0…7, 20}, base-model errors
// at i ∈ {0, 1, 2, 10, 11}.
// Class 1 (examples 25–36, j = 0…11): decision j − 1.5, confidence 0.5 for all, minority at j ∈ {0, 5}, errors at
// j ∈ {0, 1, 2}.
func subgroupCase() SubgroupInput {
	var in SubgroupInput
	for i := range 25 {
		g := 1
		if i <= 7 || i == 20 {
			g = 0
		}
		in.Decisions = append(in.Decisions, float32(i)-4.5)
		in.Confs = append(in.Confs, float32(24-i)/24)
		in.Labels = append(in.Labels, 0)
		in.Groups = append(in.Groups, g)
		in.Correct = append(in.Correct, !slices.Contains([]int{0, 1, 2, 10, 11}, i))
	}
	for j := range 12 {
		g := 2
		if j == 0 || j == 5 {
			g = 3
		}
		in.Decisions = append(in.Decisions, float32(j)-1.5)
		in.Confs = append(in.Confs, 0.5)
		in.Labels = append(in.Labels, 1)
		in.Groups = append(in.Groups, g)
		in.Correct = append(in.Correct, j > 2)
	}
	in.Minorities = []int{0, 3}
	return in
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// TestTopKCurvesHandComputed: per class, K = 10, 20, … below the class size; pooled, every example ranked
// together (ties keep example order, so class 0's −1.5 comes before class 1's).
//
//	class 0, by decision: minority at ranks 1–8 and 21  → K=10: 8/10, K=20: 8/20
//	class 0, by confidence (i = 24, 23, …): minority i=20 at rank 5, i=7…5 at ranks 18–20 → K=10: 1/10, K=20: 4/20
//	class 1 (12 examples): K=10 only; decision and (tied) confidence both rank j = 0…9 → 2/10
//	pooled by decision: −4.5 −3.5 −2.5 −1.5 −1.5′ −0.5 −0.5′ 0.5 0.5′ 1.5 | … → K=10: 8/10, K=20: 10/20, K=30: 10/30
//	pooled by confidence: class 0 i=24…15 | i=14…12, class 1 j=0…6 | j=7…11, class 0 i=11…7 → 1/10, 3/20, 4/30
func TestTopKCurvesHandComputed(t *testing.T) {
	rep, err := TopKCurves(subgroupCase())
	if err != nil {
		t.Fatal(err)
	}
	type pt struct {
		k               int
		svm, conf, base float64
	}
	check := func(name string, c Curve, class, n, minority int, want []pt) {
		t.Helper()
		if c.Class != class || c.N != n || c.Minority != minority || len(c.Points) != len(want) {
			t.Fatalf("%s: class %d n %d minority %d with %d points, want %d, %d, %d, %d", name, c.Class, c.N, c.Minority,
				len(c.Points), class, n, minority, len(want))
		}
		for j, w := range want {
			p := c.Points[j]
			if p.K != w.k || !near(p.SVM, w.svm) || !near(p.Confidence, w.conf) || !near(p.BaseRate, w.base) {
				t.Errorf("%s K=%d: %+v, want svm %.4f conf %.4f base %.4f", name, w.k, p, w.svm, w.conf, w.base)
			}
		}
	}
	check("class 0", rep.PerClass[0], 0, 25, 9, []pt{{10, 0.8, 0.1, 9.0 / 25}, {20, 0.4, 0.2, 9.0 / 25}})
	check("class 1", rep.PerClass[1], 1, 12, 2, []pt{{10, 0.2, 0.2, 2.0 / 12}})
	check("pooled", rep.Pooled, -1, 37, 11, []pt{{10, 0.8, 0.1, 11.0 / 37}, {20, 0.5, 0.15, 11.0 / 37},
		{30, 10.0 / 30, 4.0 / 30, 11.0 / 37}})

	// One class only, and a class too small for any K.
	in := subgroupCase()
	in.Classes = []int{1}
	rep, err = TopKCurves(in)
	if err != nil || len(rep.PerClass) != 1 || rep.Pooled.N != 12 || len(rep.Pooled.Points) != 1 {
		t.Errorf("classes {1}: %v %+v", err, rep)
	}
	small := SubgroupInput{Decisions: []float32{1, 2}, Confs: []float32{0.5, 0.5}, Labels: []int{0, 0},
		Groups: []int{1, 0}, Minorities: []int{1}}
	rep, err = TopKCurves(small)
	if err != nil || len(rep.PerClass[0].Points) != 0 {
		t.Errorf("2 examples: %v, %+v (want no points: K starts at 10)", err, rep)
	}
}

// TestFlaggedMinorityHandComputed: flagged = decision ≤ 0.
//
//	class 0: flagged i = 0…4 (5, all minority): precision 5/5, recall 5/9; errors {0,1,2,10,11}: 3 minority of 5
//	class 1: flagged j = 0, 1: precision 1/2, recall 1/2; errors j = 0, 1, 2: 1 minority of 3
//	overall: flagged 7 (6 minority), minority 11, errors 8 (4 minority)
func TestFlaggedMinorityHandComputed(t *testing.T) {
	rep, err := FlaggedMinority(subgroupCase())
	if err != nil {
		t.Fatal(err)
	}
	want := []FlaggedStats{
		{Class: 0, N: 25, Minority: 9, Errors: 5, Flagged: 5, MinorityShare: 9.0 / 25, ErrorRate: 5.0 / 25,
			FlaggedRate: 5.0 / 25, Precision: 1, Recall: 5.0 / 9, ErrorsMinorityShare: 3.0 / 5, MinorityErrorRate: 3.0 / 9},
		{Class: 1, N: 12, Minority: 2, Errors: 3, Flagged: 2, MinorityShare: 2.0 / 12, ErrorRate: 3.0 / 12,
			FlaggedRate: 2.0 / 12, Precision: 0.5, Recall: 0.5, ErrorsMinorityShare: 1.0 / 3, MinorityErrorRate: 0.5},
		{Class: -1, N: 37, Minority: 11, Errors: 8, Flagged: 7, MinorityShare: 11.0 / 37, ErrorRate: 8.0 / 37,
			FlaggedRate: 7.0 / 37, Precision: 6.0 / 7, Recall: 6.0 / 11, ErrorsMinorityShare: 4.0 / 8, MinorityErrorRate: 4.0 / 11},
	}
	got := append(slices.Clone(rep.PerClass), rep.Overall)
	for i, w := range want {
		g := got[i]
		if g.Class != w.Class || g.N != w.N || g.Minority != w.Minority || g.Errors != w.Errors || g.Flagged != w.Flagged ||
			!near(g.MinorityShare, w.MinorityShare) || !near(g.ErrorRate, w.ErrorRate) || !near(g.FlaggedRate, w.FlaggedRate) ||
			!near(g.Precision, w.Precision) || !near(g.Recall, w.Recall) ||
			!near(g.ErrorsMinorityShare, w.ErrorsMinorityShare) || !near(g.MinorityErrorRate, w.MinorityErrorRate) ||
			len(g.Undefined) != 0 {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, w)
		}
	}

	// Undefined ratios: nothing flagged, no minority, no error.
	in := SubgroupInput{Decisions: []float32{1, 2}, Labels: []int{0, 0}, Groups: []int{0, 0}, Correct: []bool{true, true},
		Minorities: []int{5}}
	rep, err = FlaggedMinority(in)
	if err != nil {
		t.Fatal(err)
	}
	u := rep.Overall.Undefined
	for _, name := range []string{"flagged_minority_precision", "flagged_minority_recall", "errors_minority_share",
		"minority_error_rate"} {
		if !slices.Contains(u, name) {
			t.Errorf("undefined %v lacks %s", u, name)
		}
	}
	if rep.Overall.Precision != 0 || math.IsNaN(rep.Overall.Recall) {
		t.Errorf("undefined ratios must be 0: %+v", rep.Overall)
	}
}

func TestSubgroupInputErrors(t *testing.T) {
	good := subgroupCase()
	for name, mutate := range map[string]func(in *SubgroupInput){
		"no minorities":      func(in *SubgroupInput) { in.Minorities = nil },
		"short decisions":    func(in *SubgroupInput) { in.Decisions = in.Decisions[1:] },
		"short confs":        func(in *SubgroupInput) { in.Confs = in.Confs[1:] },
		"short correct":      func(in *SubgroupInput) { in.Correct = in.Correct[1:] },
		"no such class":      func(in *SubgroupInput) { in.Classes = []int{7} },
		"no examples at all": func(in *SubgroupInput) { *in = SubgroupInput{Minorities: []int{1}} },
	} {
		in := good
		in.Decisions, in.Confs, in.Correct = slices.Clone(good.Decisions), slices.Clone(good.Confs), slices.Clone(good.Correct)
		mutate(&in)
		_, err1 := TopKCurves(in)
		_, err2 := FlaggedMinority(in)
		if name == "short correct" {
			err1 = err2 // TopKCurves does not need correctness
		}
		if name == "short confs" {
			err2 = err1 // FlaggedMinority does not need confidences
		}
		if err1 == nil || err2 == nil {
			t.Errorf("%s: TopKCurves %v, FlaggedMinority %v", name, err1, err2)
		}
	}
}

// TestSurfacingSeveralMinorities: the class-averaged Surfacing metric counts every id of Minorities.
func TestSurfacingSeveralMinorities(t *testing.T) {
	in := subgroupCase()
	curves, err := Surfacing(SurfacingInput{Decisions: in.Decisions, Confs: in.Confs, Labels: in.Labels,
		Groups: in.Groups, Minorities: in.Minorities}, []int{10})
	if err != nil {
		t.Fatal(err)
	}
	// Mean over the two classes of the K=10 fractions above: SVM (0.8 + 0.2)/2, confidence (0.1 + 0.2)/2,
	// random (9/25 + 2/12)/2.
	p := curves.Points[0]
	if !near(p.SVM, 0.5) || !near(p.Confidence, 0.15) || !near(p.Random, (9.0/25+2.0/12)/2) {
		t.Errorf("K=10: %+v", p)
	}
	// One id (the former interface) counts only that group: class 0 has minority 0, class 1 none of group 0.
	one, err := Surfacing(SurfacingInput{Decisions: in.Decisions, Confs: in.Confs, Labels: in.Labels, Groups: in.Groups,
		Minority: 0}, []int{10})
	if err != nil || !near(one.Points[0].SVM, 0.4) {
		t.Errorf("minority 0 only: %v %+v, want SVM (0.8 + 0)/2", err, one)
	}
}

// TestEvaluateSubgroups fits a planted two-class problem whose four groups are encoded as CelebA's (label·2 +
// minority), so the minorities are groups 1 and 3, and checks the surfacing metrics on its test split.
func TestEvaluateSubgroups(t *testing.T) {
	train, val, test, _ := synthetic(7, 2, 400, 12, 0.25, 4)
	for _, s := range []*Split{&train, &val, &test} {
		for i, l := range s.Labels {
			s.Groups[i] += 2 * l
		}
	}
	m, err := Fit(goBackend(t), train, val, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := m.EvaluateSubgroups(test, []int{1, 3})
	if err != nil {
		t.Fatal(err)
	}
	o := rep.Flagged.Overall
	t.Logf("flagged: precision %.3f recall %.3f; minority share %.3f, of the errors %.3f", o.Precision, o.Recall,
		o.MinorityShare, o.ErrorsMinorityShare)
	if o.N != test.Len() || o.Precision < o.MinorityShare+0.3 || o.Recall < 0.5 {
		t.Errorf("flagged set: %+v; want minority precision well above the minority share", o)
	}
	if len(rep.Flagged.PerClass) != 2 || len(rep.TopK.PerClass) != 2 {
		t.Fatalf("per class: %d flagged entries, %d curves", len(rep.Flagged.PerClass), len(rep.TopK.PerClass))
	}
	c := rep.TopK.PerClass[0]
	if c.N != 400 || len(c.Points) != 39 || c.Points[0].K != 10 || c.Points[38].K != 390 {
		t.Errorf("class 0 curve: n %d, %d points from K=%d", c.N, len(c.Points), c.Points[0].K)
	}
	if p := c.Points[4]; p.SVM < p.BaseRate+0.3 || p.SVM < p.Confidence {
		t.Errorf("class 0, K=%d: svm %.2f confidence %.2f base rate %.2f", p.K, p.SVM, p.Confidence, p.BaseRate)
	}
	// The same numbers from the plain functions.
	dec, _ := m.Decision(test)
	correct := make([]bool, test.Len())
	for i := range correct {
		correct[i] = test.Correct(i)
	}
	f, err := FlaggedMinority(SubgroupInput{Decisions: dec, Labels: test.Labels, Groups: test.Groups, Correct: correct,
		Minorities: []int{1, 3}})
	if err != nil || f.Overall.Precision != o.Precision || f.Overall.Recall != o.Recall {
		t.Errorf("FlaggedMinority %v %+v vs EvaluateSubgroups %+v", err, f.Overall, o)
	}
	// JSON field names.
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	overall := back["flagged"].(map[string]any)["overall"].(map[string]any)
	for _, k := range []string{"flagged_minority_precision", "flagged_minority_recall", "errors_minority_share", "n"} {
		if _, ok := overall[k]; !ok {
			t.Errorf("flagged.overall lacks %q: %v", k, overall)
		}
	}
	pt := back["topk"].(map[string]any)["pooled"].(map[string]any)["points"].([]any)[0].(map[string]any)
	for _, k := range []string{"k", "svm", "confidence", "base_rate"} {
		if _, ok := pt[k]; !ok {
			t.Errorf("topk point lacks %q: %v", k, pt)
		}
	}
	if _, err := m.EvaluateSubgroups(Split{Name: "x", Latents: test.Latents, Labels: test.Labels,
		Preds: test.Preds}, []int{1}); err == nil {
		t.Error("a split without groups and confidences was accepted")
	}
}
