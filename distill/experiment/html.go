package experiment

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// WriteHTML writes report.html: one self-contained page (figures and galleries inline as data URIs, no script, no
// external resource) with the headline figures, the surfacing tables, the captions table, the caption check, the
// per-group and per-class tables, the run's spec, backend, timings and notes. figs are the report's rendered
// figures ([Report.Figures]).
func (r *Report) WriteHTML(w io.Writer, figs []Figure) error {
	s := r.Summary
	spec, err := json.MarshalIndent(s.Spec, "", "  ")
	if err != nil {
		return err
	}
	page := htmlPage{S: s, Spec: string(spec), Generated: time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		TopK: map[string]htmlFigure{}}
	for _, f := range figs {
		hf := htmlFigure{Name: f.Name, Title: f.Title, Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(f.PNG))}
		switch {
		case strings.HasPrefix(f.Name, "topk_"):
			page.TopK[f.Name] = hf
		case strings.HasPrefix(f.Name, "gallery_"):
			page.Galleries = append(page.Galleries, hf)
		case f.Name == "caption_check":
			page.CaptionCheck = &hf
		default:
			page.Other = append(page.Other, hf)
		}
	}
	if r.Captions != nil {
		for _, cc := range r.Captions.Classes {
			row := htmlCaptions{Name: cc.Name, Reference: cc.Reference, N: len(cc.Captions)}
			for _, c := range cc.Hard(3) {
				row.Hard = append(row.Hard, fmt.Sprintf("%s (%+.3f)", c.Text, c.Score))
			}
			for _, c := range cc.Easy(3) {
				row.Easy = append(row.Easy, fmt.Sprintf("%s (%+.3f)", c.Text, c.Score))
			}
			page.Captions = append(page.Captions, row)
		}
	}
	var buf bytes.Buffer
	if err := reportTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("experiment: report.html: %w", err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

type htmlPage struct {
	S            *Summary
	Spec         string
	Generated    string
	TopK         map[string]htmlFigure // by figure name, "topk_" + view
	Other        []htmlFigure
	Galleries    []htmlFigure
	CaptionCheck *htmlFigure
	Captions     []htmlCaptions
}

// topKTable is a view's top-K table laid out one row per class, one column per K.
type topKTable struct {
	Ks   []int
	Rows []topKTableRow
}

type topKTableRow struct {
	Name     string
	BaseRate float64
	Cells    []TopKRow
}

func viewTable(v View) topKTable {
	var t topKTable
	byClass := map[int]int{}
	for _, r := range v.Table {
		i, ok := byClass[r.Class]
		if !ok {
			i = len(t.Rows)
			byClass[r.Class] = i
			t.Rows = append(t.Rows, topKTableRow{Name: r.Name, BaseRate: r.BaseRate})
		}
		t.Rows[i].Cells = append(t.Rows[i].Cells, r)
		if i == 0 {
			t.Ks = append(t.Ks, r.K)
		}
	}
	return t
}

type htmlFigure struct {
	Name, Title string
	Src         template.URL
}

type htmlCaptions struct {
	Name, Reference string
	N               int
	Hard, Easy      []string
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":       func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"viewTable": viewTable,
	"topkFigure": func(figs map[string]htmlFigure, view string) *htmlFigure {
		if f, ok := figs["topk_"+strings.ReplaceAll(view, "-", "_")]; ok {
			return &f
		}
		return nil
	},
	"f3": func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"g":  func(v float64) string { return fmt.Sprintf("%g", v) },
	"f1": func(v float64) string { return fmt.Sprintf("%.1f", v) },
	"className": func(s *Summary, c int) string {
		if c < 0 {
			return "all classes"
		}
		if c < len(s.Dataset.Classes) {
			return s.Dataset.Classes[c]
		}
		return fmt.Sprint(c)
	},
	"cmp": func(a, b float64) string {
		switch {
		case a > b+1e-9:
			return "above"
		case a < b-1e-9:
			return "below"
		}
		return "equal to"
	},
}).Parse(reportHTML))

// reportStyle is the style sheet of every page faildirs writes (report.html, [WritePage]).
const reportStyle = `body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1180px; color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
h3 { font-size: 1.05em; margin-bottom: 0.3em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; } figcaption { font-size: 0.9em; color: #555; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.muted { color: #666; font-size: 0.9em; } ul.caps { margin: 0; padding-left: 1.1em; }
`

const reportHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>faildirs report: {{.S.Dataset.Name}}</title>
<style>
` + reportStyle + `</style>
</head>
<body>
<h1>Failure directions: {{.S.Dataset.Name}}</h1>
<p class="muted">faildirs — "Distilling Model Failures as Directions in Latent Space" (Jain et al., ICLR 2023). Generated {{.Generated}}.
Classes: {{range $i, $c := .S.Dataset.Classes}}{{if $i}}, {{end}}{{$c}}{{end}}.
Splits: {{range $k, $v := .S.Dataset.Splits}}{{$k}} {{$v}} · {{end}}
Base model: {{.S.BaseModel.Source}}{{with .S.BaseModel.Config}} ({{.Arch}}){{end}}{{with .S.BaseModel.Preds}} from {{.}}{{end}}.
Latent space: {{.S.Latent.Latent}} ({{.S.Latent.Dim}}-d{{with .S.Latent.Source}}, {{.}}{{end}}).
Backend: {{.S.Backend.Config}} ({{.S.Backend.Reason}}).</p>

<h2>Headline</h2>
<table>
<tr><th>base model test accuracy</th><td class="num">{{with index .S.BaseModel.Accuracy "test"}}{{f3 .}}{{end}}</td></tr>
{{if .S.BaseModel.WorstGroup}}<tr><th>worst test group</th><td>{{.S.BaseModel.WorstGroup}}: {{f3 .S.BaseModel.WorstGroupAccuracy}} (best group {{f3 .S.BaseModel.BestGroupAccuracy}})</td></tr>{{end}}
<tr><th>SVM test balanced accuracy at predicting errors (mean over classes with an SVM)</th><td class="num">{{f3 .S.ErrorPrediction.MeanPerClass.BalancedAccuracy}}</td></tr>
<tr><th>SVM test AUROC (mean over classes)</th><td class="num">{{f3 .S.ErrorPrediction.MeanPerClass.AUROC}}</td></tr>
</table>
{{with .S.Notes}}<p><b>Notes:</b></p><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}

{{with .S.Surfacing}}
<h2>Surfacing the minority groups</h2>
<p class="muted">Minority groups: {{range $i, $g := .Minorities}}{{if $i}}, {{end}}{{$g}}{{end}}.
The flagged set is the test images with decision value ≤ 0 (predicted failures). The paper's comparison: the flagged set's
minority precision against the minority share of the base model's errors (on CelebA 89.9% against 71.4%).</p>
{{range .Views}}
<h3>{{.Name}} view: {{.Description}} ({{.N}} images)</h3>
<table>
<tr><th>class</th><th>n</th><th>minority share</th><th>error rate</th><th>errors' minority share</th><th>flagged</th><th>flagged minority precision</th><th>flagged minority recall</th><th>precision vs errors' share</th></tr>
{{range .Flagged.PerClass}}<tr><td>{{className $.S .Class}}</td><td class="num">{{.N}}</td><td class="num">{{pct .MinorityShare}}</td><td class="num">{{pct .ErrorRate}}</td><td class="num">{{pct .ErrorsMinorityShare}}</td><td class="num">{{.Flagged}}</td><td class="num">{{pct .Precision}}</td><td class="num">{{pct .Recall}}</td><td>{{cmp .Precision .ErrorsMinorityShare}}</td></tr>
{{end}}{{with .Flagged.Overall}}<tr><th>all classes</th><td class="num">{{.N}}</td><td class="num">{{pct .MinorityShare}}</td><td class="num">{{pct .ErrorRate}}</td><td class="num">{{pct .ErrorsMinorityShare}}</td><td class="num">{{.Flagged}}</td><td class="num">{{pct .Precision}}</td><td class="num">{{pct .Recall}}</td><td>{{cmp .Precision .ErrorsMinorityShare}}</td></tr>{{end}}
</table>
{{with viewTable .}}<p class="muted">Minority fraction among each class's K hardest test images: by SVM decision value / by base-model confidence.</p>
<table>
<tr><th>class</th><th>base rate</th>{{range .Ks}}<th>K={{.}}: SVM / confidence</th>{{end}}</tr>
{{range .Rows}}<tr><td>{{.Name}}</td><td class="num">{{f3 .BaseRate}}</td>{{range .Cells}}<td class="num">{{f3 .SVM}} / {{f3 .Confidence}}</td>{{end}}</tr>
{{end}}</table>{{end}}
{{with topkFigure $.TopK .Name}}<figure><img src="{{.Src}}" alt="{{.Name}}"><figcaption>{{.Title}}</figcaption></figure>{{end}}
{{end}}
{{end}}

