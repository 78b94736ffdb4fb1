package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/faildirs/faildirs/internal/atomicfile"
)

// Predictions are a base model's outputs on one split, the bring-your-own-model interface of faildirs:
// CSV with header "id,label,pred,conf" and optionally ",group".
//
//   - id: the example's ID (the join key with embeddings);
//   - label: true class index; pred: predicted class index;
//   - conf: the model's softmax probability of the true class, in [0, 1];
//   - group: optional ground-truth subgroup index (evaluation only).
type Predictions struct {
	IDs           []string
	Labels, Preds []int
	Conf          []float32
	// Groups is nil when the file has no group column.
	Groups []int

	// lines holds the file line of each row when read by ReadPredictions (nil otherwise).
	lines []int
}

// Line returns the line of row i in the CSV it was read from (the header is line 1), or 0 when the predictions
// were not read from a file.
func (p *Predictions) Line(i int) int {
	if i < 0 || i >= len(p.lines) {
		return 0
	}
	return p.lines[i]
}

// Len returns the number of rows.
func (p *Predictions) Len() int { return len(p.IDs) }

// Validate checks lengths and value ranges.
func (p *Predictions) Validate() error {
	n := len(p.IDs)
	if len(p.Labels) != n || len(p.Preds) != n || len(p.Conf) != n || (p.Groups != nil && len(p.Groups) != n) {
		return fmt.Errorf("predictions: lengths differ: %d ids, %d labels, %d preds, %d confs, %d groups", n, len(p.Labels), len(p.Preds), len(p.Conf), len(p.Groups))
	}
	for i := range n {
		if c := p.Conf[i]; math.IsNaN(float64(c)) || c < 0 || c > 1 {
			return fmt.Errorf("predictions: row %d (%s): conf %v outside [0, 1]", i, p.IDs[i], c)
		}
		if p.Labels[i] < 0 || p.Preds[i] < 0 {
			return fmt.Errorf("predictions: row %d (%s): negative label %d or pred %d", i, p.IDs[i], p.Labels[i], p.Preds[i])
		}
	}
	return nil
}

// CheckClasses checks that every label and prediction is below n, the number of classes the dataset or the model
// declares; the error names the first row out of range and its id. Code that sizes per-class tables from a
// predictions file must call it (or use the declared count) instead of trusting the largest label it sees.
func (p *Predictions) CheckClasses(n int) error {
	for i := range p.IDs {
		if p.Labels[i] >= n || p.Preds[i] >= n {
			return fmt.Errorf("predictions: row %d (%s): label %d or pred %d is not below the %d declared classes", i, p.IDs[i], p.Labels[i], p.Preds[i], n)
		}
	}
	return nil
}

// Correct reports whether row i's prediction equals its label.
func (p *Predictions) Correct(i int) bool { return p.Labels[i] == p.Preds[i] }

// Accuracy is the fraction of correct rows (NaN when empty).
func (p *Predictions) Accuracy() float64 {
	if p.Len() == 0 {
		return math.NaN()
	}
	c := 0
	for i := range p.IDs {
		if p.Correct(i) {
			c++
		}
	}
	return float64(c) / float64(p.Len())
}

// GroupAccuracy returns the accuracy and size of each of n groups (NaN accuracy for an empty group); nil without
// groups.
func (p *Predictions) GroupAccuracy(n int) (acc []float64, count []int) {
	if p.Groups == nil {
		return nil, nil
	}
	acc, count = make([]float64, n), make([]int, n)
	correct := make([]int, n)
	for i, g := range p.Groups {
		if g < 0 || g >= n {
			continue
		}
		count[g]++
		if p.Correct(i) {
			correct[g]++
		}
	}
	for g := range acc {
		acc[g] = math.NaN()
		if count[g] > 0 {
			acc[g] = float64(correct[g]) / float64(count[g])
		}
	}
	return acc, count
}

// Write writes the predictions to w as CSV (header included; the group column only when Groups is set).
func (p *Predictions) Write(w io.Writer) error {
	if err := p.Validate(); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	head := []string{"id", "label", "pred", "conf"}
	if p.Groups != nil {
		head = append(head, "group")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	row := make([]string, len(head))
	for i := range p.IDs {
		row[0], row[1], row[2] = p.IDs[i], strconv.Itoa(p.Labels[i]), strconv.Itoa(p.Preds[i])
		row[3] = strconv.FormatFloat(float64(p.Conf[i]), 'g', -1, 32)
		if p.Groups != nil {
			row[4] = strconv.Itoa(p.Groups[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ReadPredictions parses predictions CSV from r. The header must name id, label, pred and conf (any order, extra
// columns ignored) and may name group. Every id must be unique. Errors give the line number and the offending
// value. Memory grows with the rows read, never with the values in them; check labels against the declared classes
// with [Predictions.CheckClasses].
func ReadPredictions(r io.Reader) (*Predictions, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("predictions csv: empty file (want header id,label,pred,conf[,group])")
		}
		return nil, fmt.Errorf("predictions csv: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"id", "label", "pred", "conf"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("predictions csv: header %q lacks column %q (want id,label,pred,conf[,group])", strings.Join(head, ","), need)
		}
	}
	gcol, hasGroup := col["group"]
	p := &Predictions{}
	if hasGroup {
		p.Groups = []int{}
	}
	width := len(head)
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("predictions csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != width {
			return nil, fmt.Errorf("predictions csv: line %d: %d fields, header has %d", line, len(rec), width)
		}
		atoi := func(name string, c int) (int, error) {
			v, err := strconv.Atoi(strings.TrimSpace(rec[c]))
			if err != nil || v < 0 {
				return 0, fmt.Errorf("predictions csv: line %d: %s %q is not a non-negative integer", line, name, rec[c])
			}
			return v, nil
		}
		l, err := atoi("label", col["label"])
		if err != nil {
			return nil, err
		}
		pr, err := atoi("pred", col["pred"])
		if err != nil {
			return nil, err
		}
		c, err := strconv.ParseFloat(strings.TrimSpace(rec[col["conf"]]), 32)
		if err != nil || math.IsNaN(c) || c < 0 || c > 1 {
			return nil, fmt.Errorf("predictions csv: line %d: conf %q is not a probability in [0, 1]", line, rec[col["conf"]])
		}
		id := rec[col["id"]]
		if id == "" {
			return nil, fmt.Errorf("predictions csv: line %d: empty id", line)
		}
		if first, ok := seen[id]; ok {
			return nil, fmt.Errorf("predictions csv: line %d: id %q repeats line %d", line, id, first)
		}
		seen[id] = line
		p.IDs = append(p.IDs, id)
		p.lines = append(p.lines, line)
		p.Labels = append(p.Labels, l)
		p.Preds = append(p.Preds, pr)
		p.Conf = append(p.Conf, float32(c))
		if hasGroup {
			g, err := atoi("group", gcol)
			if err != nil {
				return nil, err
			}
			p.Groups = append(p.Groups, g)
		}
	}
	return p, nil
}

// Save writes the predictions as CSV ([Predictions.Write]) to path atomically.
func (p *Predictions) Save(path string) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := p.Write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// LoadPredictions reads a predictions CSV file ([ReadPredictions]).
func LoadPredictions(path string) (*Predictions, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := ReadPredictions(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
