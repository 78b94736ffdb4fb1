// Package matrix holds [Dense], the one row-major float32 matrix faildirs passes between packages: embeddings
// (one row per image or text), latent vectors of a split, pre-processed rows. Shape travels with the data, so no
// caller flattens or splits rows by hand.
//
//	m, err := matrix.FromRows([][]float32{{3, 4}, {0, 1}})
//	m.NormalizeRows()         // rows scaled to unit L2 norm, in place
//	fmt.Println(m.Row(0))     // [0.6 0.8]
//	top := m.Select([]int{1}) // a 1×2 copy of row 1
//
// A Dense is a small value: copying it copies the header, not the data (like a slice). Methods that change
// values say so; the others never modify the receiver.
package matrix

import (
	"fmt"
	"math"
)

// Dense is a Rows×Cols matrix of float32 stored row-major in Data: row i is Data[i·Cols : (i+1)·Cols].
// The zero value is an empty matrix (0×0).
type Dense struct {
	// Rows and Cols are the dimensions.
	Rows, Cols int
	// Data holds Rows·Cols values, row-major.
	Data []float32
}

// New returns a rows×cols matrix over data (not copied). A nil data allocates zeros; otherwise len(data) must be
// rows·cols.
func New(rows, cols int, data []float32) (Dense, error) {
	if rows < 0 || cols < 0 {
		return Dense{}, fmt.Errorf("matrix: negative shape %d×%d", rows, cols)
	}
	if data == nil {
		return Zeros(rows, cols), nil
	}
	if len(data) != rows*cols {
		return Dense{}, fmt.Errorf("matrix: %d values for a %d×%d matrix (want %d)", len(data), rows, cols, rows*cols)
	}
	return Dense{Rows: rows, Cols: cols, Data: data}, nil
}

// Zeros returns a rows×cols matrix of zeros. It panics on a negative dimension, like make.
func Zeros(rows, cols int) Dense {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("matrix: negative shape %d×%d", rows, cols))
	}
	return Dense{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
}

// FromRows copies rows into a new matrix. Every row must have the same length; no rows give the empty matrix.
func FromRows(rows [][]float32) (Dense, error) {
	if len(rows) == 0 {
		return Dense{}, nil
	}
	cols := len(rows[0])
	m := Zeros(len(rows), cols)
	for i, r := range rows {
		if len(r) != cols {
			return Dense{}, fmt.Errorf("matrix: row %d has %d values, row 0 has %d", i, len(r), cols)
		}
		copy(m.Data[i*cols:], r)
	}
	return m, nil
}

// Row returns row i as a sub-slice of Data (not a copy; its capacity ends with the row, so appending to it
// never overwrites the next row).
func (m Dense) Row(i int) []float32 {
	return m.Data[i*m.Cols : (i+1)*m.Cols : (i+1)*m.Cols]
}

// Empty reports whether the matrix has no values.
func (m Dense) Empty() bool { return m.Rows == 0 || m.Cols == 0 }

// CheckShape checks that the dimensions are not negative and that Data holds Rows·Cols values.
func (m Dense) CheckShape() error {
	if m.Rows < 0 || m.Cols < 0 {
		return fmt.Errorf("matrix: negative shape %d×%d", m.Rows, m.Cols)
	}
	if len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("matrix: %d values for a %d×%d matrix (want %d)", len(m.Data), m.Rows, m.Cols, m.Rows*m.Cols)
	}
	return nil
}

// Validate checks the shape ([Dense.CheckShape]) and that every value is finite; the error names the first
// non-finite value's row and column.
func (m Dense) Validate() error {
	if err := m.CheckShape(); err != nil {
		return err
	}
	for k, v := range m.Data {
		if v-v != 0 { // NaN or ±Inf
			return fmt.Errorf("matrix: value at row %d, column %d is %v", k/m.Cols, k%m.Cols, v)
		}
	}
	return nil
}

// NormalizeRows scales every row to unit L2 norm, in place ([NormalizeVector]). A row of zeros stays zero.
func (m Dense) NormalizeRows() {
	if m.Cols <= 0 {
		return
	}
	for i := range m.Rows {
		NormalizeVector(m.Row(i))
	}
}

// NormalizeVector scales v to unit L2 norm, in place: the sum of squares is accumulated in float64, then every
// value is multiplied by float32(1/√sum). A vector of zeros stays zero.
func NormalizeVector(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for j := range v {
		v[j] *= inv
	}
}

// Select returns a new matrix with copies of the rows idx, in that order (indices may repeat).
func (m Dense) Select(idx []int) Dense {
	out := Zeros(len(idx), m.Cols)
	for k, i := range idx {
		copy(out.Row(k), m.Row(i))
	}
	return out
}

// Clone returns a deep copy.
func (m Dense) Clone() Dense {
	out := Zeros(m.Rows, m.Cols)
	copy(out.Data, m.Data)
	return out
}
