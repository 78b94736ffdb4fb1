package display

import (
	"math"
	"strings"
	"testing"
)

func TestTableDropsEmptyColumnsAndNeverWraps(t *testing.T) {
	tb := NewTable("Base model", "group", "accuracy", "n", "paper", "notes").Format("accuracy", "%.1f%%")
	tb.Row("old, male", 97.26, 60, "", nil)
	tb.Row("old, female (minority)", math.NaN(), 30, "54.2%", "")
	h := tb.HTML()
	if strings.Contains(h, "notes") {
		t.Errorf("the empty column is shown: %s", h)
	}
	for _, want := range []string{"<th", ">paper</th>", ">97.3%</td>", ">54.2%</td>", "Base model"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q: %s", want, h)
		}
	}
	if n, nw := strings.Count(h, "<td"), strings.Count(h, "<td style=\"text-align:right;white-space:nowrap"); nw != 4 || n != 8 {
		t.Errorf("%d cells, %d right-aligned nowrap; want 8 and 4 (the numbers)", n, nw)
	}
	if strings.Count(h, "white-space:nowrap") != strings.Count(h, "<td")+strings.Count(h, "<th ") {
		t.Errorf("some cell may wrap: %s", h)
	}
	want := "Base model\n" +
		"group                   accuracy   n  paper\n" +
		"old, male                  97.3%  60\n" +
		"old, female (minority)            30  54.2%\n"
	if got := tb.String(); got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
}

func TestTableEscapesAndReportsLongRows(t *testing.T) {
	tb := NewTable("<b>", "a")
	tb.Row("x<y", 1)
	if h := tb.HTML(); strings.Contains(h, "<b>") || !strings.Contains(h, "x&lt;y") || !strings.Contains(h, "2 values for 1 columns") {
		t.Errorf("HTML %s", h)
	}
	if s := tb.String(); !strings.Contains(s, "row 1 has 2 values for 1 columns") {
		t.Errorf("text %q", s)
	}
}

func TestLooksNumeric(t *testing.T) {
	for s, want := range map[string]bool{"0.777": true, "-1.5": true, "+0.2": true, "89.9%": true, "12": true,
		"0.804 ± 0.019": true,
		"":              false, "a photo": false, "1.2.3": false, "%": false, "n=3": false, "a ± 0.1": false, "0.1 ±": false} {
		if got := looksNumeric(s); got != want {
			t.Errorf("looksNumeric(%q) = %v", s, got)
		}
	}
}

func TestBanners(t *testing.T) {
	if s := SmokeText("random CLIP"); s != "SMOKE RUN — random CLIP" {
		t.Errorf("%q", s)
	}
	if h := SmokeHTML("a<b"); !strings.Contains(h, "<b>SMOKE RUN</b>") || !strings.Contains(h, "a&lt;b") {
		t.Errorf("%s", h)
	}
	if h := NoteHTML("backend: go"); !strings.Contains(h, ">backend: go</div>") {
		t.Errorf("%s", h)
	}
}
