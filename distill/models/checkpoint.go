package models

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
)

// Checkpoint format: a safetensors file (8-byte little-endian header length, JSON header, raw little-endian
// tensor data) holding every variable of the network scope (weights, biases, batch-norm statistics) under its
// GoMLX path, e.g. "/net/conv1/kernel", plus "__metadata__" with format "faildirs-model", version "1" and the
// model Config as JSON, and "non_trainable", a JSON list of the paths that are not trained (batch-norm
// statistics). Optimizer state is not saved: a loaded model predicts, and training it again starts a
// fresh optimizer.
const (
	checkpointFormat  = "faildirs-model"
	checkpointVersion = "1"
)

var dtypeNames = map[dtypes.DType]string{dtypes.Float32: "F32", dtypes.Float64: "F64", dtypes.Int32: "I32", dtypes.Int64: "I64"}

func isNetVar(path string) bool { return strings.HasPrefix(path, "/"+netScope+"/") }

func (m *Model) hasVariables() bool {
	for v := range m.store.IterVariables() {
		if isNetVar(v.Path()) {
			return true
		}
	}
	return false
}

type tensorInfo struct {
	DType       string `json:"dtype"`
	Shape       []int  `json:"shape"`
	DataOffsets [2]int `json:"data_offsets"`
}

// Save writes the model to path atomically (a temporary file in the same directory, then rename).
func (m *Model) Save(path string) error {
	if !m.hasVariables() {
		return fmt.Errorf("models: save %s: the model has no variables yet (train or predict first)", path)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("models: save %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	w := bufio.NewWriter(f)
	if err := m.Write(w); err != nil {
		f.Close()
		return fmt.Errorf("models: save %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("models: save %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("models: save %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("models: save %s: %w", path, err)
	}
	return nil
}

// Write writes the checkpoint to w (see the format above).
func (m *Model) Write(w io.Writer) error {
	type entry struct {
		path string
		t    *tensors.Tensor
	}
	var vars []entry
	for v := range m.store.IterVariables() {
		if !isNetVar(v.Path()) {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("variable %s: %w", v.Path(), err)
		}
		if _, ok := dtypeNames[t.DType()]; !ok {
			return fmt.Errorf("variable %s: unsupported dtype %s", v.Path(), t.DType())
		}
		vars = append(vars, entry{v.Path(), t})
	}
	sort.Slice(vars, func(i, j int) bool { return vars[i].path < vars[j].path })
	cfg, err := json.Marshal(m.Config)
	if err != nil {
		return err
	}
	var frozen []string
	for v := range m.store.IterVariables() {
		if isNetVar(v.Path()) && !v.Trainable {
			frozen = append(frozen, v.Path())
		}
	}
	sort.Strings(frozen)
	frozenJSON, err := json.Marshal(frozen)
	if err != nil {
		return err
	}
	header := map[string]any{"__metadata__": map[string]string{"format": checkpointFormat, "version": checkpointVersion,
		"config": string(cfg), "non_trainable": string(frozenJSON)}}
	off := 0
	for _, e := range vars {
		size := int(e.t.Shape().ByteSize())
		header[e.path] = tensorInfo{DType: dtypeNames[e.t.DType()], Shape: append([]int{}, e.t.Shape().Dimensions...), DataOffsets: [2]int{off, off + size}}
		off += size
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	if err := binary.Write(w, binary.LittleEndian, uint64(len(hb))); err != nil {
		return err
	}
	if _, err := w.Write(hb); err != nil {
		return err
	}
	for _, e := range vars {
		var werr error
		if err := e.t.ConstBytes(func(b []byte) { _, werr = w.Write(b) }); err != nil {
			return fmt.Errorf("variable %s: %w", e.path, err)
		}
		if werr != nil {
			return werr
		}
	}
	return nil
}

// Load reads a model saved by Save onto backend b.
func Load(b compute.Backend, path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("models: load: %w", err)
	}
	defer f.Close()
	m, err := Read(b, bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("models: load %s: %w", path, err)
	}
	return m, nil
}

// Read reads a checkpoint from r onto backend b.
func Read(b compute.Backend, r io.Reader) (*Model, error) {
	var n uint64
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, fmt.Errorf("reading header length: %w", err)
	}
	if n == 0 || n > 64<<20 {
		return nil, fmt.Errorf("implausible header length %d (not a checkpoint?)", n)
	}
	hb := make([]byte, n)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, fmt.Errorf("parsing header: %w", err)
	}
	var meta map[string]string
	if err := json.Unmarshal(raw["__metadata__"], &meta); err != nil || meta["format"] != checkpointFormat {
		return nil, fmt.Errorf("not a faildirs model checkpoint (metadata %q)", raw["__metadata__"])
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
	type entry struct {
		path string
		info tensorInfo
	}
	var entries []entry
	for k, v := range raw {
		if k == "__metadata__" {
			continue
		}
		var ti tensorInfo
		if err := json.Unmarshal(v, &ti); err != nil {
			return nil, fmt.Errorf("tensor %s: %w", k, err)
		}
		if !isNetVar(k) {
			return nil, fmt.Errorf("tensor %s: not under /%s/", k, netScope)
		}
		entries = append(entries, entry{k, ti})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].info.DataOffsets[0] < entries[j].info.DataOffsets[0] })
	pos := 0
	for _, e := range entries {
		var dt dtypes.DType
		for d, name := range dtypeNames {
			if name == e.info.DType {
				dt = d
			}
		}
		if dt == dtypes.InvalidDType {
			return nil, fmt.Errorf("tensor %s: unsupported dtype %q", e.path, e.info.DType)
		}
		shape := shapes.Make(dt, e.info.Shape...)
		size := int(shape.ByteSize())
		if e.info.DataOffsets[0] != pos || e.info.DataOffsets[1]-e.info.DataOffsets[0] != size {
			return nil, fmt.Errorf("tensor %s: data offsets %v do not match shape %s at position %d", e.path, e.info.DataOffsets, shape, pos)
		}
		t := tensors.FromShape(shape)
		var rerr error
		if err := t.MutableBytes(func(buf []byte) { _, rerr = io.ReadFull(r, buf) }); err != nil {
			return nil, fmt.Errorf("tensor %s: %w", e.path, err)
		}
		if rerr != nil {
			return nil, fmt.Errorf("tensor %s: truncated data: %w", e.path, rerr)
		}
		v, err := m.store.CreateVariable(e.path, t)
		if err != nil {
			return nil, fmt.Errorf("tensor %s: %w", e.path, err)
		}
		v.SetTrainable(!frozen[e.path])
		pos += size
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("checkpoint has no tensors")
	}
	return m, nil
}
