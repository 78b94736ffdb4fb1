package benchmark

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/faildirs/faildirs/distill/experiment"
	"github.com/faildirs/faildirs/plots"
)

// The files of a benchmark folder.
const (
	// ResultFile holds the Result (deterministic: the same command writes the same bytes).
	ResultFile = "benchmark.json"
	// TimingFile holds the run's Timing.
	TimingFile = "timing.json"
	// ReportFile is the self-contained page with the tables and charts.
	ReportFile = "report.html"
)

// Figures renders the benchmark's charts: the mean of each metric per method over every setting, and each
// setting's precision at the middle K per method.
func (r *Result) Figures() ([]experiment.Figure, error) {
	s := r.Summary
	var out []experiment.Figure
	add := func(name, title string, f plots.Figure, err error) error {
		if err != nil {
			return fmt.Errorf("benchmark: figure %s: %w", name, err)
		}
		png, err := f.Render(plots.PNG)
		if err != nil {
			return fmt.Errorf("benchmark: figure %s: %w", name, err)
		}
		out = append(out, experiment.Figure{Name: name, Title: title, Figure: f, PNG: png})
		return nil
	}
	var series []plots.Bars
	for k, K := range s.Ks {
		b := plots.Bars{Name: fmt.Sprintf("precision at %d", K)}
		for _, row := range s.All.Rows {
			b.Values = append(b.Values, row.Mean.PrecisionAtK[k])
		}
		series = append(series, b)
	}
	area := plots.Bars{Name: "top-K curve area"}
	f1 := plots.Bars{Name: "flagged F1"}
	named := plots.Bars{Name: "caption names the slice"}
	for _, row := range s.All.Rows {
		area.Values = append(area.Values, row.Mean.CurveArea)
		f1.Values = append(f1.Values, row.Mean.FlaggedF1)
		named.Values = append(named.Values, row.Mean.CaptionNames)
	}
	series = append(series, area, f1, named)
	title := fmt.Sprintf("Planted-slice benchmark: means over %d settings (seed %d)", s.All.Settings, r.Config.Seed)
	bars, err := plots.GroupedBars(title, "method", "mean over settings", s.Methods, series...)
	if err := add("benchmark", title, bars, err); err != nil {
		return nil, err
	}
	mid := len(s.Ks) / 2
	xs := make([]float64, len(r.Settings))
	for i := range xs {
		xs[i] = float64(i)
	}
	var curves []plots.Curve
	for j, m := range s.Methods {
		c := plots.Curve{Name: m}
		for _, sr := range r.Settings {
			c.Y = append(c.Y, sr.Methods[j].PrecisionAtK[mid])
		}
		curves = append(curves, c)
	}
	title = fmt.Sprintf("Precision at %d of the planted slice, per setting", s.Ks[mid])
	lines, err := plots.Lines(title, "setting", fmt.Sprintf("precision at %d", s.Ks[mid]), xs, curves...)
	if err := add("benchmark_settings", title, lines, err); err != nil {
		return nil, err
	}
	return out, nil
}

// Write writes the benchmark folder dir: benchmark.json, timing.json, the charts as PNG and report.html.
// Everything is rendered before the first file is written; each file is written atomically.
func (r *Result) Write(dir string) error {
	return experiment.ResultFolder{Result: r, ResultFile: ResultFile, Timing: r.Timing, TimingFile: TimingFile,
		Figures: r.Figures, Report: r.WriteHTML, ReportFile: ReportFile}.Write(dir)
}

// Section returns the benchmark's section of a report: what it measures, the summary tables, the
// second-direction judgement, the charts, every setting and the timings.
func (r *Result) Section(figs []experiment.Figure) (experiment.Section, error) {
	figHTML := map[string]template.HTML{}
	for _, f := range figs {
		figHTML[f.Name] = f.HTML()
	}
	var buf bytes.Buffer
	if err := sectionTemplate.Execute(&buf, struct {
		R    *Result
		Figs map[string]template.HTML
	}{r, figHTML}); err != nil {
		return experiment.Section{}, fmt.Errorf("benchmark: report: %w", err)
	}
	return experiment.Section{Title: "Planted-slice benchmark", Body: template.HTML(buf.String())}, nil
}

