package distill

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// auroc returns the area under the ROC curve of scores for the positive outcome (truth true): the probability
// that a random positive scores above a random negative, ties counting one half (Mann–Whitney U with mid-ranks).
// ok is false when one outcome is absent.
func auroc(truth []bool, scores []float32) (float64, bool) {
	n := len(truth)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	var npos int
	var rankSum float64
	for i := 0; i < n; {
		j := i
		for j < n && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for t := i; t < j; t++ {
			if truth[idx[t]] {
				rankSum += mid
				npos++
			}
		}
		i = j
	}
	nneg := n - npos
	if npos == 0 || nneg == 0 {
		return 0, false
	}
	u := rankSum - float64(npos)*float64(npos+1)/2
	return u / (float64(npos) * float64(nneg)), true
}

// AUROC returns the area under the ROC curve of scores for the examples whose truth is true, with ties counting one
// half; ok is false (and the value 0) when truth has a single outcome.
func AUROC(truth []bool, scores []float32) (auc float64, ok bool) {
	if len(truth) != len(scores) {
		return 0, false
	}
	return auroc(truth, scores)
}

// ErrorMetrics measures how well decision values predict the base model's errors on a set of examples. An example
// is flagged as a predicted error when its decision value is ≤ 0 (the SVM predicts "correct" only for positive
// values, as scikit-learn's SVC does); "positive" below means "base model error".
//
// A metric that is undefined on the examples (precision when nothing is flagged, recall and AUROC without errors,
// AUROC without correct predictions) is 0 and its name is listed in Undefined — never NaN.
type ErrorMetrics struct {
	// N is the number of examples and Errors how many the base model got wrong; Flagged how many have a
	// decision ≤ 0.
	N       int `json:"n"`
	Errors  int `json:"errors"`
	Flagged int `json:"flagged"`
	// Accuracy of "decision > 0 ⇔ base model correct".
	Accuracy float64 `json:"accuracy"`
	// BalancedAccuracy is the mean of the accuracies on the errors and on the correct predictions (over the
	// outcomes present).
	BalancedAccuracy float64 `json:"balanced_accuracy"`
	// Precision is the fraction of flagged examples that are errors; Recall the fraction of errors flagged.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	// AUROC of −decision for the errors (equivalently, of decision for the correct predictions).
	AUROC float64 `json:"auroc"`
	// Undefined lists the metrics that are not defined on these examples.
	Undefined []string `json:"undefined,omitempty"`
}

func errorMetrics(decisions []float32, isErr []bool) ErrorMetrics {
	m := ErrorMetrics{N: len(decisions)}
	var tp, fp, tn, fn int
	correct := make([]bool, len(isErr))
	for i, d := range decisions {
		flagged := d <= 0
		correct[i] = !isErr[i]
		switch {
		case flagged && isErr[i]:
			tp++
		case flagged:
			fp++
		case isErr[i]:
			fn++
		default:
			tn++
		}
	}
	m.Errors, m.Flagged = tp+fn, tp+fp
	if m.N > 0 {
		m.Accuracy = float64(tp+tn) / float64(m.N)
	} else {
		m.Undefined = append(m.Undefined, "accuracy")
	}
	m.BalancedAccuracy = balancedAccuracy(correct, decisions)
	if m.N == 0 {
		m.Undefined = append(m.Undefined, "balanced_accuracy")
	}
	if m.Flagged > 0 {
		m.Precision = float64(tp) / float64(m.Flagged)
	} else {
		m.Undefined = append(m.Undefined, "precision")
	}
	if m.Errors > 0 {
		m.Recall = float64(tp) / float64(m.Errors)
	} else {
		m.Undefined = append(m.Undefined, "recall")
	}
	if auc, ok := auroc(correct, decisions); ok {
		m.AUROC = auc
	} else {
		m.Undefined = append(m.Undefined, "auroc")
	}
	return m
}

// ClassErrorMetrics are the [ErrorMetrics] of one class.
type ClassErrorMetrics struct {
	Class int `json:"class"`
	ErrorMetrics
}

// ErrorReport holds error-prediction metrics over all examples and per class.
type ErrorReport struct {
	// Global is computed over every example considered.
	Global ErrorMetrics `json:"global"`
	// PerClass has one entry per class considered, in increasing class order.
	PerClass []ClassErrorMetrics `json:"per_class"`
	// MeanPerClass averages each metric over the classes where it is defined (N, Errors and Flagged are sums;
	// Undefined lists metrics defined for no class).
	MeanPerClass ErrorMetrics `json:"mean_per_class"`
}

