package clip

import "math"

// NormalizeRows L2-normalises, in place, each row of x, a row-major matrix with rows of length d (the way CLIP
// embeddings are compared). A row of zeros stays zero; a trailing partial row (len(x) not a multiple of d) is
// left as is.
func NormalizeRows(x []float32, d int) {
	if d <= 0 {
		return
	}
	for r := 0; r+d <= len(x); r += d {
		var s float64
		for _, v := range x[r : r+d] {
			s += float64(v) * float64(v)
		}
		if s == 0 {
			continue
		}
		inv := float32(1 / math.Sqrt(s))
		for j := r; j < r+d; j++ {
			x[j] *= inv
		}
	}
}
