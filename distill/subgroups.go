package distill

import (
	"cmp"
	"fmt"
	"slices"
)

// The paper's surfacing metrics for known subgroups, as the reference's CelebA notebook
// (analysis_nbs/celeba_age.ipynb of MadryLab/failure-directions) computes them: the top-K minority-fraction curves
// and the flagged set's minority precision and recall, per class and over every example at once, with any number
// of minority groups (CelebA's old women and young men).

// SubgroupInput is the input of [TopKCurves] and [FlaggedMinority].
type SubgroupInput struct {
	// Decisions, Labels and Groups are per example (same length); Confs (the base model's probability of the true
	// class) is needed by TopKCurves, Correct (the base model's correctness) by FlaggedMinority.
	Decisions []float32
	Confs     []float32
	Labels    []int
	Groups    []int
	Correct   []bool
	// Minorities are the group ids counted as minority (e.g. {1, 3}: old women and young men).
	Minorities []int
	// Classes restricts the examples to these classes; nil means every class present in Labels.
	Classes []int
}

func (in *SubgroupInput) check(name string, needConfs, needCorrect bool) error {
	n := len(in.Labels)
	if n == 0 {
		return fmt.Errorf("distill: %s: no examples", name)
	}
	if len(in.Decisions) != n || len(in.Groups) != n {
		return fmt.Errorf("distill: %s: %d decisions and %d groups for %d labels", name, len(in.Decisions), len(in.Groups), n)
	}
	if needConfs && len(in.Confs) != n {
		return fmt.Errorf("distill: %s: %d confidences for %d labels", name, len(in.Confs), n)
	}
	if needCorrect && len(in.Correct) != n {
		return fmt.Errorf("distill: %s: %d correctness flags for %d labels", name, len(in.Correct), n)
	}
	if len(in.Minorities) == 0 {
		return fmt.Errorf("distill: %s: no minority group ids", name)
	}
	return nil
}

// byClass returns the kept examples' indices, per class and all together, in example order.
func (in *SubgroupInput) byClass() (classes []int, per map[int][]int, all []int) {
	keep := classSet(in.Labels, in.Classes)
	per = map[int][]int{}
	for i, l := range in.Labels {
		if keep[l] {
			per[l] = append(per[l], i)
			all = append(all, i)
		}
	}
	return sortedKeys(per), per, all
}

func (in *SubgroupInput) minority() func(i int) bool {
	set := map[int]bool{}
	for _, g := range in.Minorities {
		set[g] = true
	}
	return func(i int) bool { return set[in.Groups[i]] }
}

// CurvePoint is the minority fraction among the K top-ranked examples.
type CurvePoint struct {
	K int `json:"k"`
	// SVM ranks by decision value, most negative first; Confidence by the base model's probability of the true
	// class, lowest first; BaseRate is the minority share of all the examples (the expectation of a random pick).
	SVM        float64 `json:"svm"`
	Confidence float64 `json:"confidence"`
	BaseRate   float64 `json:"base_rate"`
}

// Curve is a top-K minority-fraction curve over one set of examples.
type Curve struct {
	// Class is the class, or −1 for every kept example ranked together.
	Class int `json:"class"`
	// N is the number of examples and Minority how many belong to a minority group.
	N        int `json:"n"`
	Minority int `json:"minority"`
	// Points are at K = 10, 20, … below N (numpy's arange(10, N, 10), as the reference plots them); none when
	// N ≤ 10.
	Points []CurvePoint `json:"points"`
}

// TopKReport holds the curves of [TopKCurves].
type TopKReport struct {
	// PerClass has one curve per class, in increasing class order; Pooled ranks every kept example together (the
	// reference's "all" figure).
	PerClass []Curve `json:"per_class"`
	Pooled   Curve   `json:"pooled"`
}

