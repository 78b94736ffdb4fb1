package benchmark

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/internal/parallel"
)

// DominoOptions configures the error-aware mixture ([FitMixture], [Domino]). The zero value means the defaults
// given on each field (our choices; the Domino paper leaves them to the user).
type DominoOptions struct {
	// ComponentsPerClass is the number of mixture components per class (default 4).
	ComponentsPerClass int `json:"components_per_class"`
	// Weight multiplies the log-likelihoods of the label and of the prediction against the embedding's (the
	// paper's γ; default 10), so the components follow where the base model errs.
	Weight float64 `json:"weight"`
	// Iterations bounds the EM iterations (default 200); EM stops earlier when the mean log-likelihood improves
	// by less than Tol (default 1e-7).
	Iterations int     `json:"iterations"`
	Tol        float64 `json:"tol"`
	// VarianceFloor is added to every variance, relative to the data's mean per-feature variance (default 1e-3):
	// a component that collapses onto a few points keeps a finite likelihood.
	VarianceFloor float64 `json:"variance_floor"`
}

// WithDefaults returns o with zero fields set to their defaults.
func (o DominoOptions) WithDefaults() DominoOptions {
	if o.ComponentsPerClass == 0 {
		o.ComponentsPerClass = 4
	}
	if o.Weight == 0 {
		o.Weight = 10
	}
	if o.Iterations == 0 {
		o.Iterations = 200
	}
	if o.Tol == 0 {
		o.Tol = 1e-7
	}
	if o.VarianceFloor == 0 {
		o.VarianceFloor = 1e-3
	}
	return o
}

// Mixture is an error-aware Gaussian mixture in the style of Domino (Eyuboglu et al., ICLR 2022): each component
// (a candidate slice) has a weight, a Gaussian over the embedding with diagonal covariance, and categorical
// distributions over the true label and over the base model's prediction, all independent given the component.
// A component whose label and prediction distributions disagree is a slice where the model errs.
type Mixture struct {
	// Weights are the component probabilities.
	Weights []float64 `json:"weights"`
	// Means and Vars are each component's Gaussian (one value per feature).
	Means [][]float64 `json:"means"`
	Vars  [][]float64 `json:"vars"`
	// Labels and Preds are each component's distributions over the classes.
	Labels [][]float64 `json:"labels"`
	Preds  [][]float64 `json:"preds"`
	// Weight is the γ the mixture was fitted with.
	Weight float64 `json:"weight"`
	// LogLikelihood is the final mean (γ-weighted) log-likelihood per example; Iterations the EM iterations run.
	LogLikelihood float64 `json:"log_likelihood"`
	Iterations    int     `json:"iterations"`
}

// FitMixture fits an error-aware mixture of components Gaussians to the rows of x with their labels and
// predictions (classes values) by expectation–maximisation: initial centres by k-means++ seeding (seeded) over
// the embedding joined with one-hot label and prediction, then EM on the log-likelihood
// log N(x; μ, diag σ²) + γ (log p(label) + log p(prediction)) of each component.
func FitMixture(x matrix.Dense, labels, preds []int, classes, components int, opts DominoOptions, seed uint64) (*Mixture, error) {
	opts = opts.WithDefaults()
	n, d := x.Rows, x.Cols
	if err := x.CheckShape(); err != nil {
		return nil, fmt.Errorf("benchmark: mixture: %w", err)
	}
	if len(labels) != n || len(preds) != n {
		return nil, fmt.Errorf("benchmark: mixture: %d labels and %d predictions for %d rows", len(labels), len(preds), n)
	}
	if components < 1 || n < components {
		return nil, fmt.Errorf("benchmark: mixture: %d components for %d rows", components, n)
	}
	for i := range n {
		if labels[i] < 0 || labels[i] >= classes || preds[i] < 0 || preds[i] >= classes {
			return nil, fmt.Errorf("benchmark: mixture: row %d: label %d, prediction %d outside [0, %d)", i, labels[i], preds[i], classes)
		}
	}
	// Variance floor relative to the data's mean per-feature variance.
	var totalVar float64
	for k := range d {
		var s, ss float64
		for i := range n {
			v := float64(x.Data[i*d+k])
			s += v
			ss += v * v
		}
		m := s / float64(n)
		totalVar += ss/float64(n) - m*m
	}
	floor := opts.VarianceFloor * max(totalVar/float64(d), 1e-12)
	m := &Mixture{Weight: opts.Weight}
	resp := initialResponsibilities(x, labels, preds, components, seed)
	m.mStep(x, labels, preds, classes, resp, floor)
	prev := math.Inf(-1)
	for it := range opts.Iterations {
		ll := m.eStep(x, labels, preds, resp)
		m.mStep(x, labels, preds, classes, resp, floor)
		m.LogLikelihood, m.Iterations = ll, it+1
		if ll-prev < opts.Tol*max(1, math.Abs(ll)) {
			break
		}
		prev = ll
	}
	return m, nil
}

