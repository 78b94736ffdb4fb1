// Package npy reads and writes NumPy .npy files (format versions 1.0, 2.0 and 3.0), the format of the benchmark
// folders `faildirs bench-svm` reads and of the decision values it writes.
//
//	a, err := npy.Load("val_features.npy") // the header is checked against the file's size before any allocation
//	x, err := a.Float32()                  // float32 or float64 values as []float32, row-major; a.Shape = [N, D]
//	labels, err := a.Ints()                // any integer or bool type as []int
//	err = npy.SaveFloat32("decisions.npy", []int{len(dec)}, dec)
//
// Reading is bounded by the input, whatever its header says: the header is at most [MaxHeaderBytes]; it must be a
// dict with "descr" (a simple dtype: b1 or ?, i1–i8, u1–u8, f2, f4, f8, any byte order), "fortran_order" and "shape";
// every dimension must be a non-negative integer and the product of the dimensions and the item size must not
// overflow. [Load] then requires the data to be exactly the rest of the file, so an array is never allocated larger
// than the file that holds it; [Read] grows its buffer as bytes arrive, so a stream that ends early costs no more
// than its own length. Fortran-ordered arrays are converted to row-major (C) order; big-endian data to native
// values.
package npy

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"

	"github.com/faildirs/faildirs/internal/atomicfile"

	"github.com/gomlx/compute/dtypes/float16"
)

// MaxHeaderBytes bounds the header length accepted by [Read] and [Load] (NumPy itself refuses headers above 10,000
// bytes by default).
const MaxHeaderBytes = 1 << 16

var magic = []byte("\x93NUMPY")

// Array is a decoded .npy array: its shape, its element type and its values in row-major order.
type Array struct {
	// Shape holds the dimensions (empty for a 0-d scalar).
	Shape []int
	// Kind is the NumPy type kind: 'b' (bool), 'i' (signed), 'u' (unsigned) or 'f' (float); ItemSize its bytes.
	Kind     byte
	ItemSize int
	// data holds the values, little-endian, row-major.
	data []byte
}

// DType returns the element type as NumPy spells it without byte order: "f4", "i8", "b1", ...
func (a *Array) DType() string { return string(a.Kind) + strconv.Itoa(a.ItemSize) }

// Len returns the number of elements (the product of Shape).
func (a *Array) Len() int { return len(a.data) / a.ItemSize }

// Float32 returns the values of a float array (f2, f4, f8) as float32.
func (a *Array) Float32() ([]float32, error) {
	n := a.Len()
	out := make([]float32, n)
	switch a.DType() {
	case "f4":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(a.data[4*i:]))
		}
	case "f8":
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(a.data[8*i:])))
		}
	case "f2":
		for i := range out {
			out[i] = float16.Float16(binary.LittleEndian.Uint16(a.data[2*i:])).Float32()
		}
	default:
		return nil, fmt.Errorf("npy: dtype %s, want a float type (f2, f4, f8)", a.DType())
	}
	return out, nil
}

// Float64 returns the values of a float array (f2, f4, f8) as float64, f8 values exactly.
func (a *Array) Float64() ([]float64, error) {
	if a.DType() == "f8" {
		out := make([]float64, a.Len())
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(a.data[8*i:]))
		}
		return out, nil
	}
	f, err := a.Float32()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out, nil
}

