package distill

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestClassCountFromDeclaredClasses holds issue 11's label cases: a validation label of 2^40 ran out of memory
// and one of 1e6 fitted a million empty classes (a 132 MB model). Without a declared count, a label larger than
// the number of validation examples is now an error; a declared count bounds every label.
func TestClassCountFromDeclaredClasses(t *testing.T) {
	_, val, _, _ := synthetic(5, 2, 40, 4, 0.3, 4)
	b := goBackend(t)
	for _, stray := range []int{1 << 40, 1_000_000, 81} {
		v := val
		v.Labels = append([]int(nil), val.Labels...)
		v.Labels[3] = stray
		_, err := Fit(b, val, v, testOptions())
		if err == nil || !strings.Contains(err.Error(), "example 3") || !strings.Contains(err.Error(), "declare the class count") {
			t.Errorf("label %d: %v, want an error naming example 3 and asking to declare the class count", stray, err)
		}
	}
	// 80 examples: labels up to 79 are a plausible class count.
	v := val
	v.Labels = append([]int(nil), val.Labels...)
	v.Labels[3] = 79
	m, err := Fit(b, val, v, testOptions())
	if err != nil || m.NumClasses() != 80 {
		t.Fatalf("label 79 of 80 examples: %v", err)
	}
	opts := testOptions()
	opts.NumClasses = 5
	if m, err = Fit(b, val, val, opts); err != nil || m.NumClasses() != 5 || m.Fits[4].Status != StatusNoData {
		t.Errorf("declared 5 classes: %v", err)
	}
	opts.NumClasses = 1
	if _, err := Fit(b, val, val, opts); err == nil || !strings.Contains(err.Error(), "not below the declared 1 classes") {
		t.Errorf("label above the declared count: %v", err)
	}
	opts.NumClasses = MaxClasses + 1
	if _, err := Fit(b, val, val, opts); err == nil {
		t.Errorf("NumClasses above MaxClasses accepted")
	}
}

// TestDegenerateDataIsReported holds issue 11's degenerate cases: validation without a single error fitted nothing
// and said nothing; constant train features were whitened to zero and fitted silently.
func TestDegenerateDataIsReported(t *testing.T) {
	train, val, _, _ := synthetic(6, 2, 60, 4, 0.3, 4)
	b := goBackend(t)

	allCorrect := val
	allCorrect.Preds = append([]int(nil), val.Labels...)
	m, err := Fit(b, train, allCorrect, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !m.NoFailureSignal() || len(m.Warnings) != 1 || m.Warnings[0].Code != WarnNoFailureSignal ||
		!strings.Contains(m.Warnings[0].Message, "2 no-errors") {
		t.Errorf("all-correct validation: no signal %v, warnings %v", m.NoFailureSignal(), m.Warnings)
	}

	constant := train
	constant.Latents = train.Latents.Clone()
	for i := range constant.Len() {
		constant.Latents.Row(i)[1] = 7
		constant.Latents.Row(i)[3] = -1
	}
	m, err = Fit(b, constant, val, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if m.NoFailureSignal() || len(m.Warnings) != 1 || m.Warnings[0].Code != WarnConstantFeatures ||
		!strings.Contains(m.Warnings[0].Message, "2 of 4 features are constant in train (features 1, 3)") {
		t.Errorf("two constant features: warnings %v", m.Warnings)
	}
	back, err := Read(strings.NewReader(mustWrite(t, m)))
	if err != nil || len(back.Warnings) != 1 || back.Warnings[0] != m.Warnings[0] {
		t.Errorf("warnings after a save/load round trip: %v %v", back.Warnings, err)
	}
	for i := range constant.Len() {
		clear(constant.Latents.Row(i))
	}
	if _, err := Fit(b, constant, val, testOptions()); err == nil || !strings.Contains(err.Error(), "all 4 latent features are constant in train") {
		t.Errorf("every feature constant: %v", err)
	}
}

// TestFitContextStops: a cancelled context stops the fit with an error wrapping context.Canceled.
func TestFitContextStops(t *testing.T) {
	train, val, _, _ := synthetic(7, 2, 60, 4, 0.3, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := FitContext(ctx, goBackend(t), train, val, testOptions()); !errors.Is(err, context.Canceled) {
		t.Errorf("FitContext with a cancelled context: %v", err)
	}
}

func mustWrite(t *testing.T, m *FailureModel) string {
	t.Helper()
	var sb strings.Builder
	if err := m.Write(&sb); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}
