package intervene

import (
	"fmt"
	"math"
)

// Scheme is a reweighting scheme: how the training examples of a class are weighted from their decision values
// (or, for the oracle, from their true groups).
type Scheme string

// The reweighting schemes of the reference code's CelebA intervention. Within each class, an example is flagged
// when its decision value (of its true class's SVM) is ≤ 0.
const (
	// Overweight2 gives flagged examples weight 2 and the others 1.
	Overweight2 Scheme = "overweight_2"
	// Balanced gives the class's flagged and unflagged examples equal total weight: n_c/(2·n_flagged) each for
	// flagged ones, n_c/(2·n_unflagged) for the others (the class keeps its total weight n_c). A class where every
	// example, or none, is flagged keeps weight 1 everywhere.
	Balanced Scheme = "balanced"
	// Soft weighs by how negative the decision value is: (−dv − min(−dv)) / mean(−dv − min(−dv)) over the class,
	// so the class's mean weight is 1 and its easiest example weighs 0. A class whose decision values are all
	// equal keeps weight 1 everywhere (the reference code would divide 0 by 0).
	Soft Scheme = "soft"
)

// Schemes lists the reweighting schemes in the order reports show them.
var Schemes = []Scheme{Overweight2, Balanced, Soft}

// ParseScheme returns the scheme named s.
func ParseScheme(s string) (Scheme, error) {
	for _, sc := range Schemes {
		if string(sc) == s {
			return sc, nil
		}
	}
	return "", fmt.Errorf("intervene: unknown reweighting scheme %q (want overweight_2, balanced or soft)", s)
}

// Weights returns one loss weight per training example under scheme, computed class by class from labels (the
// true classes, 0 ≤ label < numClasses) and dv (each example's decision value of its true class's SVM). Classes
// listed in skip (no SVM: no failure signal) keep weight 1. Decision values must be finite.
func Weights(scheme Scheme, labels []int, dv []float32, numClasses int, skip []bool) ([]float32, error) {
	if len(dv) != len(labels) {
		return nil, fmt.Errorf("intervene: %d decision values for %d labels", len(dv), len(labels))
	}
	if err := checkLabels(labels, numClasses); err != nil {
		return nil, err
	}
	for i, v := range dv {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("intervene: decision value %d (label %d) is %v", i, labels[i], v)
		}
	}
	out := ones(len(labels))
	for c, idx := range byClass(labels, numClasses) {
		if c < len(skip) && skip[c] {
			continue
		}
		switch scheme {
		case Overweight2, Balanced:
			flagged := make([]bool, len(idx))
			for k, i := range idx {
				flagged[k] = dv[i] <= 0
			}
			flagWeights(scheme, idx, flagged, out)
		case Soft:
			lo := math.Inf(1)
			for _, i := range idx {
				lo = math.Min(lo, -float64(dv[i]))
			}
			sum := 0.0
			for _, i := range idx {
				sum += -float64(dv[i]) - lo
			}
			if sum == 0 {
				continue // every decision value equal: nothing to tell the examples apart
			}
			mean := sum / float64(len(idx))
			for _, i := range idx {
				out[i] = float32((-float64(dv[i]) - lo) / mean)
			}
		default:
			return nil, fmt.Errorf("intervene: unknown reweighting scheme %q", scheme)
		}
	}
	return out, nil
}

// OracleWeights returns the oracle's weights: scheme (Overweight2 or Balanced) with the true minority groups as the
// flagged examples. Soft has no oracle (groups give no graded score).
func OracleWeights(scheme Scheme, labels []int, minority []bool, numClasses int) ([]float32, error) {
	if scheme != Overweight2 && scheme != Balanced {
		return nil, fmt.Errorf("intervene: the oracle has schemes overweight_2 and balanced, not %q", scheme)
	}
	if len(minority) != len(labels) {
		return nil, fmt.Errorf("intervene: %d minority flags for %d labels", len(minority), len(labels))
	}
	if err := checkLabels(labels, numClasses); err != nil {
		return nil, err
	}
	out := ones(len(labels))
	for _, idx := range byClass(labels, numClasses) {
		flagged := make([]bool, len(idx))
		for k, i := range idx {
			flagged[k] = minority[i]
		}
		flagWeights(scheme, idx, flagged, out)
	}
	return out, nil
}

// flagWeights writes the weights of one class's examples idx (flagged[k] for idx[k]) under Overweight2 or
// Balanced into out.
func flagWeights(scheme Scheme, idx []int, flagged []bool, out []float32) {
	nf := 0
	for _, f := range flagged {
		if f {
			nf++
		}
	}
	n := len(idx)
	for k, i := range idx {
		switch {
		case scheme == Overweight2 && flagged[k]:
			out[i] = 2
		case scheme == Overweight2:
			out[i] = 1
		case nf == 0 || nf == n:
			out[i] = 1 // nothing, or everything, flagged: balancing changes nothing
		case flagged[k]:
			out[i] = float32(float64(n) / (2 * float64(nf)))
		default:
			out[i] = float32(float64(n) / (2 * float64(n-nf)))
		}
	}
}

func ones(n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

// byClass returns the indices of each class's examples, in order.
func byClass(labels []int, numClasses int) [][]int {
	out := make([][]int, numClasses)
	for i, l := range labels {
		out[l] = append(out[l], i)
	}
	return out
}

func checkLabels(labels []int, numClasses int) error {
	if numClasses < 1 {
		return fmt.Errorf("intervene: %d classes", numClasses)
	}
	for i, l := range labels {
		if l < 0 || l >= numClasses {
			return fmt.Errorf("intervene: label %d of example %d outside the %d classes", l, i, numClasses)
		}
	}
	return nil
}
