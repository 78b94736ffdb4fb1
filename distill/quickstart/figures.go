package quickstart

import (
	"context"
	"fmt"
	"image/color"
	"path/filepath"
	"strings"

	"github.com/faildirs/faildirs/plots"
)

// Figure is a named chart or gallery of a quick-start run.
type Figure struct {
	// Name is the file stem, e.g. "topk" or "gallery_shirt".
	Name string
	// Figure renders to PNG or SVG (plots.Chart, plots.Grid or plots.Gallery).
	Figure plots.Figure
}

// TopKChart plots the top-K minority fraction against K, averaged over classes: SVM vs confidence vs base rate.
func (p *Pipeline) TopKChart(ctx context.Context) (*plots.Chart, error) {
	ks := []int{5, 10, 25, 50, 75, 100, 150, 200, 300}
	pts, err := p.Surfacing(ctx, -1, ks)
	if err != nil {
		return nil, err
	}
	svm, conf, base := make([]float64, len(pts)), make([]float64, len(pts)), make([]float64, len(pts))
	for i, pt := range pts {
		svm[i], conf[i], base[i] = pt.SVM, pt.Conf, pt.BaseRate
	}
	return plots.TopK("minority fraction among the K hardest test images (mean over classes)", ks,
		plots.Curve{Name: "SVM decision value", Y: svm},
		plots.Curve{Name: "base-model confidence", Y: conf},
		plots.Curve{Name: "base rate", Y: base, Dashed: true})
}

// DecisionChart is the histogram of test decision values for the base model's correct and wrong predictions.
func (p *Pipeline) DecisionChart(ctx context.Context) (*plots.Chart, error) {
	test, err := p.Split(ctx, "test")
	if err != nil {
		return nil, err
	}
	if err := p.FitSVMs(ctx); err != nil {
		return nil, err
	}
	var right, wrong []float64
	for i, d := range p.Eval.Decisions {
		if test.Correct(i) {
			right = append(right, float64(d))
		} else {
			wrong = append(wrong, float64(d))
		}
	}
	return plots.DecisionHistogram("test decision values", right, wrong, 30)
}

// BalancedAccuracyChart shows each class's cross-validated and test balanced accuracy of error prediction.
func (p *Pipeline) BalancedAccuracyChart(ctx context.Context) (*plots.Chart, error) {
	s, err := p.Summary(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(s.SVM))
	cv, test := make([]float64, len(s.SVM)), make([]float64, len(s.SVM))
	for i, c := range s.SVM {
		names[i], cv[i], test[i] = c.Name, c.CVBalancedAccuracy, c.TestBalancedAcc
	}
	return plots.BalancedAccuracy("SVM balanced accuracy at predicting the base model's errors", names,
		plots.Bars{Name: "cross-validated (val)", Values: cv}, plots.Bars{Name: "test", Values: test})
}

// CaptionCheckChart shows, per class, the base model's accuracy on the K test images nearest to the hard and to
// the easy caption, against the class average.
func (p *Pipeline) CaptionCheckChart(ctx context.Context) (*plots.Grid, error) {
	if err := p.CaptionCheck(ctx); err != nil {
		return nil, err
	}
	var charts []*plots.Chart
	for _, ck := range p.Checks {
		if ck == nil {
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
	return plots.NewGrid(min(len(charts), 3), charts...), nil
}

// wrongFrame marks the images the base model got wrong in galleries.
var wrongFrame = color.RGBA{R: 220, G: 30, B: 30, A: 255}

// Gallery shows class c's test images with the most negative (hard) and most positive (easy) decision values,
// each captioned with its decision value and the base model's prediction; a red frame marks a wrong prediction.
func (p *Pipeline) Gallery(ctx context.Context, c int) (*plots.Gallery, error) {
	test, err := p.Split(ctx, "test")
	if err != nil {
		return nil, err
	}
	if err := p.FitSVMs(ctx); err != nil {
		return nil, err
	}
	hard, easy, err := p.SVM.Extremes(test, c, p.Config.GalleryN)
	if err != nil {
		return nil, err
	}
	items := func(idx []int) ([]plots.Item, error) {
		out := make([]plots.Item, len(idx))
		for j, i := range idx {
			img, err := p.Data.Test.Image(i)
			if err != nil {
				return nil, err
			}
			out[j] = plots.Item{Image: img, Caption: fmt.Sprintf("%+.2f\npred: %s", p.Eval.Decisions[i],
				p.Data.Classes[test.Preds[i]])}
			if !test.Correct(i) {
				out[j].Frame = wrongFrame
			}
		}
		return out, nil
	}
	h, err := items(hard)
	if err != nil {
		return nil, err
	}
	e, err := items(easy)
	if err != nil {
		return nil, err
	}
	title := "class " + p.Data.Classes[c]
	if p.Rankings != nil && c < len(p.Rankings) && p.Rankings[c] != nil {
		r := p.Rankings[c]
		title += fmt.Sprintf(" — hard: %q, easy: %q", r.Hard(1)[0].Text, r.Easy(1)[0].Text)
	}
	return plots.Extremes(title, h, e), nil
}

// Figures returns every chart and gallery of the run (running the stages they need).
func (p *Pipeline) Figures(ctx context.Context) ([]Figure, error) {
	if err := p.RunAll(ctx); err != nil {
		return nil, err
	}
	var out []Figure
	add := func(name string, f plots.Figure, err error) error {
		if err != nil {
			return fmt.Errorf("quickstart: figure %s: %w", name, err)
		}
		out = append(out, Figure{Name: name, Figure: f})
		return nil
	}
	topk, err := p.TopKChart(ctx)
	if err := add("topk", topk, err); err != nil {
		return nil, err
	}
	hist, err := p.DecisionChart(ctx)
	if err := add("decisions", hist, err); err != nil {
		return nil, err
	}
	bal, err := p.BalancedAccuracyChart(ctx)
	if err := add("svm_balanced_accuracy", bal, err); err != nil {
		return nil, err
	}
	cc, err := p.CaptionCheckChart(ctx)
	if err := add("caption_check", cc, err); err != nil {
		return nil, err
	}
	for _, ci := range p.SVM.Classes() {
		if !ci.Status.HasClassifier() {
			continue
		}
		g, err := p.Gallery(ctx, ci.Class)
		if err := add("gallery_"+fileStem(p.Data.Classes[ci.Class]), g, err); err != nil {
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

// SaveOutputs writes every figure as PNG and summary.json into dir, and returns the summary.
func (p *Pipeline) SaveOutputs(ctx context.Context, dir string) (*Summary, error) {
	s, err := p.Summary(ctx)
	if err != nil {
		return nil, err
	}
	figs, err := p.Figures(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range figs {
		if err := plots.Save(f.Figure, filepath.Join(dir, f.Name+".png")); err != nil {
			return nil, fmt.Errorf("quickstart: writing %s: %w", f.Name, err)
		}
	}
	s.Timings = p.Timings
	if err := s.Save(filepath.Join(dir, "summary.json")); err != nil {
		return nil, err
	}
	return s, nil
}
