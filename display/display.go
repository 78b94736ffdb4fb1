// Package display shows results in GoNB notebooks: tables as HTML tables, one-line notes, and a banner for smoke
// runs; outside a notebook the same calls print plain text (the CLI and tests keep text).
//
//	t := display.NewTable("Base model, CelebA age (test)", "group", "accuracy", "n", "paper")
//	t.Row("old, female (minority)", 0.542, 1000, "54.2%")
//	t.Show()                      // an HTML table in GoNB, aligned text elsewhere
//	display.Note("backend: %s", info)
//	display.Smoke("random-weight CLIP on generated images: the numbers test the code, not the paper")
//
// Tables follow two presentation rules: a column with no value in any row is left out, and no cell wraps (numbers
// are right-aligned, every cell is white-space: nowrap). Floats print with three decimals unless the column says
// otherwise ([Table.Format]); NaN and nil print as empty cells.
package display

import (
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"strings"

	"github.com/janpfeifer/gonb/gonbui"
)

// Table is a titled table built row by row.
type Table struct {
	// Title is shown above the table; Caption (optional) under the title, e.g. what "paper" means.
	Title, Caption string
	cols           []string
	formats        []string
	rows           [][]cell
}

// cell is one formatted value; numeric cells are right-aligned.
type cell struct {
	text    string
	numeric bool
}

// NewTable returns an empty table with the given column names.
func NewTable(title string, columns ...string) *Table {
	return &Table{Title: title, cols: columns, formats: make([]string, len(columns))}
}

// Format sets the fmt verb of column col's floats (default "%.3f"), e.g. "%.1f%%" for percentages given ×100.
// It returns the table for chaining.
func (t *Table) Format(col, verb string) *Table {
	for i, c := range t.cols {
		if c == col {
			t.formats[i] = verb
		}
	}
	return t
}

// Row appends a row; values beyond the columns are an error reported by Show and String as a last line. Values:
// float32/float64 (NaN: empty), integers, strings ("" empty), nil (empty), or anything fmt prints.
func (t *Table) Row(values ...any) {
	r := make([]cell, len(values))
	for i, v := range values {
		verb := ""
		if i < len(t.formats) {
			verb = t.formats[i]
		}
		r[i] = format(v, verb)
	}
	t.rows = append(t.rows, r)
}

// Len returns the number of rows.
func (t *Table) Len() int { return len(t.rows) }

func format(v any, verb string) cell {
	if verb == "" {
		verb = "%.3f"
	}
	switch x := v.(type) {
	case nil:
		return cell{}
	case float64:
		if math.IsNaN(x) {
			return cell{}
		}
		return cell{fmt.Sprintf(verb, x), true}
	case float32:
		return format(float64(x), verb)
	case int, int64, int32, uint, uint64, uint32:
		return cell{fmt.Sprint(x), true}
	case string:
		return cell{x, looksNumeric(x)}
	}
	return cell{fmt.Sprint(v), false}
}

// looksNumeric reports whether s reads as a number, possibly signed or a percentage ("0.777", "-1.2", "89.9%"), or
// as a mean ± std of two ("0.804 ± 0.019").
func looksNumeric(s string) bool {
	if mean, std, ok := strings.Cut(s, " ± "); ok {
		return looksNumeric(mean) && looksNumeric(std)
	}
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "+"), "-"), "%")
	if s == "" {
		return false
	}
	dot := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}

