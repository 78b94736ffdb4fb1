package models

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/faildirs/faildirs/distill/safetensors"
	"github.com/faildirs/faildirs/internal/atomicfile"
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// Checkpoint format: a safetensors file (package safetensors) holding every variable of the network scope
// (weights, biases, batch-norm statistics) under its GoMLX path, e.g. "/net/conv1/kernel", plus "__metadata__"
// with format "faildirs-model", version "1" and the model Config as JSON, and "non_trainable", a JSON list of the
// paths that are not trained (batch-norm statistics). Optimizer state is not saved: a loaded model predicts, and
// training it again starts a fresh optimizer.
const (
	checkpointFormat  = "faildirs-model"
	checkpointVersion = "1"
)

var dtypeNames = map[dtypes.DType]string{dtypes.Float32: "F32", dtypes.Float64: "F64", dtypes.Int32: "I32", dtypes.Int64: "I64"}

func isNetVar(path string) bool { return strings.HasPrefix(path, "/"+netScope+"/") }

func (m *Classifier) hasVariables() bool {
	for v := range m.store.IterVariables() {
		if isNetVar(v.Path()) {
			return true
		}
	}
	return false
}

// Save writes the checkpoint to path atomically (internal/atomicfile).
func (m *Classifier) Save(path string) error {
	if !m.hasVariables() {
		return fmt.Errorf("models: save %s: the model has no variables yet (train or predict first)", path)
	}
	if err := atomicfile.Write(path, m.Write); err != nil {
		return fmt.Errorf("models: save: %w", err)
	}
	return nil
}

// Write writes the checkpoint to w (see the format above).
func (m *Classifier) Write(w io.Writer) error {
	var ts []safetensors.Tensor
	var frozen []string
	for v := range m.store.IterVariables() {
		if !isNetVar(v.Path()) {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("variable %s: %w", v.Path(), err)
		}
		name, ok := dtypeNames[t.DType()]
		if !ok {
			return fmt.Errorf("variable %s: unsupported dtype %s", v.Path(), t.DType())
		}
		var raw []byte
		if err := t.ConstBytes(func(b []byte) { raw = append([]byte(nil), b...) }); err != nil {
			return fmt.Errorf("variable %s: %w", v.Path(), err)
		}
		ts = append(ts, safetensors.Tensor{Name: v.Path(), Shape: append([]int{}, t.Shape().Dimensions...), Raw: raw, DType: name})
		if !v.Trainable {
			frozen = append(frozen, v.Path())
		}
	}
	sort.Strings(frozen)
	cfg, err := json.Marshal(m.Config)
	if err != nil {
		return err
	}
	frozenJSON, err := json.Marshal(frozen)
	if err != nil {
		return err
	}
	return safetensors.Write(w, ts, map[string]string{"format": checkpointFormat, "version": checkpointVersion,
		"config": string(cfg), "non_trainable": string(frozenJSON)})
}

// Load reads a checkpoint written by [Classifier.Save] onto backend b.
func Load(b compute.Backend, path string) (*Classifier, error) {
	f, err := safetensors.Open(path)
	if err != nil {
		return nil, fmt.Errorf("models: load: %w", err)
	}
	defer f.Close()
	m, err := fromCheckpoint(b, f)
	if err != nil {
		return nil, fmt.Errorf("models: load %s: %w", path, err)
	}
	return m, nil
}

// Read reads a checkpoint written by [Classifier.Write] from r onto backend b.
func Read(b compute.Backend, r io.Reader) (*Classifier, error) {
	f, err := safetensors.Read(r)
	if err != nil {
		return nil, fmt.Errorf("models: read: %w", err)
	}
	m, err := fromCheckpoint(b, f)
	if err != nil {
		return nil, fmt.Errorf("models: read: %w", err)
	}
	return m, nil
}

// fromCheckpoint builds a classifier from a parsed checkpoint file.
func fromCheckpoint(b compute.Backend, f *safetensors.File) (*Classifier, error) {
	meta := f.Metadata
	if meta["format"] != checkpointFormat {
		return nil, fmt.Errorf("not a faildirs model checkpoint (metadata format %q, want %q)", meta["format"], checkpointFormat)
	}
	if meta["version"] != checkpointVersion {
		return nil, fmt.Errorf("checkpoint version %q, this build reads %q", meta["version"], checkpointVersion)
	}
	var cfg Config
	if err := json.Unmarshal([]byte(meta["config"]), &cfg); err != nil {
		return nil, fmt.Errorf("parsing config: %w", err)
	}
	m, err := New(b, cfg, 0)
	if err != nil {
		return nil, err
	}
	frozen := map[string]bool{}
	if js := meta["non_trainable"]; js != "" {
		var list []string
		if err := json.Unmarshal([]byte(js), &list); err != nil {
			return nil, fmt.Errorf("parsing non_trainable: %w", err)
		}
		for _, p := range list {
			frozen[p] = true
		}
	}
	names := f.Names()
	if len(names) == 0 {
		return nil, fmt.Errorf("checkpoint has no tensors")
	}
	for _, name := range names {
		if !isNetVar(name) {
			return nil, fmt.Errorf("tensor %s: not under /%s/", name, netScope)
		}
		info, _ := f.Info(name)
		dt := dtypes.InvalidDType
		for d, n := range dtypeNames {
			if n == info.DType {
				dt = d
			}
		}
		if dt == dtypes.InvalidDType {
			return nil, fmt.Errorf("tensor %s: unsupported dtype %q", name, info.DType)
		}
		raw, err := f.Raw(name)
		if err != nil {
			return nil, err
		}
		t := tensors.FromShape(shapes.Make(dt, info.Shape...))
		if err := t.MutableBytes(func(buf []byte) { copy(buf, raw) }); err != nil {
			return nil, fmt.Errorf("tensor %s: %w", name, err)
		}
		v, err := m.store.CreateVariable(name, t)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", name, err)
		}
		v.SetTrainable(!frozen[name])
	}
	return m, nil
}