// Ints returns the values of an integer or bool array as int; unsigned 64-bit values above the int range are an
// error.
func (a *Array) Ints() ([]int, error) {
	n := a.Len()
	out := make([]int, n)
	d := a.data
	switch a.DType() {
	case "b1", "u1":
		for i := range out {
			out[i] = int(d[i])
		}
		if a.Kind == 'b' {
			for i, v := range out {
				out[i] = min(v, 1)
			}
		}
	case "i1":
		for i := range out {
			out[i] = int(int8(d[i]))
		}
	case "i2":
		for i := range out {
			out[i] = int(int16(binary.LittleEndian.Uint16(d[2*i:])))
		}
	case "u2":
		for i := range out {
			out[i] = int(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case "i4":
		for i := range out {
			out[i] = int(int32(binary.LittleEndian.Uint32(d[4*i:])))
		}
	case "u4":
		for i := range out {
			out[i] = int(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case "i8":
		for i := range out {
			out[i] = int(int64(binary.LittleEndian.Uint64(d[8*i:])))
		}
	case "u8":
		for i := range out {
			v := binary.LittleEndian.Uint64(d[8*i:])
			if v > math.MaxInt {
				return nil, fmt.Errorf("npy: element %d = %d does not fit an int", i, v)
			}
			out[i] = int(v)
		}
	default:
		return nil, fmt.Errorf("npy: dtype %s, want an integer or bool type", a.DType())
	}
	return out, nil
}

// header is a parsed .npy header.
type header struct {
	kind      byte
	itemSize  int
	bigEndian bool
	fortran   bool
	shape     []int
	dataBytes int64 // product of shape × item size
}

// Read reads one array from r (see the package doc for the checks).
func Read(r io.Reader) (*Array, error) {
	br := bufio.NewReader(r)
	h, _, err := readHeader(br)
	if err != nil {
		return nil, err
	}
	data, err := readData(br, h.dataBytes)
	if err != nil {
		return nil, err
	}
	return h.array(data), nil
}

// Load reads the array in the .npy file at path; the data must fill the rest of the file exactly. Errors name the
// file.
func Load(path string) (*Array, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(f)
	h, headerLen, err := readHeader(br)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if have := fi.Size() - headerLen; have != h.dataBytes {
		return nil, fmt.Errorf("%s: npy: shape %v of %c%d needs %d data bytes, the file has %d after its header",
			path, h.shape, h.kind, h.itemSize, h.dataBytes, have)
	}
	data, err := readData(br, h.dataBytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h.array(data), nil
}

// readData reads exactly n bytes; the buffer grows as bytes arrive, so a short stream costs no more than its length.
func readData(r io.Reader, n int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(n, 1<<20)))
	if k, err := io.CopyN(&buf, r, n); err != nil {
		return nil, fmt.Errorf("npy: data ends after %d of %d bytes: %w", k, n, err)
	}
	return buf.Bytes(), nil
}

// array builds the Array of header h over its raw data: little-endian, row-major.
func (h *header) array(data []byte) *Array {
	if h.bigEndian && h.itemSize > 1 {
		for i := 0; i < len(data); i += h.itemSize {
			for a, b := i, i+h.itemSize-1; a < b; a, b = a+1, b-1 {
				data[a], data[b] = data[b], data[a]
			}
		}
	}
	if h.fortran && len(h.shape) > 1 {
		data = fortranToC(data, h.shape, h.itemSize)
	}
	return &Array{Shape: h.shape, Kind: h.kind, ItemSize: h.itemSize, data: data}
}

// fortranToC reorders column-major (first index fastest) data to row-major.
func fortranToC(src []byte, shape []int, item int) []byte {
	dst := make([]byte, len(src))
	n := len(src) / item
	idx := make([]int, len(shape)) // C-order multi-index of element i
	for i := range n {
		off, stride := 0, 1
		for k := range shape {
			off += idx[k] * stride
			stride *= shape[k]
		}
		copy(dst[i*item:(i+1)*item], src[off*item:(off+1)*item])
		for k := len(shape) - 1; k >= 0; k-- {
			if idx[k]++; idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return dst
}

// readHeader reads and checks the magic, version and header dict; it returns the header and its total length in
// bytes (preamble included).
func readHeader(r io.Reader) (*header, int64, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, 0, fmt.Errorf("npy: reading the preamble: %w", err)
	}
	if !bytes.Equal(pre[:6], magic) {
		return nil, 0, fmt.Errorf("npy: not a .npy file (magic % x, want 93 4e 55 4d 50 59)", pre[:6])
	}
	var hlen int64
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, 0, fmt.Errorf("npy: reading the header length: %w", err)
		}
		hlen = int64(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, 0, fmt.Errorf("npy: reading the header length: %w", err)
		}
		hlen = int64(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, 0, fmt.Errorf("npy: format version %d.%d not supported (1.0, 2.0, 3.0 are)", pre[6], pre[7])
	}
	if hlen > MaxHeaderBytes {
		return nil, 0, fmt.Errorf("npy: header of %d bytes exceeds the %d-byte limit", hlen, MaxHeaderBytes)
	}
	raw := make([]byte, hlen)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, 0, fmt.Errorf("npy: header shorter than its stated %d bytes: %w", hlen, err)
	}
	h, err := parseHeader(string(raw))
	if err != nil {
		return nil, 0, fmt.Errorf("npy: header %q: %w", strings.TrimSpace(string(raw)), err)
	}
	total := int64(8) + hlen + 2
	if pre[6] != 1 {
		total += 2
	}
	return h, total, nil
}

// parseHeader parses the Python dict literal of a .npy header and checks the dtype and the shape.
func parseHeader(s string) (*header, error) {
	p := &lit{s: s}
	fields, err := p.dict()
	if err != nil {
		return nil, err
	}
	h := &header{}
	descr, ok := fields["descr"].(string)
	if !ok {
		return nil, errors.New(`"descr" is missing or not a string (structured dtypes are not supported)`)
	}
	if err := h.setDType(descr); err != nil {
		return nil, err
	}
	fortran, ok := fields["fortran_order"].(bool)
	if !ok {
		return nil, errors.New(`"fortran_order" is missing or not True/False`)
	}
	h.fortran = fortran
	shape, ok := fields["shape"].([]int64)
	if !ok {
		return nil, errors.New(`"shape" is missing or not a tuple of integers`)
	}
	// bound is the product with zero dimensions counted as 1, so that (0, 10**18) is refused like (1, 10**18):
	// every dimension must be usable in index arithmetic.
	bound, total := uint64(h.itemSize), uint64(h.itemSize)
	h.shape = make([]int, len(shape))
	for k, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("dimension %d of shape %v is negative", k, shape)
		}
		hi, lo := bits.Mul64(bound, uint64(max(d, 1)))
		if hi != 0 || lo > math.MaxInt64 {
			return nil, fmt.Errorf("shape %v of %d-byte items overflows", shape, h.itemSize)
		}
		bound, total = lo, total*uint64(d)
		h.shape[k] = int(d)
	}
	h.dataBytes = int64(total)
	return h, nil
}