// shown returns the indices of the columns that have a value in some row.
func (t *Table) shown() []int {
	var out []int
	for i := range t.cols {
		for _, r := range t.rows {
			if i < len(r) && r[i].text != "" {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// numericColumn reports whether every non-empty cell of column i is a number (its header is then right-aligned).
func (t *Table) numericColumn(i int) bool {
	for _, r := range t.rows {
		if i < len(r) && r[i].text != "" && !r[i].numeric {
			return false
		}
	}
	return true
}

// problem describes rows longer than the header, or "".
func (t *Table) problem() string {
	for k, r := range t.rows {
		if len(r) > len(t.cols) {
			return fmt.Sprintf("display: table %q row %d has %d values for %d columns", t.Title, k+1, len(r), len(t.cols))
		}
	}
	return ""
}

// HTML renders the table as an HTML fragment (no script, inline styles only).
func (t *Table) HTML() string {
	var b strings.Builder
	b.WriteString(`<div style="margin:0.4em 0 0.8em 0">`)
	if t.Title != "" {
		fmt.Fprintf(&b, `<div style="font-weight:bold;margin-bottom:0.2em">%s</div>`, html.EscapeString(t.Title))
	}
	if t.Caption != "" {
		fmt.Fprintf(&b, `<div style="color:#555;font-size:90%%;margin-bottom:0.3em">%s</div>`, html.EscapeString(t.Caption))
	}
	cols := t.shown()
	b.WriteString(`<table style="border-collapse:collapse;font-size:90%">` + "<thead><tr>")
	for _, i := range cols {
		align := "left"
		if t.numericColumn(i) {
			align = "right"
		}
		fmt.Fprintf(&b, `<th style="text-align:%s;white-space:nowrap;padding:2px 10px;border-bottom:1px solid #888">%s</th>`,
			align, html.EscapeString(t.cols[i]))
	}
	b.WriteString("</tr></thead><tbody>")
	for _, r := range t.rows {
		b.WriteString("<tr>")
		for _, i := range cols {
			var c cell
			if i < len(r) {
				c = r[i]
			}
			align := "left"
			if c.numeric {
				align = "right"
			}
			fmt.Fprintf(&b, `<td style="text-align:%s;white-space:nowrap;padding:2px 10px;border-bottom:1px solid #ddd">%s</td>`,
				align, html.EscapeString(c.text))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	if p := t.problem(); p != "" {
		fmt.Fprintf(&b, `<div style="color:#b00">%s</div>`, html.EscapeString(p))
	}
	b.WriteString("</div>")
	return b.String()
}

// String renders the table as aligned plain text: the title, a header line and one line per row.
func (t *Table) String() string {
	cols := t.shown()
	width := make([]int, len(t.cols))
	for _, i := range cols {
		width[i] = len([]rune(t.cols[i]))
		for _, r := range t.rows {
			if i < len(r) {
				width[i] = max(width[i], len([]rune(r[i].text)))
			}
		}
	}
	var b strings.Builder
	if t.Title != "" {
		b.WriteString(t.Title + "\n")
	}
	if t.Caption != "" {
		b.WriteString(t.Caption + "\n")
	}
	line := func(cells []cell) {
		parts := make([]string, 0, len(cols))
		for _, i := range cols {
			var c cell
			if i < len(cells) {
				c = cells[i]
			}
			pad := strings.Repeat(" ", width[i]-len([]rune(c.text)))
			if c.numeric {
				parts = append(parts, pad+c.text)
			} else {
				parts = append(parts, c.text+pad)
			}
		}
		b.WriteString(strings.TrimRight(strings.Join(parts, "  "), " ") + "\n")
	}
	head := make([]cell, len(t.cols))
	for i, c := range t.cols {
		head[i] = cell{text: c, numeric: t.numericColumn(i)}
	}
	line(head)
	for _, r := range t.rows {
		line(r)
	}
	if p := t.problem(); p != "" {
		b.WriteString(p + "\n")
	}
	return b.String()
}

// Show displays the table: HTML in GoNB, text on stdout elsewhere.
func (t *Table) Show() {
	if gonbui.IsNotebook {
		gonbui.DisplayHTML(t.HTML())
		return
	}
	fmt.Print(t.String())
}

// Fprint writes the table's text form to w (for logs and the CLI).
func (t *Table) Fprint(w io.Writer) error {
	_, err := io.WriteString(w, t.String())
	return err
}

// Note shows one ordinary line of information (grey in GoNB; stdout elsewhere), e.g. the backend in use.
func Note(format string, args ...any) {
	text := fmt.Sprintf(format, args...)
	if gonbui.IsNotebook {
		gonbui.DisplayHTML(NoteHTML(text))
		return
	}
	fmt.Println(text)
}

// NoteHTML is the HTML of [Note].
func NoteHTML(text string) string {
	return `<div style="color:#444;font-family:monospace;white-space:pre-wrap">` + html.EscapeString(text) + `</div>`
}

// Smoke shows the smoke-run banner, to be put at the top of every output that would otherwise look like a result:
// "SMOKE RUN — " and why the numbers are not the paper's. It prints the same text outside a notebook.
func Smoke(why string) {
	if gonbui.IsNotebook {
		gonbui.DisplayHTML(SmokeHTML(why))
		return
	}
	fmt.Fprintln(os.Stdout, SmokeText(why))
}

// SmokeText is the banner's text.
func SmokeText(why string) string { return "SMOKE RUN — " + why }

// SmokeHTML is the banner's HTML: a yellow box.
func SmokeHTML(why string) string {
	return `<div style="background:#fff3c4;border-left:4px solid #e0a800;padding:3px 8px;margin:2px 0;font-size:90%">` +
		`<b>SMOKE RUN</b> — ` + html.EscapeString(why) + `</div>`
}
