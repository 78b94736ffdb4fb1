package data

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// LoadWeights reads per-example training weights (interventions) from a CSV file of rows "id,weight" (a header row
// is allowed) and returns one weight per id of ids, in that order: ids the file does not list weigh 0, and rows of
// other ids (e.g. weights computed for every split) are ignored. Errors name the file and line: a row without two
// fields, a weight that is not a finite number ≥ 0, an id listed twice; and a file that matches none of ids fails.
func LoadWeights(path string, ids []string) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	defer f.Close()
	index := make(map[string]int, len(ids))
	for i, id := range ids {
		index[id] = i
	}
	r := csv.NewReader(f)
	r.FieldsPerRecord = 2
	out := make([]float32, len(ids))
	seen := map[string]int{}
	matched := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("weights %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		id := strings.TrimSpace(rec[0])
		v, err := strconv.ParseFloat(strings.TrimSpace(rec[1]), 64)
		if err != nil {
			if line == 1 {
				continue // header
			}
			return nil, fmt.Errorf("weights %s:%d: weight %q is not a number", path, line, rec[1])
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > math.MaxFloat32 {
			return nil, fmt.Errorf("weights %s:%d: weight %q must be finite and ≥ 0", path, line, rec[1])
		}
		if first, ok := seen[id]; ok {
			return nil, fmt.Errorf("weights %s:%d: id %q repeats line %d", path, line, id, first)
		}
		seen[id] = line
		if i, ok := index[id]; ok {
			out[i] = float32(v)
			matched++
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("weights %s: no rows", path)
	}
	if matched == 0 {
		example := ""
		if len(ids) > 0 {
			example = fmt.Sprintf(" (they look like %q)", ids[0])
		}
		return nil, fmt.Errorf("weights %s: none of its %d ids is a training example%s", path, len(seen), example)
	}
	return out, nil
}
