package clip

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/nn"
)

// Node is a GoMLX graph node.
type Node = graph.Node

// Variable paths. Every weight lives in the model.Store at "/" + its HF tensor name with "." replaced by "/",
// e.g. "text_model.encoder.layers.0.self_attn.q_proj.weight" is the variable "weight" in scope
// "/text_model/encoder/layers/0/self_attn/q_proj". Linear weights keep PyTorch's [out, in] layout, which is also
// the Go backend's fastest matmul layout, so loading needs no transposes and Save writes the same tensors back.

// activationOf returns the graph function for an HF hidden_act name.
func activationOf(name string) (func(x *Node) *Node, error) {
	switch name {
	case "quick_gelu":
		return func(x *Node) *Node { return graph.Mul(x, graph.Sigmoid(graph.MulScalar(x, 1.702))) }, nil
	case "gelu":
		return func(x *Node) *Node {
			return graph.Mul(graph.MulScalar(x, 0.5), graph.OnePlus(graph.Erf(graph.MulScalar(x, 1/math.Sqrt2))))
		}, nil
	case "gelu_new", "gelu_pytorch_tanh":
		return func(x *Node) *Node {
			inner := graph.MulScalar(graph.Add(x, graph.MulScalar(graph.Mul(graph.Square(x), x), 0.044715)), math.Sqrt(2/math.Pi))
			return graph.Mul(graph.MulScalar(x, 0.5), graph.OnePlus(graph.Tanh(inner)))
		}, nil
	case "relu":
		return func(x *Node) *Node { return graph.Max(x, graph.ScalarZero(x.Graph(), x.DType())) }, nil
	}
	return nil, fmt.Errorf("clip config: hidden_act %q is not supported (want quick_gelu, gelu, gelu_new or relu)", name)
}

// param returns the graph value of the float32 variable name in scope, creating it (uninitialised, to be set
// by the scope's initializer) if absent; an existing variable of another shape panics with its path.
func param(scope *model.Scope, g *graph.Graph, name string, dims ...int) *Node {
	return scope.VariableWithShape(name, shapes.Make(dtypes.Float32, dims...)).NodeValue(g)
}

// linear applies a PyTorch-layout linear layer ("weight" [out, in], optional "bias" [out]) over the last axis.
func linear(scope *model.Scope, x *Node, out int, bias bool) *Node {
	g := x.Graph()
	in := x.Shape().Dimensions[x.Rank()-1]
	w := param(scope, g, "weight", out, in)
	var b *Node
	if bias {
		b = param(scope, g, "bias", out)
	}
	return nn.Dense(x, w, b, compute.DenseLayoutOutputsInput)
}

// layerNorm normalises the last axis with the scope's "weight" and "bias".
func layerNorm(scope *model.Scope, x *Node, eps float64) *Node {
	g := x.Graph()
	d := x.Shape().Dimensions[x.Rank()-1]
	return nn.LayerNorm(x, []int{x.Rank() - 1}, eps, param(scope, g, "weight", d), param(scope, g, "bias", d), nil)
}

// attention is CLIP's multi-head self-attention on x [B, S, D] with q/k/v/out projections; heads are contiguous
// slices of the hidden axis; mask (optional) is added to the [S, S] scores.
//
// The q, k and v weights are concatenated into one [3D, D] matmul, with the 1/sqrt(head_dim) score scale folded
// into q's weights and bias. Besides being faster, this keeps the graph a chain of matmuls, which the Go backend's
// parallel node schedule handles without the deadlock the README's "Go backend notes" describe.
func attention(scope *model.Scope, x *Node, heads int, mask *Node) *Node {
	g := x.Graph()
	dims := x.Shape().Dimensions
	b, s, d := dims[0], dims[1], dims[2]
	hd := d / heads
	var ws, bs []*Node
	for _, name := range []string{"q_proj", "k_proj", "v_proj"} {
		ps := scope.At("%s", name)
		ws = append(ws, param(ps, g, "weight", d, d))
		bs = append(bs, param(ps, g, "bias", d))
	}
	scale := 1 / math.Sqrt(float64(hd))
	ws[0], bs[0] = graph.MulScalar(ws[0], scale), graph.MulScalar(bs[0], scale)
	qkv := nn.Dense(x, graph.Concatenate(ws, 0), graph.Concatenate(bs, 0), compute.DenseLayoutOutputsInput) // [B, S, 3D]
	qkv = graph.Reshape(qkv, b, s, 3, heads, hd)
	qkv = graph.TransposeAllAxes(qkv, 2, 0, 3, 1, 4) // [3, B, H, S, hd]
	qkv = graph.Reshape(qkv, 3, b*heads, s, hd)
	part := func(i int) *Node { return graph.Reshape(graph.Slice(qkv, graph.AxisElem(i)), b*heads, s, hd) }
	q, k, v := part(0), part(1), part(2)
	scores := graph.DotGeneral(q, []int{2}, []int{0}, k, []int{2}, []int{0}) // [B*H, S, S]
	if mask != nil {
		scores = graph.Add(scores, graph.InsertAxes(mask, 0))
	}
	probs := graph.Softmax(scores, -1)
	ctx := graph.DotGeneral(probs, []int{2}, []int{0}, v, []int{1}, []int{0}) // [B*H, S, hd]
	ctx = graph.Reshape(ctx, b, heads, s, hd)
	ctx = graph.TransposeAllAxes(ctx, 0, 2, 1, 3)
	ctx = graph.Reshape(ctx, b, s, d)
	return linear(scope.At("out_proj"), ctx, d, true)
}