// TopKCurves returns the paper's surfacing curves: for each class, and for every kept example together, the
// fraction of minority examples among the K with the most negative decision values, against the K with the lowest
// confidence and against the base rate, for K = 10, 20, … below the number of examples. Orders are stable (ties
// keep example order; the reference's numpy argsort does not promise an order for ties).
func TopKCurves(in SubgroupInput) (*TopKReport, error) {
	if err := in.check("TopKCurves", true, false); err != nil {
		return nil, err
	}
	classes, per, all := in.byClass()
	if len(all) == 0 {
		return nil, fmt.Errorf("distill: TopKCurves: no examples of the requested classes")
	}
	isMin := in.minority()
	curve := func(class int, idx []int) Curve {
		c := Curve{Class: class, N: len(idx), Points: []CurvePoint{}}
		for _, i := range idx {
			if isMin(i) {
				c.Minority++
			}
		}
		bySVM := slices.Clone(idx)
		slices.SortStableFunc(bySVM, func(a, b int) int { return cmp.Compare(in.Decisions[a], in.Decisions[b]) })
		byConf := slices.Clone(idx)
		slices.SortStableFunc(byConf, func(a, b int) int { return cmp.Compare(in.Confs[a], in.Confs[b]) })
		var svm, conf int // minority counts in the prefixes
		for k := 1; k < len(idx); k++ {
			if isMin(bySVM[k-1]) {
				svm++
			}
			if isMin(byConf[k-1]) {
				conf++
			}
			if k%10 == 0 {
				c.Points = append(c.Points, CurvePoint{K: k, SVM: float64(svm) / float64(k),
					Confidence: float64(conf) / float64(k), BaseRate: float64(c.Minority) / float64(c.N)})
			}
		}
		return c
	}
	rep := &TopKReport{Pooled: curve(-1, all)}
	for _, c := range classes {
		rep.PerClass = append(rep.PerClass, curve(c, per[c]))
	}
	return rep, nil
}

// FlaggedStats describes the flagged set (decision ≤ 0, the examples the SVMs predict the base model gets wrong)
// and the base model's errors against the minority groups, over one set of examples. A ratio whose denominator is
// zero is 0 and named in Undefined.
type FlaggedStats struct {
	// Class is the class, or −1 for every kept example together.
	Class int `json:"class"`
	// N examples, of which Minority in a minority group, Errors misclassified by the base model, Flagged with a
	// decision value ≤ 0.
	N        int `json:"n"`
	Minority int `json:"minority"`
	Errors   int `json:"errors"`
	Flagged  int `json:"flagged"`
	// MinorityShare, ErrorRate and FlaggedRate are Minority, Errors and Flagged over N.
	MinorityShare float64 `json:"minority_share"`
	ErrorRate     float64 `json:"error_rate"`
	FlaggedRate   float64 `json:"flagged_rate"`
	// Precision is the minority share of the flagged set; Recall the share of minority examples flagged (the
	// paper's CelebA figures: 89.9% and 84.7%).
	Precision float64 `json:"flagged_minority_precision"`
	Recall    float64 `json:"flagged_minority_recall"`
	// ErrorsMinorityShare is the minority share of the base model's errors (71.4% on the paper's CelebA), the
	// figure Precision is compared with; MinorityErrorRate the share of minority examples the base model gets
	// wrong.
	ErrorsMinorityShare float64 `json:"errors_minority_share"`
	MinorityErrorRate   float64 `json:"minority_error_rate"`
	// Undefined lists the ratios with a zero denominator.
	Undefined []string `json:"undefined,omitempty"`
}

// FlaggedReport holds the statistics of [FlaggedMinority].
type FlaggedReport struct {
	// PerClass has one entry per class, in increasing class order; Overall counts every kept example together
	// (pooled, as the reference's table does, not a mean over classes).
	PerClass []FlaggedStats `json:"per_class"`
	Overall  FlaggedStats   `json:"overall"`
}

