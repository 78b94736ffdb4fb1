package data

import (
	"bytes"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPredictionsCSVRoundTrip(t *testing.T) {
	p := &Predictions{IDs: []string{"a", "b,c", "d"}, Labels: []int{0, 1, 1}, Preds: []int{0, 0, 1}, Conf: []float32{0.9, 0.25, 0.123456789}, Groups: []int{0, 3, 2}}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "id,label,pred,conf,group\na,0,0,0.9,0\n\"b,c\",1,0,0.25,3\n") {
		t.Errorf("csv:\n%s", buf.String())
	}
	q, err := ReadPredictions(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if q.Line(0) != 2 || q.Line(2) != 4 || p.Line(0) != 0 {
		t.Errorf("lines %d %d, unread %d; want 2 4 0", q.Line(0), q.Line(2), p.Line(0))
	}
	q.lines = nil
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip: %+v != %+v", q, p)
	}
	if acc := q.Accuracy(); math.Abs(acc-2.0/3) > 1e-12 {
		t.Errorf("accuracy %v", acc)
	}
	ga, gc := q.GroupAccuracy(4)
	if !reflect.DeepEqual(gc, []int{1, 0, 1, 1}) || ga[0] != 1 || !math.IsNaN(ga[1]) || ga[3] != 0 {
		t.Errorf("group accuracy %v counts %v", ga, gc)
	}
	// Without groups, and through a file.
	p.Groups = nil
	path := filepath.Join(t.TempDir(), "p.csv")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	q, err = LoadPredictions(path)
	if err != nil || q.Groups != nil || !reflect.DeepEqual(q.IDs, p.IDs) {
		t.Fatalf("file round trip: %+v %v", q, err)
	}
	// Column order and extra columns do not matter.
	q, err = ReadPredictions(strings.NewReader("conf,pred,extra,id,label\n0.5,1,x,img1,0\n"))
	if err != nil || q.IDs[0] != "img1" || q.Preds[0] != 1 || q.Conf[0] != 0.5 {
		t.Fatalf("reordered: %+v %v", q, err)
	}
}

func TestPredictionsCSVBadInput(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", "empty file"},
		{"missing column", "id,label,conf\n", `lacks column "pred"`},
		{"bad label", "id,label,pred,conf\na,0,1,0.5\nb,x,1,0.5\n", `line 3: label "x"`},
		{"negative pred", "id,label,pred,conf\na,0,-1,0.5\n", `line 2: pred "-1"`},
		{"conf above 1", "id,label,pred,conf\na,0,1,1.5\n", `line 2: conf "1.5"`},
		{"conf NaN", "id,label,pred,conf\na,0,1,NaN\n", `line 2: conf "NaN"`},
		{"short row", "id,label,pred,conf,group\na,0,1,0.5,1\nb,0,1\n", "line 3"},
		{"bad group", "id,label,pred,conf,group\na,0,1,0.5,g\n", `line 2: group "g"`},
		{"empty id", "id,label,pred,conf\n,0,1,0.5\n", "line 2: empty id"},
		{"duplicate id", "id,label,pred,conf\na,0,1,0.5\nb,0,1,0.5\na,1,1,0.5\n", `line 4: id "a" repeats line 2`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadPredictions(strings.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	bad := &Predictions{IDs: []string{"a"}, Labels: []int{0}, Preds: []int{0}, Conf: []float32{2}}
	if err := bad.Write(&bytes.Buffer{}); err == nil {
		t.Error("Write accepted conf 2")
	}
	if err := (&Predictions{IDs: []string{"a"}}).Validate(); err == nil {
		t.Error("Validate accepted ragged predictions")
	}
}
