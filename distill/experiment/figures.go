package experiment

import (
	"cmp"
	"fmt"
	"image/color"
	"slices"
	"strings"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/plots"
)

// Figure is one rendered chart or gallery of a report.
type Figure struct {
	// Name is the file stem ("topk_natural", "gallery_shirt"); Title says what it shows.
	Name, Title string
	// Figure draws it; PNG holds its rendering.
	Figure plots.Figure
	PNG    []byte
}

// wrongFrame marks the images the base model got wrong in galleries.
var wrongFrame = color.RGBA{R: 220, G: 30, B: 30, A: 255}

// Classes returns the classes given galleries and per-class charts: those with an SVM, at most Spec.MaxClasses of
// them — the ones with the lowest base-model test accuracy when there are more.
func (r *Report) Classes() []int {
	s := r.Summary
	acc := map[int]float64{}
	var fitted []int
	for _, c := range s.SVM {
		if c.Status.HasClassifier() {
			fitted = append(fitted, c.Class)
			if c.TestN > 0 {
				acc[c.Class] = 1 - float64(c.TestErrors)/float64(c.TestN)
			}
		}
	}
	if len(fitted) <= s.Spec.MaxClasses {
		return fitted
	}
	slices.SortStableFunc(fitted, func(a, b int) int { return cmp.Compare(acc[a], acc[b]) })
	out := slices.Clone(fitted[:s.Spec.MaxClasses])
	slices.Sort(out)
	return out
}

// TopKChart draws the top-K minority-fraction curves of a view: all classes pooled, then each class of
// [Report.Classes], SVM decision value vs base-model confidence vs base rate.
func (r *Report) TopKChart(view string) (*plots.Grid, error) {
	v := r.Summary.Surfacing.View(view)
	if v == nil {
		return nil, fmt.Errorf("experiment: no %s view (the data has no groups)", view)
	}
	names := r.Summary.Dataset.Classes
	show := r.Classes()
	var charts []*plots.Chart
	add := func(title string, c curveSource) error {
		if len(c.ks) == 0 {
			return nil
		}
		ch, err := plots.TopK(title, c.ks,
			plots.Curve{Name: "SVM decision value", Y: c.svm},
			plots.Curve{Name: "base-model confidence", Y: c.conf},
			plots.Curve{Name: "base rate", Y: c.base, Dashed: true, Color: plots.Gray})
		if err != nil {
			return err
		}
		charts = append(charts, ch)
		return nil
	}
	if err := add(fmt.Sprintf("all classes (%s test)", view), curveOf(v.TopK.Pooled.Points)); err != nil {
		return nil, err
	}
	for _, cv := range v.TopK.PerClass {
		if slices.Contains(show, cv.Class) {
			if err := add(names[cv.Class], curveOf(cv.Points)); err != nil {
				return nil, err
			}
		}
	}
	if len(charts) == 0 {
		return nil, fmt.Errorf("experiment: the %s view has no class with more than 10 test images", view)
	}
	return plots.NewGrid(min(len(charts), 3), charts...), nil
}

type curveSource struct {
	ks              []int
	svm, conf, base []float64
}

func curveOf(pts []distill.CurvePoint) curveSource {
	var c curveSource
	for _, p := range pts {
		c.ks = append(c.ks, p.K)
		c.svm = append(c.svm, p.SVM)
		c.conf = append(c.conf, p.Confidence)
		c.base = append(c.base, p.BaseRate)
	}
	return c
}

// DecisionChart is the histogram of test decision values for the base model's correct and wrong predictions.
func (r *Report) DecisionChart() (*plots.Chart, error) {
	var right, wrong []float64
	for _, row := range r.Decisions {
		if row.Split != "test" {
			continue
		}
		if row.Correct {
			right = append(right, float64(row.Decision))
		} else {
			wrong = append(wrong, float64(row.Decision))
		}
	}
	return plots.DecisionHistogram("test decision values", right, wrong, plots.DefaultBins)
}

