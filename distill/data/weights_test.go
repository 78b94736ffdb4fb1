package data

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadWeights(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) string {
		p := filepath.Join(dir, "w.csv")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ids := []string{"a", "b", "c"}
	got, err := LoadWeights(write("id,weight\nc,2.5\na,1\nz,7\n"), ids)
	if err != nil || !reflect.DeepEqual(got, []float32{1, 0, 2.5}) {
		t.Fatalf("weights %v, %v; want [1 0 2.5] (b unlisted weighs 0, z is not a training example)", got, err)
	}
	for _, c := range []struct{ name, text, want string }{
		{"not a number", "a,1\nb,x\n", `w.csv:2: weight "x" is not a number`},
		{"negative", "a,-1\n", `w.csv:1: weight "-1" must be finite`},
		{"NaN", "a,NaN\n", `w.csv:1: weight "NaN" must be finite`},
		{"repeated id", "a,1\nb,1\na,2\n", `w.csv:3: id "a" repeats line 1`},
		{"no training example", "y,1\nz,1\n", `none of its 2 ids is a training example (they look like "a")`},
		{"three fields", "a,1,2\n", "wrong number of fields"},
		{"header only", "id,weight\n", "no rows"},
	} {
		_, err := LoadWeights(write(c.text), ids)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := LoadWeights(filepath.Join(dir, "missing.csv"), ids); err == nil {
		t.Error("missing file accepted")
	}
}