// setDType parses a simple descr: byte order ('<', '>', '|', '='), kind (b, i, u, f) and item size.
func (h *header) setDType(descr string) error {
	if descr == "?" || descr == "|?" { // NumPy's one-character code for bool (GoMLX writes it)
		h.kind, h.itemSize = 'b', 1
		return nil
	}
	if len(descr) < 3 {
		return fmt.Errorf("dtype %q not supported", descr)
	}
	switch descr[0] {
	case '<', '|', '=':
	case '>':
		h.bigEndian = true
	default:
		return fmt.Errorf("dtype %q: unknown byte order %q", descr, descr[0])
	}
	h.kind = descr[1]
	size, err := strconv.Atoi(descr[2:])
	if err != nil {
		return fmt.Errorf("dtype %q not supported", descr)
	}
	h.itemSize = size
	ok := false
	switch h.kind {
	case 'b':
		ok = size == 1
	case 'i', 'u':
		ok = size == 1 || size == 2 || size == 4 || size == 8
	case 'f':
		ok = size == 2 || size == 4 || size == 8
	}
	if !ok {
		return fmt.Errorf("dtype %q not supported (want b1, i1–i8, u1–u8, f2, f4 or f8)", descr)
	}
	return nil
}

// lit is a cursor over the small subset of Python literals .npy headers use: a dict of string keys to strings,
// True/False and tuples of integers.
type lit struct {
	s string
	i int
}

func (p *lit) skip() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *lit) peek() byte {
	p.skip()
	if p.i >= len(p.s) {
		return 0
	}
	return p.s[p.i]
}

