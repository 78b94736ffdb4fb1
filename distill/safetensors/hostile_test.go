package safetensors

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// withHeader returns a safetensors stream with the JSON header h (padded to 8 bytes) and data bytes after it.
func withHeader(h string, data []byte) []byte {
	for len(h)%8 != 0 {
		h += " "
	}
	return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...), data...)
}

// TestHostileHeaders: shapes whose element count wraps around (it used to be multiplied unchecked, so a header
// could pass the size check with a product that overflowed to the right value), negative dimensions, and tensors
// of an unknown dtype (their size is not checked against the file) read as float.
func TestHostileHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		data         []byte
		open         string // error of Read, or "" when Read succeeds and Float32("w") must fail with float32Err
		float32Err   string
	}{
		{"wrapping product", `{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}`, nil, "too many elements", ""},
		{"zero times huge", `{"w":{"dtype":"F32","shape":[0,4611686018427387904,4],"data_offsets":[0,0]}}`, nil, "too many elements", ""},
		{"negative", `{"w":{"dtype":"F32","shape":[-1,-4],"data_offsets":[0,16]}}`, make([]byte, 16), "negative dimension", ""},
		{"unknown dtype read as float", `{"w":{"dtype":"C64","shape":[100000000000],"data_offsets":[0,0]}}`, nil, "", "not a float type"},
		{"integer read as float", `{"w":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}`, make([]byte, 8), "", "not a float type"},
		{"odd byte count", `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,6]}}`, make([]byte, 6), "needs 1 values", ""},
	} {
		f, err := Read(bytes.NewReader(withHeader(tc.header, tc.data)))
		if tc.open != "" {
			if err == nil || !strings.Contains(err.Error(), tc.open) {
				t.Errorf("%s: Read error %v, want %q", tc.name, err, tc.open)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if _, _, err := f.Float32("w"); err == nil || !strings.Contains(err.Error(), tc.float32Err) {
			t.Errorf("%s: Float32 error %v, want %q", tc.name, err, tc.float32Err)
		}
	}
}

// FuzzRead parses arbitrary bytes as a safetensors stream. It must never panic, and every tensor it accepts must
// read within the input's bytes.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	_ = Write(&buf, []Tensor{{Name: "w", Shape: []int{2, 2}, Data: []float32{1, 2, 3, 4}}, {Name: "s", Shape: []int{3}, U8: []uint8{0, 1, 2}}},
		map[string]string{"format": "x"})
	f.Add(buf.Bytes())
	f.Add(withHeader(`{"a":{"dtype":"BF16","shape":[1,2],"data_offsets":[0,4]},"b":{"dtype":"F64","shape":[],"data_offsets":[4,12]}}`, make([]byte, 12)))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, name := range st.Names() {
			info, _ := st.Info(name)
			raw, err := st.Raw(name)
			if err != nil || len(raw) > len(data) || int64(len(raw)) != info.End-info.Begin {
				t.Fatalf("tensor %q: %d raw bytes (%v) from %d input bytes, offsets %d-%d", name, len(raw), err, len(data), info.Begin, info.End)
			}
			if v, _, err := st.Float32(name); err == nil && len(v) != info.NumElements() {
				t.Fatalf("tensor %q: %d floats for shape %v", name, len(v), info.Shape)
			}
		}
	})
}

// TestEmptyTensorAtTheEnd: a zero-size tensor whose offsets point at the end of the file (an embedding cache of
// zero images) reads as empty; ReadAt at the end used to report io.EOF (found by FuzzRead's seed corpus).
func TestEmptyTensorAtTheEnd(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, []Tensor{{Name: "a", Shape: []int{2}, Data: []float32{1, 2}}, {Name: "z", Shape: []int{0, 512}, Data: []float32{}}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if v, shape, err := f.Float32("z"); err != nil || len(v) != 0 || len(shape) != 2 || shape[1] != 512 {
		t.Errorf("empty tensor: %v %v %v", v, shape, err)
	}
}
