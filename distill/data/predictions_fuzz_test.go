package data

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadPredictions parses arbitrary bytes as a predictions CSV: no panic; an accepted file is valid, checks
// against its declared classes, and writes back to the same rows.
func FuzzReadPredictions(f *testing.F) {
	f.Add([]byte("id,label,pred,conf\na.png,0,1,0.25\nb.png,1,1,0.9\n"))
	f.Add([]byte("\ufeffconf,pred,extra,id,label,group\n0.5,1,x,img1,0,3\n"))
	f.Add([]byte("id,label,pred,conf\na,1099511627776,0,0.5\n")) // a label of 2^40
	f.Add([]byte("id,label,pred,conf\n\"a\nb\",0,0,NaN\n"))
	f.Add([]byte("id,label,pred,conf\n" + strings.Repeat("x,0,0,1\n", 100)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadPredictions(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted rows are invalid: %v", err)
		}
		maxClass := 0
		for i := range p.IDs {
			maxClass = max(maxClass, p.Labels[i]+1, p.Preds[i]+1)
		}
		if p.Len() > 0 && (p.CheckClasses(maxClass) != nil || p.CheckClasses(maxClass-1) == nil) {
			t.Fatalf("CheckClasses disagrees with the largest class %d", maxClass-1)
		}
		var buf bytes.Buffer
		if err := p.Write(&buf); err != nil {
			t.Fatalf("Write: %v", err)
		}
		q, err := ReadPredictions(&buf)
		if err != nil || q.Len() != p.Len() {
			t.Fatalf("round trip: %v, %d rows of %d", err, q.Len(), p.Len())
		}
	})
}

// TestCheckClasses holds the CSV side of issue 11's stray labels: a label of 2^40 is a row error against the
// declared classes, never a class table of that size.
func TestCheckClasses(t *testing.T) {
	p, err := ReadPredictions(strings.NewReader("id,label,pred,conf\na,0,1,0.5\nb,1099511627776,0,0.5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckClasses(2); err == nil || !strings.Contains(err.Error(), "row 1 (b)") || !strings.Contains(err.Error(), "1099511627776") {
		t.Errorf("CheckClasses(2): %v", err)
	}
	p.Labels[1] = 1
	if err := p.CheckClasses(2); err != nil {
		t.Errorf("valid rows: %v", err)
	}
}
