package experiment

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/internal/atomicfile"
)

// The files of an analysis folder.
const (
	SummaryFile   = "summary.json"
	SpecFile      = "spec.json"
	ModelFile     = "model.json"
	DecisionsFile = "decisions.csv"
	CaptionsFile  = "captions.json"
	ReportFile    = "report.html"
)

// Report is what the figures and report.html are drawn from: the summary, every split's decision values, the
// full caption rankings and checks, and a reader of the test images (for the galleries).
type Report struct {
	Summary   *Summary
	Decisions []DecisionRow
	// Captions is nil when the analysis has no captions.
	Captions *Captions
	// Image returns the test image with the given id; nil draws galleries without pictures.
	Image func(id string) (image.Image, error)
}

// DecisionRow is one example's decision value (a row of decisions.csv).
type DecisionRow struct {
	Split     string
	ID        string
	Class     int // the true class, whose SVM gives the decision value
	ClassName string
	Decision  float32
	// Rank is the example's position within its split and class by decision value, 1 = most negative (hardest).
	Rank int
	// Flagged is decision ≤ 0 (predicted failure).
	Flagged bool
	Pred    int
	Correct bool
	// Group is the ground-truth group, −1 when unknown.
	Group int
}

// Captions is the content of captions.json: every class's scored vocabulary and caption check.
type Captions struct {
	Vocabulary string         `json:"vocabulary"`
	Classes    []CaptionClass `json:"classes"`
}

// CaptionClass is one class's ranking (hardest caption first) and caption check.
type CaptionClass struct {
	*caption.Ranking
	Check *caption.Check `json:"check,omitempty"`
}

// Report gathers the pipeline's results for the figures and report.html (running every stage first).
func (p *Pipeline) Report(ctx context.Context) (*Report, error) {
	s, err := p.Summary(ctx)
	if err != nil {
		return nil, err
	}
	r := &Report{Summary: s, Decisions: p.decisionRows()}
	if p.Rankings != nil {
		v, _, _ := p.Vocabulary()
		r.Captions = &Captions{Vocabulary: v.Name}
		for c, rk := range p.Rankings {
			if rk == nil {
				continue
			}
			cc := CaptionClass{Ranking: rk}
			if p.Checks != nil {
				cc.Check = p.Checks[c]
			}
			r.Captions.Classes = append(r.Captions.Classes, cc)
		}
	}
	if r.Image, err = p.TestImages(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// TestImages returns a reader of the test images by id (for galleries), loading the data first.
func (p *Pipeline) TestImages(ctx context.Context) (func(id string) (image.Image, error), error) {
	if err := p.LoadData(ctx); err != nil {
		return nil, err
	}
	test := p.Data.Test
	byID := make(map[string]int, test.Len())
	for i, id := range test.IDs {
		byID[id] = i
	}
	return func(id string) (image.Image, error) {
		i, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("no test image %q", id)
		}
		return test.Image(i)
	}, nil
}

// decisionRows lists every split's decision values (train: the rows of the whitening sample) with their rank
// within split and class.
func (p *Pipeline) decisionRows() []DecisionRow {
	var rows []DecisionRow
	for _, name := range splitNames {
		sp, pr, dec := p.Data.Split(name), p.Preds[name], p.Decisions[name]
		start := len(rows)
		for k := range dec {
			i := k
			if name == "train" && p.TrainRows != nil {
				i = p.TrainRows[k]
			}
			g := -1
			if sp.Groups != nil {
				g = sp.Groups[i]
			}
			l := pr.Labels[i]
			rows = append(rows, DecisionRow{Split: name, ID: sp.IDs[i], Class: l, ClassName: p.Data.Classes[l],
				Decision: dec[k], Flagged: dec[k] <= 0, Pred: pr.Preds[i], Correct: pr.Correct(i), Group: g})
		}
		rankRows(rows[start:])
	}
	return rows
}

// rankRows sets each row's rank within its class by decision value (stable: ties keep row order).
func rankRows(rows []DecisionRow) {
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Or(cmp.Compare(rows[a].Class, rows[b].Class), cmp.Compare(rows[a].Decision, rows[b].Decision))
	})
	rank, last := 0, -1
	for _, i := range idx {
		if rows[i].Class != last {
			rank, last = 0, rows[i].Class
		}
		rank++
		rows[i].Rank = rank
	}
}

