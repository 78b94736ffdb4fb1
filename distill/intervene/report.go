package intervene

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/faildirs/faildirs/display"
	"github.com/faildirs/faildirs/distill/experiment"
)

// The files of an interventions folder (besides runs/, the selections and weights).
const (
	ResultFile = "interventions.json"
	TimingFile = "timing.json"
	ReportFile = "report.html"
)

// Kinds returns the kinds of comparison the result holds, in order: "pool" and/or "reweight".
func (r *Result) Kinds() []string {
	var out []string
	for _, k := range []string{KindPool, KindReweight} {
		if r.Rows(k) != nil {
			out = append(out, k)
		}
	}
	return out
}

// Figures renders the charts: interventions_pool and/or interventions_reweight.
func (r *Result) Figures() ([]experiment.Figure, error) {
	var out []experiment.Figure
	for _, k := range r.Kinds() {
		c, err := r.Chart(k)
		if err != nil {
			return nil, err
		}
		png, err := c.PNG()
		if err != nil {
			return nil, fmt.Errorf("intervene: chart %s: %w", k, err)
		}
		out = append(out, experiment.Figure{Name: "interventions_" + k, Title: c.Plot.Title.Text, Figure: c, PNG: png})
	}
	return out, nil
}

// Write writes the interventions folder dir: interventions.json, timing.json, the charts as PNG and report.html
// (the runs' selection and weights files are written by [Run] under Options.Out). Everything is rendered before
// the first file is written; each file is written atomically.
func (r *Result) Write(dir string) error {
	return experiment.ResultFolder{Result: r, ResultFile: ResultFile, Timing: r.timing, TimingFile: TimingFile,
		Figures: r.Figures, Report: r.WriteHTML, ReportFile: ReportFile}.Write(dir)
}

// cell is one cell of an HTML table.
type cell struct {
	Text string
	Num  bool
}

// column is one column of a summary table: its title and each row's cell.
type column struct {
	title string
	num   bool
	cell  func(Row) string
}

// columns returns the columns of the table of one kind: only those with data (the budget and the added examples
// for pool selection, the minority's weight share for reweighting, the minority columns only with groups).
func (r *Result) columns(kind string) []column {
	cols := []column{{title: "method", cell: func(row Row) string { return row.Method }}}
	groups := len(r.Dataset.Groups) > 0 && r.hasMetric(MetricMinority)
	if kind == KindPool {
		cols = append(cols, column{title: "K", num: true, cell: func(row Row) string { return fmt.Sprint(row.K) }})
		if groups {
			cols = append(cols, column{title: "minority added", num: true, cell: func(row Row) string { return fmt.Sprintf("%.1f", row.AddedMinority) }})
		}
	} else if groups {
		cols = append(cols, column{title: "minority weight", num: true, cell: func(row Row) string { return fmt.Sprintf("%.3f", row.MinorityWeight) }})
	}
	for _, m := range r.Metrics {
		cols = append(cols, column{title: MetricTitle(m), num: true, cell: func(row Row) string { return row.Stats[m].String() }})
	}
	return cols
}

func (r *Result) hasMetric(m string) bool {
	for _, have := range r.Metrics {
		if have == m {
			return true
		}
	}
	return false
}

// kindTitle describes a kind of comparison.
func (r *Result) kindTitle(kind string) string {
	if kind == KindPool {
		return fmt.Sprintf("Pool selection: K pool images added per class, retrained (test accuracy, mean ± std over %d seeds)", len(r.Seeds))
	}
	return fmt.Sprintf("Reweighting the training set, retrained (test accuracy, mean ± std over %d seeds)", len(r.Seeds))
}