// BalancedAccuracyChart shows each shown class's cross-validated and test balanced accuracy of error prediction.
func (r *Report) BalancedAccuracyChart() (*plots.Chart, error) {
	show := r.Classes()
	var names []string
	var cv, test []float64
	for _, c := range r.Summary.SVM {
		if slices.Contains(show, c.Class) {
			names = append(names, c.Name)
			cv = append(cv, c.CVBalancedAccuracy)
			test = append(test, c.TestBalancedAcc)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("experiment: no class has an SVM")
	}
	return plots.BalancedAccuracy("SVM balanced accuracy at predicting the base model's errors", names,
		plots.Bars{Name: "cross-validated (val)", Values: cv}, plots.Bars{Name: "test", Values: test})
}

// CaptionCheckChart shows, per shown class, the base model's accuracy on the K test images nearest to the hard
// and to the easy caption, against the class average.
func (r *Report) CaptionCheckChart() (*plots.Grid, error) {
	if r.Captions == nil {
		return nil, fmt.Errorf("experiment: no captions")
	}
	show := r.Classes()
	var charts []*plots.Chart
	for _, cc := range r.Captions.Classes {
		ck := cc.Check
		if ck == nil || !slices.Contains(show, cc.Class) {
			continue
		}
		ch, err := plots.CaptionCheck("caption check: "+ck.Class, plots.CaptionCheckData{Ks: ck.Ks,
			HardCaption: ck.Hard, EasyCaption: ck.Easy, Hard: ck.HardAccuracy, Easy: ck.EasyAccuracy,
			ClassAverage: ck.ClassAccuracy})
		if err != nil {
			return nil, err
		}
		charts = append(charts, ch)
	}
	if len(charts) == 0 {
		return nil, fmt.Errorf("experiment: no caption check")
	}
	return plots.NewGrid(min(len(charts), 3), charts...), nil
}

// ranking returns class c's caption ranking, or nil.
func (r *Report) ranking(c int) *caption.Ranking {
	if r.Captions == nil {
		return nil
	}
	for _, cc := range r.Captions.Classes {
		if cc.Class == c {
			return cc.Ranking
		}
	}
	return nil
}

// Gallery shows class c's test images with the most negative (hard) and most positive (easy) decision values,
// each captioned with its decision value and the base model's prediction; a red frame marks a wrong prediction.
func (r *Report) Gallery(c int) (*plots.Gallery, error) {
	var rows []DecisionRow
	for _, row := range r.Decisions {
		if row.Split == "test" && row.Class == c {
			rows = append(rows, row)
		}
	}
	slices.SortStableFunc(rows, func(a, b DecisionRow) int { return cmp.Compare(a.Rank, b.Rank) })
	n := min(r.Summary.Spec.GalleryN, len(rows)/2)
	names := r.Summary.Dataset.Classes
	items := func(rs []DecisionRow) ([]plots.Item, error) {
		out := make([]plots.Item, len(rs))
		for j, row := range rs {
			pred := fmt.Sprint(row.Pred)
			if row.Pred < len(names) {
				pred = names[row.Pred]
			}
			out[j] = plots.Item{Caption: fmt.Sprintf("%+.2f\npred: %s", row.Decision, pred)}
			if r.Image != nil {
				img, err := r.Image(row.ID)
				if err != nil {
					return nil, err
				}
				out[j].Image = img
			}
			if !row.Correct {
				out[j].Frame = wrongFrame
			}
		}
		return out, nil
	}
	hard, err := items(rows[:n])
	if err != nil {
		return nil, err
	}
	easyRows := slices.Clone(rows[len(rows)-n:])
	slices.Reverse(easyRows)
	easy, err := items(easyRows)
	if err != nil {
		return nil, err
	}
	title := "class " + names[c]
	if rk := r.ranking(c); rk != nil && len(rk.Captions) > 0 {
		title += fmt.Sprintf(" — hard: %q, easy: %q", rk.Hard(1)[0].Text, rk.Easy(1)[0].Text)
	}
	return plots.Extremes(title, hard, easy), nil
}

// Figures renders every chart and gallery of the report: the top-K curves of each view, the decision histogram,
// the balanced accuracies, the caption check and one gallery per shown class.
func (r *Report) Figures() ([]Figure, error) {
	var out []Figure
	add := func(name, title string, f plots.Figure, err error) error {
		if err != nil {
			return fmt.Errorf("experiment: figure %s: %w", name, err)
		}
		png, err := f.Render(plots.PNG)
		if err != nil {
			return fmt.Errorf("experiment: figure %s: %w", name, err)
		}
		out = append(out, Figure{Name: name, Title: title, Figure: f, PNG: png})
		return nil
	}
	if sf := r.Summary.Surfacing; sf != nil {
		for _, v := range sf.Views {
			g, err := r.TopKChart(v.Name)
			title := fmt.Sprintf("Minority fraction among the K hardest test images, %s view (%s)", v.Name, v.Description)
			if err := add("topk_"+strings.ReplaceAll(v.Name, "-", "_"), title, g, err); err != nil {
				return nil, err
			}
		}
	}
	hist, err := r.DecisionChart()
	if err := add("decisions", "Test decision values of the base model's correct and wrong predictions", hist, err); err != nil {
		return nil, err
	}
	if slices.ContainsFunc(r.Summary.SVM, func(c ClassSVM) bool { return c.Status.HasClassifier() }) {
		bal, err := r.BalancedAccuracyChart()
		if err := add("svm_balanced_accuracy", "SVM balanced accuracy at predicting the base model's errors", bal, err); err != nil {
			return nil, err
		}
	}
	if r.Captions != nil && slices.ContainsFunc(r.Captions.Classes, func(c CaptionClass) bool { return c.Check != nil }) {
		cc, err := r.CaptionCheckChart()
		if err := add("caption_check", "Caption check: base-model accuracy on the K test images nearest to the hard and the easy caption", cc, err); err != nil {
			return nil, err
		}
	}
	for _, c := range r.Classes() {
		g, err := r.Gallery(c)
		name := r.Summary.Dataset.Classes[c]
		if err := add("gallery_"+fileStem(name), "Hardest and easiest test images of "+name, g, err); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// fileStem turns a class name into a file-name-safe stem ("T-shirt/top" → "t-shirt_top").
func fileStem(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, name)
}