// initialResponsibilities assigns each row to the nearest of k centres chosen by k-means++ seeding over the
// embedding joined with one-hot label and prediction.
func initialResponsibilities(x matrix.Dense, labels, preds []int, k int, seed uint64) [][]float64 {
	n := x.Rows
	rng := rand.New(rand.NewPCG(seed, 0xd0a1))
	dist := func(i, j int) float64 {
		var s float64
		a, b := x.Row(i), x.Row(j)
		for t := range a {
			v := float64(a[t]) - float64(b[t])
			s += v * v
		}
		if labels[i] != labels[j] {
			s += 2
		}
		if preds[i] != preds[j] {
			s += 2
		}
		return s
	}
	centres := []int{rng.IntN(n)}
	near := make([]float64, n)
	for i := range near {
		near[i] = dist(i, centres[0])
	}
	for len(centres) < k {
		var total float64
		for _, v := range near {
			total += v
		}
		next := rng.IntN(n)
		if total > 0 {
			u := rng.Float64() * total
			for i, v := range near {
				if u -= v; u <= 0 {
					next = i
					break
				}
			}
		}
		centres = append(centres, next)
		for i := range near {
			near[i] = min(near[i], dist(i, next))
		}
	}
	resp := make([][]float64, n)
	for i := range resp {
		resp[i] = make([]float64, k)
		best, bestD := 0, math.Inf(1)
		for j, c := range centres {
			if dd := dist(i, c); dd < bestD {
				best, bestD = j, dd
			}
		}
		resp[i][best] = 1
	}
	return resp
}

// mStep sets the parameters from the responsibilities (categoricals smoothed by a small pseudo-count).
func (m *Mixture) mStep(x matrix.Dense, labels, preds []int, classes int, resp [][]float64, floor float64) {
	n, d, k := x.Rows, x.Cols, len(resp[0])
	const pseudo = 1e-3
	m.Weights = make([]float64, k)
	m.Means, m.Vars = make([][]float64, k), make([][]float64, k)
	m.Labels, m.Preds = make([][]float64, k), make([][]float64, k)
	for j := range k {
		mean, sq := make([]float64, d), make([]float64, d)
		lab, pred := make([]float64, classes), make([]float64, classes)
		var w float64
		for i := range n {
			r := resp[i][j]
			if r == 0 {
				continue
			}
			w += r
			for t, v := range x.Row(i) {
				mean[t] += r * float64(v)
				sq[t] += r * float64(v) * float64(v)
			}
			lab[labels[i]] += r
			pred[preds[i]] += r
		}
		m.Weights[j] = (w + pseudo) / (float64(n) + pseudo*float64(k))
		for t := range d {
			if w > 0 {
				mean[t] /= w
				sq[t] = max(sq[t]/w-mean[t]*mean[t], 0)
			}
			sq[t] += floor
		}
		for c := range classes {
			lab[c] = (lab[c] + pseudo) / (w + pseudo*float64(classes))
			pred[c] = (pred[c] + pseudo) / (w + pseudo*float64(classes))
		}
		m.Means[j], m.Vars[j], m.Labels[j], m.Preds[j] = mean, sq, lab, pred
	}
}

// logJoint writes into out[j] the γ-weighted log-likelihood of row v with label y and prediction p under
// component j, plus the log of its weight.
func (m *Mixture) logJoint(v []float32, y, p int, out []float64) {
	for j := range m.Weights {
		s := math.Log(m.Weights[j]) + m.Weight*(math.Log(m.Labels[j][y])+math.Log(m.Preds[j][p]))
		mean, vars := m.Means[j], m.Vars[j]
		for t, x := range v {
			dx := float64(x) - mean[t]
			s -= 0.5 * (math.Log(2*math.Pi*vars[t]) + dx*dx/vars[t])
		}
		out[j] = s
	}
}

// logSumExp returns log Σ exp(v).
func logSumExp(v []float64) float64 {
	mx := math.Inf(-1)
	for _, x := range v {
		mx = max(mx, x)
	}
	if math.IsInf(mx, -1) {
		return mx
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - mx)
	}
	return mx + math.Log(s)
}

// eStep sets the responsibilities and returns the mean log-likelihood.
func (m *Mixture) eStep(x matrix.Dense, labels, preds []int, resp [][]float64) float64 {
	ll := make([]float64, x.Rows)
	parallel.For(x.Rows, func(i int) {
		lj := make([]float64, len(m.Weights))
		m.logJoint(x.Row(i), labels[i], preds[i], lj)
		z := logSumExp(lj)
		for j, v := range lj {
			resp[i][j] = math.Exp(v - z)
		}
		ll[i] = z
	})
	var s float64
	for _, v := range ll {
		s += v
	}
	return s / float64(x.Rows)
}

