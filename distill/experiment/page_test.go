package experiment

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
)

func TestWritePage(t *testing.T) {
	fig := Figure{Name: "chart", Title: "a <chart>", PNG: []byte{0x89, 'P', 'N', 'G'}}
	var buf bytes.Buffer
	err := WritePage(&buf, "My page", "intro <b>not bold</b>",
		Section{Title: "First", Body: template.HTML("<p>one</p>") + fig.HTML()}, Section{Title: "Second", Body: "<p>two</p>"})
	if err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"<title>My page</title>", "<h1>My page</h1>", "intro &lt;b&gt;not bold&lt;/b&gt;", "<h2>First</h2>\n<p>one</p>",
		`<img src="data:image/png;base64,iVBORw==" alt="chart">`, "<figcaption>a &lt;chart&gt;</figcaption>", "<h2>Second</h2>",
		"td.num { text-align: right;"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "http") {
		t.Error("the page loads something from outside")
	}
}