// encoder runs the pre-norm transformer layers of scope ("layers/{i}/...") over x [B, S, D].
func encoder(scope *model.Scope, x *Node, layers, heads, intermediate int, eps float64, act func(*Node) *Node, mask *Node) *Node {
	d := x.Shape().Dimensions[2]
	for i := range layers {
		ls := scope.At("layers").At("%d", i)
		h := layerNorm(ls.At("layer_norm1"), x, eps)
		x = graph.Add(x, attention(ls.At("self_attn"), h, heads, mask))
		h = layerNorm(ls.At("layer_norm2"), x, eps)
		h = act(linear(ls.At("mlp").At("fc1"), h, intermediate, true))
		x = graph.Add(x, linear(ls.At("mlp").At("fc2"), h, d, true))
	}
	return x
}

// PatchesFromPixels cuts pixels [B, C, H, W] into non-overlapping p×p patches, [B, (H/p)·(W/p), C·p·p], patches
// in row-major grid order and each patch flattened as (channel, row, column) — the layout of a Conv2d OIHW kernel
// flattened over its last three axes, so that a matmul with it equals the strided convolution.
func PatchesFromPixels(pixels *Node, p int) *Node {
	dims := pixels.Shape().Dimensions
	b, c, h, w := dims[0], dims[1], dims[2], dims[3]
	gh, gw := h/p, w/p
	x := graph.Reshape(pixels, b, c, gh, p, gw, p)
	x = graph.TransposeAllAxes(x, 0, 2, 4, 1, 3, 5) // [B, gh, gw, C, p, p]
	return graph.Reshape(x, b, gh*gw, c*p*p)
}

// visionHidden returns the vision embeddings (before pre_layrnorm) and the encoder output (before
// post_layernorm), both [B, N+1, Dv], for pixels [B, C, H, W] (CLIP-normalised).
func visionHidden(root *model.Scope, cfg VisionConfig, pixels *Node) (embeddings, hidden *Node) {
	g := pixels.Graph()
	dims := pixels.Shape().Dimensions
	if len(dims) != 4 || dims[1] != cfg.NumChannels || dims[2] != cfg.ImageSize || dims[3] != cfg.ImageSize {
		panic(fmt.Errorf("clip vision: pixels shape %v, want [batch, %d, %d, %d]", dims, cfg.NumChannels, cfg.ImageSize, cfg.ImageSize))
	}
	b, d, p := dims[0], cfg.HiddenSize, cfg.PatchSize
	scope := root.At("vision_model")
	emb := scope.At("embeddings")
	n := cfg.NumPatches()
	w := param(emb.At("patch_embedding"), g, "weight", d, cfg.NumChannels, p, p)
	x := nn.Dense(PatchesFromPixels(pixels, p), graph.Reshape(w, d, cfg.NumChannels*p*p), nil, compute.DenseLayoutOutputsInput) // [B, n, D]
	cls := param(emb, g, "class_embedding", d)
	cls = graph.BroadcastToDims(graph.Reshape(cls, 1, 1, d), b, 1, d)
	x = graph.Concatenate([]*Node{cls, x}, 1)
	pos := param(emb.At("position_embedding"), g, "weight", n+1, d)
	embeddings = graph.Add(x, graph.InsertAxes(pos, 0))
	act, err := activationOf(cfg.HiddenAct)
	if err != nil {
		panic(err)
	}
	x = layerNorm(scope.At("pre_layrnorm"), embeddings, cfg.LayerNormEps)
	hidden = encoder(scope.At("encoder"), x, cfg.NumHiddenLayers, cfg.NumAttentionHeads, cfg.IntermediateSize, cfg.LayerNormEps, act, nil)
	return embeddings, hidden
}

// ImageFeatures builds the vision tower on pixels [B, C, S, S] (CLIP-normalised, S = image_size) with the
// weights under root, returning pooled ([B, Dv], the class token after post_layernorm) and embeds ([B, E], after
// visual_projection, not normalised). Gradients flow to every weight, so it serves training too.
func ImageFeatures(root *model.Scope, cfg Config, pixels *Node) (pooled, embeds *Node) {
	_, hidden := visionHidden(root, cfg.Vision, pixels)
	b, d := hidden.Shape().Dimensions[0], cfg.Vision.HiddenSize
	cls := graph.Reshape(graph.Slice(hidden, graph.AxisRange(), graph.AxisElem(0)), b, d)
	pooled = layerNorm(root.At("vision_model").At("post_layernorm"), cls, cfg.Vision.LayerNormEps)
	embeds = linear(root.At("visual_projection"), pooled, cfg.ProjectionDim, false)
	return pooled, embeds
}

