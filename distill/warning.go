package distill

import (
	"fmt"
	"strings"
)

// Warning reports degenerate data: the method ran, but part of its input carries no failure signal or contradicts
// itself. [Fit] and [LoadNPYSplit] return them; commands print each one on a line of its own and record them in
// their JSON, so that nothing degenerate is fitted silently.
type Warning struct {
	// Code is one of the Warn* constants, stable for programs.
	Code string `json:"code"`
	// Message says what was found and where, in words.
	Message string `json:"message"`
}

func (w Warning) String() string { return w.Code + ": " + w.Message }

// Warning codes.
const (
	// WarnNoFailureSignal: no class got an SVM (no class has both errors and correct predictions in validation, in
	// numbers enough for cross-validation), so the model predicts nothing and has no failure direction.
	WarnNoFailureSignal = "no-failure-signal"
	// WarnConstantFeatures: some latent features are constant in train; whitening maps them to 0, so the SVMs ignore
	// them. (When every feature is constant, Fit fails instead: there is nothing to fit.)
	WarnConstantFeatures = "constant-features"
	// WarnInconsistentCorrect: a "correct" column that came with the data disagrees with preds == labels; the method
	// uses preds == labels.
	WarnInconsistentCorrect = "inconsistent-correct"
)

// NoFailureSignal reports whether no class got an SVM (the model's warnings then include [WarnNoFailureSignal]).
func (m *FailureModel) NoFailureSignal() bool {
	for _, c := range m.Fits {
		if c.Status.HasClassifier() {
			return false
		}
	}
	return true
}

// noSignalWarning describes why no class got an SVM, counting the statuses.
func noSignalWarning(fits []ClassFit) Warning {
	counts := map[Status]int{}
	var order []Status
	for _, c := range fits {
		if counts[c.Status] == 0 {
			order = append(order, c.Status)
		}
		counts[c.Status]++
	}
	parts := make([]string, len(order))
	for i, s := range order {
		parts[i] = fmt.Sprintf("%d %s", counts[s], s)
	}
	return Warning{Code: WarnNoFailureSignal, Message: fmt.Sprintf(
		"no class has both base-model errors and correct predictions in validation (classes: %s): nothing was fitted, no failure direction exists",
		strings.Join(parts, ", "))}
}

// constantFeaturesWarning lists (the first few of) the constant features among dim features of split.
func constantFeaturesWarning(constant []int, dim int, split string) Warning {
	idx := make([]string, 0, 10)
	for _, k := range constant[:min(len(constant), 10)] {
		idx = append(idx, fmt.Sprint(k))
	}
	list := strings.Join(idx, ", ")
	if len(constant) > len(idx) {
		list += ", …"
	}
	return Warning{Code: WarnConstantFeatures, Message: fmt.Sprintf(
		"%d of %d features are constant in %s (features %s): whitening maps them to 0 and the SVMs ignore them",
		len(constant), dim, split, list)}
}