func (p *lit) expect(c byte) error {
	if p.peek() != c {
		return fmt.Errorf("expected %q at offset %d", c, p.i)
	}
	p.i++
	return nil
}

func (p *lit) dict() (map[string]any, error) {
	if err := p.expect('{'); err != nil {
		return nil, err
	}
	out := map[string]any{}
	for p.peek() != '}' {
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if err := p.expect(':'); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, fmt.Errorf("value of %q: %w", key, err)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("key %q appears twice", key)
		}
		out[key] = v
		if p.peek() == ',' {
			p.i++
		} else if p.peek() != '}' {
			return nil, fmt.Errorf("expected ',' or '}' at offset %d", p.i)
		}
	}
	p.i++
	if p.peek() != 0 {
		return nil, fmt.Errorf("unexpected %q after the dict", p.s[p.i:])
	}
	return out, nil
}

func (p *lit) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("expected a quoted string at offset %d", p.i)
	}
	end := strings.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at offset %d", p.i)
	}
	v := p.s[p.i+1 : p.i+1+end]
	p.i += end + 2
	return v, nil
}

func (p *lit) value() (any, error) {
	switch c := p.peek(); {
	case c == '\'' || c == '"':
		return p.str()
	case c == '(':
		return p.tuple()
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	}
	return nil, fmt.Errorf("unsupported value at offset %d", p.i)
}

// tuple parses "()", "(n,)" or "(a, b, ...)" of decimal integers (a trailing L, as Python 2 wrote, is accepted).
func (p *lit) tuple() ([]int64, error) {
	p.i++ // '('
	out := []int64{}
	for p.peek() != ')' {
		start := p.i
		if p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] == '+') {
			p.i++
		}
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		v, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("dimension %q is not an integer", p.s[start:p.i])
		}
		if p.i < len(p.s) && p.s[p.i] == 'L' {
			p.i++
		}
		out = append(out, v)
		if len(out) > 32 {
			return nil, errors.New("more than 32 dimensions")
		}
		if p.peek() == ',' {
			p.i++
		} else if p.peek() != ')' {
			return nil, fmt.Errorf("expected ',' or ')' at offset %d", p.i)
		}
	}
	p.i++
	return out, nil
}

// WriteFloat32 writes a float32 array of the given shape (row-major values) to w as a version 1.0 .npy file.
func WriteFloat32(w io.Writer, shape []int, values []float32) error {
	n := 1
	dims := make([]string, len(shape))
	for k, d := range shape {
		if d < 0 {
			return fmt.Errorf("npy: negative dimension in shape %v", shape)
		}
		n *= d
		dims[k] = strconv.Itoa(d)
	}
	if n != len(values) {
		return fmt.Errorf("npy: shape %v holds %d values, got %d", shape, n, len(values))
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(dims) == 1 {
		tuple += ","
	}
	tuple += ")"
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }"
	// Pad with spaces so that the data starts at a multiple of 64 bytes, ending the header with '\n' (NumPy's rule).
	pad := 64 - (10+len(dict)+1)%64
	if pad == 64 {
		pad = 0
	}
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	if len(hdr) > math.MaxUint16 {
		return fmt.Errorf("npy: shape %v makes a header too long for format 1.0", shape)
	}
	bw := bufio.NewWriter(w)
	bw.Write(magic)
	bw.Write([]byte{1, 0})
	_ = binary.Write(bw, binary.LittleEndian, uint16(len(hdr)))
	bw.WriteString(hdr)
	var b [4]byte
	for _, v := range values {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		bw.Write(b[:])
	}
	return bw.Flush()
}

// SaveFloat32 writes a float32 array to path atomically (internal/atomicfile), as [WriteFloat32] does.
func SaveFloat32(path string, shape []int, values []float32) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return WriteFloat32(w, shape, values) }); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}

// Recognize returns nil when path is a .npy file (its preamble and header parse), for output checks that must not
// overwrite unrelated files.
func Recognize(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, _, err := readHeader(bufio.NewReader(f)); err != nil {
		return err
	}
	return nil
}
