// Package safetensors reads and writes the safetensors file format locally, without a hub.
//
// The format: an 8-byte little-endian header length N, then N bytes of JSON mapping each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the end of the header), an optional
// "__metadata__" object of strings, then the raw little-endian tensor data. A sharded checkpoint has a
// "<name>.index.json" whose "weight_map" maps tensor names to shard files; [OpenDir] handles both.
//
// Reading is lazy: [Open] parses only the header, and [File.Float32] reads one tensor when asked, converting
// F16, BF16 and F64 to float32. [Write] writes a file atomically (a temporary file renamed into place).
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/faildirs/faildirs/internal/atomicfile"
)

// MaxHeaderBytes bounds the JSON header size accepted by [Open] (the format's reference limit is 100 MB).
const MaxHeaderBytes = 100 << 20

// Info describes one tensor in a file.
type Info struct {
	// Name is the tensor's key in the header.
	Name string
	// DType is the safetensors dtype string, e.g. "F32", "I64", "BF16".
	DType string
	// Shape is the tensor's dimensions; empty for a 0-d scalar.
	Shape []int
	// Begin and End are byte offsets of the data, relative to the start of the data section.
	Begin, End int64
	// File is the path of the file holding the tensor.
	File string
}

// NumElements returns the product of the dimensions (1 for a scalar).
func (i Info) NumElements() int {
	n := 1
	for _, d := range i.Shape {
		n *= d
	}
	return n
}

// dtypeSize returns the element size in bytes of a safetensors dtype, or 0 if unknown.
func dtypeSize(dtype string) int {
	switch dtype {
	case "F64", "I64", "U64":
		return 8
	case "F32", "I32", "U32":
		return 4
	case "F16", "BF16", "I16", "U16":
		return 2
	case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2":
		return 1
	}
	return 0
}

// File is an open safetensors file (or a set of shards) whose header has been parsed.
type File struct {
	// Metadata is the "__metadata__" object of the (first) file.
	Metadata map[string]string
	infos    map[string]Info
	files    map[string]*shard
}

type shard struct {
	f        *os.File
	dataBase int64
}

// Open parses the header of one safetensors file.
func Open(path string) (*File, error) {
	st := &File{infos: map[string]Info{}, files: map[string]*shard{}}
	if err := st.addFile(path); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

// OpenDir opens the weights of an HF-layout model folder: "model.safetensors", or the shards listed in
// "model.safetensors.index.json".
func OpenDir(dir string) (*File, error) {
	single := filepath.Join(dir, "model.safetensors")
	if _, err := os.Stat(single); err == nil {
		return Open(single)
	}
	indexPath := filepath.Join(dir, "model.safetensors.index.json")
	raw, err := os.ReadFile(indexPath)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %s has neither model.safetensors nor a readable model.safetensors.index.json: %w", dir, err)
	}
	var index struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, fmt.Errorf("safetensors: parsing %s: %w", indexPath, err)
	}
	shards := map[string]bool{}
	for _, f := range index.WeightMap {
		shards[f] = true
	}
	names := make([]string, 0, len(shards))
	for f := range shards {
		names = append(names, f)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("safetensors: %s lists no shards", indexPath)
	}
	st := &File{infos: map[string]Info{}, files: map[string]*shard{}}
	for _, name := range names {
		if strings.Contains(name, "..") || filepath.IsAbs(name) {
			_ = st.Close()
			return nil, fmt.Errorf("safetensors: %s: shard name %q escapes the folder", indexPath, name)
		}
		if err := st.addFile(filepath.Join(dir, name)); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	return st, nil
}