var decisionHeader = []string{"id", "split", "class", "class_name", "decision", "rank", "flagged", "pred", "correct", "group"}

// WriteDecisions writes rows as decisions.csv.
func WriteDecisions(w io.Writer, rows []DecisionRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(decisionHeader); err != nil {
		return err
	}
	for _, r := range rows {
		g := ""
		if r.Group >= 0 {
			g = strconv.Itoa(r.Group)
		}
		if err := cw.Write([]string{r.ID, r.Split, strconv.Itoa(r.Class), r.ClassName,
			strconv.FormatFloat(float64(r.Decision), 'g', -1, 32), strconv.Itoa(r.Rank), strconv.FormatBool(r.Flagged),
			strconv.Itoa(r.Pred), strconv.FormatBool(r.Correct), g}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadDecisions parses decisions.csv (as [WriteDecisions] writes it); errors name the line.
func ReadDecisions(r io.Reader, name string) ([]DecisionRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(decisionHeader)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	if !slices.Equal(head, decisionHeader) {
		return nil, fmt.Errorf("%s: header %q, want %q", name, strings.Join(head, ","), strings.Join(decisionHeader, ","))
	}
	var rows []DecisionRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		bad := func(col string) error {
			return fmt.Errorf("%s:%d: bad %s %q", name, line, col, rec[slices.Index(decisionHeader, col)])
		}
		var row DecisionRow
		row.ID, row.Split, row.ClassName = rec[0], rec[1], rec[3]
		if row.Class, err = strconv.Atoi(rec[2]); err != nil || row.Class < 0 {
			return nil, bad("class")
		}
		d, err := strconv.ParseFloat(rec[4], 32)
		if err != nil || math.IsNaN(d) {
			return nil, bad("decision")
		}
		row.Decision = float32(d)
		if row.Rank, err = strconv.Atoi(rec[5]); err != nil {
			return nil, bad("rank")
		}
		if row.Flagged, err = strconv.ParseBool(rec[6]); err != nil {
			return nil, bad("flagged")
		}
		if row.Pred, err = strconv.Atoi(rec[7]); err != nil || row.Pred < 0 {
			return nil, bad("pred")
		}
		if row.Correct, err = strconv.ParseBool(rec[8]); err != nil {
			return nil, bad("correct")
		}
		row.Group = -1
		if rec[9] != "" {
			if row.Group, err = strconv.Atoi(rec[9]); err != nil || row.Group < 0 {
				return nil, bad("group")
			}
		}
		rows = append(rows, row)
	}
}

// writeJSON writes v as indented JSON to path atomically.
func writeJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("experiment: %s: %w", filepath.Base(path), err)
	}
	return atomicfile.WriteBytes(path, append(raw, '\n'))
}

// readJSON reads path into v, naming the line of a syntax or type error.
func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("experiment: %s: %w", path, jsonError(raw, err))
	}
	return nil
}

// WriteFit writes what the fit stage produced into dir: spec.json, model.json (distill's format), decisions.csv
// and summary.json — everything `faildirs caption` and `faildirs report` continue from. Files are written
// atomically, each one complete or absent.
func (p *Pipeline) WriteFit(ctx context.Context, dir string) (*Summary, error) {
	if err := CheckOut(dir); err != nil {
		return nil, err
	}
	if err := p.Fit(ctx); err != nil {
		return nil, err
	}
	// A summary without captions: the caption stages are marked done so Summary does not run them.
	captions, checks := p.captionsDone, p.checksDone
	if p.Rankings == nil {
		p.captionsDone, p.checksDone = true, true
	}
	s, err := p.Summary(ctx)
	p.captionsDone, p.checksDone = captions, checks
	if err != nil {
		return nil, err
	}
	if err := p.saveSpecAndModel(dir); err != nil {
		return nil, err
	}
	if err := saveDecisions(filepath.Join(dir, DecisionsFile), p.decisionRows()); err != nil {
		return nil, err
	}
	return s, s.Save(filepath.Join(dir, SummaryFile))
}

