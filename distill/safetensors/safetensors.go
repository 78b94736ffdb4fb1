// Package safetensors reads and writes the safetensors file format, the one tensor file format of faildirs: CLIP
// checkpoints, base-classifier checkpoints and embedding caches all use it.
//
//	err := safetensors.Save("emb.safetensors", []safetensors.Tensor{
//		{Name: "embeddings", Shape: []int{n, d}, Data: values},
//	}, map[string]string{"format": "mine"})
//	f, err := safetensors.Open("emb.safetensors") // parses the header only
//	defer f.Close()
//	values, shape, err := f.Float32("embeddings")
//
// The format: an 8-byte little-endian header length N, then N bytes of JSON mapping each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the end of the header), an optional
// "__metadata__" object of strings, then the raw little-endian tensor data. A sharded checkpoint has a
// "<name>.index.json" whose "weight_map" maps tensor names to shard files; [OpenDir] handles both.
//
// Reading is strict and bounded by the file: the header length (at most [MaxHeaderBytes] and the file's size),
// every shape (no negative dimension, no overflowing product), every tensor's offsets and its byte size (dtype ×
// shape) are checked against the file before anything is allocated from them, and an error names the file and the
// tensor. [Open] parses only the header and
// [File.Float32] reads one tensor when asked, converting F16, BF16 and F64 to float32; [Read] reads a whole
// stream into memory. [Write] streams a file to a writer; [Save] writes it atomically through internal/atomicfile.
package safetensors

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/faildirs/faildirs/internal/atomicfile"

	"github.com/gomlx/compute/dtypes/float16"
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

// DTypeSize returns the element size in bytes of a safetensors dtype ("F32", "I64", ...), or 0 if unknown.
func DTypeSize(dtype string) int {
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
	r        io.ReaderAt
	closer   io.Closer // nil for in-memory data
	dataBase int64
}

// Open parses the header of one safetensors file; tensors are read from the file when asked. Close the File when
// done.
func Open(path string) (*File, error) {
	st := &File{infos: map[string]Info{}, files: map[string]*shard{}}
	if err := st.addFile(path); err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}

// Read reads a whole safetensors stream into memory and parses it with the same checks as [Open] (the data
// section must hold every tensor's bytes). Errors name the stream "<reader>".
func Read(r io.Reader) (*File, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("safetensors: reading: %w", err)
	}
	st := &File{infos: map[string]Info{}, files: map[string]*shard{}}
	if err := st.addShard("<reader>", bytes.NewReader(raw), int64(len(raw)), nil); err != nil {
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
	if err := st.addShard(path, f, fi.Size(), f); err != nil {
		_ = f.Close()
		return err
	}
	return nil
}