// Fprint writes the summary tables as fixed-width text (numbers never wrap; only columns with data) and the
// SVM-against-random judgement.
func (r *Result) Fprint(w io.Writer) error {
	var b strings.Builder
	for _, kind := range r.Kinds() {
		cols := r.columns(kind)
		titles := make([]string, len(cols))
		for j, c := range cols {
			titles[j] = c.title
		}
		t := display.NewTable(r.kindTitle(kind), titles...)
		for _, row := range r.Rows(kind) {
			vals := make([]any, len(cols))
			for j, c := range cols {
				vals[j] = c.cell(row)
			}
			t.Row(vals...)
		}
		b.WriteString(t.String() + "\n")
	}
	for _, c := range r.Comparisons {
		fmt.Fprintf(&b, "%s\n", c.Sentence())
	}
	if f := r.PoolFlagged; f != nil {
		fmt.Fprintf(&b, "pool: %s\n", f)
	}
	if f := r.TrainFlagged; f != nil {
		fmt.Fprintf(&b, "training set: %s\n", f)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Sentence states the comparison in words.
func (c Comparison) Sentence() string {
	verdict := "does not beat random"
	if c.Beats {
		verdict = "beats random"
	}
	return fmt.Sprintf("K=%d, %s accuracy: SVM %s vs random %s: difference %+.3f against the larger std %.3f — SVM selection %s (per seed, SVM − random: %+.3f ± %.3f)",
		c.K, MetricTitle(c.Metric), c.SVM, c.Random, c.SVM.Mean-c.Random.Mean, c.Margin, verdict, c.Paired.Mean, c.Paired.Std)
}

// Section returns the interventions' section of a report page: the protocol, the tables, the charts, the
// per-group table, the hard subsets and the notes.
func (r *Result) Section(figs []experiment.Figure) (experiment.Section, error) {
	figHTML := map[string]template.HTML{}
	for _, f := range figs {
		figHTML[f.Name] = f.HTML()
	}
	type table struct {
		Title  string
		Heads  []string
		Rows   [][]cell
		Figure template.HTML
	}
	var tables []table
	for _, kind := range r.Kinds() {
		cols := r.columns(kind)
		t := table{Title: r.kindTitle(kind), Figure: figHTML["interventions_"+kind]}
		for _, c := range cols {
			t.Heads = append(t.Heads, c.title)
		}
		for _, row := range r.Rows(kind) {
			var cells []cell
			for _, c := range cols {
				cells = append(cells, cell{Text: c.cell(row), Num: c.num})
			}
			t.Rows = append(t.Rows, cells)
		}
		tables = append(tables, t)
	}
	var sentences []string
	for _, c := range r.Comparisons {
		sentences = append(sentences, c.Sentence())
	}
	var groupNames []string
	for _, g := range r.Dataset.Groups {
		groupNames = append(groupNames, g.Name)
	}
	var buf bytes.Buffer
	if err := sectionTemplate.Execute(&buf, struct {
		R          *Result
		Tables     []table
		Sentences  []string
		GroupNames []string
	}{r, tables, sentences, groupNames}); err != nil {
		return experiment.Section{}, fmt.Errorf("intervene: report: %w", err)
	}
	return experiment.Section{Title: "Interventions", Body: template.HTML(buf.String())}, nil
}

// WriteHTML writes report.html: one self-contained page holding the interventions' section.
func (r *Result) WriteHTML(w io.Writer, figs []experiment.Figure) error {
	sec, err := r.Section(figs)
	if err != nil {
		return err
	}
	intro := fmt.Sprintf("faildirs intervene: %s, base model %s (%d epochs), latent space %s, seeds %v. Generated %s.",
		r.Dataset.Name, r.Spec.Model, r.Spec.Epochs, r.Spec.Latent, r.Seeds, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	return experiment.WritePage(w, "faildirs interventions", intro, sec)
}

var sectionTemplate = template.Must(template.New("interventions").Funcs(template.FuncMap{
	"f3": func(v float64) string { return fmt.Sprintf("%.3f", v) },
}).Parse(sectionHTML))

const sectionHTML = `{{$R := .R}}
<p>The paper's §6: the per-class SVMs are fitted once on validation, with the base model of the spec's seed
({{$R.Spec.Seed}}); their decision values (of each example's true class) score the training set and the unlabeled
pool. <b>Pool selection</b> adds, per class, the K pool images with the lowest decision value (svm), the K on which
the base model is least confident in the true class (confidence) or K random ones, with their labels, and retrains
from scratch. <b>Reweighting</b> retrains on the training set with loss weights per example: overweight_2 (2 for
decision value ≤ 0, else 1), balanced (the flagged and unflagged examples of a class get equal total weight), soft
(weight growing linearly as the decision value falls, mean 1 per class); the oracle applies overweight_2 and
balanced to the true minority groups. Every method retrains with each seed (initial weights, example order, the
random selection) and is evaluated on test; the base row retrains the unchanged training set with the same seeds.
Standard deviations are over seeds (n−1).</p>
{{range .Tables}}<h3>{{.Title}}</h3>
<table>
<tr>{{range .Heads}}<th style="white-space: nowrap">{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr>{{range .}}<td{{if .Num}} class="num"{{end}} style="white-space: nowrap">{{.Text}}</td>{{end}}</tr>
{{end}}</table>
{{.Figure}}
{{end}}
{{with .Sentences}}<p><b>SVM selection against random</b> (it beats random when its mean exceeds random's by more
than the larger of the two standard deviations):</p>
<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{with $R.PoolFlagged}}<p>Pool: {{.}}.</p>{{end}}
{{with $R.TrainFlagged}}<p>Training set: {{.}}.</p>{{end}}
{{if .GroupNames}}<h3>Test accuracy per group (mean ± std)</h3>
<table>
<tr><th>method</th>{{range .GroupNames}}<th>{{.}}</th>{{end}}</tr>
{{range $R.Summary}}<tr><td style="white-space: nowrap">{{.Label}}</td>{{range .Groups}}<td class="num" style="white-space: nowrap">{{.}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{with $R.HardSubsets}}<h3>Hard subsets</h3>
<p class="muted">Per class, the test images nearest the class's hardest caption in the CLIP space (the accuracy
measure without group labels).</p>
<table>
<tr><th>class</th><th>hardest caption</th><th>test images</th>{{if $R.Dataset.Groups}}<th>minority among them</th>{{end}}</tr>
{{range .}}<tr><td>{{.Name}}</td><td>{{.Caption}}</td><td class="num">{{len .Test}}</td>{{if $R.Dataset.Groups}}<td class="num">{{.Minority}}</td>{{end}}</tr>
{{end}}</table>{{end}}
<h3>The SVMs</h3>
<table>
<tr><th>class</th><th>status</th><th>C</th><th>validation errors</th></tr>
{{range $R.SVMs}}<tr><td>{{.Name}}</td><td>{{.Status}}</td><td class="num">{{.C}}</td><td class="num" style="white-space: nowrap">{{.ValErrors}} / {{.Val}}</td></tr>
{{end}}</table>
{{with $R.Notes}}<p><b>Notes:</b></p><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
`