// LogPosterior returns, for every row, the log probability of each component given the row's embedding, label
// and prediction.
func (m *Mixture) LogPosterior(x matrix.Dense, labels, preds []int) ([][]float64, error) {
	if len(labels) != x.Rows || len(preds) != x.Rows {
		return nil, fmt.Errorf("benchmark: mixture: %d labels and %d predictions for %d rows", len(labels), len(preds), x.Rows)
	}
	if len(m.Means) > 0 && x.Cols != len(m.Means[0]) {
		return nil, fmt.Errorf("benchmark: mixture: rows of dimension %d, the mixture's is %d", x.Cols, len(m.Means[0]))
	}
	classes := len(m.Labels[0])
	out := make([][]float64, x.Rows)
	for i := range out {
		if labels[i] < 0 || labels[i] >= classes || preds[i] < 0 || preds[i] >= classes {
			return nil, fmt.Errorf("benchmark: mixture: row %d: label %d, prediction %d outside [0, %d)", i, labels[i], preds[i], classes)
		}
	}
	parallel.For(x.Rows, func(i int) {
		lj := make([]float64, len(m.Weights))
		m.logJoint(x.Row(i), labels[i], preds[i], lj)
		z := logSumExp(lj)
		for j := range lj {
			lj[j] -= z
		}
		out[i] = lj
	})
	return out, nil
}

// Domino is the error-aware mixture as a slice finder: one mixture over the pre-processed validation embeddings
// with their labels and predictions (ComponentsPerClass × classes components); each component's error rate on
// the validation examples of a class ranks the slices; per class the top slice is the component with the highest
// error rate among those whose label distribution favours the class (all components when none does). Test
// examples are ranked by the log-odds of belonging to their class's top slice, the flagged set is the examples
// whose most likely component is that slice, and the captions describe its mean (see [prototypes]).
type Domino struct {
	Options DominoOptions
}

// Name is "domino".
func (Domino) Name() string { return "domino" }

// Find fits the mixture on val and ranks test.
func (dm Domino) Find(_ context.Context, in Input) (*Finding, error) {
	opts := dm.Options.WithDefaults()
	val, err := in.Whitening.Apply(in.Val.Latents)
	if err != nil {
		return nil, err
	}
	test, err := in.Whitening.Apply(in.Test.Latents)
	if err != nil {
		return nil, err
	}
	m, err := FitMixture(val, in.Val.Labels, in.Val.Preds, in.NumClasses, opts.ComponentsPerClass*in.NumClasses, opts, in.Seed)
	if err != nil {
		return nil, err
	}
	lv, err := m.LogPosterior(val, in.Val.Labels, in.Val.Preds)
	if err != nil {
		return nil, err
	}
	top := m.topSlices(lv, in.Val.Labels, in.Val.Preds, in.NumClasses)
	lt, err := m.LogPosterior(test, in.Test.Labels, in.Test.Preds)
	if err != nil {
		return nil, err
	}
	n := in.Test.Len()
	out := &Finding{Scores: make([]float32, n), Flagged: make([]bool, n)}
	others := make([]float64, 0, len(m.Weights))
	for i, lp := range lt {
		j := top[in.Test.Labels[i]]
		others = others[:0]
		best := 0
		for t, v := range lp {
			if t != j {
				others = append(others, v)
			}
			if v > lp[best] {
				best = t
			}
		}
		out.Scores[i] = float32(-(lp[j] - logSumExp(others)))
		out.Flagged[i] = best == j
	}
	weights := make([]float64, in.Val.Len())
	for i, lp := range lv {
		weights[i] = math.Exp(lp[top[in.Val.Labels[i]]])
	}
	out.Describe, out.Described, err = newPrototypes(in, weights)
	return out, err
}

// topSlices returns each class's top slice: the component with the highest error rate on the class's
// validation examples (membership-weighted) among the components whose label distribution favours the class, or
// among all when none does; components with less than one example's worth of the class are skipped.
func (m *Mixture) topSlices(logPost [][]float64, labels, preds []int, classes int) []int {
	k := len(m.Weights)
	mass := make([][]float64, classes)
	errs := make([][]float64, classes)
	for c := range classes {
		mass[c], errs[c] = make([]float64, k), make([]float64, k)
	}
	for i, lp := range logPost {
		for j, v := range lp {
			r := math.Exp(v)
			mass[labels[i]][j] += r
			if preds[i] != labels[i] {
				errs[labels[i]][j] += r
			}
		}
	}
	top := make([]int, classes)
	for c := range classes {
		var favour []int
		for j := range k {
			best := 0
			for t, p := range m.Labels[j] {
				if p > m.Labels[j][best] {
					best = t
				}
			}
			if best == c {
				favour = append(favour, j)
			}
		}
		if len(favour) == 0 {
			for j := range k {
				favour = append(favour, j)
			}
		}
		top[c] = favour[0]
		best := -1.0
		for _, j := range favour {
			if mass[c][j] < 1 {
				continue
			}
			if rate := errs[c][j] / mass[c][j]; rate > best {
				top[c], best = j, rate
			}
		}
	}
	return top
}
