package distill

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/faildirs/faildirs/distill/matrix"
	"github.com/faildirs/faildirs/internal/atomicfile"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/numpy"
)

// LoadNPYSplit reads split name from dir in the benchmark layout of `faildirs bench-svm` (one NumPy .npy file
// per field, as numpy.save writes them): <name>_features.npy (float [N,D]), <name>_labels.npy and
// <name>_preds.npy (integers [N]), and, when present, <name>_confidence.npy (float [N], the base model's
// probability of the true class) and <name>_subgroup.npy (integers [N], stored as Groups). Missing optional files
// leave their field empty; labels and predictions are optional too (a train split used only for whitening may
// have features alone). Other files (e.g. <name>_correct.npy) are ignored.
func LoadNPYSplit(dir, name string) (Split, error) {
	s := Split{Name: name}
	path := func(k string) string { return filepath.Join(dir, name+"_"+k+".npy") }
	feat, err := numpy.FromNpyFile(path("features"))
	if err != nil {
		return s, fmt.Errorf("distill: %s: %w", path("features"), err)
	}
	defer func() { _ = feat.FinalizeAll() }()
	dims := feat.Shape().Dimensions
	if len(dims) != 2 || dims[0] == 0 || dims[1] == 0 {
		return s, fmt.Errorf("distill: %s: shape %v, want [N, D]", path("features"), dims)
	}
	values, err := floats(feat)
	if err != nil {
		return s, fmt.Errorf("distill: %s: %w", path("features"), err)
	}
	if s.Latents, err = matrix.New(dims[0], dims[1], values); err != nil {
		return s, fmt.Errorf("distill: %s: %w", path("features"), err)
	}
	optional := func(k string, fn func(t *tensors.Tensor) error) error {
		p := path(k)
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		t, err := numpy.FromNpyFile(p)
		if err != nil {
			return fmt.Errorf("distill: %s: %w", p, err)
		}
		defer func() { _ = t.FinalizeAll() }()
		if d := t.Shape().Dimensions; len(d) != 1 || d[0] != dims[0] {
			return fmt.Errorf("distill: %s: shape %v, want [%d]", p, d, dims[0])
		}
		if err := fn(t); err != nil {
			return fmt.Errorf("distill: %s: %w", p, err)
		}
		return nil
	}
	err = errors.Join(
		optional("labels", func(t *tensors.Tensor) (err error) { s.Labels, err = ints(t); return }),
		optional("preds", func(t *tensors.Tensor) (err error) { s.Preds, err = ints(t); return }),
		optional("confidence", func(t *tensors.Tensor) (err error) { s.Confs, err = floats(t); return }),
		optional("subgroup", func(t *tensors.Tensor) (err error) { s.Groups, err = ints(t); return }),
	)
	if err != nil {
		return s, err
	}
	if err := s.Validate(); err != nil {
		return s, fmt.Errorf("distill: %s: %w", dir, err)
	}
	return s, nil
}

// floats converts a float or integer tensor to []float32.
func floats(t *tensors.Tensor) ([]float32, error) {
	switch t.DType() {
	case dtypes.Float32:
		return tensors.CopyFlatData[float32](t)
	case dtypes.Float64:
		return convert[float64, float32](t)
	case dtypes.Float16, dtypes.BFloat16:
		return nil, fmt.Errorf("dtype %s not supported, store float32", t.DType())
	}
	return nil, fmt.Errorf("dtype %s, want a float type", t.DType())
}

// ints converts an integer or boolean tensor to []int.
func ints(t *tensors.Tensor) ([]int, error) {
	switch t.DType() {
	case dtypes.Int64:
		return convert[int64, int](t)
	case dtypes.Int32:
		return convert[int32, int](t)
	case dtypes.Int16:
		return convert[int16, int](t)
	case dtypes.Int8:
		return convert[int8, int](t)
	case dtypes.Uint8:
		return convert[uint8, int](t)
	case dtypes.Bool:
		b, err := tensors.CopyFlatData[bool](t)
		if err != nil {
			return nil, err
		}
		out := make([]int, len(b))
		for i, v := range b {
			if v {
				out[i] = 1
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("dtype %s, want an integer type", t.DType())
}

func convert[From int64 | int32 | int16 | int8 | uint8 | float64, To int | float32](t *tensors.Tensor) ([]To, error) {
	v, err := tensors.CopyFlatData[From](t)
	if err != nil {
		return nil, err
	}
	out := make([]To, len(v))
	for i, x := range v {
		out[i] = To(x)
	}
	return out, nil
}

// SaveNPYFloat32 writes values to path as a float32 .npy vector, atomically (internal/atomicfile).
func SaveNPYFloat32(path string, values []float32) error {
	t := tensors.FromFlatDataAndDimensions(values, len(values))
	defer func() { _ = t.FinalizeAll() }()
	if err := atomicfile.Write(path, func(w io.Writer) error { return numpy.ToNpyWriter(t, w) }); err != nil {
		return fmt.Errorf("distill: SaveNPYFloat32: %w", err)
	}
	return nil
}
