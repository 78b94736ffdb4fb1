// Package twoslices generates the planted two-slice problem the tests of package distill and package benchmark
// share: two classes in Dim dimensions, class 0 with two failure slices at an obtuse angle, class 1 with one.
//
//	d := twoslices.Generate(1, 800)
//	split := distill.Split{Latents: d.Latents, Labels: d.Labels, Preds: d.Preds, Groups: d.Groups, Confs: d.Confs}
package twoslices

import (
	"math"
	"math/rand/v2"

	"github.com/faildirs/faildirs/distill/matrix"
)

// Dim is the number of latent dimensions.
const Dim = 16

// Data is one generated split: a row per example with its label, the base model's prediction, its group (0 the
// rest, 1 and 2 the slices) and a constant confidence of 0.5.
type Data struct {
	Latents               matrix.Dense
	Labels, Preds, Groups []int
	Confs                 []float32
}

// Generate draws perClass examples of each class from seed. Class 0 has two planted slices: group 1 (30 % of the
// class) shifted by 6 along axis 0 and group 2 (12 %) shifted by 5 along (cos 150°, sin 150°) in axes 0 and 1, at
// an obtuse angle to group 1; class 1 has one slice, group 1 (30 %) shifted by 6 along axis 2; the classes differ
// by 2 along axis 3. The base model errs on 90 % of every slice and on 1 % of the rest.
func Generate(seed uint64, perClass int) Data {
	rng := rand.New(rand.NewPCG(seed, 11))
	d := Data{Latents: matrix.Dense{Cols: Dim}}
	bx, by := float32(5*math.Cos(150*math.Pi/180)), float32(5*math.Sin(150*math.Pi/180))
	for c := range 2 {
		for range perClass {
			g, u := 0, rng.Float64()
			switch {
			case u < 0.3:
				g = 1
			case u < 0.42 && c == 0:
				g = 2
			}
			row := make([]float32, Dim)
			for k := range row {
				row[k] = float32(rng.NormFloat64())
			}
			row[3] += float32(2 * c)
			switch {
			case g == 1 && c == 0:
				row[0] += 6
			case g == 2:
				row[0], row[1] = row[0]+bx, row[1]+by
			case g == 1:
				row[2] += 6
			}
			d.Latents.Data = append(d.Latents.Data, row...)
			d.Latents.Rows++
			wrong := rng.Float64() < 0.01
			if g > 0 {
				wrong = rng.Float64() < 0.9
			}
			pred := c
			if wrong {
				pred = 1 - c
			}
			d.Labels, d.Preds, d.Groups = append(d.Labels, c), append(d.Preds, pred), append(d.Groups, g)
			d.Confs = append(d.Confs, 0.5)
		}
	}
	return d
}
