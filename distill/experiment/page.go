package experiment

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
)

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
