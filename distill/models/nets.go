package models

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Arch names a base classifier architecture.
type Arch string

// The architectures.
const (
	// MLP flattens the image and applies fully connected ReLU layers (Config.Hidden, default one of 256 units).
	MLP Arch = "mlp"
	// CNN is a small convolutional net that trains fast on the Go backend: conv3×3(w)-ReLU-maxpool2,
	// conv3×3(2w)-ReLU-maxpool2, dense 128-ReLU (the features), dense to the classes; w = Config.Width (default 32).
	CNN Arch = "cnn"
	// ResNet18 is the standard ResNet-18 (He et al. 2016): a stem, four stages of two basic blocks with
	// w, 2w, 4w, 8w channels (w = Config.Width, default 64) and batch normalisation, global average pooling (the
	// 8w features) and a dense layer to the classes.
	ResNet18 Arch = "resnet18"
)

// Stems of ResNet18.
const (
	// StemImageNet is the torchvision stem: conv 7×7 stride 2, BN, ReLU, max pool 3×3 stride 2 (÷4 resolution).
	StemImageNet = "imagenet"
	// StemSmall is the small-image (CIFAR-style) stem: conv 3×3 stride 1, BN, ReLU, no pooling.
	StemSmall = "small"
)

// Config describes a base classifier. It is stored in checkpoints, so a loaded model rebuilds the same graph.
type Config struct {
	// Arch is the architecture.
	Arch Arch `json:"arch"`
	// NumClasses is the number of outputs.
	NumClasses int `json:"num_classes"`
	// Classes optionally names the classes (len NumClasses).
	Classes []string `json:"classes,omitempty"`
	// H and W are the input image size; inputs are RGB scaled to [0, 1] (black = 0, which matches the zero
	// padding of the convolutions).
	H int `json:"height"`
	W int `json:"width"`
	// Hidden are the MLP's hidden layer sizes (default [256]).
	Hidden []int `json:"hidden,omitempty"`
	// Width is the CNN's first convolution channels (default 32) or ResNet-18's base width (default 64).
	Width int `json:"base_width,omitempty"`
	// Stem is ResNet-18's stem: StemImageNet (default for inputs of 64 pixels or more) or StemSmall.
	Stem string `json:"stem,omitempty"`
}

// WithDefaults returns c with zero fields set to their documented defaults.
func (c Config) WithDefaults() Config {
	c.Arch = Arch(strings.ToLower(string(c.Arch)))
	switch c.Arch {
	case MLP:
		if len(c.Hidden) == 0 {
			c.Hidden = []int{256}
		}
	case CNN:
		if c.Width == 0 {
			c.Width = 32
		}
	case ResNet18:
		if c.Width == 0 {
			c.Width = 64
		}
		if c.Stem == "" {
			c.Stem = StemSmall
			if min(c.H, c.W) >= 64 {
				c.Stem = StemImageNet
			}
		}
	}
	return c
}

// Validate checks the configuration (after defaults).
func (c Config) Validate() error {
	if err := checkPositive("NumClasses", c.NumClasses); err != nil {
		return fmt.Errorf("model config: %w", err)
	}
	if c.Classes != nil && len(c.Classes) != c.NumClasses {
		return fmt.Errorf("model config: %d class names for %d classes", len(c.Classes), c.NumClasses)
	}
	if c.H <= 0 || c.W <= 0 {
		return fmt.Errorf("model config: input size %dx%d must be positive", c.H, c.W)
	}
	switch c.Arch {
	case MLP:
		for i, h := range c.Hidden {
			if err := checkPositive(fmt.Sprintf("Hidden[%d]", i), h); err != nil {
				return fmt.Errorf("model config: %w", err)
			}
		}
	case CNN:
		if c.H < 4 || c.W < 4 {
			return fmt.Errorf("model config: cnn needs inputs of at least 4x4, got %dx%d", c.H, c.W)
		}
		if err := checkPositive("Width", c.Width); err != nil {
			return fmt.Errorf("model config: %w", err)
		}
	case ResNet18:
		if err := checkPositive("Width", c.Width); err != nil {
			return fmt.Errorf("model config: %w", err)
		}
		if c.Stem != StemImageNet && c.Stem != StemSmall {
			return fmt.Errorf("model config: unknown resnet stem %q (want %q or %q)", c.Stem, StemImageNet, StemSmall)
		}
		min := 8
		if c.Stem == StemImageNet {
			min = 32
		}
		if c.H < min || c.W < min {
			return fmt.Errorf("model config: resnet18 with the %s stem needs inputs of at least %dx%d, got %dx%d", c.Stem, min, min, c.H, c.W)
		}
	default:
		return fmt.Errorf("model config: unknown architecture %q (want mlp, cnn or resnet18)", c.Arch)
	}
	return nil
}

// String is the JSON form of the configuration.
func (c Config) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// FeatureDim returns the size of the penultimate features (the input of the last dense layer).
func (c Config) FeatureDim() int {
	switch c.Arch {
	case MLP:
		return c.Hidden[len(c.Hidden)-1]
	case CNN:
		return 128
	case ResNet18:
		return 8 * c.Width
	}
	return 0
}

// netScope is the scope holding the network's variables (checkpoints save exactly this scope).
const netScope = "net"