// WriteOutputs runs every stage and writes the analysis folder dir: spec.json, summary.json, model.json,
// decisions.csv, captions.json (when there are captions), the PNG figures and report.html. Everything is computed
// and rendered before the first file is written; each file is written atomically.
func (p *Pipeline) WriteOutputs(ctx context.Context, dir string) (*Summary, error) {
	if err := CheckOut(dir); err != nil {
		return nil, err
	}
	r, err := p.Report(ctx)
	if err != nil {
		return nil, err
	}
	figs, err := r.Figures()
	if err != nil {
		return nil, err
	}
	if err := p.saveSpecAndModel(dir); err != nil {
		return nil, err
	}
	return r.Summary, r.write(dir, figs)
}

// Write writes the report's files into dir: summary.json, decisions.csv, captions.json (when there are captions),
// every figure as PNG and report.html. The figures are rendered before the first file is written; each file is
// written atomically.
func (r *Report) Write(dir string) error {
	if err := CheckOut(dir); err != nil {
		return err
	}
	figs, err := r.Figures()
	if err != nil {
		return err
	}
	return r.write(dir, figs)
}

// write writes the report's files with its rendered figures.
func (r *Report) write(dir string, figs []Figure) error {
	if err := saveDecisions(filepath.Join(dir, DecisionsFile), r.Decisions); err != nil {
		return err
	}
	if r.Captions != nil {
		if err := writeJSON(filepath.Join(dir, CaptionsFile), r.Captions); err != nil {
			return err
		}
	}
	for _, f := range figs {
		if err := atomicfile.WriteBytes(filepath.Join(dir, f.Name+".png"), f.PNG); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(filepath.Join(dir, ReportFile), func(w io.Writer) error { return r.WriteHTML(w, figs) }); err != nil {
		return err
	}
	return r.Summary.Save(filepath.Join(dir, SummaryFile))
}

// saveDecisions writes decision rows to path atomically.
func saveDecisions(path string, rows []DecisionRow) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := WriteDecisions(bw, rows); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// saveSpecAndModel writes spec.json and model.json into the analysis folder dir.
func (p *Pipeline) saveSpecAndModel(dir string) error {
	if err := writeJSON(filepath.Join(dir, SpecFile), p.Spec); err != nil {
		return err
	}
	return p.SVM.Save(filepath.Join(dir, ModelFile))
}

// ReadReport reads an analysis folder's summary.json, decisions.csv and (when present) captions.json.
func ReadReport(dir string) (*Report, error) {
	s, err := LoadSummary(filepath.Join(dir, SummaryFile))
	if err != nil {
		return nil, err
	}
	r := &Report{Summary: s}
	f, err := os.Open(filepath.Join(dir, DecisionsFile))
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	defer f.Close()
	if r.Decisions, err = ReadDecisions(bufio.NewReader(f), f.Name()); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, CaptionsFile)
	if _, err := os.Stat(path); err == nil {
		r.Captions = &Captions{}
		if err := readJSON(path, r.Captions); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// LoadSpecFile reads the spec.json of an analysis folder (written by WriteFit and WriteOutputs).
func LoadSpecFile(dir string) (Spec, error) { return LoadSpec(filepath.Join(dir, SpecFile)) }

// WriteCaptions runs the caption stages (with the fitted model, e.g. one set by UseModel) and writes captions.json
// and the updated summary.json into dir.
func (p *Pipeline) WriteCaptions(ctx context.Context, dir string) (*Summary, error) {
	if err := CheckOut(dir); err != nil {
		return nil, err
	}
	r, err := p.Report(ctx)
	if err != nil {
		return nil, err
	}
	if r.Captions != nil {
		if err := writeJSON(filepath.Join(dir, CaptionsFile), r.Captions); err != nil {
			return nil, err
		}
	}
	return r.Summary, r.Summary.Save(filepath.Join(dir, SummaryFile))
}