// addShard parses the header of the safetensors data in r (size bytes), named path in errors and Info.File.
func (st *File) addShard(path string, r io.ReaderAt, size int64, closer io.Closer) error {
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return fmt.Errorf("safetensors: %s: reading header length: %w", path, err)
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > MaxHeaderBytes || int64(hlen)+8 > size {
		return fmt.Errorf("safetensors: %s: header length %d is invalid for a %d-byte file", path, hlen, size)
	}
	header := make([]byte, hlen)
	if _, err := r.ReadAt(header, 8); err != nil {
		return fmt.Errorf("safetensors: %s: reading header: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		return fmt.Errorf("safetensors: %s: parsing header JSON: %w", path, err)
	}
	dataBase := int64(8 + hlen)
	dataLen := size - dataBase
	for name, msg := range raw {
		if name == "__metadata__" {
			if st.Metadata == nil {
				var md map[string]string
				if err := json.Unmarshal(msg, &md); err != nil {
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
			return fmt.Errorf("safetensors: %s: tensor %q: %w", path, name, err)
		}
		info := Info{Name: name, DType: e.DType, Shape: e.Shape, File: path}
		if info.Shape == nil {
			info.Shape = []int{}
		}
		if err := checkShape(info.Shape); err != nil {
			return fmt.Errorf("safetensors: %s: tensor %q: %w", path, name, err)
		}
		if len(e.Offsets) != 2 || e.Offsets[0] < 0 || e.Offsets[1] < e.Offsets[0] || e.Offsets[1] > dataLen {
			return fmt.Errorf("safetensors: %s: tensor %q: data_offsets %v outside the %d-byte data section", path, name, e.Offsets, dataLen)
		}
		info.Begin, info.End = e.Offsets[0], e.Offsets[1]
		if sz := DTypeSize(e.DType); sz > 0 && (info.End-info.Begin)%int64(sz) != 0 ||
			sz > 0 && int64(info.NumElements()) != (info.End-info.Begin)/int64(sz) {
			return fmt.Errorf("safetensors: %s: tensor %q: %s%v needs %d values, data_offsets give %d bytes",
				path, name, e.DType, e.Shape, info.NumElements(), info.End-info.Begin)
		}
		if _, dup := st.infos[name]; dup {
			return fmt.Errorf("safetensors: %s: tensor %q appears in more than one shard", path, name)
		}
		st.infos[name] = info
	}
	st.files[path] = &shard{r: r, closer: closer, dataBase: dataBase}
	return nil
}

// checkShape refuses negative dimensions and shapes whose number of elements overflows (zero dimensions counted
// as 1, so that every dimension stays usable in index arithmetic), whatever the dtype: a header cannot make a
// reader size an allocation from a wrapped-around product.
func checkShape(shape []int) error {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("negative dimension in shape %v", shape)
		}
		hi, lo := bits.Mul64(n, uint64(max(d, 1)))
		if hi != 0 || lo > math.MaxInt64/8 {
			return fmt.Errorf("shape %v has too many elements", shape)
		}
		n = lo
	}
	return nil
}

// Close releases the open files.
func (st *File) Close() error {
	var errs []error
	for _, s := range st.files {
		if s.closer != nil {
			errs = append(errs, s.closer.Close())
		}
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
	if len(buf) == 0 {
		return buf, nil // ReadAt at the end of the data would report io.EOF for an empty tensor
	}
	if _, err := s.r.ReadAt(buf, s.dataBase+info.Begin); err != nil {
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
	if !isFloat(info.DType) { // before allocating: only known dtypes have their size checked against the file
		return nil, nil, fmt.Errorf("safetensors: %s: tensor %q has dtype %s, not a float type", info.File, name, info.DType)
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
	if !isFloat(info.DType) {
		return fmt.Errorf("safetensors: %s: tensor %q has dtype %s, not a float type", info.File, name, info.DType)
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
			dst[i] = float16.Float16(binary.LittleEndian.Uint16(raw[2*i:])).Float32()
		}
	default:
		return fmt.Errorf("safetensors: %s: tensor %q has dtype %s, not a float type", info.File, name, info.DType)
	}
	return nil
}

func isFloat(dtype string) bool {
	return dtype == "F32" || dtype == "F64" || dtype == "F16" || dtype == "BF16"
}

// Tensor is one tensor to write. Exactly one of Data, U8 and Raw holds its values.
type Tensor struct {
	// Name is the header key.
	Name string
	// Shape is the dimensions; empty for a scalar.
	Shape []int
	// Data holds float32 values in row-major order, written as F32; len(Data) must equal the product of Shape.
	Data []float32
	// U8 holds bytes written as U8.
	U8 []uint8
	// Raw holds the little-endian bytes of DType values (e.g. I64 or F64 checkpoint variables).
	Raw []byte
	// DType is the safetensors dtype of Raw ("F32", "F64", "I32", "I64", ...); ignored for Data and U8.
	DType string
}

// layout returns the tensor's dtype and byte size, checking that its values match its shape.
func (t Tensor) layout() (dtype string, size int64, err error) {
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			return "", 0, fmt.Errorf("tensor %q: negative dimension in shape %v", t.Name, t.Shape)
		}
		n *= d
	}
	set := 0
	for _, ok := range []bool{t.Data != nil, t.U8 != nil, t.Raw != nil} {
		if ok {
			set++
		}
	}
	if set > 1 {
		return "", 0, fmt.Errorf("tensor %q: more than one of Data, U8 and Raw is set", t.Name)
	}
	var have, elem int
	switch {
	case t.U8 != nil:
		dtype, have, elem = "U8", len(t.U8), 1
	case t.Raw != nil:
		dtype, elem = t.DType, DTypeSize(t.DType)
		if elem == 0 {
			return "", 0, fmt.Errorf("tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		if len(t.Raw)%elem != 0 {
			return "", 0, fmt.Errorf("tensor %q: %d bytes are not a whole number of %s values", t.Name, len(t.Raw), t.DType)
		}
		have = len(t.Raw) / elem
	default:
		dtype, have, elem = "F32", len(t.Data), 4
	}
	if n != have {
		return "", 0, fmt.Errorf("tensor %q has shape %v (%d values) but %d values of data", t.Name, t.Shape, n, have)
	}
	return dtype, int64(n * elem), nil
}

// Write writes tensors and metadata (may be nil) to w as one safetensors stream: the header (padded with spaces
// to a multiple of 8 bytes, as the format recommends), then the data, tensors in name order.
func Write(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	sorted := append([]Tensor(nil), tensors...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	for _, t := range sorted {
		dtype, size, err := t.layout()
		if err != nil {
			return fmt.Errorf("safetensors: %w", err)
		}
		if _, dup := header[t.Name]; dup || t.Name == "__metadata__" {
			return fmt.Errorf("safetensors: duplicate or reserved tensor name %q", t.Name)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = map[string]any{"dtype": dtype, "shape": shape, "data_offsets": []int64{offset, offset + size}}
		offset += size
	}
	hjson, err := json.Marshal(header)
	if err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	for len(hjson)%8 != 0 {
		hjson = append(hjson, ' ')
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hjson)))
	if _, err := bw.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := bw.Write(hjson); err != nil {
		return err
	}
	chunk := make([]byte, 0, 1<<16)
	for _, t := range sorted {
		switch {
		case t.U8 != nil:
			if _, err := bw.Write(t.U8); err != nil {
				return err
			}
		case t.Raw != nil:
			if _, err := bw.Write(t.Raw); err != nil {
				return err
			}
		default:
			for start := 0; start < len(t.Data); start += cap(chunk) / 4 {
				chunk = chunk[:0]
				for _, v := range t.Data[start:min(start+cap(chunk)/4, len(t.Data))] {
					chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(v))
				}
				if _, err := bw.Write(chunk); err != nil {
					return err
				}
			}
		}
	}
	return bw.Flush()
}

// Save writes tensors and metadata to path with [Write], atomically (internal/atomicfile: a temporary file in the
// same folder, renamed into place).
func Save(path string, tensors []Tensor, metadata map[string]string) error {
	return atomicfile.Write(path, func(w io.Writer) error { return Write(w, tensors, metadata) })
}
