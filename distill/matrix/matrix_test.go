package matrix

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name       string
		rows, cols int
		data       []float32
		wantErr    string
	}{
		{"shape", 2, 3, make([]float32, 6), ""},
		{"nil allocates", 2, 3, nil, ""},
		{"empty", 0, 5, []float32{}, ""},
		{"too few", 2, 3, make([]float32, 5), "5 values for a 2×3"},
		{"negative", -1, 3, nil, "negative shape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(tc.rows, tc.cols, tc.data)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Rows != tc.rows || m.Cols != tc.cols || len(m.Data) != tc.rows*tc.cols {
				t.Fatalf("got %d×%d with %d values", m.Rows, m.Cols, len(m.Data))
			}
		})
	}
	data := []float32{1, 2, 3, 4}
	m, _ := New(2, 2, data)
	m.Data[0] = 9
	if data[0] != 9 {
		t.Error("New copied the data; it must not")
	}
}

func TestFromRowsAndRow(t *testing.T) {
	m, err := FromRows([][]float32{{1, 2, 3}, {4, 5, 6}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != 2 || m.Cols != 3 || !slices.Equal(m.Data, []float32{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("got %+v", m)
	}
	if r := m.Row(1); !slices.Equal(r, []float32{4, 5, 6}) {
		t.Fatalf("Row(1) = %v", r)
	}
	r := append(m.Row(0), 42) // capacity ends with the row: must not overwrite row 1
	if m.Data[3] != 4 || len(r) != 4 {
		t.Fatalf("appending to a row overwrote the next one: %v", m.Data)
	}
	if _, err := FromRows([][]float32{{1, 2}, {3}}); err == nil || !strings.Contains(err.Error(), "row 1 has 1 values") {
		t.Errorf("ragged rows: error %v", err)
	}
	if e, err := FromRows(nil); err != nil || !e.Empty() {
		t.Errorf("no rows: %+v, %v", e, err)
	}
}

func TestValidate(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(-1))
	tests := []struct {
		name    string
		m       Dense
		wantErr string
	}{
		{"ok", Dense{Rows: 2, Cols: 2, Data: []float32{1, 2, 3, 4}}, ""},
		{"empty", Dense{}, ""},
		{"short", Dense{Rows: 2, Cols: 2, Data: []float32{1, 2, 3}}, "3 values for a 2×2"},
		{"NaN", Dense{Rows: 2, Cols: 2, Data: []float32{1, 2, 3, nan}}, "row 1, column 1 is NaN"},
		{"Inf", Dense{Rows: 2, Cols: 3, Data: []float32{1, inf, 3, 4, 5, 6}}, "row 0, column 1 is -Inf"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate()
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestNormalizeRows(t *testing.T) {
	m, _ := FromRows([][]float32{{3, 4}, {0, 0}, {0, -2}})
	m.NormalizeRows()
	want := []float32{0.6, 0.8, 0, 0, 0, -1}
	for i, v := range m.Data {
		if math.Abs(float64(v-want[i])) > 1e-7 {
			t.Fatalf("normalised %v, want %v", m.Data, want)
		}
	}
	for i := range m.Rows {
		var s float64
		for _, v := range m.Row(i) {
			s += float64(v) * float64(v)
		}
		if i != 1 && math.Abs(s-1) > 1e-6 {
			t.Errorf("row %d has squared norm %v", i, s)
		}
	}
}

func TestSelectAndClone(t *testing.T) {
	m, _ := FromRows([][]float32{{1, 2}, {3, 4}, {5, 6}})
	s := m.Select([]int{2, 0, 2})
	if s.Rows != 3 || s.Cols != 2 || !slices.Equal(s.Data, []float32{5, 6, 1, 2, 5, 6}) {
		t.Fatalf("Select = %+v", s)
	}
	s.Data[0] = 0
	c := m.Clone()
	c.Data[0] = 0
	if m.Data[4] != 5 || m.Data[0] != 1 {
		t.Error("Select or Clone shares data with the original")
	}
}