<h2>Captions</h2>
{{if .Captions}}
<p class="muted">A caption's score is the class's SVM decision value of (caption embedding − reference caption embedding) through the
SVM's pre-processing; the lowest is the hard caption: it describes how the failing images look.</p>
<table>
<tr><th>class</th><th>reference</th><th>hardest captions (score)</th><th>easiest captions (score)</th><th>captions scored</th></tr>
{{range .Captions}}<tr><td>{{.Name}}</td><td>{{.Reference}}</td><td><ul class="caps">{{range .Hard}}<li>{{.}}</li>{{end}}</ul></td><td><ul class="caps">{{range .Easy}}<li>{{.}}</li>{{end}}</ul></td><td class="num">{{.N}}</td></tr>
{{end}}</table>
{{with .S.CaptionCheck}}
<h3>Caption check</h3>
<table>
<tr><th>class</th><th>K</th><th>hard caption</th><th>accuracy near it</th><th>easy caption</th><th>accuracy near it</th><th>class accuracy</th></tr>
{{range .}}<tr><td>{{.Name}}</td><td class="num">{{.K}}</td><td>{{.HardCaption}}</td><td class="num">{{f3 .HardAccuracy}}</td><td>{{.EasyCaption}}</td><td class="num">{{f3 .EasyAccuracy}}</td><td class="num">{{f3 .ClassAccuracy}}</td></tr>
{{end}}</table>
{{end}}
{{with .CaptionCheck}}<figure><img src="{{.Src}}" alt="{{.Name}}"><figcaption>{{.Title}}</figcaption></figure>{{end}}
{{else}}<p>No captions in this analysis.</p>{{end}}

<h2>Galleries</h2>
<p class="muted">Per class, the test images with the most negative (hard) and most positive (easy) decision values; a red frame marks a wrong prediction.</p>
{{range .Galleries}}<figure><img src="{{.Src}}" alt="{{.Name}}"><figcaption>{{.Title}}</figcaption></figure>
{{end}}

<h2>Base model and SVMs</h2>
{{range .Other}}<figure><img src="{{.Src}}" alt="{{.Name}}"><figcaption>{{.Title}}</figcaption></figure>
{{end}}
<table>
<tr><th>split</th><th>base-model accuracy</th></tr>
{{range $k, $v := .S.BaseModel.Accuracy}}<tr><td>{{$k}}</td><td class="num">{{f3 $v}}</td></tr>
{{end}}</table>
{{with .S.Dataset.Groups}}<table>
<tr><th>group</th><th>class</th><th>minority</th><th>test n</th><th>test accuracy</th></tr>
{{range .}}<tr><td>{{.Name}}</td><td>{{className $.S .Class}}</td><td>{{if .Minority}}yes{{end}}</td><td class="num">{{.TestN}}</td><td class="num">{{f3 .TestAccuracy}}</td></tr>
{{end}}</table>{{end}}
<table>
<tr><th>class</th><th>status</th><th>C</th><th>val n (errors)</th><th>CV balanced acc</th><th>test n (errors)</th><th>test balanced acc</th><th>test AUROC</th></tr>
{{range .S.SVM}}<tr><td>{{.Name}}</td><td>{{.Status}}</td><td class="num">{{g .C}}</td><td class="num">{{.ValN}} ({{.ValErrors}})</td><td class="num">{{f3 .CVBalancedAccuracy}}</td><td class="num">{{.TestN}} ({{.TestErrors}})</td><td class="num">{{f3 .TestBalancedAcc}}</td><td class="num">{{f3 .TestAUROC}}</td></tr>
{{end}}</table>

<h2>Run</h2>
<table>
<tr><th>stage</th><th>seconds</th><th>cached</th></tr>
{{range .S.Timings}}<tr><td>{{.Stage}}</td><td class="num">{{f1 .Seconds}}</td><td>{{if .Cached}}yes{{end}}</td></tr>
{{end}}</table>
<p>Backend: {{.S.Backend.Config}} — {{.S.Backend.Description}} ({{.S.Backend.Reason}}; SIMD kernels compiled in: {{.S.Backend.SIMD}}).</p>
{{with .S.Latent.Quality}}<p>Tiny CLIP zero-shot quality on Fashion-MNIST test: {{.}}</p>{{end}}
<h3>Spec</h3>
<pre>{{.Spec}}</pre>
{{with .S.Dataset.Params}}<h3>Data parameters</h3><table>{{range $k, $v := .}}<tr><td>{{$k}}</td><td>{{$v}}</td></tr>{{end}}</table>{{end}}
{{with .S.Dataset.Skipped}}<h3>Skipped images</h3><ul>{{range .}}<li>{{.Name}}: {{.Err}}</li>{{end}}</ul>{{end}}
</body>
</html>
`