// FlaggedMinority returns, per class and over every kept example together, how the flagged set (decision value
// ≤ 0) covers the minority groups — precision and recall — next to the minority share of the base model's
// errors. Examples of classes without an SVM have decision 0 and count as flagged, as in the reference; pass
// Classes to leave them out.
func FlaggedMinority(in SubgroupInput) (*FlaggedReport, error) {
	if err := in.check("FlaggedMinority", false, true); err != nil {
		return nil, err
	}
	classes, per, all := in.byClass()
	if len(all) == 0 {
		return nil, fmt.Errorf("distill: FlaggedMinority: no examples of the requested classes")
	}
	isMin := in.minority()
	stats := func(class int, idx []int) FlaggedStats {
		s := FlaggedStats{Class: class, N: len(idx)}
		var flaggedMin, errMin int
		for _, i := range idx {
			m, f, e := isMin(i), in.Decisions[i] <= 0, !in.Correct[i]
			if m {
				s.Minority++
			}
			if f {
				s.Flagged++
			}
			if e {
				s.Errors++
			}
			if m && f {
				flaggedMin++
			}
			if m && e {
				errMin++
			}
		}
		ratio := func(name string, num, den int) float64 {
			if den == 0 {
				s.Undefined = append(s.Undefined, name)
				return 0
			}
			return float64(num) / float64(den)
		}
		s.MinorityShare = ratio("minority_share", s.Minority, s.N)
		s.ErrorRate = ratio("error_rate", s.Errors, s.N)
		s.FlaggedRate = ratio("flagged_rate", s.Flagged, s.N)
		s.Precision = ratio("flagged_minority_precision", flaggedMin, s.Flagged)
		s.Recall = ratio("flagged_minority_recall", flaggedMin, s.Minority)
		s.ErrorsMinorityShare = ratio("errors_minority_share", errMin, s.Errors)
		s.MinorityErrorRate = ratio("minority_error_rate", errMin, s.Minority)
		return s
	}
	rep := &FlaggedReport{Overall: stats(-1, all)}
	for _, c := range classes {
		rep.PerClass = append(rep.PerClass, stats(c, per[c]))
	}
	return rep, nil
}

// SubgroupReport gathers the surfacing metrics of [Model.EvaluateSubgroups].
type SubgroupReport struct {
	// Minorities are the group ids counted as minority.
	Minorities []int `json:"minorities"`
	// TopK holds the top-K minority-fraction curves; Flagged the flagged set's minority precision and recall.
	TopK    *TopKReport    `json:"topk"`
	Flagged *FlaggedReport `json:"flagged"`
}

// EvaluateSubgroups computes the decision values of s and the paper's surfacing metrics for the minority group
// ids minorities: [TopKCurves] and [FlaggedMinority] over every example of s (classes without an SVM have
// decision 0, as in the reference). s needs Labels, Preds, Confs and Groups.
func (m *FailureModel) EvaluateSubgroups(s Split, minorities []int) (*SubgroupReport, error) {
	if err := s.requireLabels(true); err != nil {
		return nil, fmt.Errorf("distill: EvaluateSubgroups: %w", err)
	}
	if len(s.Confs) == 0 || len(s.Groups) == 0 {
		return nil, fmt.Errorf("distill: EvaluateSubgroups: %s needs confidences and groups", s.Name)
	}
	dec, err := m.Decision(s)
	if err != nil {
		return nil, fmt.Errorf("distill: EvaluateSubgroups: %w", err)
	}
	correct := make([]bool, s.Len())
	for i := range correct {
		correct[i] = s.Correct(i)
	}
	in := SubgroupInput{Decisions: dec, Confs: s.Confs, Labels: s.Labels, Groups: s.Groups, Correct: correct,
		Minorities: slices.Clone(minorities)}
	rep := &SubgroupReport{Minorities: in.Minorities}
	if rep.TopK, err = TopKCurves(in); err != nil {
		return nil, err
	}
	if rep.Flagged, err = FlaggedMinority(in); err != nil {
		return nil, err
	}
	return rep, nil
}
