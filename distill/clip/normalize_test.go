package clip

import (
	"math"
	"testing"
)

func TestNormalizeRows(t *testing.T) {
	tests := []struct {
		name string
		x    []float32
		d    int
		want []float32
	}{
		{"two rows", []float32{3, 4, 0, -2}, 2, []float32{0.6, 0.8, 0, -1}},
		{"zero row stays zero", []float32{0, 0, 1, 0}, 2, []float32{0, 0, 1, 0}},
		{"partial row untouched", []float32{3, 4, 5}, 2, []float32{0.6, 0.8, 5}},
		{"one long row", []float32{1, 1, 1, 1}, 4, []float32{0.5, 0.5, 0.5, 0.5}},
		{"d zero is a no-op", []float32{2}, 0, []float32{2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			NormalizeRows(tc.x, tc.d)
			for i := range tc.want {
				if math.Abs(float64(tc.x[i]-tc.want[i])) > 1e-6 {
					t.Fatalf("got %v, want %v", tc.x, tc.want)
				}
			}
		})
	}
}