func (st *File) addFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("safetensors: %w", err)
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		_ = f.Close()
		return fmt.Errorf("safetensors: %s: reading header length: %w", path, err)
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > MaxHeaderBytes || int64(hlen)+8 > fi.Size() {
		_ = f.Close()
		return fmt.Errorf("safetensors: %s: header length %d is invalid for a %d-byte file", path, hlen, fi.Size())
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(f, header); err != nil {
		_ = f.Close()
		return fmt.Errorf("safetensors: %s: reading header: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		_ = f.Close()
		return fmt.Errorf("safetensors: %s: parsing header JSON: %w", path, err)
	}
	dataBase := int64(8 + hlen)
	dataLen := fi.Size() - dataBase
	for name, msg := range raw {
		if name == "__metadata__" {
			if st.Metadata == nil {
				var md map[string]string
				if err := json.Unmarshal(msg, &md); err != nil {
					_ = f.Close()
					return fmt.Errorf("safetensors: %s: parsing __metadata__: %w", path, err)
				}
				st.Metadata = md
			}
			continue
		}
		var e struct {
			DType   string  `json:"dtype"`
			Shape   []int   `json:"shape"`
			Offsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &e); err != nil {
			_ = f.Close()
			return fmt.Errorf("safetensors: %s: tensor %q: %w", path, name, err)
		}
		info := Info{Name: name, DType: e.DType, Shape: e.Shape, File: path}
		if info.Shape == nil {
			info.Shape = []int{}
		}
		if len(e.Offsets) != 2 || e.Offsets[0] < 0 || e.Offsets[1] < e.Offsets[0] || e.Offsets[1] > dataLen {
			_ = f.Close()
			return fmt.Errorf("safetensors: %s: tensor %q: data_offsets %v outside the %d-byte data section", path, name, e.Offsets, dataLen)
		}
		info.Begin, info.End = e.Offsets[0], e.Offsets[1]
		if sz := dtypeSize(e.DType); sz > 0 && int64(info.NumElements()*sz) != info.End-info.Begin {
			_ = f.Close()
			return fmt.Errorf("safetensors: %s: tensor %q: %s%v needs %d bytes, data_offsets give %d",
				path, name, e.DType, e.Shape, info.NumElements()*sz, info.End-info.Begin)
		}
		if _, dup := st.infos[name]; dup {
			_ = f.Close()
			return fmt.Errorf("safetensors: %s: tensor %q appears in more than one shard", path, name)
		}
		st.infos[name] = info
	}
	st.files[path] = &shard{f: f, dataBase: dataBase}
	return nil
}

// Close releases the open files.
func (st *File) Close() error {
	var errs []error
	for _, s := range st.files {
		errs = append(errs, s.f.Close())
	}
	st.files = map[string]*shard{}
	return errors.Join(errs...)
}

// Names returns the tensor names, sorted.
func (st *File) Names() []string {
	names := make([]string, 0, len(st.infos))
	for n := range st.infos {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Info returns the description of a tensor and whether it exists.
func (st *File) Info(name string) (Info, bool) {
	i, ok := st.infos[name]
	return i, ok
}

// Raw returns the raw little-endian bytes of a tensor.
func (st *File) Raw(name string) ([]byte, error) {
	info, ok := st.infos[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: tensor %q not found", name)
	}
	s := st.files[info.File]
	if s == nil {
		return nil, fmt.Errorf("safetensors: %s is closed", info.File)
	}
	buf := make([]byte, info.End-info.Begin)
	if _, err := s.f.ReadAt(buf, s.dataBase+info.Begin); err != nil {
		return nil, fmt.Errorf("safetensors: %s: reading tensor %q: %w", info.File, name, err)
	}
	return buf, nil
}

// Float32 reads a floating-point tensor as float32 (converting F16, BF16 and F64), with its shape.
func (st *File) Float32(name string) ([]float32, []int, error) {
	info, ok := st.infos[name]
	if !ok {
		return nil, nil, fmt.Errorf("safetensors: tensor %q not found", name)
	}
	out := make([]float32, info.NumElements())
	if err := st.ReadFloat32Into(name, out); err != nil {
		return nil, nil, err
	}
	return out, info.Shape, nil
}

// ReadFloat32Into reads a floating-point tensor into dst (len = its number of elements), converting F16, BF16
// and F64 to float32.
func (st *File) ReadFloat32Into(name string, dst []float32) error {
	info, ok := st.infos[name]
	if !ok {
		return fmt.Errorf("safetensors: tensor %q not found", name)
	}
	if n := info.NumElements(); len(dst) != n {
		return fmt.Errorf("safetensors: %s: tensor %q has %d elements, destination %d", info.File, name, n, len(dst))
	}
	raw, err := st.Raw(name)
	if err != nil {
		return err
	}
	switch info.DType {
	case "F32":
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case "F64":
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case "BF16":
		for i := range dst {
			dst[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*i:])) << 16)
		}
	case "F16":
		for i := range dst {
			dst[i] = halfToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	default:
		return fmt.Errorf("safetensors: %s: tensor %q has dtype %s, not a float type", info.File, name, info.DType)
	}
	return nil
}

// halfToFloat32 converts an IEEE 754 binary16 value to float32.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: value = frac · 2^-24
		v := float32(frac) * float32(math.Ldexp(1, -24))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}

// Tensor is one tensor to write: float32 data (written as F32), or bytes (written as U8), with its shape.
type Tensor struct {
	// Name is the header key.
	Name string
	// Shape is the dimensions; empty for a scalar.
	Shape []int
	// Data holds float32 values in row-major order; len(Data) must equal the product of Shape.
	Data []float32
	// U8, when not nil, holds the values instead of Data and the tensor is written as U8.
	U8 []uint8
}

// count returns the number of values held and the element size.
func (t Tensor) count() (int, int, string) {
	if t.U8 != nil {
		return len(t.U8), 1, "U8"
	}
	return len(t.Data), 4, "F32"
}

// Write writes tensors to path as one safetensors file, atomically (temporary file in the same folder, then
// rename). Tensors are written in name order; metadata may be nil.
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	sorted := append([]Tensor(nil), tensors...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	for _, t := range sorted {
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		have, size, dtype := t.count()
		if n != have {
			return fmt.Errorf("safetensors: writing %s: tensor %q has shape %v (%d values) but %d values of data", path, t.Name, t.Shape, n, have)
		}
		if _, dup := header[t.Name]; dup || t.Name == "__metadata__" {
			return fmt.Errorf("safetensors: writing %s: duplicate or reserved tensor name %q", path, t.Name)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = map[string]any{"dtype": dtype, "shape": shape, "data_offsets": []int64{offset, offset + int64(size*n)}}
		offset += int64(size * n)
	}
	hjson, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("safetensors: writing %s: %w", path, err)
	}
	for len(hjson)%8 != 0 {
		hjson = append(hjson, ' ')
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		var lenBuf [8]byte
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hjson)))
		if _, err := w.Write(lenBuf[:]); err != nil {
			return err
		}
		if _, err := w.Write(hjson); err != nil {
			return err
		}
		buf := make([]byte, 0, 1<<16)
		for _, t := range sorted {
			if t.U8 != nil {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
				if _, err := w.Write(t.U8); err != nil {
					return err
				}
				continue
			}
			for _, v := range t.Data {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if len(buf) >= 1<<16 {
					if _, err := w.Write(buf); err != nil {
						return err
					}
					buf = buf[:0]
				}
			}
		}
		_, err := w.Write(buf)
		return err
	})
}
