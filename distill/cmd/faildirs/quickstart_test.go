package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParseCosts(t *testing.T) {
	tests := []struct {
		in      string
		want    []float64
		wantErr string
	}{
		{in: "0.01", want: []float64{0.01}},
		{in: "1e-3, 0.1 ,1", want: []float64{1e-3, 0.1, 1}},
		{in: "0.01,x", wantErr: `"x" in "0.01,x"`},
		{in: "0", wantErr: `"0"`},
		{in: "-1", wantErr: `"-1"`},
		{in: "Inf", wantErr: `"Inf"`},
		{in: "NaN", wantErr: `"NaN"`},
		{in: "1,,2", wantErr: `""`},
	}
	for _, tc := range tests {
		got, err := parseCosts(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseCosts(%q) error %v, want one naming %s", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseCosts(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