// WriteHTML writes report.html: one self-contained page holding the benchmark's section.
func (r *Result) WriteHTML(w io.Writer, figs []experiment.Figure) error {
	sec, err := r.Section(figs)
	if err != nil {
		return err
	}
	intro := fmt.Sprintf("faildirs benchmark: %d planted settings on Fashion-MNIST from seed %d, latent space %s. Generated %s.",
		r.Config.Settings, r.Config.Seed, r.Config.Latent, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	return experiment.WritePage(w, "faildirs planted-slice benchmark", intro, sec)
}

var sectionTemplate = template.Must(template.New("benchmark").Funcs(template.FuncMap{
	"f3":   func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"f2":   func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"f1":   func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"join": strings.Join,
	"at":   func(v []float64, i int) float64 { return v[i] },
	"mid":  func(ks []int) int { return len(ks) / 2 },
	"tbl": func(ks []int, t Table) any {
		return struct {
			Ks []int
			T  Table
		}{ks, t}
	},
	"slices": func(sl [][]Slice) string {
		var parts []string
		for _, cl := range sl {
			for _, s := range cl {
				parts = append(parts, s.Name)
			}
		}
		return strings.Join(parts, "; ")
	},
	"second": func(r *Result, method string) *SecondSummary {
		for i := range r.Summary.Second {
			if r.Summary.Second[i].Method == method {
				return &r.Summary.Second[i]
			}
		}
		return nil
	},
}).Parse(sectionHTML))

const sectionHTML = `{{$R := .R}}{{$S := .R.Summary}}
<p>Each setting plants slices in a task built from Fashion-MNIST (spurious colours: every class's training images
mostly in its own colour, the minority in another class's; rare subclasses: one or two members of a superclass rare
in training), trains an MLP base model on it, and gives every slice finder the same inputs: tiny-CLIP embeddings of
the train, validation and test images (each image in each tint embedded once and shared by all settings), labels,
the base model's predictions and confidences. Finders fit on validation and are measured on test, at a natural mix
({{f3 $R.Config.Sizes.TestSliceShare}} of each class's test images are its planted slices). <b>Precision at K</b>:
the planted slices' share among each class's K test images the finder ranks first, averaged over classes;
<b>curve area</b>: the mean height of that top-K curve (K = 10, 20, … below the class size); <b>flagged</b>:
precision and recall of the finder's flagged set for the planted slices (F1 their harmonic mean);
<b>caption</b>: the share of classes whose hard caption names a planted slice's tint or rare item. Wins count the
settings where a method has the best value (ties count for each).</p>
<p class="muted">Methods: fd = failure directions (this project, default options); fd-reference = the same with
--compat reference; kdirs = several failure directions per class (each next one fitted with the earlier ones
projected out, on the validation examples they do not flag; stop when cross-validation shows no more signal);
kdirs-all = the same refitted on every example; domino = an error-aware Gaussian mixture in the style of Domino
(embedding with diagonal covariance, label and prediction; slices ranked by error rate); confidence = the base
model's confidence (the paper's baseline); random.</p>

{{define "table"}}{{$ks := .Ks}}<table>
<tr><th>method</th>{{range $ks}}<th>P@{{.}}</th>{{end}}<th>curve area</th><th>flagged precision</th><th>flagged recall</th><th>flagged F1</th><th>caption names slice</th><th>wins: {{range $i, $k := $ks}}{{if $i}} / {{end}}P@{{$k}}{{end}} / area / F1 / caption</th></tr>
{{range .T.Rows}}<tr><td>{{.Method}}</td>{{range .Mean.PrecisionAtK}}<td class="num">{{f3 .}}</td>{{end}}<td class="num">{{f3 .Mean.CurveArea}}</td><td class="num">{{f3 .Mean.FlaggedPrecision}}</td><td class="num">{{f3 .Mean.FlaggedRecall}}</td><td class="num">{{f3 .Mean.FlaggedF1}}</td><td class="num">{{f3 .Mean.CaptionNames}}</td><td class="num">{{range $i, $w := .Wins.PrecisionAtK}}{{if $i}} / {{end}}{{$w}}{{end}} / {{.Wins.CurveArea}} / {{.Wins.FlaggedF1}} / {{.Wins.CaptionNames}}</td></tr>
{{end}}</table>{{end}}

<h3>All {{$S.All.Settings}} settings (means)</h3>
{{template "table" (tbl $S.Ks $S.All)}}
<p class="muted">Chance level of the caption column (a hard caption drawn at random from the vocabulary): {{f3 $S.All.CaptionChance}}.</p>
<h3>The {{$S.Failing.Settings}} settings whose base model fails on the planted slices (slice accuracy at least {{f2 $R.Config.FailGap}} below the rest)</h3>
{{template "table" (tbl $S.Ks $S.Failing)}}
<p class="muted">Caption chance level: {{f3 $S.Failing.CaptionChance}}.</p>
{{with .Figs.benchmark}}{{.}}{{end}}

{{with $S.Second}}<h3>Does the second direction find the second slice?</h3>
<p class="muted">Classes that plant two slices (spurious-triple and rare-two settings). The first direction's slice is
the one more frequent among its 25 first-ranked test examples; the second direction finds the other one when that
slice is at least half of the second direction's 25 first-ranked test examples.</p>
<table>
<tr><th>method</th><th>classes with two slices</th><th>with a second direction</th><th>second slice found</th><th>second direction's caption names it</th><th>second slice's share of the first direction's top 25</th><th>of the second direction's top 25</th></tr>
{{range .}}<tr><td>{{.Method}}</td><td class="num">{{.Classes}}</td><td class="num">{{.WithSecond}}</td><td class="num">{{.Found}}</td><td class="num">{{.CaptionNames}}</td><td class="num">{{f3 .FirstOnSecond}}</td><td class="num">{{f3 .SecondOnSecond}}</td></tr>
{{end}}</table>{{end}}

<h3>Settings</h3>
{{with .Figs.benchmark_settings}}{{.}}{{end}}
{{$mid := mid $S.Ks}}<table>
<tr><th>#</th><th>kind</th><th>setting</th><th>base accuracy: slices / rest</th>{{range $S.Methods}}<th>{{.}} P@{{index $S.Ks $mid}}</th>{{end}}<th>fd hard captions</th></tr>
{{range $R.Settings}}<tr><td class="num">{{.Setting.Index}}</td><td>{{.Setting.Kind}}</td><td>{{.Setting.Name}}</td><td class="num">{{f3 .Base.SliceAccuracy}} / {{f3 .Base.RestAccuracy}}{{if not .Base.Fails}} (no failure){{end}}</td>{{range .Methods}}<td class="num">{{f2 (at .PrecisionAtK $mid)}}</td>{{end}}<td>{{with index .Methods 0}}{{join .HardCaptions "; "}}{{end}}</td></tr>
{{end}}</table>

<h3>Run</h3>
<p>{{$R.Timing.Total | f1}} s in all ({{$R.Timing.Embeddings | f1}} s for the embedding table, {{$R.Timing.Computed}} embeddings computed). Backend: {{$R.Timing.Backend}}. Latent space: {{$R.Config.Latent}}; base model: MLP, {{$R.Config.Epochs}} epochs.</p>
`
