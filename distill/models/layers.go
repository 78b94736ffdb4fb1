package models

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// ConvImpl selects how convolutions are computed. Both use the same kernel variable ([kh, kw, in, out]), so a
// checkpoint trained with one runs with the other.
type ConvImpl int

const (
	// ConvAuto picks ConvIm2col on the pure Go backend and ConvNative elsewhere.
	ConvAuto ConvImpl = iota
	// ConvIm2col builds the patches with zero-padding by concatenation and strided slices, then one matmul. Every
	// op has a gradient on the Go backend, and matmul is its fast path.
	ConvIm2col
	// ConvNative uses the backend's convolution (fast on XLA; slow and gradient-limited on the Go backend).
	ConvNative
)

// String names the implementation.
func (c ConvImpl) String() string {
	switch c {
	case ConvIm2col:
		return "im2col"
	case ConvNative:
		return "native"
	default:
		return "auto"
	}
}

// padSpatial zero-pads x [B, H, W, C] by p on each side of H and W using Concatenate (graph.Pad has no gradient
// on the Go backend).
func padSpatial(x *graph.Node, p int) *graph.Node {
	if p == 0 {
		return x
	}
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	g := x.Graph()
	zh := graph.Zeros(g, shapes.Make(x.DType(), b, p, w, c))
	x = graph.Concatenate([]*graph.Node{zh, x, zh}, 1)
	zw := graph.Zeros(g, shapes.Make(x.DType(), b, h+2*p, p, c))
	return graph.Concatenate([]*graph.Node{zw, x, zw}, 2)
}

// windows returns the k×k strided windows of x [B, H, W, C] (already padded) as k*k tensors [B, Ho, Wo, C], in
// row-major (dy, dx) order, with Ho = (H-k)/s+1.
func windows(x *graph.Node, k, s int) []*graph.Node {
	d := x.Shape().Dimensions
	ho, wo := (d[1]-k)/s+1, (d[2]-k)/s+1
	out := make([]*graph.Node, 0, k*k)
	for dy := range k {
		for dx := range k {
			out = append(out, graph.Slice(x, graph.AxisRange(),
				graph.AxisRange(dy, dy+(ho-1)*s+1).Stride(s),
				graph.AxisRange(dx, dx+(wo-1)*s+1).Stride(s),
				graph.AxisRange()))
		}
	}
	return out
}

// conv2D is a k×k convolution with stride s and zero padding p of x [B, H, W, Cin] to outC channels, with an
// optional bias. Its kernel variable "kernel" has shape [k, k, Cin, outC] (He-initialised).
func conv2D(scope *model.Scope, impl ConvImpl, x *graph.Node, outC, k, s, p int, bias bool) *graph.Node {
	g := x.Graph()
	cin := x.Shape().Dimensions[3]
	kernel := scope.WithInitializer(initializer.HeFn(scope)).
		VariableWithShape("kernel", shapes.Make(x.DType(), k, k, cin, outC)).NodeValue(g)
	var y *graph.Node
	if impl == ConvNative {
		y = graph.Convolve(x, kernel).StridePerDim(s, s).PaddingPerDim([][2]int{{p, p}, {p, p}}).Done()
	} else {
		xp := padSpatial(x, p)
		var patches *graph.Node
		if k == 1 {
			patches = windows(xp, 1, s)[0]
		} else {
			patches = graph.Concatenate(windows(xp, k, s), 3)
		}
		pd := patches.Shape().Dimensions
		flat := graph.Reshape(patches, pd[0]*pd[1]*pd[2], k*k*cin)
		y = graph.Reshape(graph.Dot(flat, graph.Reshape(kernel, k*k*cin, outC)).Product(), pd[0], pd[1], pd[2], outC)
	}
	if bias {
		b := scope.WithInitializer(initializer.Zero).VariableWithShape("bias", shapes.Make(x.DType(), outC)).NodeValue(g)
		y = graph.Add(y, graph.Reshape(b, 1, 1, 1, outC))
	}
	return y
}

// maxPool2 is a 2×2 max pool with stride 2 of x [B, H, W, C] written as reshape + ReduceMax (MaxPool has no
// gradient on the Go backend). An odd last row or column is dropped.
func maxPool2(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	if h%2 != 0 || w%2 != 0 {
		x = graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, h-h%2), graph.AxisRange(0, w-w%2), graph.AxisRange())
	}
	return graph.ReduceMax(graph.Reshape(x, b, h/2, 2, w/2, 2, c), 2, 4)
}

// maxPool3s2 is the 3×3, stride 2, padding 1 max pool of the ResNet stem, as the maximum of nine strided slices.
// Padding is with zeros, which equals -inf padding only for non-negative inputs (it follows a ReLU here).
func maxPool3s2(x *graph.Node) *graph.Node {
	ws := windows(padSpatial(x, 1), 3, 2)
	y := ws[0]
	for _, w := range ws[1:] {
		y = graph.Max(y, w)
	}
	return y
}

// dense is a fully connected layer of x [B, in] with bias; weights [in, out] ("weights"), bias [out] ("bias").
func dense(scope *model.Scope, x *graph.Node, out int) *graph.Node {
	g := x.Graph()
	in := x.Shape().Dimensions[x.Rank()-1]
	w := scope.WithInitializer(initializer.HeFn(scope)).VariableWithShape("weights", shapes.Make(x.DType(), in, out)).NodeValue(g)
	b := scope.WithInitializer(initializer.Zero).VariableWithShape("bias", shapes.Make(x.DType(), out)).NodeValue(g)
	return graph.Add(graph.Dot(x, w).Product(), graph.Reshape(b, 1, out))
}

// convOut returns the spatial output size of a convolution or pool.
func convOut(n, k, s, p int) int { return (n+2*p-k)/s + 1 }

func checkPositive(name string, v int) error {
	if v <= 0 {
		return fmt.Errorf("%s must be positive, got %d", name, v)
	}
	return nil
}