// forward builds the network on x [B, H, W, 3] (float32 in [0, 1]) and returns the logits [B, classes] and the
// penultimate features [B, FeatureDim].
func forward(scope *model.Scope, cfg Config, impl ConvImpl, x *graph.Node) (logits, features *graph.Node) {
	scope = scope.In(netScope)
	b := x.Shape().Dimensions[0]
	switch cfg.Arch {
	case MLP:
		h := graph.Reshape(x, b, -1)
		for i, n := range cfg.Hidden {
			h = activation.Relu(dense(scope.In("hidden%d", i), h, n))
		}
		features = h
	case CNN:
		h := activation.Relu(conv2D(scope.In("conv1"), impl, x, cfg.Width, 3, 1, 1, true))
		h = maxPool2(h)
		h = activation.Relu(conv2D(scope.In("conv2"), impl, h, 2*cfg.Width, 3, 1, 1, true))
		h = maxPool2(h)
		h = graph.Reshape(h, b, -1)
		features = activation.Relu(dense(scope.In("fc"), h, 128))
	case ResNet18:
		features = resnet18(scope, cfg, impl, x)
	default:
		exceptions.Panicf("unknown architecture %q", cfg.Arch)
	}
	logits = dense(scope.In("logits"), features, cfg.NumClasses)
	return logits, features
}

// Batch normalisation constants: PyTorch's epsilon; running averages weigh the new batch by at least 1-bnMomentum.
const (
	bnEpsilon  = 1e-5
	bnMomentum = 0.9
)

// batchNorm normalises x [..., C] per channel. In training graphs it uses the batch statistics, differentiating
// through them (GoMLX's norm.BatchNorm stops their gradient, which makes training drift), and updates the running
// averages "mean" and "variance" (unbiased); a step counter "steps" debiases them, so early on they are exact
// averages over the batches seen. Inference graphs use the running averages.
func batchNorm(scope *model.Scope, x *graph.Node) *graph.Node {
	g := x.Graph()
	c := x.Shape().Dimensions[x.Rank()-1]
	vs := shapes.Make(x.DType(), c)
	scale := scope.WithInitializer(initializer.One).VariableWithShape("scale", vs).NodeValue(g)
	offset := scope.WithInitializer(initializer.Zero).VariableWithShape("offset", vs).NodeValue(g)
	meanVar := scope.WithInitializer(initializer.Zero).VariableWithShape("mean", vs).SetTrainable(false)
	varVar := scope.WithInitializer(initializer.One).VariableWithShape("variance", vs).SetTrainable(false)
	stepsVar := scope.WithInitializer(initializer.Zero).VariableWithShape("steps", shapes.Make(x.DType())).SetTrainable(false)
	axes := make([]int, x.Rank()-1)
	count := 1
	for i := range axes {
		axes[i] = i
		count *= x.Shape().Dimensions[i]
	}
	bshape := make([]int, x.Rank())
	for i := range bshape {
		bshape[i] = 1
	}
	bshape[x.Rank()-1] = c
	var mean, variance *graph.Node
	if scope.IsTraining(g) {
		mean = graph.ReduceMean(x, axes...)
		centred := graph.Sub(x, graph.Reshape(mean, bshape...))
		variance = graph.ReduceMean(graph.Square(centred), axes...)
		steps := graph.OnePlus(stepsVar.NodeValue(g))
		stepsVar.SetNodeValue(steps)
		// w = max(1-momentum, 1/steps): the weight of the new batch.
		w := graph.Max(graph.Reciprocal(steps), graph.Scalar(g, x.DType(), 1-bnMomentum))
		unbiased := graph.MulScalar(variance, float64(count)/float64(max(count-1, 1)))
		upd := func(v *model.Variable, batch *graph.Node) {
			old := v.NodeValue(g)
			v.SetNodeValue(graph.Add(old, graph.Mul(w, graph.Sub(graph.StopGradient(batch), old))))
		}
		upd(meanVar, mean)
		upd(varVar, unbiased)
	} else {
		mean, variance = meanVar.NodeValue(g), varVar.NodeValue(g)
	}
	inv := graph.Div(scale, graph.Sqrt(graph.AddScalar(variance, bnEpsilon)))
	y := graph.Mul(graph.Sub(x, graph.Reshape(mean, bshape...)), graph.Reshape(inv, bshape...))
	return graph.Add(y, graph.Reshape(offset, bshape...))
}

// convBN is conv (no bias) + batch norm (+ ReLU when relu).
func convBN(scope *model.Scope, impl ConvImpl, x *graph.Node, outC, k, s, p int, relu bool) *graph.Node {
	y := conv2D(scope.In("conv"), impl, x, outC, k, s, p, false)
	y = batchNorm(scope.In("bn"), y)
	if relu {
		y = activation.Relu(y)
	}
	return y
}

// basicBlock is ResNet's two-convolution residual block; the shortcut is a 1×1 conv + BN when the shape changes.
func basicBlock(scope *model.Scope, impl ConvImpl, x *graph.Node, outC, stride int) *graph.Node {
	inC := x.Shape().Dimensions[3]
	y := convBN(scope.In("a"), impl, x, outC, 3, stride, 1, true)
	y = convBN(scope.In("b"), impl, y, outC, 3, 1, 1, false)
	short := x
	if stride != 1 || inC != outC {
		short = convBN(scope.In("shortcut"), impl, x, outC, 1, stride, 0, false)
	}
	return activation.Relu(graph.Add(y, short))
}

func resnet18(scope *model.Scope, cfg Config, impl ConvImpl, x *graph.Node) *graph.Node {
	w := cfg.Width
	var h *graph.Node
	if cfg.Stem == StemImageNet {
		h = convBN(scope.In("stem"), impl, x, w, 7, 2, 3, true)
		h = maxPool3s2(h)
	} else {
		h = convBN(scope.In("stem"), impl, x, w, 3, 1, 1, true)
	}
	for stage, mult := range []int{1, 2, 4, 8} {
		for blk := range 2 {
			stride := 1
			if blk == 0 && stage > 0 {
				stride = 2
			}
			h = basicBlock(scope.In("layer%d_%d", stage+1, blk), impl, h, mult*w, stride)
		}
	}
	return graph.ReduceMean(h, 1, 2)
}