// textHidden returns the text encoder output before final_layer_norm, [B, T, Dt], for ids [B, T] (T ≤ 77).
func textHidden(root *model.Scope, cfg TextConfig, ids *Node) *Node {
	g := ids.Graph()
	dims := ids.Shape().Dimensions
	if len(dims) != 2 || dims[1] > cfg.MaxPositionEmbeddings || dims[1] < 1 {
		panic(fmt.Errorf("clip text: ids shape %v, want [batch, T] with 1 ≤ T ≤ %d", dims, cfg.MaxPositionEmbeddings))
	}
	t, d := dims[1], cfg.HiddenSize
	scope := root.At("text_model")
	emb := scope.At("embeddings")
	table := param(emb.At("token_embedding"), g, "weight", cfg.VocabSize, d)
	x := graph.Gather(table, graph.InsertAxes(graph.ConvertDType(ids, dtypes.Int32), -1)) // [B, T, D]
	pos := param(emb.At("position_embedding"), g, "weight", cfg.MaxPositionEmbeddings, d)
	if t < cfg.MaxPositionEmbeddings {
		pos = graph.Slice(pos, graph.AxisRange(0, t))
	}
	x = graph.Add(x, graph.InsertAxes(pos, 0))
	act, err := activationOf(cfg.HiddenAct)
	if err != nil {
		panic(err)
	}
	return encoder(scope.At("encoder"), x, cfg.NumHiddenLayers, cfg.NumAttentionHeads, cfg.IntermediateSize, cfg.LayerNormEps, act, causalMaskConst(g, t))
}

// causalMaskConst returns the additive causal mask [t, t] as a graph constant: 0 where key j ≤ query i, −1e30
// above the diagonal.
func causalMaskConst(g *graph.Graph, t int) *Node {
	data := make([][]float32, t)
	for i := range t {
		data[i] = make([]float32, t)
		for j := i + 1; j < t; j++ {
			data[i][j] = -1e30
		}
	}
	return graph.Const(g, data)
}

// TextFeatures builds the text tower on ids [B, T] (int32, T ≤ 77) with the weights under root. eosPos [B] (int32)
// gives each row's pooling position (see [PoolPositions]). It returns pooled ([B, Dt], final_layer_norm at the
// EOS position) and embeds ([B, E], after text_projection, not normalised). Because attention is causal, any
// positions after the last EOS of the batch can be cut off before calling it without changing the result.
func TextFeatures(root *model.Scope, cfg Config, ids, eosPos *Node) (pooled, embeds *Node) {
	hidden := textHidden(root, cfg.Text, ids)
	t := hidden.Shape().Dimensions[1]
	onehot := graph.OneHot(graph.ConvertDType(eosPos, dtypes.Int32), t, dtypes.Float32) // [B, T]
	row := graph.DotGeneral(onehot, []int{1}, []int{0}, hidden, []int{1}, []int{0})     // [B, Dt]
	pooled = layerNorm(root.At("text_model").At("final_layer_norm"), row, cfg.Text.LayerNormEps)
	embeds = linear(root.At("text_projection"), pooled, cfg.ProjectionDim, false)
	return pooled, embeds
}

// LogitScale returns the graph value of the scalar "logit_scale" variable (the log of the logit multiplier).
func LogitScale(root *model.Scope, g *graph.Graph) *Node {
	return param(root, g, "logit_scale")
}

// L2Normalize divides each row of x [N, E] by its Euclidean norm.
func L2Normalize(x *Node) *Node {
	n := graph.Sqrt(graph.ReduceAndKeep(graph.Square(x), graph.ReduceSum, -1))
	return graph.Div(x, n)
}

// Logits returns logits_per_image [Ni, Nt] = exp(logitScale) · normalise(imageEmbeds) · normalise(textEmbeds)ᵀ.
// logits_per_text is its transpose.
func Logits(imageEmbeds, textEmbeds, logitScale *Node) *Node {
	sim := graph.DotGeneral(L2Normalize(imageEmbeds), []int{1}, nil, L2Normalize(textEmbeds), []int{1}, nil)
	return graph.Mul(sim, graph.Exp(logitScale))
}

// ContrastiveLoss is CLIP's symmetric cross-entropy over logits_per_image [N, N] whose matching pairs lie on the
// diagonal: the mean of the image→text and text→image losses. For training.
func ContrastiveLoss(logitsPerImage *Node) *Node {
	n := logitsPerImage.Shape().Dimensions[0]
	g := logitsPerImage.Graph()
	eye := graph.OneHot(graph.Iota(g, shapes.Make(dtypes.Int32, n), 0), n, dtypes.Float32)
	lossI := graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(graph.LogSoftmax(logitsPerImage, -1), eye), -1)))
	lossT := graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(graph.LogSoftmax(logitsPerImage, 0), eye), 0)))
	return graph.DivScalar(graph.Add(lossI, lossT), 2)
}
