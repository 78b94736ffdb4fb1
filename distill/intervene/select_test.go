package intervene

import (
	"slices"
	"testing"
)

// TestLowest: per class the k lowest scores, lowest first, ties in index order, all of a class smaller than k, none
// of a skipped class.
func TestLowest(t *testing.T) {
	labels := []int{0, 1, 0, 1, 0, 1, 0, 2}
	scores := []float32{0.5, -1, -2, 3, 0.5, 0, 1, 7}
	tests := []struct {
		name string
		k    int
		skip []bool
		want []int
	}{
		{"k=1", 1, nil, []int{2, 1, 7}},
		{"k=2, a tie at 0.5 keeps index order", 2, nil, []int{2, 0, 1, 5, 7}},
		{"k above the class sizes", 9, nil, []int{2, 0, 4, 6, 1, 5, 3, 7}},
		{"class 1 skipped", 2, []bool{false, true}, []int{2, 0, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Lowest(labels, scores, 3, tc.k, tc.skip)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Lowest = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := Lowest(labels, scores, 3, 0, nil); err == nil {
		t.Error("K = 0 accepted")
	}
}

// TestRandom: the budget per class, no repeats, the same draw for the same seed, another for another seed, and a
// larger budget extends a smaller one's draw.
func TestRandom(t *testing.T) {
	var labels []int
	for i := range 300 {
		labels = append(labels, i%3)
	}
	a, err := Random(labels, 3, 20, 7)
	if err != nil {
		t.Fatal(err)
	}
	count := make([]int, 3)
	seen := map[int]bool{}
	for _, i := range a {
		count[labels[i]]++
		if seen[i] {
			t.Fatalf("example %d drawn twice", i)
		}
		seen[i] = true
	}
	if !slices.Equal(count, []int{20, 20, 20}) {
		t.Fatalf("per-class counts %v, want 20 each", count)
	}
	again, _ := Random(labels, 3, 20, 7)
	other, _ := Random(labels, 3, 20, 8)
	if !slices.Equal(a, again) {
		t.Error("the same seed drew differently")
	}
	if slices.Equal(a, other) {
		t.Error("another seed drew the same examples")
	}
	more, _ := Random(labels, 3, 30, 7)
	for c := range 3 {
		if !slices.Equal(a[20*c:20*c+20], more[30*c:30*c+20]) {
			t.Errorf("class %d: K=30 does not extend K=20's draw", c)
		}
	}
	small, _ := Random([]int{0, 1, 0}, 2, 5, 1)
	if len(small) != 3 {
		t.Errorf("budget above the class sizes: %v, want all 3 examples", small)
	}
}