// ErrorPrediction evaluates decision values as predictors of the base model's errors (label ≠ pred), globally and
// per class. classes restricts the evaluation to examples of those classes (per-class entries too); nil means
// every class present in labels.
func ErrorPrediction(decisions []float32, labels, preds []int, classes []int) (*ErrorReport, error) {
	if len(labels) != len(decisions) || len(preds) != len(decisions) {
		return nil, fmt.Errorf("distill: ErrorPrediction: %d decisions, %d labels, %d predictions", len(decisions),
			len(labels), len(preds))
	}
	keep := classSet(labels, classes)
	var gd []float32
	var ge []bool
	byClass := map[int][]int{}
	for i, l := range labels {
		if !keep[l] {
			continue
		}
		gd = append(gd, decisions[i])
		ge = append(ge, preds[i] != l)
		byClass[l] = append(byClass[l], i)
	}
	rep := &ErrorReport{Global: errorMetrics(gd, ge)}
	cls := sortedKeys(byClass)
	var sums [6]float64
	var counts [6]int
	for _, c := range cls {
		idx := byClass[c]
		d := make([]float32, len(idx))
		e := make([]bool, len(idx))
		for j, i := range idx {
			d[j], e[j] = decisions[i], preds[i] != c
		}
		cm := errorMetrics(d, e)
		rep.PerClass = append(rep.PerClass, ClassErrorMetrics{Class: c, ErrorMetrics: cm})
		rep.MeanPerClass.N += cm.N
		rep.MeanPerClass.Errors += cm.Errors
		rep.MeanPerClass.Flagged += cm.Flagged
		for k, v := range []float64{cm.Accuracy, cm.BalancedAccuracy, cm.Precision, cm.Recall, cm.AUROC} {
			name := metricNames[k]
			if !slices.Contains(cm.Undefined, name) {
				sums[k] += v
				counts[k]++
			}
		}
	}
	out := []*float64{&rep.MeanPerClass.Accuracy, &rep.MeanPerClass.BalancedAccuracy, &rep.MeanPerClass.Precision,
		&rep.MeanPerClass.Recall, &rep.MeanPerClass.AUROC}
	for k, p := range out {
		if counts[k] > 0 {
			*p = sums[k] / float64(counts[k])
		} else {
			rep.MeanPerClass.Undefined = append(rep.MeanPerClass.Undefined, metricNames[k])
		}
	}
	return rep, nil
}

var metricNames = []string{"accuracy", "balanced_accuracy", "precision", "recall", "auroc"}

