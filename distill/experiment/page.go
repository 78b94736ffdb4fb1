package experiment

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"path/filepath"

	"github.com/faildirs/faildirs/internal/atomicfile"
)

// ResultFolder is what a results folder other than an analysis holds (the benchmark's, the interventions'): a
// result and its timing as indented JSON, the figures as PNG files and a report page.
type ResultFolder struct {
	// Result and Timing are written as indented JSON to the files ResultFile and TimingFile.
	Result, Timing         any
	ResultFile, TimingFile string
	// Figures renders the figures, each written as <Name>.png.
	Figures func() ([]Figure, error)
	// Report writes the page (e.g. with [WritePage]) with the rendered figures, to ReportFile.
	Report     func(w io.Writer, figs []Figure) error
	ReportFile string
}

// Write writes the folder dir (created when missing): it checks dir first, renders and encodes everything before
// the first file is written, writes each file atomically, and the report page last.
func (f ResultFolder) Write(dir string) error {
	if err := CheckOut(dir); err != nil {
		return err
	}
	figs, err := f.Figures()
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := f.Report(&page, figs); err != nil {
		return err
	}
	type file struct {
		name string
		data []byte
	}
	var files []file
	for _, j := range []struct {
		name string
		v    any
	}{{f.ResultFile, f.Result}, {f.TimingFile, f.Timing}} {
		raw, err := json.MarshalIndent(j.v, "", "  ")
		if err != nil {
			return fmt.Errorf("experiment: %s: %w", j.name, err)
		}
		files = append(files, file{j.name, append(raw, '\n')})
	}
	for _, fig := range figs {
		files = append(files, file{fig.Name + ".png", fig.PNG})
	}
	files = append(files, file{f.ReportFile, page.Bytes()})
	for _, file := range files {
		if err := atomicfile.WriteBytes(filepath.Join(dir, file.name), file.data); err != nil {
			return err
		}
	}
	return nil
}

// Section is one titled part of a page written by [WritePage].
type Section struct {
	// Title is the section's heading; Body its content, trusted HTML (build it with html/template).
	Title string
	Body  template.HTML
}

// HTML returns the figure as an inline <figure>: the PNG as a data URI, the title as its caption.
func (f Figure) HTML() template.HTML {
	var buf bytes.Buffer
	_ = figureTemplate.Execute(&buf, htmlFigure{Name: f.Name, Title: f.Title,
		Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(f.PNG))})
	return template.HTML(buf.String())
}

var figureTemplate = template.Must(template.New("figure").Parse(
	`<figure><img src="{{.Src}}" alt="{{.Name}}"><figcaption>{{.Title}}</figcaption></figure>`))

// WritePage writes one self-contained HTML page in report.html's style (no script, no external resource): a
// title, an introductory line and the sections, for results other than an analysis (the benchmark's report).
func WritePage(w io.Writer, title, intro string, sections ...Section) error {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, struct {
		Title, Intro string
		Sections     []Section
	}{title, intro, sections}); err != nil {
		return fmt.Errorf("experiment: page %q: %w", title, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
` + reportStyle + `</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="muted">{{.Intro}}</p>
{{range .Sections}}<h2>{{.Title}}</h2>
{{.Body}}
{{end}}</body>
</html>
`))