func classSet(labels, classes []int) map[int]bool {
	keep := map[int]bool{}
	if classes == nil {
		for _, l := range labels {
			keep[l] = true
		}
	} else {
		for _, c := range classes {
			keep[c] = true
		}
	}
	return keep
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// SurfacingPoint is the surfacing metric at one K, averaged over classes.
type SurfacingPoint struct {
	// K is the number of top-ranked examples per class (capped at the class's size).
	K int `json:"k"`
	// SVM is the mean fraction of the known subgroup among each class's K most negative decision values;
	// Confidence the same for the K lowest base-model confidences; Random the subgroup's share of each class
	// (the expected fraction of K random examples).
	SVM        float64 `json:"svm_minority"`
	Confidence float64 `json:"conf_minority"`
	Random     float64 `json:"random_minority"`
	// SVMErrors and ConfidenceErrors are the mean fractions of base-model errors in the same top-K sets (only
	// when correctness was given).
	SVMErrors        float64 `json:"svm_err,omitempty"`
	ConfidenceErrors float64 `json:"conf_err,omitempty"`
}

// SurfacingCurves holds the surfacing metric over a list of K.
type SurfacingCurves struct {
	// Points are in the order of the requested K.
	Points []SurfacingPoint `json:"points"`
	// Classes are the classes averaged over.
	Classes []int `json:"classes"`
}

// SurfacingInput is the input of [Surfacing].
type SurfacingInput struct {
	// Decisions, Confs, Labels and Groups are per example (same length).
	Decisions, Confs []float32
	Labels, Groups   []int
	// Minority is the subgroup id counted.
	Minority int
	// Minorities, when not empty, are the subgroup ids counted instead of Minority (several minority groups at
	// once, e.g. CelebA's old women and young men).
	Minorities []int
	// Correct optionally gives the base model's correctness per example (adds the error fractions).
	Correct []bool
	// Classes restricts the average to these classes; nil means every class present in Labels.
	Classes []int
}

// Surfacing measures how well the decision values surface a known subgroup (the paper's metric): for each class,
// the fraction of examples of subgroup in.Minority among the K examples with the most negative decision values,
// against ranking by the base model's confidence in the true class (lowest first) and against random selection
// (the subgroup's share of the class), averaged over the classes, for each K in ks. Orders are stable (ties
// keep example order).
func Surfacing(in SurfacingInput, ks []int) (*SurfacingCurves, error) {
	n := len(in.Labels)
	if len(in.Decisions) != n || len(in.Confs) != n || len(in.Groups) != n || (in.Correct != nil && len(in.Correct) != n) {
		return nil, fmt.Errorf("distill: Surfacing: lengths differ: %d decisions, %d confidences, %d labels, %d groups, %d correct",
			len(in.Decisions), len(in.Confs), n, len(in.Groups), len(in.Correct))
	}
	for _, k := range ks {
		if k <= 0 {
			return nil, fmt.Errorf("distill: Surfacing: K=%d, want positive values", k)
		}
	}
	keep := classSet(in.Labels, in.Classes)
	byClass := map[int][]int{}
	for i, l := range in.Labels {
		if keep[l] {
			byClass[l] = append(byClass[l], i)
		}
	}
	out := &SurfacingCurves{Classes: sortedKeys(byClass), Points: make([]SurfacingPoint, len(ks))}
	if len(out.Classes) == 0 {
		return nil, fmt.Errorf("distill: Surfacing: no examples of the requested classes")
	}
	frac := func(idx []int, k int, f func(i int) bool) float64 {
		k = min(k, len(idx))
		c := 0
		for _, i := range idx[:k] {
			if f(i) {
				c++
			}
		}
		return float64(c) / float64(k)
	}
	isMin := func(i int) bool { return in.Groups[i] == in.Minority }
	if len(in.Minorities) > 0 {
		isMin = (&SubgroupInput{Groups: in.Groups, Minorities: in.Minorities}).minority()
	}
	isErr := func(i int) bool { return !in.Correct[i] }
	for _, c := range out.Classes {
		idx := byClass[c]
		bySVM := slices.Clone(idx)
		slices.SortStableFunc(bySVM, func(a, b int) int { return cmp.Compare(in.Decisions[a], in.Decisions[b]) })
		byConf := slices.Clone(idx)
		slices.SortStableFunc(byConf, func(a, b int) int { return cmp.Compare(in.Confs[a], in.Confs[b]) })
		random := frac(idx, len(idx), isMin)
		for j, k := range ks {
			p := &out.Points[j]
			p.K = k
			p.SVM += frac(bySVM, k, isMin)
			p.Confidence += frac(byConf, k, isMin)
			p.Random += random
			if in.Correct != nil {
				p.SVMErrors += frac(bySVM, k, isErr)
				p.ConfidenceErrors += frac(byConf, k, isErr)
			}
		}
	}
	nc := float64(len(out.Classes))
	for j := range out.Points {
		p := &out.Points[j]
		p.SVM /= nc
		p.Confidence /= nc
		p.Random /= nc
		p.SVMErrors /= nc
		p.ConfidenceErrors /= nc
	}
	return out, nil
}

// Spearman returns the Spearman rank correlation of a and b (ties get the mean of their ranks): the Pearson
// correlation of the ranks. It is NaN when either is constant, and when the lengths differ or are below 2.
func Spearman(a, b []float64) float64 {
	if len(a) != len(b) || len(a) < 2 {
		return math.NaN()
	}
	ra, rb := ranks(a), ranks(b)
	n := float64(len(a))
	var ma, mb float64
	for i := range ra {
		ma += ra[i]
		mb += rb[i]
	}
	ma, mb = ma/n, mb/n
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-ma, rb[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 {
		return math.NaN()
	}
	return sab / math.Sqrt(saa*sbb)
}

// ranks returns the 1-based ranks of v, ties getting the mean of their ranks.
func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(v[x], v[y]) })
	out := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && v[idx[j]] == v[idx[i]] {
			j++
		}
		for k := i; k < j; k++ {
			out[idx[k]] = float64(i+j+1) / 2
		}
		i = j
	}
	return out
}
